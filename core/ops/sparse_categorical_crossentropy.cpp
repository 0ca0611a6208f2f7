#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kSparseCategoricalCrossentropyOp[] = "SparseCategoricalCrossentropy";

OpSchema sparseCategoricalCrossentropySchema() {
    const std::vector<DType> integerTargets{DType::Int32, DType::UInt16, DType::UInt8};
    OpSchema s;
    s.name = kSparseCategoricalCrossentropyOp;
    s.category = "Loss";
    s.role = OpRole::Loss;
    s.description = "Multi-class cross-entropy with class-index targets "
                    "(keras.losses.SparseCategoricalCrossentropy): softmax over K channels vs a "
                    "1-channel integer mask with values in [0, K).";
    s.contract = LossContract{integerTargets, TargetLayout::ClassIndex, ValueKind::Distribution,
                              "integer class indices in [0, K)"};
    s.inputs = predictionTargetPorts(integerTargets);
    s.outputs = {{"loss", kFloatOnly, "scalar mean over pixels and batch"}};
    s.attrs = {
        boolAttr("from_logits", false, "the prediction is raw logits (softmax applied inside)"),
        intAttr("ignore_class", -1, -1, 65535, "class index excluded from the loss (-1: none)"),
    };
    s.infer = inferPredictionTarget;
    s.keras.loss =
        KerasLoss{"keras.losses.SparseCategoricalCrossentropy",
                  {{"from_logits", "from_logits", KerasValue::Bool, false},
                   {"ignore_class", "ignore_class", KerasValue::NegativeIsNone, std::int64_t{-1}}}};
    s.forward = kernels::sparseCategoricalCrossentropyForward;
    s.backward = kernels::sparseCategoricalCrossentropyBackward;
    s.pytorch.notExportable = export_reason::kLossPyTorch;
    s.onnx.notExportable = export_reason::kLossOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace segforge::core::ops
