#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kBatchNormalizationOp[] = "BatchNormalization";

OpSchema batchNormalizationSchema() {
    OpSchema s;
    s.name = kBatchNormalizationOp;
    s.traits.passThrough = true;
    s.traits.batchStatistics = true;
    s.category = "Normalization";
    s.description = "Normalises each channel over the batch (keras.layers.BatchNormalization); "
                    "keeps moving statistics for inference. Needs batches larger than 1.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H×W×C float32"}};
    s.attrs = {
        floatAttr("momentum", 0.99, 0, 1, "moving-average momentum"),
        floatAttr("epsilon", 1e-3, 0, 1, "added to the variance"),
        boolAttr("center", true, "learn an offset (beta)"),
        boolAttr("scale", true, "learn a scale (gamma)"),
    };
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        TensorType out = ctx.input(0);
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
        p.push_back({"moving_mean", {c}, "zeros", false});
        p.push_back({"moving_variance", {c}, "ones", false});
        return p;
    };
    s.keras.forms = {{
        .classes = {"BatchNormalization"},
        .attrs = {{"momentum", "momentum", KerasValue::Float, 0.99},
                  {"epsilon", "epsilon", KerasValue::Float, 1e-3},
                  {"center", "center", KerasValue::Bool, true},
                  {"scale", "scale", KerasValue::Bool, true}},
        .fixed =
            std::vector<KerasFixed>{{.key = "axis", .json = "-1", .inScript = true},
                                    {"beta_initializer", kerasInitializerJson("zeros")},
                                    {"gamma_initializer", kerasInitializerJson("ones")},
                                    {"moving_mean_initializer", kerasInitializerJson("zeros")},
                                    {"moving_variance_initializer", kerasInitializerJson("ones")}} +
            kerasRegularizers(
                {"beta_regularizer", "gamma_regularizer", "beta_constraint", "gamma_constraint"}) +
            std::vector<KerasFixed>{
                {.key = "synchronized", .json = "false"},
                {.key = "fused", .written = false},
                {.key = "renorm_clipping", .written = false},
                {.key = "renorm_momentum", .written = false},
                {"renorm", "false", "batch renormalization is not supported", false},
                {"virtual_batch_size", "null", "ghost batch normalization is not supported", false},
                {"adjustment", "null", "not supported", false}},
        .hook = KerasHook::BatchNormAxis,
    }};
    s.keras.weights = {
        {"gamma", "scale"}, {"beta", "center"}, {"moving_mean", ""}, {"moving_variance", ""}};
    s.backwardReads = {.inputs = true, .outputs = false}; // x̂ is recomputed from x
    s.forward = kernels::batchNormForward;
    s.assignsFreshInputGrads = true;
    s.backward = kernels::batchNormBackward;
    s.pytorch.needsInputChannels = true;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("KerasBatchNorm(", v.inputChannels(0), ", ", pyFloat(v.getFloat("momentum")),
                      ", ", pyFloat(v.getFloat("epsilon")), ", ", pyBool(v.getBool("center")), ", ",
                      pyBool(v.getBool("scale")), ")");
    };
    // Without scale (center), gamma (beta) is a constant 1 (0).
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const std::int64_t c = v.inputShape(0).channels();
        const std::string scale =
            v.getBool("scale")
                ? onnxVectorParam(b, name, "gamma", c)
                : b.floatConstant(name + "/gamma", {c},
                                  std::vector<float>(static_cast<std::size_t>(c), 1.0f));
        const std::string bias =
            v.getBool("center")
                ? onnxVectorParam(b, name, "beta", c)
                : b.floatConstant(name + "/beta", {c},
                                  std::vector<float>(static_cast<std::size_t>(c), 0.0f));
        const std::string mean = onnxVectorParam(b, name, "moving_mean", c);
        const std::string var = onnxVectorParam(b, name, "moving_variance", c);
        b.node("BatchNormalization", name, {b.floatInput(0), scale, bias, mean, var}, {b.result()},
               {{"epsilon", static_cast<float>(v.getFloat("epsilon"))},
                {"momentum", static_cast<float>(v.getFloat("momentum"))}});
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
