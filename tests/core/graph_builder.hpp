#pragma once

// Compact graph construction and fix application for the tests.

#include "check/checker.hpp"
#include "graph/graph.hpp"
#include "graph/graph_edit.hpp"
#include "ops/op_helpers.hpp"

#include <gtest/gtest.h>
#include <string>

namespace segforge::core::testing {

class GraphBuilder {
public:
    NodeId add(const std::string& op, const std::string& name, AttrMap attrs = {}) {
        return graph.addNode(op, name, std::move(attrs));
    }
    /// Adds a node and wires `from` into its input "input".
    NodeId then(const std::string& op, const std::string& name, PortRef from, AttrMap attrs = {}) {
        NodeId id = add(op, name, std::move(attrs));
        wire(from, {id, "input"});
        return id;
    }
    void wire(PortRef from, PortRef to) { EXPECT_TRUE(graph.connect(from, to)); }

    NodeId input(int h, int w, int c, const std::string& dtype = "float32",
                 const std::string& name = "in") {
        return add("Input", name,
                   {{"height", std::int64_t{h}},
                    {"width", std::int64_t{w}},
                    {"channels", std::int64_t{c}},
                    {"dtype", dtype}});
    }

    Graph graph;
};

inline PortRef out(NodeId id, const std::string& port = "output") {
    return {id, port};
}

/// The first diagnostic with `code`, failing the test if there is none.
inline const Diagnostic& expectDiagnostic(const CheckResult& r, std::string_view code) {
    auto found = r.find(code);
    if (found.empty()) {
        std::string all;
        for (const auto& d : r.diagnostics)
            all += "\n  " + d.code + ": " + d.message;
        ADD_FAILURE() << "no diagnostic '" << code << "'; got:" << all;
        static const Diagnostic none;
        return none;
    }
    return *found.front();
}

/// Applies the first FixIt of the first diagnostic with `code` and re-checks.
inline CheckResult applyFirstFix(Graph& graph, std::string_view code) {
    CheckResult r = checkGraph(graph);
    const Diagnostic& d = expectDiagnostic(r, code);
    if (d.fixes.empty()) {
        ADD_FAILURE() << "diagnostic '" << code << "' has no fix";
        return r;
    }
    EditOutcome outcome = applyEdits(graph, d.fixes.front().edits);
    EXPECT_TRUE(outcome.ok) << outcome.error;
    return checkGraph(graph);
}

inline std::string codesOf(const CheckResult& r) {
    std::string out;
    for (const auto& d : r.diagnostics)
        out += d.code + " ";
    return out;
}

/// The node named `name` (a test failure, and an empty node, if there is none).
inline const Node& node(const Graph& g, const std::string& name) {
    const Node* n = g.findNodeByName(name);
    if (!n) {
        ADD_FAILURE() << "no node '" << name << "'";
        static const Node none;
        return none;
    }
    return *n;
}

/// A node's attribute as the schema reads it (a test failure if unknown).
inline AttrValue attr(const Graph& g, const std::string& name, const std::string& key) {
    auto v = ops::resolvedAttr(node(g, name), key);
    EXPECT_TRUE(v.has_value()) << name << "." << key;
    return v.value_or(AttrValue{false});
}

} // namespace segforge::core::testing
