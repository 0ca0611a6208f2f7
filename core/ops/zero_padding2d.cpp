#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema zeroPadding2dSchema() {
    OpSchema s;
    s.name = "ZeroPadding2D";
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Adds rows and columns of zeros at the borders (keras.layers.ZeroPadding2D).";
    s.inputs = {{"input", kAnyDType, "N×H×W×C"}};
    s.outputs = {{"output", kAnyDType, "N×(H+top+bottom)×(W+left+right)×C"}};
    s.attrs = {quadAttr("padding", 1, 0, "(top, bottom, left, right) pixels to add")};
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto& p = ctx.getList("padding");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape = Shape::image(in.height() + p[0] + p[1], in.width() + p[2] + p[3], in.channels());
        if (out.range)
            out.range = ValueRange{std::min(0.0, out.range->lo), std::max(0.0, out.range->hi)};
        return {out};
    };
    s.forward = kernels::zeroPadding2dForward;
    s.backward = kernels::zeroPadding2dBackward;
    return s;
}

} // namespace segforge::core::ops
