#pragma once

// The lean memory plan of a compiled graph: how long each value's data must live
// in a training step or an inference pass. A value is needed until its last
// reader, forward or backward; what the backward kernels read comes from each
// op's schema (OpSchema::backwardReads). An output of a cheap pure op
// (OpSchema::recomputable) that a backward kernel reads is not kept from the
// forward pass at all: it is computed again when that kernel runs.

#include <cstddef>
#include <vector>

namespace segforge::core {

/// One node of the plan, as the lifetimes see it.
struct LifetimeStep {
    std::vector<int> inputs;  ///< value indices
    std::vector<int> outputs; ///< value indices
    bool backwardReadsInputs = true;
    bool backwardReadsOutputs = true;
    bool recomputable = false;
    /// The executor fills its outputs from the fed data (Dataset, Input).
    bool source = false;
    /// A loss or a metric: what it reads and writes is read again after the step
    /// (loss(), scalars(), the prediction for overlays).
    bool reported = false;
};

struct ValueLifetime {
    /// Kept from the forward pass to the next step: sources, values nothing consumes
    /// (graph outputs), losses, metrics and their inputs.
    bool pinned = false;
    int lastForwardUse = -1; ///< the last step index that reads it forward; -1 none
    /// The last backward position that reads it, directly or to recompute a value
    /// that is read then; -1 none.
    int lastBackwardRead = -1;
    /// Dropped after the forward pass and computed again before its backward readers.
    bool recompute = false;
};

/// `backwardOrder` lists step indices in the order the backward pass runs them.
std::vector<ValueLifetime> planValueLifetimes(const std::vector<LifetimeStep>& steps,
                                              std::size_t valueCount,
                                              const std::vector<std::size_t>& backwardOrder);

} // namespace segforge::core
