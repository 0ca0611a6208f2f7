#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kBinaryCrossentropyOp[] = "BinaryCrossentropy";

OpSchema binaryCrossentropySchema() {
    OpSchema s;
    s.name = kBinaryCrossentropyOp;
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
    s.keras.loss = KerasLoss{"keras.losses.BinaryCrossentropy",
                             {{"from_logits", "from_logits", KerasValue::Bool, false},
                              {"label_smoothing", "label_smoothing", KerasValue::Float, 0.0}}};
    s.forward = kernels::binaryCrossentropyForward;
    s.backward = kernels::binaryCrossentropyBackward;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
