#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema castSchema() {
    OpSchema s;
    s.name = "Cast";
    s.category = "Preprocessing";
    s.description = "Converts the element type without scaling (int32 mask → float32 mask).";
    s.inputs = {{"input", kAnyDType, "any tensor"}};
    s.outputs = {{"output", kAnyDType, "same values, new dtype"}};
    s.attrs = {enumAttr("dtype", "float32", {"float32", "int32", "uint8", "uint16", "bool"}, "target type")};
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType t = ctx.input(0);
        t.dtype = *parseDType(ctx.getString("dtype"));
        return {t};
    };
    s.forward = kernels::castForward;
    s.backward = kernels::castBackward;
    return s;
}

} // namespace segforge::core::ops
