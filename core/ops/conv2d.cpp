#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

OpSchema conv2dSchema() {
    OpSchema s;
    s.name = "Conv2D";
    s.category = "Convolution";
    s.description = "2-D convolution over NHWC images (keras.layers.Conv2D). "
                    "padding 'valid' shrinks the image by (kernel-1)·dilation.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Cin float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×filters float32"}};
    s.attrs = {
        intAttr("filters", 32, 1, 65536, "output channels"),
        pairAttr("kernel_size", 3, 1, 63, "kernel (height, width)"),
        pairAttr("strides", 1, 1, 64, "step (height, width)"),
        enumAttr("padding", "valid", {"valid", "same"},
                 "'valid': no padding, output shrinks; 'same': output = ceil(input / stride)"),
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
        if ((st[0] > 1 || st[1] > 1) && (d[0] > 1 || d[1] > 1)) {
            auto& diag = ctx.error(codes::kBadAttribute, "strides",
                                   strCat(ctx.label(), ": strides ", attrToString(std::vector{st[0], st[1]}),
                                          " together with dilation_rate ",
                                          attrToString(std::vector{d[0], d[1]}),
                                          " is not supported (Keras raises the same error)"));
            diag.fixes.push_back({"Set strides to 1",
                                  {SetAttributeEdit{ctx.node().id, "strides", std::nullopt}}});
            return {std::nullopt};
        }
        const bool same = ctx.getString("padding") == "same";
        const Shape& in = ctx.input(0).shape;
        TensorType out{Shape::image(convOutputLength(in.height(), k[0], st[0], d[0], same),
                                    convOutputLength(in.width(), k[1], st[1], d[1], same),
                                    ctx.getInt("filters")),
                       DType::Float32};
        applyActivationHint(out, ctx.getString("activation"));
        return {out};
    };
    s.params = [](const InferContext& ctx) {
        const auto k = ctx.getPair("kernel_size");
        const std::int64_t cin = ctx.input(0).shape.channels();
        const std::int64_t f = ctx.getInt("filters");
        std::vector<ParamSpec> p{{"kernel", {k[0], k[1], cin, f}, ctx.getString("kernel_initializer")}};
        if (ctx.getBool("use_bias"))
            p.push_back({"bias", {f}, ctx.getString("bias_initializer")});
        return p;
    };
    s.forward = kernels::conv2dForward;
    s.backward = kernels::conv2dBackward;
    return s;
}

} // namespace segforge::core::ops
