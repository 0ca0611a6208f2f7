#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kFocalOp[] = "Focal";

OpSchema focalLossSchema() {
    OpSchema s;
    s.name = kFocalOp;
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description = "Binary focal loss (keras.losses.BinaryFocalCrossentropy): down-weights easy "
                    "pixels by (1 − p_t)^gamma; good for small foreground objects.";
    s.contract = LossContract{kFloatOnly, TargetLayout::SameChannels, ValueKind::Probability,
                              "float32 values in [0, 1]"};
    s.inputs = predictionTargetPorts(kFloatOnly);
    s.outputs = {{"loss", kFloatOnly, "scalar"}};
    s.attrs = {
        floatAttr("gamma", 2.0, 0, 10, "focusing parameter"),
        floatAttr("alpha", 0.25, 0, 1, "weight of the positive class (with apply_class_balancing)"),
        boolAttr("apply_class_balancing", false,
                 "weight positives by alpha, negatives by 1 − alpha"),
        boolAttr("from_logits", false, "the prediction is raw logits (sigmoid applied inside)"),
    };
    s.infer = inferPredictionTarget;
    s.keras.loss =
        KerasLoss{"keras.losses.BinaryFocalCrossentropy",
                  {{"apply_class_balancing", "apply_class_balancing", KerasValue::Bool, false},
                   {"alpha", "alpha", KerasValue::Float, 0.25},
                   {"gamma", "gamma", KerasValue::Float, 2.0},
                   {"from_logits", "from_logits", KerasValue::Bool, false}}};
    s.forward = kernels::focalLossForward;
    s.backward = kernels::focalLossBackward;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
