#pragma once

// Findings about how the graph will train rather than whether it is well
// formed: a Dice loss alone (dice-only-loss), an epoch's last batch of one
// sample through BatchNormalization (batchnorm-partial-batch), and a
// BatchNormalization that sees one value per channel (batchnorm-single-value).
// Called by checkGraph after the types are known; pure functions of graph,
// options (probes, validation split) and result.

#include "check/check_result.hpp"
#include "check/checker.hpp"
#include "graph/graph.hpp"

#include <cstdint>

namespace segforge::core {

/// How many samples a probed Dataset trains on and in which batches: SegForge's
/// trainer (ImageFolderSource) splits off validation_split of the readable pairs
/// and drops an epoch's last partial batch unless it is the only one; the
/// exported PyTorch/Keras scripts batch every pair and keep the last batch.
struct EpochBatches {
    std::int64_t pairs = 0;      ///< pairs in the folders (what exported scripts train on)
    std::int64_t train = 0;      ///< SegForge's training split
    std::int64_t batchSize = 0;  ///< the Dataset's batch_size
    std::int64_t smallest = 0;   ///< SegForge's smallest training batch
    std::int64_t scriptLast = 0; ///< the exported scripts' last batch of an epoch
};

/// `pairs` readable pairs (skipped ones already left out), the project's split.
EpochBatches epochBatches(std::int64_t pairs, std::int64_t readable, double validationSplit,
                          std::int64_t batchSize);

/// Adds dice-only-loss, batchnorm-partial-batch and batchnorm-single-value.
void checkTrainingRules(const Graph& graph, const CheckOptions& options, CheckResult& result);

} // namespace segforge::core
