#include "engine/kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

#include <algorithm>

namespace segforge::core::ops {

OpSchema rescaleSchema() {
    OpSchema s;
    s.name = "Rescale";
    s.category = "Preprocessing";
    s.description = "output = input × scale + offset, as float32 (keras.layers.Rescaling). "
                    "scale 1/255 maps uint8 pixels to [0, 1].";
    s.inputs = {{"input", kAnyDType, "any tensor"}};
    s.outputs = {{"output", kFloatOnly, "float32"}};
    s.attrs = {
        floatAttr("scale", 1.0 / 255.0, std::nullopt, std::nullopt, "multiplier"),
        floatAttr("offset", 0.0, std::nullopt, std::nullopt, "added after scaling"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType t = ctx.input(0);
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
    s.forward = kernels::rescaleForward;
    s.backward = kernels::rescaleBackward;
    return s;
}

} // namespace segforge::core::ops
