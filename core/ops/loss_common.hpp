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

/// The Dataset node whose `mask` reaches `from` through data conversions
/// (Cast, Rescale), or nullptr.
const Node* maskDatasetOf(const Graph& graph, const PortRef& from);

/// What a 1-channel target holds, as far as its type and its Dataset tell.
struct ClassIndexTarget {
    bool indices = false;     ///< class indices 0..K−1, not 0/1 (or 0/255) foreground
    std::int64_t classes = 0; ///< K, 0 when unknown (a declared range of 0..255)
};

/// Class indices: a Dataset mask_mode that yields them (class_index, palette),
/// or integral values 0..K−1 with K ≥ 3 that are not a full-scale binary mask
/// (0/255, 0/65535). `from` is the port that delivers `target`.
ClassIndexTarget classIndexTarget(const Graph& graph, const PortRef& from,
                                  const TensorType& target);

/// The repair for class-index masks reaching a loss that wants per-channel
/// probabilities (Dice, BCE, …) or one-hot targets: the loss becomes
/// SparseCategoricalCrossentropy on the same wires, its target comes straight
/// from the Dataset's mask (a Cast or Rescale on the way is removed: indices
/// must stay integers), the prediction gets a softmax (or from_logits=true
/// for a linear head) and the head at least `classes` filters. A void label
/// (255 beside classes 0..K−1) becomes its ignore_class. FixRank::Cause.
FixIt classIndexLossFix(const Graph& graph, const Node& loss, std::int64_t classes,
                        std::int64_t ignoreClass = -1);

} // namespace segforge::core::ops
