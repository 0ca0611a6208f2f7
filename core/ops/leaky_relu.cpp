#include "kernels/leaky_relu_kernel.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kLeakyReLUOp[] = "LeakyReLU";

// keras.layers.LeakyReLU with its own slope. The Activation op's 'leaky_relu'
// stays for the slope Keras' activation *function* has (kernels::kLeakyReluSlope),
// which convolutions fuse; this op carries any slope an imported model has.
OpSchema leakyReluSchema() {
    OpSchema s;
    s.name = kLeakyReLUOp;
    s.category = "Activation";
    s.description = "Leaky rectifier (keras.layers.LeakyReLU): x for x > 0, alpha·x otherwise. "
                    "alpha is the slope below zero (Keras' default 0.3).";
    s.inputs = {{"input", kFloatOnly, "float32"}};
    s.outputs = {{"output", kFloatOnly, "same shape"}};
    // Any finite slope computes; ONNX's LeakyRelu and Keras accept any value.
    s.attrs = {
        floatAttr("alpha", 0.3, -1e6, 1e6,
                  "slope below zero (Keras 2: alpha, Keras 3: negative_slope; default 0.3)")};
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType out = ctx.input(0);
        out.dtype = DType::Float32;
        // Unbounded below (and above): like Activation('leaky_relu'), no value hint.
        applyActivationHint(out, "leaky_relu");
        return {out};
    };
    // Not keepsValuesFinite: alpha·x may overflow float32 for a large |alpha|,
    // so the NaN/Inf guard checks its output.
    s.keras.forms = {{.classes = {"LeakyReLU"},
                      // Keras 2 called the slope alpha, Keras 3 negative_slope; both
                      // default to 0.3. Written with Keras 3's key, as every layer is.
                      .attrs = {{"alpha", "negative_slope", KerasValue::Float, 0.3, {"alpha"}}}}};
    s.backwardReads = {.inputs = true, .outputs = false};
    s.forward = kernels::leakyReluForward;
    s.backward = kernels::leakyReluBackward;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("nn.LeakyReLU(", pyFloat(v.getFloat("alpha")), ")");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        b.node("LeakyRelu", v.name(), {b.floatInput(0)}, {b.result()},
               {{"alpha", static_cast<float>(v.getFloat("alpha"))}});
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
