#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kConcatenateOp[] = "Concatenate";

OpSchema concatenateSchema() {
    OpSchema s;
    s.name = kConcatenateOp;
    s.keepsValuesFinite = true;
    s.category = "Merge";
    s.description = "Joins tensors along an axis (keras.layers.Concatenate); in a U-Net it joins "
                    "the skip connection with the upsampled path. Every other axis must match.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×Ci float32"}};
    s.variadicInputs = true;
    s.outputs = {{"output", kFloatOnly, "N×H×W×ΣCi float32"}};
    s.attrs = {
        intAttr("axis", -1, -3, 3,
                "axis to join along (-1: channels); the batch axis cannot be used"),
        intAttr("num_inputs", 2, 2, kMaxVariadicInputs, "number of inputs (ports a, b, c, …)"),
    };
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        std::int64_t joined = std::get<std::int64_t>(a.at("axis"));
        if (joined < 0)
            joined += 4;
        // Joined along this axis: the sum of the inputs' sizes, which input 0 alone
        // does not give.
        return joined == axis + 1 ? SizeExpr{} : in;
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        for (int i = 0; i < ctx.inputCount(); ++i) {
            if (!requireImage(ctx, i))
                return {std::nullopt};
        }
        std::int64_t axis = ctx.getInt("axis");
        if (axis < 0)
            axis += 4;
        if (axis == 0) {
            auto& d = ctx.error(codes::kBadAttribute, "",
                                strCat(ctx.label(), ": axis 0 is the batch axis and cannot be "
                                                    "concatenated in a segmentation network"));
            d.fixes.push_back({"Set axis to -1 (channels)",
                               {SetAttributeEdit{ctx.node().id, "axis", std::nullopt}}});
            return {std::nullopt};
        }
        const int ax = static_cast<int>(axis);
        Shape out = ctx.input(0).shape;
        out[ax] = 0;
        bool ok = true;
        for (int i = 0; i < ctx.inputCount(); ++i) {
            const Shape& si = ctx.input(i).shape;
            out[ax] += si[ax];
            if (i == 0)
                continue;
            const Shape& s0 = ctx.input(0).shape;
            bool match = true;
            for (int a = 1; a < 4; ++a)
                match = match && (a == ax || si[a] == s0[a]);
            if (match)
                continue;
            ok = false;
            // The smaller of the pair is the one to bring up (or the larger to crop).
            const bool iSmaller = si.height() * si.width() < s0.height() * s0.width();
            const int small = iSmaller ? i : 0;
            const int large = iSmaller ? 0 : i;
            auto& d =
                ctx.error(codes::kConcatShapeMismatch, ctx.inputName(i),
                          strCat(ctx.label(), ": input '", ctx.inputName(0), "' is ", s0.toString(),
                                 ", input '", ctx.inputName(i), "' is ", si.toString(), " — ",
                                 describeDifferingDims(s0, si, ax), " must match (only axis ", axis,
                                 " may differ). Keras: \"A Concatenate layer requires inputs with "
                                 "matching shapes except for the concatenation axis\""));
            d.fixes = spatialMatchFixes(ctx, small, large);
        }
        if (!ok)
            return {std::nullopt};
        return {TensorType{out, DType::Float32}};
    };
    s.keras.forms = {{.classes = {"Concatenate"},
                      .attrs = {{"axis", "axis", KerasValue::Int, std::int64_t{-1}}}}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::concatenateForward;
    s.assignsFreshInputGrads = true;
    s.backward = kernels::concatenateBackward;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("Lambda(lambda *xs: torch.cat(xs, dim=concat_axis(", v.getInt("axis"), ")))");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        std::vector<std::string> inputs;
        for (std::size_t i = 0; i < v.inputs.size(); ++i)
            inputs.push_back(b.floatInput(i));
        b.node("Concat", v.name(), inputs, {b.result()}, {{"axis", nchwAxis(v.getInt("axis"))}});
    };
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}

} // namespace segforge::core::ops
