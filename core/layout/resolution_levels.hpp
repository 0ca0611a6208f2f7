#pragma once

#include "check/check_result.hpp"
#include "graph/graph.hpp"

#include <unordered_map>
#include <vector>

namespace segforge::core {

/// Where a node stands in a U-shaped network.
enum class UPart {
    Source,     ///< Dataset, Input: top left
    Encoder,    ///< upstream of the deepest level
    Bottleneck, ///< at the deepest level
    Decoder,    ///< downstream of the deepest level
    Head,       ///< losses and metrics: top right
    Side,       ///< none of the above (a target's Rescale): the band above the U
};

/// The resolution level of every node, read from the spatial size the checker
/// inferred on its output: level = log2(input size / output size), so the
/// network input is level 0 and each 2× pooling goes one level down. Never from
/// node names: templates, imports and hand-built graphs are read alike.
struct ResolutionLevels {
    std::unordered_map<NodeId, int> out; ///< level of the node's output
    std::unordered_map<NodeId, int>
        in;                    ///< deepest level among its inputs (= out for nodes without inputs)
    std::vector<NodeId> order; ///< every node, producers before consumers where the graph allows

    int outLevel(NodeId id) const;
    int inLevel(NodeId id) const;
    /// The node changes resolution (pooling, strided or transposed convolution, upsampling).
    bool changesLevel(NodeId id) const { return inLevel(id) != outLevel(id); }
};

/// Levels of every node. A node whose output has no spatial size (a scalar, an
/// unknown type behind an error) keeps the level of its inputs.
ResolutionLevels resolutionLevels(const Graph& graph, const CheckResult& check);

/// The node's part of a U, or nullopt for every node when the graph is not a
/// U: its resolution does not go down and come back up (a deepest level below
/// the input, nodes upstream of it, and nodes downstream of it at a shallower level).
std::optional<std::unordered_map<NodeId, UPart>> classifyUShape(const Graph& graph,
                                                                const ResolutionLevels& levels);

} // namespace segforge::core
