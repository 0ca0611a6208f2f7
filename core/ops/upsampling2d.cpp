#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema upSampling2dSchema() {
    OpSchema s;
    s.name = "UpSampling2D";
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Repeats rows and columns (keras.layers.UpSampling2D): H×size, W×size.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H·s×W·s×C float32"}};
    s.attrs = {
        pairAttr("size", 2, 1, 64, "upsampling factor (height, width)"),
        enumAttr("interpolation", "nearest", {"nearest", "bilinear"}, "how new pixels are filled"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto f = ctx.getPair("size");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape = Shape::image(in.height() * f[0], in.width() * f[1], in.channels());
        return {out};
    };
    s.forward = kernels::upSampling2dForward;
    s.backward = kernels::upSampling2dBackward;
    return s;
}

} // namespace segforge::core::ops
