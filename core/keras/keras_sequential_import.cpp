#include "keras/keras_importer.hpp"
#include "util/str_cat.hpp"

// Sequential models: a chain of layers, the input shape taken from wherever
// the Keras version wrote it.

namespace segforge::core::interop {

using nlohmann::json;

Outputs Importer::importSequential(const json& layers, const std::string& path, const json* config,
                                   const Outputs* bound, int nesting) {
    if (!layers.is_array())
        throw KerasFormatError(path, "expected a list of layers, got " + jsonTypeName(layers));
    std::optional<PortRef> current;
    if (bound) {
        if (bound->size() != 1)
            throw KerasFormatError(
                path, strCat("a nested Sequential model takes one tensor, not ", bound->size()));
        current = bound->front();
    }
    for (std::size_t i = 0; i < layers.size(); ++i) {
        const json& layer = layers[i];
        const std::string lpath = jsonPath(path, i);
        if (!layer.is_object() || !layer.contains("class_name") || !layer["class_name"].is_string())
            throw KerasFormatError(lpath, "expected a layer object with a 'class_name'");
        warnUnknown(layer, lpath,
                    {"class_name", "config", "name", "module", "registered_name", "build_config",
                     "inbound_nodes", "shared_object_id"},
                    layerNameOf(layer));
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
PortRef Importer::implicitInput(const json& layer, const std::string& lpath, const json* seqConfig,
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
        shapeHolder["batch_input_shape"] =
            m_channelsFirst ? json::array({nullptr, 3, kDefaultImageSize, kDefaultImageSize})
                            : json::array({nullptr, kDefaultImageSize, kDefaultImageSize, 3});
    }
    if (lc.is_object() && lc.contains("dtype") && lc["dtype"].is_string())
        shapeHolder["dtype"] = lc["dtype"];
    return addInput(firstName + "_input", shapeHolder, where);
}

} // namespace segforge::core::interop
