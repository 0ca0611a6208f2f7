#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kMaxPool2DOp[] = "MaxPool2D";
const char kAvgPool2DOp[] = "AvgPool2D";

namespace {

// MaxPool2D and AvgPool2D share everything but the reduction, which the
// engine adds; keeping both schemas here keeps their attributes in step.
OpSchema poolSchema(std::string name, std::string what) {
    OpSchema s;
    s.name = std::move(name);
    s.traits.resampling = Resampling::Down;
    s.category = "Pooling";
    s.description = what + " over windows (keras.layers." + s.name +
                    "). With padding 'valid' an odd size is floored: 25 → 12.";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×H'×W'×C float32"}};
    s.attrs = {
        pairAttr("pool_size", 2, 1, 64, "window (height, width)"),
        pairAttr("strides", 0, 0, 64, "step (height, width); 0 = pool_size (Keras default None)"),
        enumAttr("padding", "valid", {"valid", "same"},
                 "'valid': floor((input − pool) / stride) + 1; 'same': ceil(input / stride)"),
    };
    s.spatial = [](const AttrMap& a, int axis, const SizeExpr& in) {
        const auto i = static_cast<std::size_t>(axis);
        const std::int64_t pool = attrList(a, "pool_size").at(i);
        const std::int64_t stride = attrList(a, "strides").at(i);
        return convOutputSize(in, pool, stride == 0 ? pool : stride, 1,
                              attrString(a, "padding") == "same");
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        const auto p = ctx.getPair("pool_size");
        auto st = ctx.getPair("strides");
        for (int i = 0; i < 2; ++i) {
            if (st[static_cast<std::size_t>(i)] == 0)
                st[static_cast<std::size_t>(i)] = p[static_cast<std::size_t>(i)];
        }
        const bool same = ctx.getString("padding") == "same";
        const Shape& in = ctx.input(0).shape;
        TensorType out = ctx.input(0);
        out.shape = Shape::image(convOutputLength(in.height(), p[0], st[0], 1, same),
                                 convOutputLength(in.width(), p[1], st[1], 1, same), in.channels());
        return {out};
    };
    return s;
}

/// One Keras table for both poolings, so their strides are written alike.
KerasMapping poolKeras(std::vector<std::string> classes) {
    KerasMapping k;
    k.forms = {{.classes = std::move(classes),
                .attrs = {{"pool_size", "pool_size", KerasValue::Pair, std::int64_t{2}},
                          {"strides", "strides", KerasValue::PoolStrides, std::int64_t{0}},
                          {"padding", "padding", KerasValue::Lowercase, std::string("valid")}},
                .channelsLast = true}};
    return k;
}

/// KerasPool2d("max" | "avg", …) of resources/python/pytorch_modules.py.
PyTorchMapping poolPyTorch(std::string kind) {
    PyTorchMapping m;
    m.module = [kind](const InteropView& v) {
        return strCat("KerasPool2d(\"", kind, "\", ", v.pyInts("pool_size"), ", ",
                      v.pyInts("strides"), ", ", v.pyText("padding"), ")");
    };
    return m;
}

/// MaxPool / AveragePool with TensorFlow's 'same' geometry; Keras averages over
/// the real pixels only.
OnnxMapping poolOnnx(bool max) {
    OnnxMapping m;
    m.write = [max](const InteropView& v, OnnxBuilder& b) {
        const auto& p = v.getList("pool_size");
        std::vector<std::int64_t> st = v.getList("strides");
        for (std::size_t i = 0; i < 2; ++i)
            st[i] = st[i] == 0 ? p[i] : st[i];
        std::vector<std::int64_t> pads{0, 0, 0, 0};
        if (v.getString("padding") == "same") {
            const auto [top, bottom] = tfSamePads(v.inputShape(0).height(), p[0], st[0], 1);
            const auto [left, right] = tfSamePads(v.inputShape(0).width(), p[1], st[1], 1);
            pads = {top, left, bottom, right};
        }
        std::vector<OnnxAttribute> attrs{{"kernel_shape", p}, {"strides", st}, {"pads", pads}};
        if (!max)
            attrs.push_back({"count_include_pad", std::int64_t{0}});
        b.node(max ? "MaxPool" : "AveragePool", v.name(), {b.floatInput(0)}, {b.result()}, attrs);
    };
    return m;
}

} // namespace

OpSchema maxPool2dSchema() {
    OpSchema s = poolSchema(kMaxPool2DOp, "Maximum");
    s.keepsValuesFinite = true;
    s.keras = poolKeras({"MaxPooling2D", "MaxPool2D"});
    s.backwardReads = {.inputs = false, .outputs = false}; // saved state and shapes
    s.forward = kernels::maxPool2dForward;
    s.backward = kernels::maxPool2dBackward;
    s.pytorch = poolPyTorch("max");
    s.onnx = poolOnnx(true);
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}
OpSchema avgPool2dSchema() {
    OpSchema s = poolSchema(kAvgPool2DOp, "Average");
    // Averaging keeps ranges but not kinds (an average of probabilities is one).
    s.keras = poolKeras({"AveragePooling2D", "AvgPool2D"});
    s.backwardReads = {.inputs = false, .outputs = false}; // shapes only
    s.forward = kernels::avgPool2dForward;
    s.backward = kernels::avgPool2dBackward;
    s.pytorch = poolPyTorch("avg");
    s.onnx = poolOnnx(false);
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
