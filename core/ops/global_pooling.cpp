#include "kernels/global_pooling_kernel.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kGlobalAvgPool2DOp[] = "GlobalAvgPool2D";

// keras.layers.GlobalAveragePooling2D(keepdims=True): the mean over the whole
// image, kept as a 1×1 image (N×1×1×C), so tensors stay NHWC images and a
// squeeze-excitation gate multiplies the feature map by broadcasting.
OpSchema globalAvgPool2dSchema() {
    OpSchema s;
    s.name = kGlobalAvgPool2DOp;
    s.category = "Pooling";
    s.description = "Mean over height and width per channel (keras.layers."
                    "GlobalAveragePooling2D with keepdims=True): N×H×W×C → N×1×1×C. Multiply "
                    "broadcasts it back over an N×H×W×C map (squeeze-excitation).";
    s.inputs = {{"input", kFloatOnly, "N×H×W×C float32"}};
    s.outputs = {{"output", kFloatOnly, "N×1×1×C float32"}};
    // A mean is a convex combination, and the kernel sums in double: finite
    // inputs give finite outputs (AvgPool2D sums in float32 and is not marked).
    s.keepsValuesFinite = true;
    s.spatial = [](const AttrMap&, int, const SizeExpr&) { return SizeExpr::constant(1); };
    s.infer = [](InferContext& ctx) -> InferResult {
        if (!requireImage(ctx, 0))
            return {std::nullopt};
        TensorType out = ctx.input(0);
        out.dtype = DType::Float32;
        out.shape = Shape::image(1, 1, out.shape.channels());
        // A mean keeps a range (of probabilities, say) but not a kind.
        out.kind = ValueKind::Unknown;
        return {out};
    };
    s.keras.forms = {{.classes = {"GlobalAveragePooling2D", "GlobalAvgPool2D"},
                      // keepdims=False (Keras' default) gives N×C, which is no image: the
                      // importer's hook reads it as True and warns. Written True, in the
                      // JSON and in the script.
                      .fixed = {{.key = "keepdims", .json = "true", .inScript = true}},
                      .channelsLast = true,
                      .hook = KerasHook::KeepDims}};
    s.backwardReads = {.inputs = false, .outputs = false}; // saved state and shapes
    s.forward = kernels::globalAvgPool2dForward;
    s.backward = kernels::globalAvgPool2dBackward;
    // The exported PyTorch network is NCHW: a mean over the last two axes.
    s.pytorch.module = [](const InteropView&) { return std::string("nn.AdaptiveAvgPool2d(1)"); };
    // ONNX tensors are NCHW inside the graph: GlobalAveragePool gives N×C×1×1.
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        b.node("GlobalAveragePool", v.name(), {b.floatInput(0)}, {b.result()});
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
