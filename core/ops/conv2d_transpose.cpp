#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kConv2DTransposeOp[] = "Conv2DTranspose";

OpSchema conv2dTransposeSchema() {
    OpSchema s;
    s.name = kConv2DTransposeOp;
    s.traits.resampling = Resampling::ByStrides;
    s.traits.activation = ActivationUse::Fused;
    s.traits.filtersSetChannels = true;
    s.category = "Convolution";
    s.description = "Transposed convolution (keras.layers.Conv2DTranspose): learned upsampling. "
                    "With padding 'same' the output is input × strides.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Cin float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×filters float32"}};
    s.attrs = {
        intAttr("filters", 32, 1, 65536, "output channels"),
        pairAttr("kernel_size", 2, 1, 63, "kernel (height, width)"),
        pairAttr("strides", 2, 1, 64, "upsampling factor (height, width)"),
        enumAttr(
            "padding", "same", {"valid", "same"},
            "'same': output = input × stride; 'valid': input × stride + max(kernel − stride, 0)"),
        pairAttr("dilation_rate", 1, 1, 64, "spacing between kernel taps"),
        enumAttr("activation", "linear", activationChoices(), "applied to the output"),
        boolAttr("use_bias", true, "add a learned bias per filter"),
        enumAttr("kernel_initializer", "glorot_uniform",
                 {"glorot_uniform", "he_normal", "zeros", "ones"}, "initial weights"),
        enumAttr("bias_initializer", "zeros", {"zeros", "ones"}, "initial bias"),
    };
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        const auto i = static_cast<std::size_t>(axis);
        return deconvOutputSize(in, attrList(a, "kernel_size").at(i), attrList(a, "strides").at(i),
                                attrList(a, "dilation_rate").at(i),
                                attrString(a, "padding") == "same");
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
        std::vector<ParamSpec> p{
            {"kernel", {k[0], k[1], f, cin}, ctx.getString("kernel_initializer")}};
        if (ctx.getBool("use_bias"))
            p.push_back({"bias", {f}, ctx.getString("bias_initializer")});
        return p;
    };
    s.keras.forms = {{
        .classes = {"Conv2DTranspose", "Convolution2DTranspose", "Deconvolution2D"},
        .attrs = kerasConvolutionWindow() +
                 std::vector<KerasAttr>{
                     {"activation", "activation", KerasValue::Activation, std::string("linear")},
                     {"use_bias", "use_bias", KerasValue::Bool, true},
                     {"kernel_initializer", "kernel_initializer", KerasValue::Initializer,
                      std::string("glorot_uniform")},
                     {"bias_initializer", "bias_initializer", KerasValue::Initializer,
                      std::string("zeros")}},
        .fixed =
            std::vector<KerasFixed>{{.key = "output_padding"}} +
            kerasRegularizers({"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                               "kernel_constraint", "bias_constraint"}) +
            kerasLoraKeys(),
        .channelsLast = true,
        .hook = KerasHook::TransposedConvolution,
    }};
    s.keras.weights = {{"kernel", ""}, {"bias", "use_bias"}};
    s.backwardReadsOf = convolutionBackwardReads;
    s.forward = kernels::conv2dTransposeForward;
    s.backward = kernels::conv2dTransposeBackward;
    s.pytorch.needsInputChannels = true;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("KerasConvTranspose2d(", v.inputChannels(0), ", ", v.getInt("filters"), ", ",
                      v.pyInts("kernel_size"), ", ", v.pyInts("strides"), ", ", v.pyText("padding"),
                      ", ", v.pyInts("dilation_rate"), ", ", v.pyText("activation"), ", ",
                      pyBool(v.getBool("use_bias")), ")");
    };
    // ConvTranspose, then the fused activation. Keras' transposed convolution is the
    // full one cropped to the output size, the smaller half of the crop on top/left
    // (the adjoint of 'same' convolution); if the full one is too short, zeros at the
    // end. The crop is a Slice: runtimes (OpenCV DNN) reject ConvTranspose with
    // asymmetric pads.
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        using List = std::vector<std::int64_t>;
        const std::string& name = v.name();
        const List& k = v.getList("kernel_size");
        const List& st = v.getList("strides");
        const List& d = v.getList("dilation_rate");
        const std::int64_t filters = v.getInt("filters"), cin = v.inputShape(0).channels();
        // Keras kernel (kh, kw, out, in) → (in, out, kh, kw), ONNX's ConvTranspose layout.
        std::vector<std::string> inputs{b.floatInput(0),
                                        onnxKerasKernel(b, name, k[0], k[1], filters, cin)};
        if (v.getBool("use_bias"))
            inputs.push_back(onnxVectorParam(b, name, "bias", filters));
        const std::int64_t in[2] = {v.inputShape(0).height(), v.inputShape(0).width()};
        const std::int64_t out[2] = {v.output->shape.height(), v.output->shape.width()};
        List extra{0, 0}, cropFrom{0, 0};
        bool crop = false;
        for (std::size_t i = 0; i < 2; ++i) {
            const std::int64_t full = (in[i] - 1) * st[i] + (k[i] - 1) * d[i] + 1;
            if (full >= out[i]) {
                cropFrom[i] = (full - out[i]) / 2;
                crop = crop || full > out[i];
            } else {
                extra[i] = out[i] - full;
            }
        }
        std::vector<OnnxAttribute> attrs{{"kernel_shape", k},
                                         {"strides", st},
                                         {"dilations", d},
                                         {"pads", List{0, 0, 0, 0}},
                                         {"group", std::int64_t{1}}};
        if (extra[0] || extra[1])
            attrs.push_back({"output_padding", extra});
        const std::string& activation = v.getString("activation");
        const bool linearOnly = activation == "linear";
        const std::string linear = linearOnly ? b.result() : name + "/linear";
        const std::string convOut = crop ? name + "/full" : linear;
        b.node("ConvTranspose", name, inputs, {convOut}, attrs);
        if (crop)
            b.node(
                "Slice", name + "/crop",
                {convOut, b.int64Constant(name + "/crop_starts", cropFrom),
                 b.int64Constant(name + "/crop_ends", {cropFrom[0] + out[0], cropFrom[1] + out[1]}),
                 b.int64Constant(name + "/crop_axes", {2, 3})},
                {linear});
        if (!linearOnly)
            onnxActivation(b, name + "/activation", activation, kernels::kLeakyReluSlope, linear,
                           b.result());
    };
    // 2 FLOPs per multiply-add, kh·kw·filters·Cin of them per input pixel.
    s.flops.forward = [](const InteropView& v, std::int64_t batch) {
        const auto& k = v.getList("kernel_size");
        return 2 * convolutionKernelSize(k, v.getInt("filters"), v.inputChannels(0)) *
               imagePixels(v.inputs.at(0), batch);
    };
    return s;
}

} // namespace segforge::core::ops
