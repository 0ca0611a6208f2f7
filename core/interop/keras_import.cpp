#include "interop/keras_import.hpp"

#include "check/checker.hpp"
#include "graph/auto_layout.hpp"
#include "interop/keras_config.hpp"
#include "interop/keras_inbound.hpp"
#include "interop/keras_layer_map.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <map>
#include <set>

namespace segforge::core {

using nlohmann::json;
using namespace interop;

namespace {

constexpr int kMaxModelNesting = 16;
constexpr int kMaxResolveDepth = 4000; ///< longest chain of layers resolved recursively
constexpr std::int64_t kDefaultImageSize = 128;

using Outputs = std::vector<PortRef>;

/// One layer of a Functional config, with the inputs of each of its calls.
struct LayerEntry {
    const json* layer = nullptr;
    std::string className;
    std::string name;
    std::string path;
    std::vector<std::vector<KerasTensorRef>> calls;
};

/// The state of one Functional model while its calls are resolved.
struct FunctionalScope {
    std::string path;
    std::vector<LayerEntry> layers;
    std::map<std::string, std::size_t> byName;
    std::vector<KerasTensorRef> inputs;  ///< input_layers
    const Outputs* bound = nullptr;      ///< outer tensors feeding a nested model's inputs
    int nesting = 0;
    std::map<std::pair<std::size_t, std::int64_t>, Outputs> done;
    std::vector<std::size_t> stack; ///< layers being resolved, for cycle messages
};

std::string layerNameOf(const json& layer) {
    if (auto it = layer.find("name"); it != layer.end() && it->is_string())
        return it->get<std::string>();
    if (auto c = layer.find("config"); c != layer.end() && c->is_object()) {
        if (auto it = c->find("name"); it != c->end() && it->is_string())
            return it->get<std::string>();
    }
    return "";
}

class Importer {
public:
    explicit Importer(const std::string& file) : m_log(file) {}

    KerasImport run(const json& doc) {
        KerasImport out;
        try {
            if (!isKerasModelJson(doc))
                throw KerasFormatError("", "not a Keras model: expected an object with 'class_name' "
                                           "and 'config' at its root (the JSON of model.to_json())");
            warnUnknown(doc, "", {"class_name", "config", "keras_version", "backend", "module",
                                  "registered_name", "build_config", "compile_config"});
            Project project;
            project.name = modelName(doc, "keras_model");
            importModel(doc, "", nullptr, 0);
            resolveReshapes();
            EditOutcome moved = applyEdits(m_graph, autoLayout(m_graph));
            (void)moved; // moves of existing nodes cannot fail
            project.graph = std::move(m_graph);
            out.project = std::move(project);
        } catch (const KerasFormatError& e) {
            m_log.error(e.path(), e.what());
        }
        out.errors = m_log.errors();
        out.warnings = m_log.warnings();
        return out;
    }

private:
    static std::string modelName(const json& model, const std::string& fallback) {
        const json& config = model["config"];
        if (config.is_object() && config.contains("name") && config["name"].is_string())
            return config["name"].get<std::string>();
        return fallback;
    }

    void warnUnknown(const json& obj, const std::string& path, std::initializer_list<const char*> known) {
        std::set<std::string> k(known.begin(), known.end());
        for (auto it = obj.begin(); it != obj.end(); ++it) {
            if (!k.count(it.key()))
                m_log.warning(jsonPath(path, it.key()), "unknown field '" + it.key() + "' is ignored");
        }
    }

    /// A Functional, Model or Sequential document at `path`; `bound` feeds its
    /// inputs when it is nested inside another model.
    Outputs importModel(const json& model, const std::string& path, const Outputs* bound, int nesting) {
        if (nesting > kMaxModelNesting)
            throw KerasFormatError(path, strCat("models are nested more than ", kMaxModelNesting, " deep"));
        const std::string cls = model["class_name"].get<std::string>();
        const json& config = model["config"];
        const std::string cpath = jsonPath(path, "config");
        if (cls == "Sequential") {
            if (config.is_array()) // Keras 2.2: the config is the list of layers
                return importSequential(config, cpath, nullptr, bound, nesting);
            if (!config.is_object() || !config.contains("layers"))
                throw KerasFormatError(cpath, "a Sequential config needs a 'layers' list");
            return importSequential(config["layers"], jsonPath(cpath, "layers"), &config, bound, nesting);
        }
        if (cls != "Functional" && cls != "Model")
            throw KerasFormatError(jsonPath(path, "class_name"),
                                   "expected a model (Sequential, Functional or Model), got '" + cls + "'");
        if (!config.is_object())
            throw KerasFormatError(cpath, "expected a model config object, got " + jsonTypeName(config));
        return importFunctional(config, cpath, bound, nesting);
    }

    // ---- Functional -------------------------------------------------------

    Outputs importFunctional(const json& config, const std::string& path, const Outputs* bound, int nesting) {
        FunctionalScope scope;
        scope.path = path;
        scope.bound = bound;
        scope.nesting = nesting;
        auto layers = config.find("layers");
        if (layers == config.end() || !layers->is_array())
            throw KerasFormatError(jsonPath(path, "layers"), "a Functional model needs a 'layers' list");
        for (std::size_t i = 0; i < layers->size(); ++i) {
            const json& layer = (*layers)[i];
            LayerEntry e;
            e.layer = &layer;
            e.path = jsonPath(jsonPath(path, "layers"), i);
            if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
                throw KerasFormatError(e.path, "expected a layer object with a 'class_name'");
            warnUnknown(layer, e.path, {"class_name", "config", "name", "inbound_nodes", "module",
                                        "registered_name", "build_config", "shared_object_id"});
            e.className = layer["class_name"].get<std::string>();
            e.name = layerNameOf(layer);
            if (e.name.empty())
                throw KerasFormatError(e.path, "the layer has no name");
            if (scope.byName.count(e.name))
                throw KerasFormatError(jsonPath(e.path, "name"),
                                       "two layers are named '" + e.name + "' (Keras requires unique names)");
            if (auto in = layer.find("inbound_nodes"); in != layer.end())
                e.calls = parseInboundNodes(*in, jsonPath(e.path, "inbound_nodes"));
            scope.byName[e.name] = scope.layers.size();
            scope.layers.push_back(std::move(e));
        }
        if (auto in = config.find("input_layers"); in != config.end())
            scope.inputs = parseLayerRefs(*in, jsonPath(path, "input_layers"));
        if (bound && bound->size() != scope.inputs.size())
            throw KerasFormatError(jsonPath(path, "input_layers"),
                                   strCat("the nested model has ", scope.inputs.size(),
                                          " inputs but is called with ", bound->size(), " tensors"));
        for (std::size_t i = 0; i < scope.layers.size(); ++i) {
            const LayerEntry& e = scope.layers[i];
            if (e.className == "InputLayer") {
                resolve(scope, i, 0, e.path, 0);
                continue;
            }
            if (e.calls.empty())
                m_log.warning(e.path, strCat("layer '", e.name, "' is never called; it is not imported"));
            for (std::size_t c = 0; c < e.calls.size(); ++c)
                resolve(scope, i, static_cast<std::int64_t>(c), e.path, 0);
        }
        Outputs outputs;
        auto outs = config.find("output_layers");
        if (outs != config.end()) {
            for (const KerasTensorRef& ref : parseLayerRefs(*outs, jsonPath(path, "output_layers")))
                outputs.push_back(resolveRef(scope, ref, "the model output", 0));
        }
        return outputs;
    }

    PortRef resolveRef(FunctionalScope& scope, const KerasTensorRef& ref, const std::string& consumer,
                       int depth) {
        auto it = scope.byName.find(ref.layer);
        if (it == scope.byName.end())
            throw KerasFormatError(ref.path, strCat(consumer, " takes input from '", ref.layer,
                                                    "', which is not a layer of this model"));
        const LayerEntry& e = scope.layers[it->second];
        const std::int64_t calls = e.className == "InputLayer" ? 1 : static_cast<std::int64_t>(e.calls.size());
        if (ref.node >= calls)
            throw KerasFormatError(ref.path, strCat(consumer, " takes output of call #", ref.node, " of '",
                                                    ref.layer, "', which is called ", calls, " time(s)"));
        const Outputs& outs = resolve(scope, it->second, ref.node, ref.path, depth + 1);
        if (ref.tensor >= static_cast<std::int64_t>(outs.size()))
            throw KerasFormatError(ref.path, strCat(consumer, " takes output #", ref.tensor, " of '",
                                                    ref.layer, "', which has ", outs.size(), " output(s)"));
        return outs[static_cast<std::size_t>(ref.tensor)];
    }

    const Outputs& resolve(FunctionalScope& scope, std::size_t index, std::int64_t call,
                           const std::string& refPath, int depth) {
        const auto key = std::make_pair(index, call);
        if (auto it = scope.done.find(key); it != scope.done.end())
            return it->second;
        const LayerEntry& e = scope.layers[index];
        if (depth > kMaxResolveDepth)
            throw KerasFormatError(refPath, "the chain of layers is too long to follow");
        if (std::find(scope.stack.begin(), scope.stack.end(), index) != scope.stack.end()) {
            std::string cycle;
            auto from = std::find(scope.stack.begin(), scope.stack.end(), index);
            for (auto s = from; s != scope.stack.end(); ++s)
                cycle += "'" + scope.layers[*s].name + "' → ";
            throw KerasFormatError(refPath, strCat("the model has a cycle: ", cycle, "'", e.name,
                                                   "'. A layer cannot take its own output as input"));
        }
        scope.stack.push_back(index);
        Outputs outs;
        if (e.className == "InputLayer") {
            outs = {inputLayer(scope, e)};
        } else {
            Outputs inputs;
            const std::string consumer = strCat("layer '", e.name, "'");
            for (const KerasTensorRef& ref : e.calls[static_cast<std::size_t>(call)])
                inputs.push_back(resolveRef(scope, ref, consumer, depth));
            outs = addLayer(*e.layer, e.path, e.className, e.name, inputs, scope.nesting);
        }
        scope.stack.pop_back();
        return scope.done[key] = std::move(outs);
    }

    PortRef inputLayer(const FunctionalScope& scope, const LayerEntry& e) {
        if (scope.bound) {
            for (std::size_t k = 0; k < scope.inputs.size(); ++k) {
                if (scope.inputs[k].layer == e.name)
                    return (*scope.bound)[k];
            }
            throw KerasFormatError(e.path, "input layer '" + e.name +
                                               "' of a nested model is not listed in its input_layers");
        }
        auto config = e.layer->find("config");
        if (config == e.layer->end())
            throw KerasFormatError(jsonPath(e.path, "config"), "input layer '" + e.name + "' has no config");
        return addInput(e.name, *config, jsonPath(e.path, "config"));
    }

    // ---- Sequential -------------------------------------------------------

    Outputs importSequential(const json& layers, const std::string& path, const json* config,
                             const Outputs* bound, int nesting) {
        if (!layers.is_array())
            throw KerasFormatError(path, "expected a list of layers, got " + jsonTypeName(layers));
        std::optional<PortRef> current;
        if (bound) {
            if (bound->size() != 1)
                throw KerasFormatError(path, strCat("a nested Sequential model takes one tensor, not ",
                                                    bound->size()));
            current = bound->front();
        }
        for (std::size_t i = 0; i < layers.size(); ++i) {
            const json& layer = layers[i];
            const std::string lpath = jsonPath(path, i);
            if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
                throw KerasFormatError(lpath, "expected a layer object with a 'class_name'");
            warnUnknown(layer, lpath, {"class_name", "config", "name", "module", "registered_name",
                                       "build_config", "inbound_nodes", "shared_object_id"});
            const std::string cls = layer["class_name"].get<std::string>();
            std::string name = layerNameOf(layer);
            if (name.empty())
                name = cls;
            if (cls == "InputLayer") {
                if (!current)
                    current = addInput(name, layer.value("config", json()), jsonPath(lpath, "config"));
                continue;
            }
            if (!current)
                current = implicitInput(layer, lpath, config, name);
            current = addLayer(layer, lpath, cls, name, {*current}, nesting).at(0);
        }
        if (!current)
            throw KerasFormatError(path, "the Sequential model has no layers");
        return {*current};
    }

    /// Keras 2 put the input shape on the first layer (batch_input_shape); Keras 3
    /// on the model (build_input_shape) or the layer's build_config.
    PortRef implicitInput(const json& layer, const std::string& lpath, const json* seqConfig,
                          const std::string& firstName) {
        json shapeHolder = json::object();
        std::string where = jsonPath(lpath, "config");
        const json& lc = layer.value("config", json::object());
        if (lc.is_object() && lc.contains("batch_input_shape")) {
            shapeHolder["batch_input_shape"] = lc["batch_input_shape"];
        } else if (seqConfig && seqConfig->is_object() && seqConfig->contains("build_input_shape")) {
            shapeHolder["batch_input_shape"] = (*seqConfig)["build_input_shape"];
        } else if (layer.contains("build_config") && layer["build_config"].is_object() &&
                   layer["build_config"].contains("input_shape")) {
            shapeHolder["batch_input_shape"] = layer["build_config"]["input_shape"];
            where = jsonPath(lpath, "build_config");
        } else {
            m_log.warning(lpath, "the model does not say its input shape; the Input node uses " +
                                     strCat(kDefaultImageSize, "×", kDefaultImageSize, "×3 — set it"));
            shapeHolder["batch_input_shape"] = json::array({nullptr, kDefaultImageSize, kDefaultImageSize, 3});
        }
        if (lc.is_object() && lc.contains("dtype") && lc["dtype"].is_string())
            shapeHolder["dtype"] = lc["dtype"];
        return addInput(firstName + "_input", shapeHolder, where);
    }

    // ---- nodes --------------------------------------------------------------

    PortRef addInput(const std::string& name, const json& config, const std::string& path) {
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
        Node node;
        node.op = "Input";
        node.name = name;
        const char* dims[] = {"height", "width", "channels"};
        for (int k = 0; k < 3; ++k) {
            std::int64_t v = (*shape)[static_cast<std::size_t>(k + 1)].value_or(k < 2 ? kDefaultImageSize : 3);
            if (!(*shape)[static_cast<std::size_t>(k + 1)])
                m_log.warning(path, strCat("input '", name, "' has no fixed ", dims[k], " (None); SegForge "
                                           "checks concrete sizes and uses ", v, " — set the real size"));
            setNonDefaultAttr(node, dims[k], v);
        }
        if ((*shape)[0])
            setNonDefaultAttr(node, "batch_size", *(*shape)[0]);
        std::string dtype = "float32";
        if (const json* d = cfg.raw("dtype"); d && d->is_string())
            dtype = d->get<std::string>();
        if (dtype != "float32" && dtype != "uint8" && dtype != "int32" && dtype != "bool") {
            m_log.warning(cfg.pathOf("dtype"), "input '" + name + "' has dtype " + dtype +
                                                   "; SegForge computes in float32 and uses that");
            dtype = "float32";
        }
        setNonDefaultAttr(node, "dtype", dtype);
        cfg.ignoreIfSet("sparse", "SegForge tensors are dense", json(false));
        cfg.ignoreIfSet("ragged", "SegForge tensors are dense", json(false));
        cfg.accept({"name", "optional", "input_tensor"});
        cfg.finish("InputLayer '" + name + "'");
        return {addNode(std::move(node), path), "output"};
    }

    Outputs addLayer(const json& layer, const std::string& path, const std::string& cls,
                     const std::string& name, const Outputs& inputs, int nesting) {
        if (isKerasModelClass(cls)) {
            if (!layer.contains("config"))
                throw KerasFormatError(jsonPath(path, "config"), "the nested model has no config");
            return importModel(layer, path, &inputs, nesting + 1);
        }
        auto config = layer.find("config");
        if (config == layer.end())
            throw KerasFormatError(jsonPath(path, "config"), strCat(cls, " '", name, "' has no config"));
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

    NodeId addNode(Node node, const std::string& path) {
        const std::string wanted = node.name;
        node.name = m_graph.uniqueName(wanted.empty() ? node.op : wanted);
        if (!wanted.empty() && node.name != wanted)
            m_log.warning(path, strCat("a node is already named '", wanted, "' (a nested model or a "
                                       "shared layer); this one is named '", node.name, "'"));
        return m_graph.addNode(std::move(node));
    }

    /// A Reshape that leaves N×H×W×C as it was computes nothing: it becomes a
    /// linear Activation (keeping its name). Others stay placeholders.
    void resolveReshapes() {
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
                m_log.warning("", strCat("Reshape '", node->name, "' keeps ", s.toString(),
                                         ": imported as a linear Activation"));
                node->op = "Activation";
                node->attrs = {{"activation", std::string("linear")}};
            } else {
                node->attrs["reason"] = strCat("reshapes ", s.toString(), " to (",
                                               t[0], ", ", t[1], ", ", t[2], ")");
                m_log.warning("", strCat("Reshape '", node->name, "' changes ", s.toString(),
                                         ": imported as a KerasLayer placeholder (unsupported-layer)"));
            }
        }
    }

    ImportLog m_log;
    Graph m_graph;
    std::vector<std::pair<NodeId, std::vector<std::int64_t>>> m_reshapes;
};

} // namespace

KerasImport importKerasModel(const json& doc, const std::string& fileLabel) {
    try {
        return Importer(fileLabel).run(doc);
    } catch (const std::exception& e) { // nothing on user input may escape as a crash
        KerasImport out;
        out.errors.push_back(fileLabel + ": internal error while importing: " + e.what());
        return out;
    }
}

} // namespace segforge::core
