#pragma once

// What the dataset rules (dataset_rules.cpp, mask_target_rules.cpp) share:
// reading a Dataset node's attributes, naming it, and adding a diagnostic or
// an attribute fix to the result.

#include "check/check_result.hpp"
#include "graph/graph.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <string>
#include <string_view>

namespace segforge::core::data_rules {

/// The node's string attribute `name` (its default if unset), or "".
inline std::string attrString(const Node& node, std::string_view name) {
    auto v = ops::resolvedAttr(node, name);
    return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : std::string();
}

/// The node's integer attribute `name` (its default if unset), or `fallback`.
inline std::int64_t attrInt(const Node& node, std::string_view name, std::int64_t fallback) {
    auto v = ops::resolvedAttr(node, name);
    return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : fallback;
}

/// "h×w".
inline std::string sizeText(int h, int w) {
    return strCat(h, "×", w);
}

/// Appends a diagnostic without fixes and returns it, for adding them.
inline Diagnostic& add(CheckResult& r, Severity sev, std::string_view code, NodeId node,
                       std::string port, std::string message) {
    r.diagnostics.push_back(
        {sev, std::string(code), node, std::move(port), std::move(message), {}});
    return r.diagnostics.back();
}

/// "Set name=value on 'node'": one attribute edit.
inline FixIt setAttr(const Node& node, const std::string& name, AttrValue value) {
    const std::string shown = std::holds_alternative<std::string>(value)
                                  ? "'" + std::get<std::string>(value) + "'"
                                  : attrToString(value);
    return {strCat("Set ", name, "=", shown, " on '", node.name, "'"),
            {SetAttributeEdit{node.id, name, std::move(value)}}};
}

/// "Dataset 'name'", how a message names the node.
inline std::string dataLabel(const Node& n) {
    return strCat("Dataset '", n.name, "'");
}

} // namespace segforge::core::data_rules
