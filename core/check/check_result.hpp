#pragma once

#include "graph/diagnostic.hpp"
#include "ops/op_schema.hpp"
#include "tensor/tensor_type.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace segforge::core {

/// What the checker learned about one node.
struct NodeCheck {
    std::vector<std::string> outputNames;
    std::vector<std::optional<TensorType>> outputs; ///< parallel to outputNames; nullopt = unknown
    std::vector<ParamSpec> params;
};

/// Every edge's type and every diagnostic of one graph. A value: the UI keeps
/// the latest one and redraws from it.
struct CheckResult {
    std::unordered_map<NodeId, NodeCheck> nodes;
    std::vector<Diagnostic> diagnostics;
    std::vector<NodeId> order; ///< dependency order (nodes on a cycle are left out)

    /// Type produced on an output port (and so carried by every edge leaving it).
    std::optional<TensorType> typeOf(const PortRef& output) const;
    std::optional<TensorType> edgeType(const Edge& edge) const { return typeOf(edge.from); }
    /// Parameter tensors of a node (empty if none or unknown).
    const std::vector<ParamSpec>& paramsOf(NodeId node) const;
    std::int64_t parameterCount(NodeId node) const;

    bool hasErrors() const;
    std::size_t count(Severity severity) const;
    bool has(std::string_view code) const;
    std::vector<const Diagnostic*> find(std::string_view code) const;
    std::vector<const Diagnostic*> forNode(NodeId node) const;
};

} // namespace segforge::core
