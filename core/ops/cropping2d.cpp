#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kCropping2DOp[] = "Cropping2D";

OpSchema cropping2dSchema() {
    OpSchema s;
    s.name = kCropping2DOp;
    s.keepsValuesFinite = true;
    s.category = "Resize";
    s.description = "Removes rows and columns at the borders (keras.layers.Cropping2D), e.g. to "
                    "match a skip connection to a smaller decoder tensor.";
    s.inputs = {{"input", kAnyDType, "N×H×W×C"}};
    s.outputs = {{"output", kAnyDType, "N×(H−top−bottom)×(W−left−right)×C"}};
    s.attrs = {quadAttr("cropping", 0, 0, "(top, bottom, left, right) pixels to remove")};
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        const auto& c = attrList(a, "cropping"); // top, bottom, left, right
        const auto i = static_cast<std::size_t>(2 * axis);
        return in.plus(-c.at(i) - c.at(i + 1));
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto& c = ctx.getList("cropping");
        TensorType out = ctx.input(0);
        const Shape& in = out.shape;
        out.shape =
            Shape::image(in.height() - c[0] - c[1], in.width() - c[2] - c[3], in.channels());
        return {out};
    };
    s.keras.forms = {{.classes = {"Cropping2D"},
                      .attrs = {{"cropping", "cropping", KerasValue::Quad, std::int64_t{0}}},
                      .channelsLast = true}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::cropping2dForward;
    s.backward = kernels::cropping2dBackward;
    s.pytorch.module = [](const InteropView& v) {
        const auto& c = v.getList("cropping"); // top, bottom, left, right
        return strCat("Lambda(lambda x: x[:, :, ", c[0], ":x.shape[2] - ", c[1], ", ", c[2],
                      ":x.shape[3] - ", c[3], "])");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const auto& c = v.getList("cropping"); // top, bottom, left, right
        const Shape& x = v.inputShape(0);
        b.node("Slice", name,
               {b.input(0), b.int64Constant(name + "/starts", {c[0], c[2]}),
                b.int64Constant(name + "/ends", {x.height() - c[1], x.width() - c[3]}),
                b.int64Constant(name + "/axes", {2, 3})},
               {b.result()});
    };
    s.onnx.keepsInputDType = true;
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}

} // namespace segforge::core::ops
