#include "keras/keras_importer.hpp"
#include "keras/keras_layer_map.hpp"
#include "ops/op_ports.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <map>

// Functional models: layers by name, each call resolved on demand (so the
// order of the layer list does not matter), cycles and dangling references
// reported with the path of the reference.

namespace segforge::core::interop {

using nlohmann::json;

Outputs Importer::importFunctional(const json& config, const std::string& path,
                                   const Outputs* bound, int nesting) {
    FunctionalScope scope;
    scope.path = path;
    scope.bound = bound;
    scope.nesting = nesting;
    auto layers = config.find("layers");
    if (layers == config.end() || !layers->is_array())
        throw KerasFormatError(jsonPath(path, "layers"),
                               "a Functional model needs a 'layers' list");
    for (std::size_t i = 0; i < layers->size(); ++i) {
        const json& layer = (*layers)[i];
        LayerEntry e;
        e.layer = &layer;
        e.path = jsonPath(jsonPath(path, "layers"), i);
        if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
            throw KerasFormatError(e.path, "expected a layer object with a 'class_name'");
        warnUnknown(layer, e.path,
                    {"class_name", "config", "name", "inbound_nodes", "module", "registered_name",
                     "build_config", "shared_object_id"},
                    layerNameOf(layer));
        e.className = layer["class_name"].get<std::string>();
        e.name = layerNameOf(layer);
        if (e.name.empty())
            throw KerasFormatError(e.path, "the layer has no name");
        if (scope.byName.count(e.name))
            throw KerasFormatError(jsonPath(e.path, "name"), "two layers are named '" + e.name +
                                                                 "' (Keras requires unique names)");
        if (auto in = layer.find("inbound_nodes"); in != layer.end()) {
            e.calls = parseInboundNodes(*in, jsonPath(e.path, "inbound_nodes"));
            e.keras3 = in->is_array() && !in->empty() && (*in)[0].is_object();
        }
        scope.byName[e.name] = scope.layers.size();
        scope.layers.push_back(std::move(e));
    }
    if (auto in = config.find("input_layers"); in != config.end())
        scope.inputs = parseLayerRefs(*in, jsonPath(path, "input_layers"));
    if (bound && bound->size() != scope.inputs.size())
        throw KerasFormatError(jsonPath(path, "input_layers"),
                               strCat("the nested model has ", scope.inputs.size(),
                                      " inputs but is called with ", bound->size(), " tensors"));
    std::vector<KerasTensorRef> outputRefs;
    auto outs = config.find("output_layers");
    if (outs != config.end())
        outputRefs = parseLayerRefs(*outs, jsonPath(path, "output_layers"));
    numberNestedCalls(scope, outputRefs);
    for (std::size_t i = 0; i < scope.layers.size(); ++i) {
        const LayerEntry& e = scope.layers[i];
        if (e.className == "InputLayer") {
            resolve(scope, i, 0, e.path, 0);
            continue;
        }
        if (e.calls.empty())
            m_log.warning(e.path,
                          strCat("layer '", e.name, "' is never called; it is not imported"),
                          {"layers never called are not imported", e.name});
        for (std::size_t c = 0; c < e.calls.size(); ++c)
            resolve(scope, i, static_cast<std::int64_t>(c), e.path, 0);
    }
    Outputs outputs;
    for (const KerasTensorRef& ref : outputRefs)
        outputs.push_back(resolveRef(scope, ref, "the model output", 0));
    return outputs;
}

/// How many outputs the model reads from each layer (a placeholder gets as
/// many), and how the calls of nested models are numbered:
/// Keras numbers the calls of a nested Functional model from 1: node 0 is the
/// model's own, linking its inputs to its outputs, and is not written. Keras 2
/// does the same for a nested Sequential built with an input; Keras 3's
/// Sequential is no Functional and starts at 0. What the references use
/// decides where the convention is not certain: the numbering under which
/// every reference names a call that exists.
void Importer::numberNestedCalls(FunctionalScope& scope,
                                 const std::vector<KerasTensorRef>& outputs) {
    std::map<std::string, std::vector<std::int64_t>> used;
    std::map<std::string, std::int64_t> highestTensor;
    const auto count = [&](const KerasTensorRef& ref) {
        used[ref.layer].push_back(ref.node);
        highestTensor[ref.layer] = std::max(highestTensor[ref.layer], ref.tensor);
    };
    for (const LayerEntry& e : scope.layers) {
        for (const auto& call : e.calls) {
            for (const KerasTensorRef& ref : call)
                count(ref);
        }
    }
    for (const KerasTensorRef& ref : outputs)
        count(ref);
    for (LayerEntry& e : scope.layers) {
        // Only a placeholder takes this many; a mapped layer has one output and
        // a reference past it is reported where it is made.
        e.outputsUsed = static_cast<int>(
            std::clamp<std::int64_t>(highestTensor[e.name] + 1, 1, kMaxVariadicOutputs));
        if (!isKerasModelClass(e.className))
            continue;
        const std::int64_t n = static_cast<std::int64_t>(e.calls.size());
        const std::vector<std::int64_t>& nodes = used[e.name];
        const bool startsAtZero = e.className == "Sequential" && e.keras3;
        const std::int64_t preferred = startsAtZero ? 0 : 1;
        e.firstCall = preferred;
        for (std::int64_t first : {preferred, 1 - preferred}) {
            if (std::all_of(nodes.begin(), nodes.end(),
                            [&](std::int64_t node) { return node >= first && node < n + first; })) {
                e.firstCall = first;
                break;
            }
        }
    }
}

PortRef Importer::resolveRef(FunctionalScope& scope, const KerasTensorRef& ref,
                             const std::string& consumer, int depth) {
    auto it = scope.byName.find(ref.layer);
    if (it == scope.byName.end())
        throw KerasFormatError(ref.path, strCat(consumer, " takes input from '", ref.layer,
                                                "', which is not a layer of this model"));
    const LayerEntry& e = scope.layers[it->second];
    const std::int64_t calls =
        e.className == "InputLayer" ? 1 : static_cast<std::int64_t>(e.calls.size());
    const std::int64_t call = ref.node - e.firstCall;
    if (call < 0 || call >= calls)
        throw KerasFormatError(
            ref.path, strCat(consumer, " takes output of call #", ref.node, " of '", ref.layer,
                             "', which is called ", calls, " time(s)",
                             e.firstCall ? " (a nested model's calls are numbered from 1)" : ""));
    const Outputs& outs = resolve(scope, it->second, call, ref.path, depth + 1);
    if (ref.tensor >= static_cast<std::int64_t>(outs.size()))
        throw KerasFormatError(ref.path,
                               strCat(consumer, " takes output #", ref.tensor, " of '", ref.layer,
                                      "', which has ", outs.size(), " output(s)"));
    return outs[static_cast<std::size_t>(ref.tensor)];
}

const Outputs& Importer::resolve(FunctionalScope& scope, std::size_t index, std::int64_t call,
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
        outs =
            addLayer(*e.layer, e.path, e.className, e.name, inputs, scope.nesting, e.outputsUsed);
    }
    scope.stack.pop_back();
    return scope.done[key] = std::move(outs);
}

PortRef Importer::inputLayer(const FunctionalScope& scope, const LayerEntry& e) {
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
        throw KerasFormatError(jsonPath(e.path, "config"),
                               "input layer '" + e.name + "' has no config");
    return addInput(e.name, *config, jsonPath(e.path, "config"));
}

} // namespace segforge::core::interop
