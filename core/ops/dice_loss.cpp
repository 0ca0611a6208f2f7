#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kDiceOp[] = "Dice";

OpSchema diceLossSchema() {
    OpSchema s;
    s.name = kDiceOp;
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description = "Soft Dice loss 1 − (2·Σpt + ε) / (Σp + Σt + ε) per sample, averaged. "
                    "Without ε an empty mask with an empty prediction gives 0/0 = NaN.";
    s.contract = LossContract{kFloatOnly, TargetLayout::SameChannels, ValueKind::Probability,
                              "float32 values in [0, 1]"};
    s.inputs = predictionTargetPorts(kFloatOnly);
    s.outputs = {{"loss", kFloatOnly, "scalar"}};
    s.attrs = {floatAttr("epsilon", 1e-6, 0, 1, "smoothing added to numerator and denominator")};
    s.infer = [](InferContext& ctx) {
        checkDiceEpsilon(ctx);
        return inferPredictionTarget(ctx);
    };
    s.keras.loss = KerasLoss{"dice_loss", {{"epsilon", "epsilon", KerasValue::Float, 1e-6}}};
    s.forward = kernels::diceLossForward;
    s.backward = kernels::diceLossBackward;
    s.explainNonFinite = kernels::diceLossExplain;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
