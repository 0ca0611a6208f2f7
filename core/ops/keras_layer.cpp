#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_ports.hpp"
#include "util/str_cat.hpp"

namespace segforge::core::ops {

const char kKerasLayerOp[] = "KerasLayer";

// An imported Keras layer that SegForge cannot map stays in the graph as this
// placeholder, so the rest of the model still opens and gets checked. It exists
// to be reported: its infer always answers unsupported-layer and no type, and
// it has no kernels (a graph holding one does not train).
OpSchema kerasLayerSchema() {
    OpSchema s;
    s.name = kKerasLayerOp;
    s.category = "Interop";
    s.traits.placeholder = true;
    s.description = "Placeholder for an imported Keras layer SegForge has no op for "
                    "(class_name names it). Replace it with supported layers; tensors after "
                    "it have no type until then.";
    s.inputs = {{"input", kAnyDType, "whatever the Keras layer received"}};
    s.variadicInputs = true;
    // Reported even behind another placeholder: a user replacing unsupported
    // layers wants the whole list at once, not one per check.
    s.inferWithUnknownInputs = true;
    // As many outputs as the file uses (num_outputs): output, output_1, … (ops/op_ports).
    s.outputs = {{"output", kAnyDType, "unknown"}};
    s.attrs = {
        stringAttr("class_name", "", "the Keras layer class, e.g. Dense"),
        stringAttr("reason", "", "why it could not be mapped"),
        intAttr("num_inputs", 2, 1, kMaxVariadicInputs, "number of inputs (ports a, b, c, …)"),
        intAttr(kNumOutputsAttr, 1, 1, kMaxVariadicOutputs,
                "number of outputs the model uses (ports output, output_1, …)"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        const std::string& cls = ctx.getString("class_name");
        const std::string& reason = ctx.getString("reason");
        ctx.error(codes::kUnsupportedLayer, "",
                  strCat("Keras layer '", ctx.node().name, "' of class ",
                         cls.empty() ? std::string("(unknown)") : cls,
                         " has no SegForge equivalent",
                         reason.empty() ? std::string() : strCat(" (", reason, ")"),
                         "; the tensors after it get no type. Replace it with supported layers"));
        return {std::nullopt};
    };
    s.keras.placeholder = true;
    s.pytorch.notExportable = "a placeholder is not exportable to PyTorch, because it stands for "
                              "a Keras layer that SegForge cannot compute";
    s.onnx.notExportable = "a placeholder is not exportable to ONNX, because it stands for a "
                           "Keras layer that SegForge cannot compute";
    s.flops.freeBecause = "a placeholder is never run";
    return s;
}

} // namespace segforge::core::ops
