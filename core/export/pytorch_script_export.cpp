#include "export/export_graph.hpp"
#include "export/python_script_export.hpp"
#include "export/python_sources.hpp"
#include "export/script_common.hpp"
#include "ops/builtin_ops.hpp"
#include "project/graph_revision.hpp"
#include "util/str_cat.hpp"

#include <map>
#include <nlohmann/json.hpp>

namespace segforge::core {

using namespace interop;

namespace {

/// make_loss()'s arguments (resources/python/pytorch_losses.py): the loss op and its attributes.
std::string lossArgs(const ExportGraph& g) {
    std::string s = pythonString(g.lossOp.empty() ? ops::kBinaryCrossentropyOp : g.lossOp);
    if (g.lossOp.empty())
        return s + ", from_logits=False, label_smoothing=0.0";
    for (const auto& [key, value] : g.lossAttrs) {
        s += ", " + key + "=";
        if (auto* b = std::get_if<bool>(&value))
            s += pyBool(*b);
        else if (auto* d = std::get_if<double>(&value))
            s += pyFloat(*d);
        else if (auto* i = std::get_if<std::int64_t>(&value))
            s += key == "ignore_class" && *i < 0 ? std::string("-100") : std::to_string(*i);
        else
            s += pythonString(attrToString(value));
    }
    return s;
}

} // namespace

ScriptExport exportPyTorchScript(const Project& project, const std::string& weights) {
    ScriptExport out;
    ExportGraph g = collectExportGraph(project.graph, out);
    if (!out.ok())
        return out;
    std::map<std::string, const ExportLayer*> byName;
    for (const ExportLayer& l : g.layers)
        byName[l.node->name] = &l;
    std::string init, forward, inputs, layerNames;
    for (const ExportLayer& l : g.layers) {
        const std::string& name = l.node->name;
        const std::string v = "t_" + pythonIdentifier(name);
        layerNames += "    " + pythonString(name) + ",\n";
        if (l.isInput()) {
            inputs += (inputs.empty() ? "" : ", ") + v;
            continue;
        }
        // The op's module (ops/export_mapping.hpp), from the types its producers export.
        const PyTorchMapping& mapping = l.schema->pytorch;
        InteropView view{*l.node, l.attrs, l.schema->inputNames(*l.node), {}, l.output};
        for (const std::string& in : l.inputs) {
            const ExportLayer* p = byName[in];
            view.inputs.push_back(p ? p->output : std::nullopt);
        }
        if (mapping.needsInputChannels && view.inputChannels(0) == 0) {
            out.errors.push_back(strCat("the input type of '", name,
                                        "' is unknown; fix the errors "
                                        "`segforge-cli check` reports, then export"));
            continue;
        }
        if (!mapping.module) {
            out.errors.push_back(strCat(l.node->op, " '", name,
                                        "' has no PyTorch equivalent here (", mapping.notExportable,
                                        ")"));
            continue;
        }
        const std::string module = mapping.module(view);
        init += strCat("        self.layers[", pythonString(name), "] = ", module, "\n");
        std::string args;
        for (const std::string& in : l.inputs)
            args += (args.empty() ? "" : ", ") + std::string("t_") + pythonIdentifier(in);
        forward += strCat("        ", v, " = self.layers[", pythonString(name), "](", args, ")\n");
    }
    if (!out.ok())
        return out;
    std::string outputs;
    for (const std::string& o : g.outputs)
        outputs += (outputs.empty() ? "" : ", ") + std::string("t_") + pythonIdentifier(o);

    const ScriptData data = scriptDataOf(project, g);
    std::string text = scriptHeader(project, "torch");
    text += "\n\n# Every layer, by its SegForge name.\nLAYER_NAMES = [\n" + layerNames + "]\n";
    text += pythonSource("pytorch_modules");
    text += strCat(R"(

class Net(nn.Module):
    """The network, layer for layer as in SegForge; tensors are NCHW inside."""

    def __init__(self):
        super().__init__()
        self.layers = nn.ModuleDict()
)",
                   init, R"(
    def forward(self, )",
                   inputs, R"():
)",
                   forward, "        return ", outputs, "\n");
    text += pythonSource("pytorch_load_weights");
    text += pythonSource("pytorch_losses");
    text += scriptTorchData(data);
    text += pythonSource("write_safetensors");
    if (g.lossOp.empty())
        out.warnings.push_back(
            "the project has no loss; the script trains with binary cross-entropy");
    // The weights the script writes carry the graph revision and the layer
    // signatures of the exported graph, as a SegForge save does
    // (engine/project_weights.hpp), so that the app matches them layer by layer.
    nlohmann::json signatures = nlohmann::json::object();
    for (const ExportLayer& l : g.layers)
        signatures[l.node->name] = layerSignature(*l.node);
    const std::string weightsName = pythonIdentifier(project.name) + ".weights.safetensors";
    text += fillPlaceholders(
        pythonSource("pytorch_train"),
        {{"SEGFORGE_DESCRIPTION", pythonString("Train " + project.name)},
         {"SEGFORGE_WEIGHTS", weights.empty() ? std::string("None") : pythonString(weights)},
         {"SEGFORGE_OUT", pythonString(weightsName)},
         {"SEGFORGE_EPOCHS", std::to_string(project.training.epochs)},
         {"SEGFORGE_LR", pyFloat(project.training.learningRate)},
         {"SEGFORGE_SEED", std::to_string(project.training.seed)},
         {"SEGFORGE_GRAPH_REVISION", pythonString(graphRevision(project.graph))},
         {"SEGFORGE_LAYER_SIGNATURES", pythonString(signatures.dump())},
         {"SEGFORGE_SCHEDULE", pythonString(project.training.schedule)},
         {"SEGFORGE_NET", "Net()"},
         {"SEGFORGE_LOSS", "make_loss(" + lossArgs(g) + ")"},
         {"SEGFORGE_OPTIMIZER",
          optimizerCall(project.training, "torch.optim.", "model.parameters(), lr=args.lr")}});
    out.text = std::move(text);
    return out;
}

} // namespace segforge::core
