#include "export/export_graph.hpp"

#include "check/checker.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <cctype>
#include <set>

namespace segforge::core::interop {

namespace {

/// A layer the exporters follow to its source instead of writing it (Cast): it
/// passes its input through, and neither PyTorch nor ONNX maps it on its own.
bool followedThrough(const OpSchema* schema) {
    return schema && schema->role == OpRole::Layer && schema->traits.passThrough &&
           !schema->pytorch.module && !schema->onnx.write;
}

/// The tensor a consumer of `port` really receives: Cast nodes are skipped
/// (Keras and PyTorch cast on their own), the Dataset's image is its name.
std::string sourceName(const Graph& graph, PortRef port, std::vector<std::string>& warnings) {
    for (int guard = 0; guard < 256; ++guard) {
        const Node* n = graph.findNode(port.node);
        if (!n || !followedThrough(OpRegistry::builtin().find(n->op)))
            return n ? n->name : std::string();
        auto up = graph.producerOf({n->id, "input"});
        if (!up)
            return n->name;
        warnings.push_back(strCat(n->op, " '", n->name,
                                  "' is not exported: the frameworks cast the "
                                  "input on their own"));
        port = *up;
    }
    return {};
}

} // namespace

ExportGraph collectExportGraph(const Graph& graph) {
    ExportGraph out;
    const auto order = graph.topologicalOrder();
    if (!order) {
        out.errors.push_back("the graph has a cycle; only an acyclic network can be exported");
        return out;
    }
    CheckOptions options;
    options.diagnoseInputSize = false;
    options.requireLoss = false;
    options.verifyFixes = false; // the types, not advice
    const CheckResult check = checkGraph(graph, options);
    const OpRegistry& registry = OpRegistry::builtin();
    // Nodes fed (directly or not) by a Dataset's mask prepare the targets: the
    // scripts' data readers do that, and they are not part of the network.
    std::set<NodeId> targetSide;
    for (NodeId id : *order) {
        for (const Edge& e : graph.edges()) {
            if (e.to.node != id)
                continue;
            const Node* from = graph.findNode(e.from.node);
            const OpSchema* fromSchema = from ? registry.find(from->op) : nullptr;
            if ((fromSchema && fromSchema->traits.readsDataset && e.from.port == "mask") ||
                targetSide.count(e.from.node))
                targetSide.insert(id);
        }
    }
    for (NodeId id : *order) {
        const Node& node = *graph.findNode(id);
        const OpSchema* roleOf = registry.find(node.op);
        if (targetSide.count(id) && roleOf && roleOf->role == OpRole::Layer) {
            out.warnings.push_back(strCat(node.op, " '", node.name,
                                          "' prepares the training targets; "
                                          "it is not part of the exported network"));
            continue;
        }
        const OpSchema* schema = registry.find(node.op);
        if (!schema) {
            out.errors.push_back(strCat("node '", node.name, "' has unknown op '", node.op, "'"));
            continue;
        }
        AttrMap attrs;
        for (const AttrSpec& spec : schema->attrs) {
            auto it = node.attrs.find(spec.name);
            auto v = coerceAttribute(spec, it == node.attrs.end() ? spec.defaultValue : it->second);
            if (!v) {
                out.errors.push_back(strCat(node.op, " '", node.name, "': attribute '", spec.name,
                                            "' is invalid; fix it before exporting"));
                continue;
            }
            attrs.emplace(spec.name, *v);
        }
        if (schema->role == OpRole::Loss) {
            if (out.lossOp.empty()) {
                out.lossOp = node.op;
                out.lossAttrs = attrs;
            }
            continue;
        }
        if (schema->role == OpRole::Metric || followedThrough(schema))
            continue;
        if (schema->traits.placeholder) {
            const bool keras = schema->keras.placeholder;
            auto cls = node.attrs.find(keras ? "class_name" : "op_type");
            out.errors.push_back(strCat(
                "'", node.name, "' is a placeholder for the ", keras ? "Keras layer " : "ONNX op ",
                cls == node.attrs.end() || !std::holds_alternative<std::string>(cls->second)
                    ? std::string("?")
                    : std::get<std::string>(cls->second),
                "; replace it with supported layers before exporting"));
            continue;
        }
        ExportLayer layer{&node, schema, std::move(attrs), {}, std::nullopt};
        const std::string outPort = schema->traits.readsDataset ? "image" : "output";
        layer.output = check.typeOf({id, outPort});
        for (const std::string& port : schema->inputNames(node)) {
            auto from = graph.producerOf({id, port});
            if (!from) {
                out.errors.push_back(
                    strCat("input '", port, "' of '", node.name, "' is not connected"));
                continue;
            }
            layer.inputs.push_back(sourceName(graph, *from, out.warnings));
        }
        out.layers.push_back(std::move(layer));
    }
    // Outputs: exported layers that no exported layer consumes.
    for (const ExportLayer& layer : out.layers) {
        bool consumed = false;
        for (const ExportLayer& other : out.layers) {
            for (const std::string& in : other.inputs)
                consumed = consumed || in == layer.node->name;
        }
        if (!consumed && !layer.isInput())
            out.outputs.push_back(layer.node->name);
    }
    if (out.layers.empty())
        out.errors.push_back("the graph has no layers to export");
    return out;
}

std::string noKerasLayerError(const ExportLayer& layer) {
    std::string text = strCat(layer.node->op, " '", layer.node->name, "' has no Keras layer");
    for (const KerasForm& form : layer.schema->keras.forms) {
        if (form.importOnly)
            continue;
        std::string needs, has;
        for (const auto& [key, value] : form.implies) {
            auto it = layer.attrs.find(key);
            if (it != layer.attrs.end() && it->second == value)
                continue;
            needs += strCat(needs.empty() ? "" : ", ", key, " = ", attrToString(value));
            has +=
                strCat(has.empty() ? "" : ", ", key, " = ",
                       it == layer.attrs.end() ? std::string("(unset)") : attrToString(it->second));
        }
        if (!needs.empty())
            return strCat(text, ": Keras' ", form.classes.front(), " has only ", needs,
                          ", and this node has ", has);
    }
    return text;
}

std::string pythonIdentifier(const std::string& name) {
    std::string id;
    for (char c : name)
        id += std::isalnum(static_cast<unsigned char>(c)) ? c : '_';
    if (id.empty() || std::isdigit(static_cast<unsigned char>(id[0])))
        id = "l_" + id;
    return id;
}

} // namespace segforge::core::interop
