#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core {

void onnxCastToFloat(OnnxBuilder& b, const std::string& name, const std::string& in,
                     const std::string& out) {
    b.node("Cast", name, {in}, {out}, {{"to", std::int64_t{1}}}); // TensorProto FLOAT
}

} // namespace segforge::core

namespace segforge::core::ops {

const char kCastOp[] = "Cast";

OpSchema castSchema() {
    OpSchema s;
    s.name = kCastOp;
    s.traits.passThrough = true;
    s.traits.convertsData = true;
    s.category = "Preprocessing";
    s.description = "Converts the element type without scaling (int32 mask → float32 mask).";
    s.inputs = {{"input", kAnyDType, "any tensor"}};
    s.outputs = {{"output", kAnyDType, "same values, new dtype"}};
    s.attrs = {enumAttr("dtype", "float32", {"float32", "int32", "uint8", "uint16", "bool"},
                        "target type")};
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType t = ctx.input(0);
        t.dtype = *parseDType(ctx.getString("dtype"));
        return {t};
    };
    s.keras.none = "no Keras layer, because the exporters follow a Cast through to its source: "
                   "the model reads the input's dtype, the script's data reader converts the masks";
    s.backwardReads = {.inputs = false, .outputs = false};
    s.recomputable = true;
    s.forward = kernels::castForward;
    s.backward = kernels::castBackward;
    s.pytorch.notExportable =
        "Cast is not a module, because the exporters follow it to its source: "
        "PyTorch casts the input on its own";
    s.onnx.notExportable = "Cast is not exported, because the exporters follow it to its source: "
                           "the ONNX graph casts integer inputs where a float is needed";
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}

} // namespace segforge::core::ops
