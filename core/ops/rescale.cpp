#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>

namespace segforge::core::ops {

const char kRescaleOp[] = "Rescale";

namespace {

// Unsigned pixels scaled by the wrong maximum (1/255 on uint16: up to 257) reach
// the network far above 1; Keras trains on, slowly or to NaN. The data's own
// maximum counts when a probe knows it (a 0/1 mask is not pixels).
void warnIfPixelsStayLarge(InferContext& ctx, const TensorType& in) {
    const double typeMax = unsignedMax(in.dtype);
    if (typeMax <= 0)
        return;
    const double hi = in.range ? in.range->hi : typeMax;
    const double scale = ctx.getFloat("scale"), offset = ctx.getFloat("offset");
    const double reach = std::max(std::abs(offset), std::abs(hi * scale + offset));
    if (hi <= 1 || reach <= 2)
        return;
    const std::string maxText = typeMax == 255.0 ? "255" : "65535";
    auto& d =
        ctx.warning(codes::kRescaleRange, "input",
                    strCat(ctx.label(), " maps ", dtypeName(in.dtype), " values up to ", hi, " to ",
                           hi * scale + offset, ": the network sees values far above 1 (",
                           dtypeName(in.dtype), " pixels are scaled by 1/", maxText, ")"));
    d.fixes.push_back({strCat("Set scale=1/", maxText, " on '", ctx.node().name, "'"),
                       {SetAttributeEdit{ctx.node().id, "scale", AttrValue{1.0 / typeMax}}}});
}

} // namespace

OpSchema rescaleSchema() {
    OpSchema s;
    s.name = kRescaleOp;
    s.traits.convertsData = true;
    s.category = "Preprocessing";
    s.description = "output = input × scale + offset, as float32 (keras.layers.Rescaling). "
                    "scale 1/255 maps uint8 pixels to [0, 1].";
    s.inputs = {{"input", kAnyDType, "any tensor"}};
    s.outputs = {{"output", kFloatOnly, "float32"}};
    s.attrs = {
        floatAttr("scale", 1.0 / 255.0, std::nullopt, std::nullopt, "multiplier"),
        floatAttr("offset", 0.0, std::nullopt, std::nullopt, "added after scaling"),
    };
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType t = ctx.input(0);
        warnIfPixelsStayLarge(ctx, t);
        t.dtype = DType::Float32;
        if (t.range) {
            const double scale = ctx.getFloat("scale");
            const double offset = ctx.getFloat("offset");
            const double a = t.range->lo * scale + offset;
            const double b = t.range->hi * scale + offset;
            t.range = ValueRange{std::min(a, b), std::max(a, b)};
        }
        if (t.kind != ValueKind::Unknown)
            t.kind = ValueKind::Unknown;
        return {t};
    };
    s.keras.forms = {{.classes = {"Rescaling"},
                      .attrs = {{"scale", "scale", KerasValue::Float, 1.0},
                                {"offset", "offset", KerasValue::Float, 0.0}},
                      .hook = KerasHook::ScalarRescale}};
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::rescaleForward;
    s.backward = kernels::rescaleBackward;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("Lambda(lambda x: x.float() * ", pyFloat(v.getFloat("scale")), " + ",
                      pyFloat(v.getFloat("offset")), ")");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        const std::string& name = v.name();
        const std::string scaled = name + "/scaled";
        b.node("Mul", name,
               {b.floatInput(0),
                b.floatConstant(name + "/scale", {1}, {static_cast<float>(v.getFloat("scale"))})},
               {scaled});
        b.node("Add", name + "/add",
               {scaled,
                b.floatConstant(name + "/offset", {1}, {static_cast<float>(v.getFloat("offset"))})},
               {b.result()});
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
