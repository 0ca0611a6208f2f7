#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kBCEDiceOp[] = "BCEDice";

OpSchema bceDiceLossSchema() {
    OpSchema s;
    s.name = kBCEDiceOp;
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description = "bce_weight · BinaryCrossentropy + dice_weight · Dice: the usual loss for "
                    "binary segmentation (stable gradients from BCE, overlap from Dice).";
    s.contract = LossContract{kFloatOnly, TargetLayout::SameChannels, ValueKind::Probability,
                              "float32 values in [0, 1]"};
    s.inputs = predictionTargetPorts(kFloatOnly);
    s.outputs = {{"loss", kFloatOnly, "scalar"}};
    s.attrs = {
        floatAttr("epsilon", 1e-6, 0, 1, "Dice smoothing"),
        floatAttr("bce_weight", 1.0, 0, 100, "weight of the cross-entropy term"),
        floatAttr("dice_weight", 1.0, 0, 100, "weight of the Dice term"),
    };
    s.infer = [](InferContext& ctx) {
        checkDiceEpsilon(ctx);
        return inferPredictionTarget(ctx);
    };
    s.keras.loss = KerasLoss{"bce_dice_loss",
                             {{"epsilon", "epsilon", KerasValue::Float, 1e-6},
                              {"bce_weight", "bce_weight", KerasValue::Float, 1.0},
                              {"dice_weight", "dice_weight", KerasValue::Float, 1.0}}};
    s.forward = kernels::bceDiceLossForward;
    s.backward = kernels::bceDiceLossBackward;
    s.explainNonFinite = kernels::diceLossExplain;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
