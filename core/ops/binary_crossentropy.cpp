#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema binaryCrossentropySchema() {
    OpSchema s;
    s.name = "BinaryCrossentropy";
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description = "Per-pixel binary cross-entropy (keras.losses.BinaryCrossentropy): sigmoid "
                    "probabilities against float32 targets in [0, 1], same channels.";
    s.contract = LossContract{kFloatOnly, TargetLayout::SameChannels, ValueKind::Probability,
                              "float32 values in [0, 1]"};
    s.inputs = predictionTargetPorts(kFloatOnly);
    s.outputs = {{"loss", kFloatOnly, "scalar mean over pixels and batch"}};
    s.attrs = {
        boolAttr("from_logits", false, "the prediction is raw logits (sigmoid applied inside)"),
        floatAttr("label_smoothing", 0.0, 0, 1, "targets squeezed towards 0.5"),
    };
    s.infer = inferPredictionTarget;
    s.forward = kernels::binaryCrossentropyForward;
    s.backward = kernels::binaryCrossentropyBackward;
    return s;
}

} // namespace segforge::core::ops
