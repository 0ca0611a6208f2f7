#include "export/export_graph.hpp"
#include "export/python_script_export.hpp"
#include "export/python_sources.hpp"
#include "export/script_common.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <map>

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
    text += scriptDataReader(data);
    if (g.lossOp.empty())
        out.warnings.push_back(
            "the project has no loss; the script trains with binary cross-entropy");
    const std::string body = strCat(
        R"(    torch.manual_seed(args.seed)
    model = Net()
    if args.weights:
        load_weights(model, args.weights)
    loss_fn = make_loss()",
        lossArgs(g), R"()
    optimizer = )",
        optimizerCall(project.training, "torch.optim.", "model.parameters(), lr=args.lr"), R"(
    pairs = load_pairs(args.data)
    to_nchw = lambda a: torch.from_numpy(np.ascontiguousarray(a)).permute(0, 3, 1, 2).float()
    for epoch in range(args.epochs):
        model.train()
        losses = []
        for images, targets in batches(pairs, BATCH_SIZE, seed=args.seed + epoch):
            optimizer.zero_grad()
            loss = loss_fn(model(to_nchw(images)), to_nchw(targets))
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        print(f"epoch {epoch + 1}/{args.epochs}: loss {np.mean(losses):.4f}")
    torch.save(model.state_dict(), )",
        pythonString(pythonIdentifier(project.name) + ".pt"), R"()
)");
    text += scriptMain(project, weights, body);
    out.text = std::move(text);
    return out;
}

} // namespace segforge::core
