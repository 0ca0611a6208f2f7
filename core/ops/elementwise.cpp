#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kAddOp[] = "Add";
const char kMultiplyOp[] = "Multiply";

namespace {

// Add and Multiply follow Keras' merge rule: each axis must be equal, or 1
// (broadcast). Residual and attention blocks are where these go wrong.
OpSchema elementwiseSchema(std::string name, std::string what) {
    OpSchema s;
    s.name = std::move(name);
    s.category = "Merge";
    s.traits.broadcasts = true;
    s.description = what + " of tensors of the same shape (keras.layers." + s.name +
                    "); an axis of size 1 broadcasts.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.variadicInputs = true;
    s.outputs = {{"output", kFloatOnly, "N×H×W×C float32"}};
    s.attrs = {
        intAttr("num_inputs", 2, 2, kMaxVariadicInputs, "number of inputs (ports a, b, c, …)")};
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        for (int i = 0; i < ctx.inputCount(); ++i) {
            if (!requireImage(ctx, i))
                return {std::nullopt};
        }
        Shape out = ctx.input(0).shape;
        bool ok = true;
        for (int i = 1; i < ctx.inputCount(); ++i) {
            const Shape& si = ctx.input(i).shape;
            bool match = true;
            for (int a = 1; a < 4; ++a) {
                if (out[a] == si[a] || si[a] == 1)
                    continue;
                if (out[a] == 1) {
                    out[a] = si[a];
                    continue;
                }
                match = false;
            }
            if (match)
                continue;
            ok = false;
            const Shape& s0 = ctx.input(0).shape;
            auto& d = ctx.error(
                codes::kElementwiseShapeMismatch, ctx.inputName(i),
                strCat(ctx.label(), ": input '", ctx.inputName(0), "' is ", s0.toString(),
                       ", input '", ctx.inputName(i), "' is ", si.toString(), " — ",
                       describeDifferingDims(s0, si, -1),
                       " must be equal (or 1 to broadcast). Keras: \"Inputs have incompatible "
                       "shapes\""));
            if (s0.height() != si.height() || s0.width() != si.width()) {
                const bool iSmaller = si.height() * si.width() < s0.height() * s0.width();
                d.fixes = spatialMatchFixes(ctx, iSmaller ? i : 0, iSmaller ? 0 : i);
            } else {
                // Only channels differ: project with a 1×1 convolution.
                d.fixes.push_back(insertOnInputFix(
                    ctx, i,
                    makeNode(kConv2DOp, "project",
                             {{"filters", s0.channels()},
                              {"kernel_size", std::vector<std::int64_t>{1, 1}}}),
                    strCat("Insert Conv2D(", s0.channels(), ", 1×1) on input '", ctx.inputName(i),
                           "' (", si.channels(), " → ", s0.channels(), " channels)")));
            }
        }
        if (!ok)
            return {std::nullopt};
        return {TensorType{out, DType::Float32}};
    };
    return s;
}

/// Add and Multiply take any number of inputs; ONNX's take two: a chain.
void onnxChain(const InteropView& v, OnnxBuilder& b, const std::string& op) {
    const std::string& name = v.name();
    std::string acc = b.floatInput(0);
    for (std::size_t i = 1; i < v.inputs.size(); ++i) {
        const bool last = i + 1 == v.inputs.size();
        const std::string out = last ? b.result() : strCat(name, "/", i);
        b.node(op, last ? name : out, {acc, b.floatInput(i)}, {out});
        acc = out;
    }
}

} // namespace

OpSchema addSchema() {
    OpSchema s = elementwiseSchema(kAddOp, "Element-wise sum");
    s.keras.forms = {{.classes = {"Add"}}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::addForward;
    s.backward = kernels::addBackward;
    s.pytorch.module = [](const InteropView&) {
        return std::string("Lambda(lambda *xs: sum(xs[1:], xs[0]))");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) { onnxChain(v, b, "Add"); };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}
OpSchema multiplySchema() {
    OpSchema s = elementwiseSchema(kMultiplyOp, "Element-wise product");
    s.keras.forms = {{.classes = {"Multiply"}}};
    s.backwardReads = {.inputs = true, .outputs = false};
    s.forward = kernels::multiplyForward;
    s.backward = kernels::multiplyBackward;
    s.pytorch.module = [](const InteropView&) {
        return std::string(
            "Lambda(lambda *xs: torch.stack(torch.broadcast_tensors(*xs)).prod(dim=0))");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) { onnxChain(v, b, "Mul"); };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
