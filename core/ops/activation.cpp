#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema activationSchema() {
    OpSchema s;
    s.name = "Activation";
    s.category = "Activation";
    s.description = "Element-wise non-linearity (keras.layers.Activation). softmax acts across "
                    "channels; sigmoid gives independent probabilities.";
    s.inputs = {{"input", kFloatOnly, "float32"}};
    s.outputs = {{"output", kFloatOnly, "same shape"}};
    s.attrs = {
        enumAttr("activation", "relu", activationChoices(), "function to apply"),
        floatAttr("alpha", 0.3, 0, 1, "negative slope of leaky_relu (Keras default 0.3)"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType out = ctx.input(0);
        applyActivationHint(out, ctx.getString("activation"));
        return {out};
    };
    s.forward = kernels::activationForward;
    s.backward = kernels::activationBackward;
    return s;
}

} // namespace segforge::core::ops
