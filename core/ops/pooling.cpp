#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {
namespace {

// MaxPool2D and AvgPool2D share everything but the reduction, which the
// engine adds; keeping both schemas here keeps their attributes in step.
OpSchema poolSchema(std::string name, std::string what) {
    OpSchema s;
    s.name = std::move(name);
    s.category = "Pooling";
    s.description = what + " over windows (keras.layers." + s.name +
                    "). With padding 'valid' an odd size is floored: 25 → 12.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×C float32"}};
    s.attrs = {
        pairAttr("pool_size", 2, 1, 64, "window (height, width)"),
        pairAttr("strides", 0, 0, 64, "step (height, width); 0 = pool_size (Keras default None)"),
        enumAttr("padding", "valid", {"valid", "same"},
                 "'valid': floor((input − pool) / stride) + 1; 'same': ceil(input / stride)"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto p = ctx.getPair("pool_size");
        auto st = ctx.getPair("strides");
        for (int i = 0; i < 2; ++i) {
            if (st[static_cast<std::size_t>(i)] == 0)
                st[static_cast<std::size_t>(i)] = p[static_cast<std::size_t>(i)];
        }
        const bool same = ctx.getString("padding") == "same";
        const Shape& in = ctx.input(0).shape;
        TensorType out = ctx.input(0);
        out.shape = Shape::image(convOutputLength(in.height(), p[0], st[0], 1, same),
                                 convOutputLength(in.width(), p[1], st[1], 1, same), in.channels());
        return {out};
    };
    return s;
}

} // namespace

OpSchema maxPool2dSchema() {
    OpSchema s = poolSchema("MaxPool2D", "Maximum");
    s.keepsValuesFinite = true;
    s.forward = kernels::maxPool2dForward;
    s.backward = kernels::maxPool2dBackward;
    return s;
}
OpSchema avgPool2dSchema() {
    OpSchema s = poolSchema("AvgPool2D", "Average");
    // Averaging keeps ranges but not kinds (an average of probabilities is one).
    s.forward = kernels::avgPool2dForward;
    s.backward = kernels::avgPool2dBackward;
    return s;
}

} // namespace segforge::core::ops
