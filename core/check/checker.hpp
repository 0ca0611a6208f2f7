#pragma once

#include "check/check_result.hpp"
#include "data/data_probe.hpp"
#include "graph/graph.hpp"
#include "ops/op_registry.hpp"

#include <unordered_map>

namespace segforge::core {

struct CheckOptions {
    /// When a shape error could be caused by the input size, derive the sizes
    /// that work (input-size-indivisible) from the symbolic sizes: exact, no cap.
    bool diagnoseInputSize = true;
    /// What the data of each Dataset node (by id) really is. A probed Dataset's
    /// outputs carry the data's true types, and the data diagnostics run
    /// (dataset-empty, mask-value-range, …). Empty: attributes only.
    std::unordered_map<NodeId, DataProbe> dataProbes{};
    /// false: a graph without a loss gets `no-loss` as a warning, not an error.
    /// For models checked as they were written elsewhere (a Keras model JSON
    /// carries no loss: that lives in model.compile()).
    bool requireLoss = true;
    /// The check gates a training run (`segforge-cli check` with data, and
    /// `train`'s pre-flight): the probed data must then also fit the types the
    /// Dataset's attributes declare, since the engine compiles those and the
    /// saved weights carry them (dataset-type-mismatch). The editor leaves it
    /// off: its wires show the data as it is.
    bool forTraining = false;
    /// The project's TrainingSettings::validationSplit: with a probed Dataset it
    /// tells how many samples train, so the checker knows the epoch's last batch
    /// (batchnorm-partial-batch, batchnorm-single-value).
    double validationSplit = 0.2;
    /// Before a fix is offered it is applied to a copy of the graph and
    /// re-checked: it must remove its finding without a new error, or it is
    /// dropped. Size mismatches also get fixes traced to their cause
    /// (check/causal_fixes.hpp). Each diagnostic's fixes are ordered by FixRank.
    /// Costs one re-check per fix, only when a finding has fixes.
    bool verifyFixes = true;

    /// Every diagnostic but the input-size sweep, and fixes unverified: for
    /// callers that need the graph's types (compiling, counting FLOPs,
    /// predicting), not advice.
    static CheckOptions withoutInputSizeSweep() {
        return {.diagnoseInputSize = false, .verifyFixes = false};
    }
};

/// Infers the type of every edge and collects every mistake in the graph.
/// Never modifies the graph and never applies an implicit cast.
CheckResult checkGraph(const Graph& graph, const CheckOptions& options = {},
                       const OpRegistry& registry = OpRegistry::builtin());

} // namespace segforge::core
