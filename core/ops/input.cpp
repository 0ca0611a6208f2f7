#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

const char kInputOp[] = "Input";

OpSchema inputSchema() {
    OpSchema s;
    s.name = kInputOp;
    s.category = "Input";
    s.role = OpRole::Source;
    s.description = "A tensor fed from outside the graph (keras.Input): N×height×width×channels.";
    s.outputs = {{"output", kAnyDType, "the fed tensor"}};
    s.attrs = {
        intAttr("height", 128, 1, 65536, "image height in pixels"),
        intAttr("width", 128, 1, 65536, "image width in pixels"),
        variableSizeAttr(),
        intAttr("channels", 3, 1, 4096, "channels per pixel"),
        enumAttr("dtype", "float32", {"float32", "uint8", "uint16", "int32", "bool"},
                 "element type"),
        intAttr("batch_size", 0, 0, 65536, "training batch size; 0 = not fixed (Keras None)"),
    };
    s.spatial = sourceSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType t{
            Shape::image(ctx.getInt("height"), ctx.getInt("width"), ctx.getInt("channels")),
            *parseDType(ctx.getString("dtype"))};
        if (t.dtype == DType::UInt8 || t.dtype == DType::UInt16)
            t.range = ValueRange{0, unsignedMax(t.dtype)};
        return {t};
    };
    s.keras.input =
        KerasInput{.dtypeAttr = "dtype", .batchAttr = "batch_size", .importTarget = true};
    s.pytorch.notExportable = export_reason::kSourcePyTorch;
    s.onnx.notExportable = export_reason::kSourceOnnx;
    s.flops.freeBecause = export_reason::kNoArithmetic;
    return s;
}

} // namespace segforge::core::ops
