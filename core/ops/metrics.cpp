#include "kernels/kernels.hpp"
#include "kernels/mask_metrics.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kDiceCoefficientOp[] = "DiceCoefficient";
const char kIoUOp[] = "IoU";
const char kPixelAccuracyOp[] = "PixelAccuracy";

namespace {

// The three metrics share their contract and ports; they differ only in the
// formula, which the engine adds, and in whether a smoothing epsilon exists.
OpSchema metricSchema(std::string name, std::string description, bool hasEpsilon) {
    const std::vector<DType> targets{DType::Float32, DType::Int32, DType::UInt16, DType::UInt8};
    OpSchema s;
    s.name = std::move(name);
    s.category = "Metric";
    s.role = OpRole::Metric;
    s.description = std::move(description);
    s.contract = LossContract{targets, TargetLayout::SameChannels, ValueKind::Probability,
                              "binary values in [0, 1], or class indices"};
    s.inputs = predictionTargetPorts(targets);
    s.outputs = {{"value", kFloatOnly, "scalar"}};
    s.attrs = {floatAttr("threshold", 0.5, 0, 1,
                         "probability above which a pixel counts as foreground (K = 1)")};
    if (hasEpsilon) {
        s.traits.averagesClasses = true; // the overlap metrics; accuracy counts every pixel
        s.attrs.push_back(floatAttr("epsilon", kMetricEpsilon, 0, 1,
                                    "smoothing so that two empty masks score 1, not NaN"));
        s.infer = [](InferContext& ctx) {
            checkDiceEpsilon(ctx);
            return inferPredictionTarget(ctx);
        };
    } else {
        s.infer = inferPredictionTarget;
    }
    s.keras.none = "no Keras layer, because a metric is not part of the exported model: the Keras "
                   "script compiles the loss only";
    s.pytorch.notExportable = export_reason::kMetricPyTorch;
    s.onnx.notExportable = export_reason::kMetricOnnx;
    s.flops.freeBecause = export_reason::kTrainingOnly;
    return s;
}

} // namespace

OpSchema diceCoefficientSchema() {
    OpSchema s =
        metricSchema(kDiceCoefficientOp,
                     "Dice coefficient 2·|P∩T| / (|P| + |T|) of the thresholded prediction "
                     "(K = 1: the foreground; K > 1: mean over the K classes, background "
                     "included).",
                     true);
    s.forward = kernels::diceCoefficientForward;
    return s;
}

OpSchema iouSchema() {
    OpSchema s = metricSchema(kIoUOp,
                              "Intersection over union |P∩T| / |P∪T| of the thresholded prediction "
                              "(K = 1: the foreground; K > 1: mean over the K classes, background "
                              "included).",
                              true);
    s.forward = kernels::iouForward;
    return s;
}

OpSchema pixelAccuracySchema() {
    OpSchema s = metricSchema(kPixelAccuracyOp,
                              "Fraction of pixels whose predicted class equals the target.", false);
    s.forward = kernels::pixelAccuracyForward;
    return s;
}

} // namespace segforge::core::ops
