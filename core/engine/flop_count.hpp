#pragma once

#include "graph/graph.hpp"

#include <cstdint>
#include <map>

namespace segforge::core {

/// Nominal FLOPs (2 per multiply-add) of the forward pass for `batch` samples, from
/// the checked shapes, summed over the nodes whose op counts them (OpSchema::flops;
/// the others are declared free): a convolution costs 2·kernel-size per output
/// pixel, a transposed one 2·kernel-size per input pixel. A training step costs about three times
/// this (forward, input gradient, weight gradient). Nodes whose types are unknown count zero.
double convolutionFlops(const Graph& graph, std::int64_t batch);

/// The same per counted node (nodes of free ops are absent).
std::map<NodeId, double> convolutionFlopsByNode(const Graph& graph, std::int64_t batch);

} // namespace segforge::core
