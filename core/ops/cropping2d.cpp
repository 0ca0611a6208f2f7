#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema cropping2dSchema() {
    OpSchema s;
    s.name = "Cropping2D";
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Removes rows and columns at the borders (keras.layers.Cropping2D), e.g. to "
                    "match a skip connection to a smaller decoder tensor.";
    s.inputs = {{"input", kAnyDType, "N×H×W×C"}};
    s.outputs = {{"output", kAnyDType, "N×(H−top−bottom)×(W−left−right)×C"}};
    s.attrs = {quadAttr("cropping", 0, 0, "(top, bottom, left, right) pixels to remove")};
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto& c = ctx.getList("cropping");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape = Shape::image(in.height() - c[0] - c[1], in.width() - c[2] - c[3], in.channels());
        return {out};
    };
    s.forward = kernels::cropping2dForward;
    s.backward = kernels::cropping2dBackward;
    return s;
}

} // namespace segforge::core::ops
