#pragma once

// Checks that look at the graph as a whole rather than at one node's infer:
// unconnected inputs (with suggestions), a missing loss, BatchNorm batch size,
// and the input-size diagnosis. Used by checkGraph.

#include "check/check_result.hpp"
#include "graph/graph.hpp"
#include "ops/op_registry.hpp"

namespace segforge::core {

struct PendingInput {
    NodeId node = kNoNode;
    std::string port;
};

/// Fixes for a tensor of dtype `have` arriving where `want` is needed: Rescale(1/255)
/// for 0..255 data, Cast for integer masks and the rest. A mask reaching a
/// loss's target is repaired by what it holds: class indices change the loss
/// (ops::classIndexLossFix), 0/1 masks are only cast, 0/255 and 0/65535 masks
/// get mask_mode='binary' (and a Cast) before a Rescale.
std::vector<FixIt> dtypeFixes(const Graph& graph, const Edge& edge, const TensorType& have,
                              DType want);

void reportUnconnectedInputs(const Graph& graph, CheckResult& result,
                             const std::vector<PendingInput>& pending);
void checkHasLoss(const Graph& graph, const OpRegistry& registry, CheckResult& result);
void checkBatchNormBatchSize(const Graph& graph, CheckResult& result);
/// Adds input-size-indivisible when a shape error would vanish at another input size.
void diagnoseInputSize(const Graph& graph, const OpRegistry& registry, CheckResult& result);

} // namespace segforge::core
