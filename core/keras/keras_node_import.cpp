#include "check/checker.hpp"
#include "keras/keras_importer.hpp"
#include "keras/keras_layer_map.hpp"
#include "ops/op_ports.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>

// Graph nodes made from Keras layers: inputs, mapped layers (nested models
// recursed into), unique names, and Reshapes decided once types are known.

namespace segforge::core::interop {

using nlohmann::json;

PortRef Importer::addInput(const std::string& name, const json& config, const std::string& path) {
    m_reading = path;
    KerasConfig cfg(config, path, m_log);
    auto shape = cfg.shape("batch_shape");
    if (!shape)
        shape = cfg.shape("batch_input_shape");
    if (!shape)
        throw KerasFormatError(path, "input '" + name + "' has no batch_shape / batch_input_shape");
    if (shape->size() != 4) {
        std::string dims;
        for (const auto& d : *shape)
            dims += (dims.empty() ? "" : ", ") + (d ? std::to_string(*d) : std::string("None"));
        throw KerasFormatError(path, strCat("input '", name, "' has shape (", dims,
                                            "): SegForge models take images N×H×W×C"));
    }
    if (m_channelsFirst) // (N, C, H, W) → (N, H, W, C)
        std::rotate(shape->begin() + 1, shape->begin() + 2, shape->end());
    const OpSchema& inputOp = kerasInputOp();
    const KerasInput& input = *inputOp.keras.input;
    Node node;
    node.op = inputOp.name;
    node.name = name;
    const char* dims[] = {"height", "width", "channels"};
    for (int k = 0; k < 3; ++k) {
        const auto& dim = (*shape)[static_cast<std::size_t>(k + 1)];
        // A free height or width is decided once the network is known (sizeFreeInputs).
        std::int64_t v = dim.value_or(k < 2 ? kDefaultImageSize : 3);
        if (!dim && k == 2)
            m_log.warning(path,
                          strCat("input '", name, "' has no fixed channels (None); SegForge uses ",
                                 v, " — set the real number"));
        setNonDefaultAttr(node, dims[k], v);
    }
    if ((*shape)[0])
        setNonDefaultAttr(node, input.batchAttr, *(*shape)[0]);
    std::string dtype = "float32";
    if (const json* d = cfg.raw("dtype"); d && d->is_string())
        dtype = d->get<std::string>();
    // The dtypes the input op offers; anything else is computed in float32.
    if (!coerceAttribute(*inputOp.findAttr(input.dtypeAttr), AttrValue(dtype))) {
        m_log.warning(cfg.pathOf("dtype"), "input '" + name + "' has dtype " + dtype +
                                               "; SegForge computes in float32 and uses that");
        dtype = "float32";
    }
    setNonDefaultAttr(node, input.dtypeAttr, dtype);
    cfg.ignoreIfSet("sparse", "SegForge tensors are dense", json(false));
    cfg.ignoreIfSet("ragged", "SegForge tensors are dense", json(false));
    cfg.accept({"name", "optional", "input_tensor", "trainable"});
    cfg.finish("InputLayer '" + name + "'");
    const bool freeHeight = !(*shape)[1], freeWidth = !(*shape)[2];
    const NodeId id = addNode(std::move(node), path);
    if (freeHeight || freeWidth)
        m_freeSizeInputs.push_back({id, freeHeight, freeWidth});
    return {id, "output"};
}

Outputs Importer::addLayer(const json& layer, const std::string& path, const std::string& cls,
                           const std::string& name, const Outputs& inputs, int nesting,
                           int outputsUsed) {
    m_reading = path;
    if (isKerasModelClass(cls)) {
        if (!layer.contains("config"))
            throw KerasFormatError(jsonPath(path, "config"), "the nested model has no config");
        // Inlined: its layers are named after it, so that they stay unique.
        const std::string outer = m_prefix;
        m_prefix = strCat(outer, name, "_");
        Outputs outs = importModel(layer, path, &inputs, nesting + 1);
        m_prefix = outer;
        return outs;
    }
    auto config = layer.find("config");
    if (config == layer.end())
        throw KerasFormatError(jsonPath(path, "config"),
                               strCat(cls, " '", name, "' has no config"));
    const int n = static_cast<int>(inputs.size());
    KerasLayerMapping m =
        mapKerasLayer(cls, name, *config, jsonPath(path, "config"), n, m_log, m_channelsFirst);
    if (m_channelsFirst) {
        if (m.reshapeTarget) { // Keras' target is (C, H, W) here
            auto& t = *m.reshapeTarget;
            std::rotate(t.begin(), t.begin() + 1, t.end());
        }
        if (cls == "Flatten" || cls == "Reshape" || cls == "Permute" || cls == "Dense") {
            const std::string why =
                ": in the channels_first model it sees the axes as C, H, W; after the "
                "conversion to channels_last the features come as H, W, C, so a Dense after a "
                "Flatten (or a reshape) would need its weight rows permuted to keep trained "
                "weights";
            m_log.warning(jsonPath(path, "config"), strCat(cls, " '", name, "'", why),
                          {"layers that depend on the axis order", name, why});
        }
    }
    const OpSchema* schema = OpRegistry::builtin().find(m.node.op);
    const std::vector<std::string> ports = schema->inputNames(m.node);
    if (ports.size() != inputs.size())
        throw KerasFormatError(jsonPath(path, "inbound_nodes"),
                               strCat(cls, " '", name, "' receives ", inputs.size(),
                                      " tensor(s) but takes ", ports.size()));
    // A placeholder stands for a layer of any arity: it gets the outputs the model reads.
    const int numOutputs = isKerasPlaceholder(m.node) ? std::max(1, outputsUsed) : 1;
    if (numOutputs > 1)
        m.node.attrs[kNumOutputsAttr] = std::int64_t{numOutputs};
    const NodeId id = addNode(std::move(m.node), path);
    if (m.regularizable)
        m_regularizable.push_back({m_graph.findNode(id)->name, m.kernelL2, m.kernelL2Warning});
    for (std::size_t k = 0; k < ports.size(); ++k)
        m_graph.connect(inputs[k], {id, ports[k]});
    if (m.reshapeTarget)
        m_reshapes.emplace_back(id, *m.reshapeTarget);
    Outputs outs;
    const std::vector<std::string> names = outputNames(*schema, *m_graph.findNode(id));
    for (const std::string& port : names)
        outs.push_back({id, port});
    return outs;
}

NodeId Importer::addNode(Node node, const std::string& path) {
    const std::string wanted = node.name.empty() ? std::string() : m_prefix + node.name;
    node.name = m_graph.uniqueName(wanted.empty() ? node.op : wanted);
    if (!wanted.empty() && node.name != wanted)
        m_log.warning(path,
                      strCat("a node is already named '", wanted,
                             "' (a nested model or a "
                             "shared layer); this one is named '",
                             node.name, "'"),
                      {"layers called more than once (shared layers or nested models) are "
                       "imported once per call, with their own weights",
                       node.name});
    return m_graph.addNode(std::move(node));
}

/// A Reshape that leaves N×H×W×C as it was computes nothing: it becomes a
/// linear Activation (keeping its name). Others stay placeholders.
void Importer::resolveReshapes() {
    if (m_reshapes.empty())
        return;
    CheckOptions options;
    options.diagnoseInputSize = false;
    options.verifyFixes = false; // the types, not advice
    CheckResult r = checkGraph(m_graph, options);
    for (const auto& [id, target] : m_reshapes) {
        auto from = m_graph.producerOf({id, "a"});
        auto type = from ? r.typeOf(*from) : std::nullopt;
        Node* node = m_graph.findNode(id);
        if (!type || type->shape.rank() != 4)
            continue;
        std::vector<std::int64_t> t = target;
        const Shape& s = type->shape;
        const std::int64_t total = s.height() * s.width() * s.channels();
        std::int64_t known = 1;
        int unknown = 0;
        for (std::int64_t d : t) {
            if (d == -1)
                ++unknown;
            else
                known *= d;
        }
        for (std::int64_t& d : t) {
            if (d == -1 && unknown == 1 && known > 0)
                d = total / known;
        }
        if (t == std::vector<std::int64_t>{s.height(), s.width(), s.channels()}) {
            const OpSchema& identity = kerasIdentityOp();
            m_log.warning(
                "",
                strCat("Reshape '", node->name, "' keeps ", s.toString(), ": imported as a linear ",
                       identity.name),
                {strCat("Reshape keeping ", s.toString(), " imported as a linear ", identity.name),
                 node->name});
            node->op = identity.name;
            node->attrs = *identity.keras.identity;
            // The placeholder's input port 'a' becomes the identity's 'input'.
            m_graph.disconnect({*from, {id, "a"}});
            m_graph.connect(*from, {id, "input"});
        } else {
            node->attrs["reason"] =
                strCat("reshapes ", s.toString(), " to (", t[0], ", ", t[1], ", ", t[2], ")");
            m_log.warning(
                "",
                strCat("Reshape '", node->name, "' changes ", s.toString(), ": imported as a ",
                       node->op, " placeholder (unsupported-layer)"),
                {strCat("Reshape changing ", s.toString(), " to (", t[0], ", ", t[1], ", ", t[2],
                        ") imported as ", node->op, " placeholders (unsupported-layer)"),
                 node->name});
        }
    }
}

} // namespace segforge::core::interop
