#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kZeroPadding2DOp[] = "ZeroPadding2D";

OpSchema zeroPadding2dSchema() {
    OpSchema s;
    s.name = kZeroPadding2DOp;
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Adds rows and columns of zeros at the borders (keras.layers.ZeroPadding2D).";
    s.inputs = {{"input", kAnyDType, "N×H×W×C"}};
    s.outputs = {{"output", kAnyDType, "N×(H+top+bottom)×(W+left+right)×C"}};
    s.attrs = {quadAttr("padding", 1, 0, "(top, bottom, left, right) pixels to add")};
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        const auto& p = attrList(a, "padding"); // top, bottom, left, right
        const auto i = static_cast<std::size_t>(2 * axis);
        return in.plus(p.at(i) + p.at(i + 1));
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto& p = ctx.getList("padding");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape =
            Shape::image(in.height() + p[0] + p[1], in.width() + p[2] + p[3], in.channels());
        if (out.range)
            out.range = ValueRange{std::min(0.0, out.range->lo), std::max(0.0, out.range->hi)};
        return {out};
    };
    s.keras.forms = {{.classes = {"ZeroPadding2D"},
                      .attrs = {{"padding", "padding", KerasValue::Quad, std::int64_t{1}}},
                      .channelsLast = true}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::zeroPadding2dForward;
    s.backward = kernels::zeroPadding2dBackward;
    s.pytorch.module = [](const InteropView& v) {
        const auto& p = v.getList("padding"); // top, bottom, left, right
        return strCat("Lambda(lambda x: F.pad(x, (", p[2], ", ", p[3], ", ", p[0], ", ", p[1],
                      ")))");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const auto& p = v.getList("padding"); // top, bottom, left, right
        b.node(
            "Pad", v.name(),
            {b.input(0), b.int64Constant(v.name() + "/pads", {0, 0, p[0], p[2], 0, 0, p[1], p[3]})},
            {b.result()}, {{"mode", std::string("constant")}});
    };
    s.onnx.keepsInputDType = true;
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}

} // namespace segforge::core::ops
