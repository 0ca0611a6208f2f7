#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace segforge::core {

/// One attribute value as stored on a node. It is deliberately loosely typed:
/// a project file may hold a wrong type, and the checker (not the loader)
/// reports that as `bad-attribute` so the user can fix it in place.
using AttrValue = std::variant<bool, std::int64_t, double, std::string, std::vector<std::int64_t>>;

/// Attributes explicitly set on a node; anything absent takes the schema default.
using AttrMap = std::map<std::string, AttrValue, std::less<>>;

/// Human-readable form: 3, 0.5, true, "same", [2, 2].
std::string attrToString(const AttrValue& value);

} // namespace segforge::core
