#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core::ops {

OpSchema dropoutSchema() {
    OpSchema s;
    s.name = "Dropout";
    s.category = "Regularization";
    s.description = "Zeroes a fraction `rate` of values while training and rescales the rest "
                    "(keras.layers.Dropout); identity at inference.";
    s.inputs = {{"input", kFloatOnly, "float32"}};
    s.outputs = {{"output", kFloatOnly, "same shape"}};
    s.attrs = {
        floatAttr("rate", 0.5, 0, 1, "fraction dropped", /*maxExclusive=*/true),
        intAttr("seed", 0, 0, 2147483647, "random seed (0: derived from the training seed)"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType out = ctx.input(0);
        out.range.reset();
        return {out};
    };
    s.forward = kernels::dropoutForward;
    s.backward = kernels::dropoutBackward;
    return s;
}

} // namespace segforge::core::ops
