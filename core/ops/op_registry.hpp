#pragma once

#include "ops/op_schema.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace segforge::core {

/// Table of op schemas. The built-in table is filled by one explicit function,
/// registerBuiltinOps(), so nothing depends on static initialisation order.
class OpRegistry {
public:
    void add(OpSchema schema);
    const OpSchema* find(std::string_view name) const;
    const std::vector<OpSchema>& all() const { return m_schemas; }
    /// Closest registered name, for "did you mean" suggestions (empty if nothing is close).
    std::string suggest(std::string_view name) const;

    /// The process-wide registry holding every built-in op.
    static const OpRegistry& builtin();

private:
    std::vector<OpSchema> m_schemas;
    std::unordered_map<std::string, std::size_t> m_index; ///< name → position in m_schemas
};

/// Lists every built-in op; adding an op means adding one line here.
void registerBuiltinOps(OpRegistry& registry);

} // namespace segforge::core
