#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kCategoricalCrossentropyOp[] = "CategoricalCrossentropy";

OpSchema categoricalCrossentropySchema() {
    OpSchema s;
    s.name = kCategoricalCrossentropyOp;
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description =
        "Multi-class cross-entropy with one-hot targets "
        "(keras.losses.CategoricalCrossentropy): softmax over K channels vs K-channel one-hot.";
    s.contract = LossContract{kFloatOnly, TargetLayout::OneHot, ValueKind::Distribution,
                              "one-hot float32, one channel per class"};
    s.inputs = predictionTargetPorts(kFloatOnly);
    s.outputs = {{"loss", kFloatOnly, "scalar mean over pixels and batch"}};
    s.attrs = {
        boolAttr("from_logits", false, "the prediction is raw logits (softmax applied inside)"),
        floatAttr("label_smoothing", 0.0, 0, 1, "targets squeezed towards uniform"),
    };
    s.infer = inferPredictionTarget;
    s.keras.loss = KerasLoss{"keras.losses.CategoricalCrossentropy",
                             {{"from_logits", "from_logits", KerasValue::Bool, false},
                              {"label_smoothing", "label_smoothing", KerasValue::Float, 0.0}}};
    s.forward = kernels::categoricalCrossentropyForward;
    s.backward = kernels::categoricalCrossentropyBackward;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
