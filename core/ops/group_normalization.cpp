#include "kernels/group_norm_kernel.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kGroupNormalizationOp[] = "GroupNormalization";

namespace {

// gamma (beta) as a C×1×1 constant that broadcasts over an NCHW tensor; a constant
// 1 (0) without scale (center). Empty after the builder reported a missing weight.
std::string channelConstant(const InteropView& v, OnnxBuilder& b, const char* param, bool present,
                            float absent, std::int64_t c) {
    std::vector<float> values(static_cast<std::size_t>(c), absent);
    if (present) {
        const Tensor* w = b.weight(param, c);
        if (!w)
            return {};
        values.assign(w->f32(), w->f32() + c);
    }
    return b.floatConstant(strCat(v.name(), "/", param), {c, 1, 1}, std::move(values));
}

} // namespace

// PyTorch's nn.GroupNorm(groups, C, eps, affine) on NHWC; Keras 3's
// GroupNormalization. groups = C is InstanceNorm, groups = 1 LayerNorm over
// H, W and C. The statistics are the sample's own: no running statistics, the
// same computation in training and inference.
OpSchema groupNormalizationSchema() {
    OpSchema s;
    s.name = kGroupNormalizationOp;
    s.traits.passThrough = true;
    s.category = "Normalization";
    s.description = "Normalises each sample over groups of channels (torch.nn.GroupNorm, "
                    "keras.layers.GroupNormalization): mean and variance over H·W·(C/groups). "
                    "groups = C is InstanceNorm, groups = 1 LayerNorm. Works with batch size 1; "
                    "no moving statistics.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H×W×C float32"}};
    s.attrs = {
        intAttr("groups", 1, 1, std::nullopt,
                "channel groups; must divide C (C: InstanceNorm, 1: LayerNorm)"),
        floatAttr("epsilon", 1e-5, 0, 1, "added to the variance (PyTorch's default 1e-5)"),
        boolAttr("center", true, "learn an offset (beta)"),
        boolAttr("scale", true, "learn a scale (gamma)"),
    };
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const std::int64_t c = ctx.input(0).shape.channels();
        const std::int64_t groups = ctx.getInt("groups");
        if (c > 0 && (groups < 1 || c % groups != 0)) {
            ctx.error(codes::kBadAttribute, "",
                      strCat(ctx.label(), ": groups = ", groups, " does not divide the ", c,
                             " input channels (C = ", c,
                             "); every group needs C/groups channels. Use a divisor of ", c, " (",
                             c, " is InstanceNorm, 1 LayerNorm)"));
            return {std::nullopt};
        }
        TensorType out = ctx.input(0);
        out.dtype = DType::Float32;
        out.kind = ValueKind::Unknown;
        out.range.reset();
        return {out};
    };
    s.params = [](const InferContext& ctx) {
        const std::int64_t c = ctx.input(0).shape.channels();
        std::vector<ParamSpec> p;
        if (ctx.getBool("scale"))
            p.push_back({"gamma", {c}, "ones"});
        if (ctx.getBool("center"))
            p.push_back({"beta", {c}, "zeros"});
        return p;
    };
    s.keras.forms = {{
        .classes = {"GroupNormalization"},
        .attrs = {{"groups", "groups", KerasValue::Int, std::int64_t{32}},
                  {"epsilon", "epsilon", KerasValue::Float, 1e-3},
                  {"center", "center", KerasValue::Bool, true},
                  {"scale", "scale", KerasValue::Bool, true}},
        .fixed = std::vector<KerasFixed>{{.key = "axis", .json = "-1", .inScript = true},
                                         {"beta_initializer", kerasInitializerJson("zeros")},
                                         {"gamma_initializer", kerasInitializerJson("ones")}} +
                 kerasRegularizers({"beta_regularizer", "gamma_regularizer", "beta_constraint",
                                    "gamma_constraint"}),
        .hook = KerasHook::BatchNormAxis,
    }};
    s.keras.weights = {{"gamma", "scale"}, {"beta", "center"}};
    s.backwardReads = {.inputs = false, .outputs = false}; // saved state and shapes
    s.forward = kernels::groupNormForward;
    s.backward = kernels::groupNormBackward;
    // KerasGroupNorm (resources/python/pytorch_modules.py) is F.group_norm with
    // gamma and beta each optional, as Keras has them: nn.GroupNorm's affine
    // has both or neither.
    s.pytorch.needsInputChannels = true;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("KerasGroupNorm(", v.getInt("groups"), ", ", v.inputChannels(0), ", ",
                      pyFloat(v.getFloat("epsilon")), ", ", pyBool(v.getBool("center")), ", ",
                      pyBool(v.getBool("scale")), ")");
    };
    // Opset 13 has no GroupNormalization. groups = C is InstanceNormalization;
    // otherwise what torch.onnx writes for nn.GroupNorm: Reshape to N×groups×rest,
    // InstanceNormalization with scale 1 and bias 0, Reshape back, Mul gamma,
    // Add beta (the importer reads the pattern back as this op).
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const std::int64_t c = v.inputShape(0).channels();
        const std::int64_t groups = v.getInt("groups");
        const float eps = static_cast<float>(v.getFloat("epsilon"));
        if (groups == c) {
            std::vector<float> ones(static_cast<std::size_t>(c), 1.0f),
                zeros(static_cast<std::size_t>(c), 0.0f);
            if (v.getBool("scale")) {
                const Tensor* w = b.weight("gamma", c);
                if (!w)
                    return;
                ones.assign(w->f32(), w->f32() + c);
            }
            if (v.getBool("center")) {
                const Tensor* w = b.weight("beta", c);
                if (!w)
                    return;
                zeros.assign(w->f32(), w->f32() + c);
            }
            const std::string scale = b.floatConstant(name + "/gamma", {c}, std::move(ones));
            const std::string bias = b.floatConstant(name + "/beta", {c}, std::move(zeros));
            b.node("InstanceNormalization", name, {b.floatInput(0), scale, bias}, {b.result()},
                   {{"epsilon", eps}});
            return;
        }
        const std::string x = b.floatInput(0);
        const std::string gamma = channelConstant(v, b, "gamma", v.getBool("scale"), 1.0f, c);
        const std::string beta = channelConstant(v, b, "beta", v.getBool("center"), 0.0f, c);
        if (gamma.empty() || beta.empty())
            return;
        const std::string grouped = b.int64Constant(name + "/grouped_shape", {0, groups, -1});
        b.node("Reshape", name + "/group", {x, grouped}, {name + "/grouped"});
        const std::string ones =
            b.floatConstant(name + "/group_scale", {groups},
                            std::vector<float>(static_cast<std::size_t>(groups), 1));
        const std::string zeros =
            b.floatConstant(name + "/group_bias", {groups},
                            std::vector<float>(static_cast<std::size_t>(groups), 0));
        b.node("InstanceNormalization", name + "/normalize", {name + "/grouped", ones, zeros},
               {name + "/normalized"}, {{"epsilon", eps}});
        b.node("Shape", name + "/shape", {x}, {name + "/input_shape"});
        b.node("Reshape", name + "/ungroup", {name + "/normalized", name + "/input_shape"},
               {name + "/ungrouped"});
        b.node("Mul", name + "/scale", {name + "/ungrouped", gamma}, {name + "/scaled"});
        b.node("Add", name, {name + "/scaled", beta}, {b.result()});
    };
    // Per value: mean, centre, square, variance (4), normalise and the affine (4).
    s.flops.forward = [](const InteropView& v, std::int64_t batch) {
        return 8 * imagePixels(v.output, batch) * static_cast<double>(v.inputChannels(0));
    };
    return s;
}

} // namespace segforge::core::ops
