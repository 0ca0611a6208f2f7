#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kDropoutOp[] = "Dropout";

OpSchema dropoutSchema() {
    OpSchema s;
    s.name = kDropoutOp;
    s.traits.passThrough = true;
    s.category = "Regularization";
    s.description = "Zeroes a fraction `rate` of values while training and rescales the rest "
                    "(keras.layers.Dropout); identity at inference.";
    s.inputs = {{"input", kFloatOnly, "float32"}};
    s.outputs = {{"output", kFloatOnly, "same shape"}};
    s.attrs = {
        floatAttr("rate", 0.5, 0, 1, "fraction dropped", /*maxExclusive=*/true),
        intAttr("seed", 0, 0, 2147483647, "random seed (0: derived from the training seed)"),
    };
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType out = ctx.input(0);
        out.range.reset();
        return {out};
    };
    const std::vector<KerasAttr> kerasAttrs{
        {"rate", "rate", KerasValue::Float, 0.5, {}, true},
        {"seed", "seed", KerasValue::ZeroIsNone, std::int64_t{0}}};
    const std::vector<KerasFixed> noiseShape{
        {"noise_shape", "null", "SegForge's Dropout drops single values"}};
    s.keras.forms = {
        {.classes = {"Dropout"}, .attrs = kerasAttrs, .fixed = noiseShape},
        {.classes = {"SpatialDropout2D"},
         .attrs = kerasAttrs,
         .fixed = noiseShape,
         .channelsLast = true,
         .importOnly = true,
         .importNote = "is imported as Dropout: Keras drops whole channels, SegForge drops single "
                       "values (same expected scale)"},
    };
    s.backwardReads = {.inputs = false, .outputs = false}; // saved state and shapes
    s.forward = kernels::dropoutForward;
    s.backward = kernels::dropoutBackward;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("nn.Dropout(", pyFloat(v.getFloat("rate")), ")");
    };
    // Inference: the identity.
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        b.node("Identity", v.name(), {b.input(0)}, {b.result()});
    };
    s.onnx.keepsInputDType = true;
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
