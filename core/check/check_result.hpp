#pragma once

#include "check/size_set.hpp"
#include "graph/diagnostic.hpp"
#include "ops/op_schema.hpp"
#include "tensor/tensor_type.hpp"

#include <array>
#include <optional>
#include <unordered_map>
#include <vector>

namespace segforge::core {

/// What the checker learned about one node.
struct NodeCheck {
    std::vector<std::string> outputNames;
    std::vector<std::optional<TensorType>> outputs; ///< parallel to outputNames; nullopt = unknown
    std::vector<ParamSpec> params;
    /// Height and width of each image output as expressions of the input's size
    /// (the variables "H" and "W": every source is taken as free here), parallel
    /// to outputs. Known even where the concrete type is not (a merge that fails
    /// at the example size); nullopt for a non-image or unknown output.
    std::vector<std::optional<std::array<SizeExpr, 2>>> spatial;
};

/// Every edge's type and every diagnostic of one graph. A value: the UI keeps
/// the latest one and redraws from it.
struct CheckResult {
    std::unordered_map<NodeId, NodeCheck> nodes;
    std::vector<Diagnostic> diagnostics;
    std::vector<NodeId> order; ///< dependency order (nodes on a cycle are left out)
    /// What the input's height and width must satisfy: every image stays ≥ 1,
    /// every node's image inputs agree (validInputSizes derives the sizes).
    std::vector<SizeConstraint> sizeConstraints;
    /// A source has variable_size: labels show H and W instead of numbers.
    bool freeSize = false;
    /// The heights (0) and widths (1) that work, derived when freeSize.
    std::array<SizeSet, 2> freeSizes{};

    /// Type produced on an output port (and so carried by every edge leaving it).
    std::optional<TensorType> typeOf(const PortRef& output) const;
    std::optional<TensorType> edgeType(const Edge& edge) const { return typeOf(edge.from); }
    /// Symbolic height and width on an output port (NodeCheck::spatial).
    std::optional<std::array<SizeExpr, 2>> spatialOf(const PortRef& output) const;
    /// What a wire shows: typeOf(output)->toString() ("N×128×128×16 f32") with a
    /// fixed input size; with a free one "N×H/16×W/16×256 f32" — the affine form
    /// on the residue class every working size lies in, else the exact floors
    /// ("N×⌊H/16⌋×⌊W/16⌋×256 f32"); a sum in parentheses, without spaces
    /// ("N×(H−2)×(W−2)×32 f32"). "?" when the type is unknown.
    std::string label(const PortRef& output) const;
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
