#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <tuple>

namespace segforge::core::ops {

const char kSeparableConv2DOp[] = "SeparableConv2D";

OpSchema separableConv2dSchema() {
    OpSchema s;
    s.name = kSeparableConv2DOp;
    s.traits.resampling = Resampling::ByStrides;
    s.traits.validPaddingTrims = true;
    s.traits.activation = ActivationUse::Fused;
    s.traits.filtersSetChannels = true;
    s.category = "Convolution";
    s.description =
        "Depthwise-separable 2-D convolution (keras.layers.SeparableConv2D): each input "
        "channel is filtered on its own (depth_multiplier filters per channel), then a "
        "1×1 convolution mixes the channels. Far fewer weights than Conv2D.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Cin float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×filters float32"}};
    s.attrs = convolutionWindowAttrs("depthwise kernel (height, width)");
    s.attrs.insert(
        s.attrs.end(),
        {
            intAttr("depth_multiplier", 1, 1, 64, "depthwise filters per input channel"),
            enumAttr("activation", "linear", activationChoices(), "applied to the output"),
            boolAttr("use_bias", true, "add a learned bias per filter"),
            enumAttr("depthwise_initializer", "glorot_uniform",
                     {"glorot_uniform", "he_normal", "zeros", "ones"}, "initial depthwise weights"),
            enumAttr("pointwise_initializer", "glorot_uniform",
                     {"glorot_uniform", "he_normal", "zeros", "ones"}, "initial pointwise weights"),
            enumAttr("bias_initializer", "zeros", {"zeros", "ones"}, "initial bias"),
        });
    s.spatial = convolutionSpatial;
    s.infer = [](InferContext& ctx) -> InferResult { return {inferConvolution(ctx)}; };
    s.params = [](const InferContext& ctx) {
        const auto k = ctx.getPair("kernel_size");
        const std::int64_t cin = ctx.input(0).shape.channels();
        const std::int64_t dm = ctx.getInt("depth_multiplier");
        const std::int64_t f = ctx.getInt("filters");
        std::vector<ParamSpec> p{
            {"depthwise_kernel", {k[0], k[1], cin, dm}, ctx.getString("depthwise_initializer")},
            {"pointwise_kernel", {1, 1, cin * dm, f}, ctx.getString("pointwise_initializer")}};
        if (ctx.getBool("use_bias"))
            p.push_back({"bias", {f}, ctx.getString("bias_initializer")});
        return p;
    };
    s.keras.forms = {{
        .classes = {"SeparableConv2D", "SeparableConvolution2D"},
        .attrs = kerasConvolutionWindow() +
                 std::vector<KerasAttr>{
                     {"depth_multiplier", "depth_multiplier", KerasValue::Int, std::int64_t{1}},
                     {"activation", "activation", KerasValue::Activation, std::string("linear")},
                     {"use_bias", "use_bias", KerasValue::Bool, true},
                     {"depthwise_initializer", "depthwise_initializer", KerasValue::Initializer,
                      std::string("glorot_uniform")},
                     {"pointwise_initializer", "pointwise_initializer", KerasValue::Initializer,
                      std::string("glorot_uniform")},
                     {"bias_initializer", "bias_initializer", KerasValue::Initializer,
                      std::string("zeros")}},
        .fixed =
            kerasRegularizers({"depthwise_regularizer", "pointwise_regularizer", "bias_regularizer",
                               "activity_regularizer", "depthwise_constraint",
                               "pointwise_constraint", "bias_constraint"}),
        .channelsLast = true,
    }};
    s.keras.weights = {{"depthwise_kernel", ""}, {"pointwise_kernel", ""}, {"bias", "use_bias"}};
    s.backwardReadsOf = convolutionBackwardReads;
    s.forward = kernels::separableConv2dForward;
    s.backward = kernels::separableConv2dBackward;
    s.pytorch.needsInputChannels = true;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("KerasSeparableConv2d(", v.inputChannels(0), ", ", v.getInt("filters"), ", ",
                      v.pyInts("kernel_size"), ", ", v.pyInts("strides"), ", ", v.pyText("padding"),
                      ", ", v.pyInts("dilation_rate"), ", ", v.getInt("depth_multiplier"), ", ",
                      v.pyText("activation"), ", ", pyBool(v.getBool("use_bias")), ")");
    };
    // A depthwise Conv (group = Cin; output channel c·dm + m filters input channel c),
    // TensorFlow's 'same' padding, then a 1×1 Conv with the bias, then the activation.
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const auto& k = v.getList("kernel_size");
        const auto& st = v.getList("strides");
        const auto& d = v.getList("dilation_rate");
        const std::int64_t cin = v.inputShape(0).channels(), dm = v.getInt("depth_multiplier");
        const std::int64_t filters = v.getInt("filters");
        // Keras depthwise (kh, kw, Cin, dm) is (kh, kw, 1, Cin·dm): ONNX (Cin·dm, 1, kh, kw).
        const std::string depthwise =
            onnxKerasKernel(b, name, k[0], k[1], 1, cin * dm, "depthwise_kernel");
        const std::string pointwise =
            onnxKerasKernel(b, name, 1, 1, cin * dm, filters, "pointwise_kernel");
        const std::int64_t in[2] = {v.inputShape(0).height(), v.inputShape(0).width()};
        std::vector<std::int64_t> pads{0, 0, 0, 0}; // top, left, bottom, right
        if (v.getString("padding") == "same")
            for (std::size_t i = 0; i < 2; ++i)
                std::tie(pads[i], pads[i + 2]) = tfSamePads(in[i], k[i], st[i], d[i]);
        b.node("Conv", name + "/depthwise", {b.floatInput(0), depthwise}, {name + "/depthwise"},
               {{"kernel_shape", k},
                {"strides", st},
                {"dilations", d},
                {"pads", pads},
                {"group", cin}});
        std::vector<std::string> inputs{name + "/depthwise", pointwise};
        if (v.getBool("use_bias"))
            inputs.push_back(onnxVectorParam(b, name, "bias", filters));
        const std::string& activation = v.getString("activation");
        const bool linear = activation == "linear";
        const std::string out = linear ? b.result() : name + "/linear";
        b.node("Conv", name, inputs, {out},
               {{"kernel_shape", std::vector<std::int64_t>{1, 1}}, {"group", std::int64_t{1}}});
        if (!linear)
            onnxActivation(b, name + "/activation", activation, kernels::kLeakyReluSlope, out,
                           b.result());
    };
    // 2 FLOPs per multiply-add: kh·kw·Cin·dm per output pixel for the depthwise part,
    // Cin·dm·filters for the pointwise one.
    s.flops.forward = [](const InteropView& v, std::int64_t batch) {
        const auto& k = v.getList("kernel_size");
        const std::int64_t cm = v.inputChannels(0) * v.getInt("depth_multiplier");
        return 2 *
               (convolutionKernelSize(k, 1, cm) +
                convolutionKernelSize({1, 1}, cm, v.getInt("filters"))) *
               imagePixels(v.output, batch);
    };
    return s;
}

} // namespace segforge::core::ops
