#pragma once

#include "ops/op_schema.hpp"

namespace segforge::core::ops {

/// Infer for every loss and metric: checks the (prediction, target) pair
/// against the schema's LossContract — spatial size, channels, and whether the
/// prediction carries the kind of values the loss expects — and yields a scalar.
InferResult inferPredictionTarget(InferContext& ctx);

/// Ports shared by losses and metrics.
std::vector<PortSpec> predictionTargetPorts(const std::vector<DType>& targetDTypes);

/// Warns when a Dice-style epsilon is 0 (NaN on empty masks).
void checkDiceEpsilon(InferContext& ctx);

} // namespace segforge::core::ops
