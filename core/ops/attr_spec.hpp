#pragma once

#include "graph/attribute.hpp"

#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

enum class AttrType { Int, Float, Bool, Enum, String, IntList };
std::string_view attrTypeName(AttrType type);

/// Declaration of one attribute: its type, default and valid range. The
/// property editor, the file format and the checker all read it.
struct AttrSpec {
    std::string name{};
    AttrType type = AttrType::Int;
    AttrValue defaultValue{};
    std::optional<double> min{}; ///< inclusive lower bound (Int, Float, IntList elements)
    std::optional<double> max{}; ///< upper bound, inclusive unless maxExclusive
    bool maxExclusive = false;
    std::vector<std::string> choices{}; ///< Enum values
    int listSize = 0; ///< IntList length (2: (h, w); 4: (top, bottom, left, right))
    std::string description{};
    /// A String that names a folder or a file (the property editor offers Browse…).
    enum class Path { None, Folder, File } path = Path::None;
};

/// Converts a stored value to the spec's type (3 → [3, 3] for a pair, 3.0 → 3 for
/// an int, [1, 2] → [1, 1, 2, 2] for a 4-list). Returns nullopt with `why` set if
/// it cannot, or if the value is outside the valid range.
std::optional<AttrValue> coerceAttribute(const AttrSpec& spec, const AttrValue& value,
                                         std::string* why = nullptr);

/// "integer in [1, 4096]", "one of valid, same", … for messages and tooltips.
std::string describeAttrDomain(const AttrSpec& spec);

// Small builders keep the schema tables readable.
AttrSpec intAttr(std::string name, std::int64_t def, std::optional<double> min,
                 std::optional<double> max, std::string description);
AttrSpec floatAttr(std::string name, double def, std::optional<double> min,
                   std::optional<double> max, std::string description, bool maxExclusive = false);
AttrSpec boolAttr(std::string name, bool def, std::string description);
AttrSpec enumAttr(std::string name, std::string def, std::vector<std::string> choices,
                  std::string description);
AttrSpec stringAttr(std::string name, std::string def, std::string description);
/// A String attribute holding a folder path (relative to the project file or absolute).
AttrSpec folderAttr(std::string name, std::string description);
AttrSpec pairAttr(std::string name, std::int64_t def, std::optional<double> min,
                  std::optional<double> max, std::string description);
AttrSpec quadAttr(std::string name, std::int64_t def, std::optional<double> min,
                  std::string description);

} // namespace segforge::core
