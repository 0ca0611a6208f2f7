#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema conv2dTransposeSchema() {
    OpSchema s;
    s.name = "Conv2DTranspose";
    s.category = "Convolution";
    s.description = "Transposed convolution (keras.layers.Conv2DTranspose): learned upsampling. "
                    "With padding 'same' the output is input × strides.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Cin float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×filters float32"}};
    s.attrs = {
        intAttr("filters", 32, 1, 65536, "output channels"),
        pairAttr("kernel_size", 2, 1, 63, "kernel (height, width)"),
        pairAttr("strides", 2, 1, 64, "upsampling factor (height, width)"),
        enumAttr("padding", "same", {"valid", "same"},
                 "'same': output = input × stride; 'valid': input × stride + max(kernel − stride, 0)"),
        pairAttr("dilation_rate", 1, 1, 64, "spacing between kernel taps"),
        enumAttr("activation", "linear", activationChoices(), "applied to the output"),
        boolAttr("use_bias", true, "add a learned bias per filter"),
        enumAttr("kernel_initializer", "glorot_uniform",
                 {"glorot_uniform", "he_normal", "zeros", "ones"}, "initial weights"),
        enumAttr("bias_initializer", "zeros", {"zeros", "ones"}, "initial bias"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto k = ctx.getPair("kernel_size");
        const auto st = ctx.getPair("strides");
        const auto d = ctx.getPair("dilation_rate");
        const bool same = ctx.getString("padding") == "same";
        const Shape& in = ctx.input(0).shape;
        TensorType out{Shape::image(deconvOutputLength(in.height(), k[0], st[0], d[0], same),
                                    deconvOutputLength(in.width(), k[1], st[1], d[1], same),
                                    ctx.getInt("filters")),
                       DType::Float32};
        applyActivationHint(out, ctx.getString("activation"));
        return {out};
    };
    s.params = [](const InferContext& ctx) {
        const auto k = ctx.getPair("kernel_size");
        const std::int64_t cin = ctx.input(0).shape.channels();
        const std::int64_t f = ctx.getInt("filters");
        // Keras stores transposed kernels as (kh, kw, out, in).
        std::vector<ParamSpec> p{{"kernel", {k[0], k[1], f, cin}, ctx.getString("kernel_initializer")}};
        if (ctx.getBool("use_bias"))
            p.push_back({"bias", {f}, ctx.getString("bias_initializer")});
        return p;
    };
    s.forward = kernels::conv2dTransposeForward;
    s.backward = kernels::conv2dTransposeBackward;
    return s;
}

} // namespace segforge::core::ops
