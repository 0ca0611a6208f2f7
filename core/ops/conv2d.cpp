#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <tuple>

namespace segforge::core::ops {

const char kConv2DOp[] = "Conv2D";

OpSchema conv2dSchema() {
    OpSchema s;
    s.name = kConv2DOp;
    s.traits.resampling = Resampling::ByStrides;
    s.traits.validPaddingTrims = true;
    s.traits.activation = ActivationUse::Fused;
    s.traits.filtersSetChannels = true;
    s.category = "Convolution";
    s.description = "2-D convolution over NHWC images (keras.layers.Conv2D). "
                    "padding 'valid' shrinks the image by (kernel-1)·dilation.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Cin float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×filters float32"}};
    s.attrs = convolutionWindowAttrs("kernel (height, width)");
    s.attrs.insert(
        s.attrs.end(),
        {
            enumAttr("activation", "linear", activationChoices(), "applied to the output"),
            boolAttr("use_bias", true, "add a learned bias per filter"),
            enumAttr("kernel_initializer", "glorot_uniform",
                     {"glorot_uniform", "he_normal", "zeros", "ones"}, "initial weights"),
            enumAttr("bias_initializer", "zeros", {"zeros", "ones"}, "initial bias"),
        });
    s.spatial = convolutionSpatial;
    s.infer = [](InferContext& ctx) -> InferResult { return {inferConvolution(ctx)}; };
    s.params = [](const InferContext& ctx) {
        const auto k = ctx.getPair("kernel_size");
        const std::int64_t cin = ctx.input(0).shape.channels();
        const std::int64_t f = ctx.getInt("filters");
        std::vector<ParamSpec> p{
            {"kernel", {k[0], k[1], cin, f}, ctx.getString("kernel_initializer")}};
        if (ctx.getBool("use_bias"))
            p.push_back({"bias", {f}, ctx.getString("bias_initializer")});
        return p;
    };
    s.keras.forms = {{
        .classes = {"Conv2D", "Convolution2D"},
        .attrs = kerasConvolutionWindow() +
                 std::vector<KerasAttr>{
                     {"activation", "activation", KerasValue::Activation, std::string("linear")},
                     {"use_bias", "use_bias", KerasValue::Bool, true},
                     {"kernel_initializer", "kernel_initializer", KerasValue::Initializer,
                      std::string("glorot_uniform")},
                     {"bias_initializer", "bias_initializer", KerasValue::Initializer,
                      std::string("zeros")}},
        .fixed =
            std::vector<KerasFixed>{{.key = "groups", .json = "1"}} +
            kerasRegularizers({"kernel_regularizer", "bias_regularizer", "activity_regularizer",
                               "kernel_constraint", "bias_constraint"}) +
            kerasLoraKeys(),
        .channelsLast = true,
        .hook = KerasHook::Convolution,
    }};
    s.keras.weights = {{"kernel", ""}, {"bias", "use_bias"}};
    s.backwardReadsOf = convolutionBackwardReads;
    s.forward = kernels::conv2dForward;
    s.assignsFreshInputGrads = true;
    s.backward = kernels::conv2dBackward;
    s.pytorch.needsInputChannels = true;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("KerasConv2d(", v.inputChannels(0), ", ", v.getInt("filters"), ", ",
                      v.pyInts("kernel_size"), ", ", v.pyInts("strides"), ", ", v.pyText("padding"),
                      ", ", v.pyInts("dilation_rate"), ", ", v.pyText("activation"), ", ",
                      pyBool(v.getBool("use_bias")), ")");
    };
    // Conv with TensorFlow's 'same' geometry (the odd row/column of padding at the
    // bottom/right), then the fused activation.
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const auto& k = v.getList("kernel_size");
        const auto& st = v.getList("strides");
        const auto& d = v.getList("dilation_rate");
        const std::int64_t filters = v.getInt("filters"), cin = v.inputShape(0).channels();
        std::vector<std::string> inputs{b.floatInput(0),
                                        onnxKerasKernel(b, name, k[0], k[1], cin, filters)};
        if (v.getBool("use_bias"))
            inputs.push_back(onnxVectorParam(b, name, "bias", filters));
        const std::int64_t in[2] = {v.inputShape(0).height(), v.inputShape(0).width()};
        std::vector<std::int64_t> pads{0, 0, 0, 0}; // top, left, bottom, right
        if (v.getString("padding") == "same")
            for (std::size_t i = 0; i < 2; ++i)
                std::tie(pads[i], pads[i + 2]) = tfSamePads(in[i], k[i], st[i], d[i]);
        const std::string& activation = v.getString("activation");
        const bool linear = activation == "linear";
        const std::string out = linear ? b.result() : name + "/linear";
        b.node("Conv", name, inputs, {out},
               {{"kernel_shape", k},
                {"strides", st},
                {"dilations", d},
                {"pads", pads},
                {"group", std::int64_t{1}}});
        if (!linear)
            onnxActivation(b, name + "/activation", activation, kernels::kLeakyReluSlope, out,
                           b.result());
    };
    // 2 FLOPs per multiply-add, kh·kw·Cin·filters of them per output pixel.
    s.flops.forward = [](const InteropView& v, std::int64_t batch) {
        const auto& k = v.getList("kernel_size");
        return 2 * convolutionKernelSize(k, v.inputChannels(0), v.getInt("filters")) *
               imagePixels(v.output, batch);
    };
    return s;
}

} // namespace segforge::core::ops
