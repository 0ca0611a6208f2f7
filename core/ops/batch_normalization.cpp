#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema batchNormalizationSchema() {
    OpSchema s;
    s.name = "BatchNormalization";
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
    s.forward = kernels::batchNormForward;
    s.backward = kernels::batchNormBackward;
    return s;
}

} // namespace segforge::core::ops
