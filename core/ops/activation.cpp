#include "kernels/kernels.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kActivationOp[] = "Activation";

OpSchema activationSchema() {
    OpSchema s;
    s.name = kActivationOp;
    s.traits.activation = ActivationUse::Only;
    s.category = "Activation";
    s.description = "Element-wise non-linearity (keras.layers.Activation). softmax acts across "
                    "channels; sigmoid gives independent probabilities.";
    s.inputs = {{"input", kFloatOnly, "float32"}};
    s.outputs = {{"output", kFloatOnly, "same shape"}};
    s.attrs = {
        enumAttr("activation", "relu", activationChoices(), "function to apply"),
        floatAttr("alpha", 0.3, 0, 1, "negative slope of leaky_relu (Keras default 0.3)"),
    };
    s.spatial = sameSpatial;
    s.infer = [](InferContext& ctx) -> InferResult {
        TensorType out = ctx.input(0);
        applyActivationHint(out, ctx.getString("activation"));
        return {out};
    };
    const auto activationIs = [](const char* name) {
        return AttrMap{{"activation", std::string(name)}};
    };
    s.keras.forms = {
        // leaky_relu with its slope is written as ReLU(negative_slope=alpha) (the
        // class LeakyReLU is the LeakyReLU op's). On import, a ReLU whose slope is
        // 0 is relu (the ReLU hook).
        {.classes = {"ReLU"},
         .attrs = {{"alpha", "negative_slope", KerasValue::Float, 0.0}},
         .implies = activationIs("leaky_relu"),
         .hook = KerasHook::ReLU},
        {.classes = {"Activation"},
         .attrs = {{"activation",
                    "activation",
                    KerasValue::Activation,
                    std::string("linear"),
                    {},
                    true}},
         .hook = KerasHook::ActivationFunction},
        {.classes = {"Softmax"},
         .implies = activationIs("softmax"),
         .importOnly = true,
         .hook = KerasHook::SoftmaxAxis},
    };
    s.keras.identity = activationIs("linear");
    s.backwardReads = {.inputs = false, .outputs = true}; // the derivative from the output
    s.forward = kernels::activationForward;
    s.assignsFreshInputGrads = true;
    s.backward = kernels::activationBackward;
    s.pytorch.module = [](const InteropView& v) {
        return strCat("Lambda(lambda x: activate(x, ", v.pyText("activation"), ", ",
                      pyFloat(v.getFloat("alpha")), "))");
    };
    s.onnx.write = [](const InteropView& v, OnnxBuilder& b) {
        onnxActivation(b, v.name(), v.getString("activation"), v.getFloat("alpha"), b.floatInput(0),
                       b.result());
    };
    s.flops.freeBecause = export_reason::kElementwise;
    return s;
}

} // namespace segforge::core::ops
