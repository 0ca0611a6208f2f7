#include "check/checker.hpp"
#include "keras/keras_importer.hpp"
#include "keras/keras_layer_map.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

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
    const OpSchema& inputOp = kerasInputOp();
    const KerasInput& input = *inputOp.keras.input;
    Node node;
    node.op = inputOp.name;
    node.name = name;
    const char* dims[] = {"height", "width", "channels"};
    for (int k = 0; k < 3; ++k) {
        std::int64_t v =
            (*shape)[static_cast<std::size_t>(k + 1)].value_or(k < 2 ? kDefaultImageSize : 3);
        if (!(*shape)[static_cast<std::size_t>(k + 1)])
            m_log.warning(path, strCat("input '", name, "' has no fixed ", dims[k],
                                       " (None); SegForge "
                                       "checks concrete sizes and uses ",
                                       v, " — set the real size"));
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
    cfg.accept({"name", "optional", "input_tensor"});
    cfg.finish("InputLayer '" + name + "'");
    return {addNode(std::move(node), path), "output"};
}

Outputs Importer::addLayer(const json& layer, const std::string& path, const std::string& cls,
                           const std::string& name, const Outputs& inputs, int nesting) {
    m_reading = path;
    if (isKerasModelClass(cls)) {
        if (!layer.contains("config"))
            throw KerasFormatError(jsonPath(path, "config"), "the nested model has no config");
        return importModel(layer, path, &inputs, nesting + 1);
    }
    auto config = layer.find("config");
    if (config == layer.end())
        throw KerasFormatError(jsonPath(path, "config"),
                               strCat(cls, " '", name, "' has no config"));
    const int n = static_cast<int>(inputs.size());
    KerasLayerMapping m = mapKerasLayer(cls, name, *config, jsonPath(path, "config"), n, m_log);
    const OpSchema* schema = OpRegistry::builtin().find(m.node.op);
    const std::vector<std::string> ports = schema->inputNames(m.node);
    if (ports.size() != inputs.size())
        throw KerasFormatError(jsonPath(path, "inbound_nodes"),
                               strCat(cls, " '", name, "' receives ", inputs.size(),
                                      " tensor(s) but takes ", ports.size()));
    const NodeId id = addNode(std::move(m.node), path);
    for (std::size_t k = 0; k < ports.size(); ++k)
        m_graph.connect(inputs[k], {id, ports[k]});
    if (m.reshapeTarget)
        m_reshapes.emplace_back(id, *m.reshapeTarget);
    return {PortRef{id, "output"}};
}

NodeId Importer::addNode(Node node, const std::string& path) {
    const std::string wanted = node.name;
    node.name = m_graph.uniqueName(wanted.empty() ? node.op : wanted);
    if (!wanted.empty() && node.name != wanted)
        m_log.warning(path, strCat("a node is already named '", wanted,
                                   "' (a nested model or a "
                                   "shared layer); this one is named '",
                                   node.name, "'"));
    return m_graph.addNode(std::move(node));
}

/// A Reshape that leaves N×H×W×C as it was computes nothing: it becomes a
/// linear Activation (keeping its name). Others stay placeholders.
void Importer::resolveReshapes() {
    if (m_reshapes.empty())
        return;
    CheckOptions options;
    options.diagnoseInputSize = false;
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
            m_log.warning("", strCat("Reshape '", node->name, "' keeps ", s.toString(),
                                     ": imported as a linear ", identity.name));
            node->op = identity.name;
            node->attrs = *identity.keras.identity;
        } else {
            node->attrs["reason"] =
                strCat("reshapes ", s.toString(), " to (", t[0], ", ", t[1], ", ", t[2], ")");
            m_log.warning("",
                          strCat("Reshape '", node->name, "' changes ", s.toString(),
                                 ": imported as a ", node->op, " placeholder (unsupported-layer)"));
        }
    }
}

} // namespace segforge::core::interop
