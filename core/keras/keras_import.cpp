#include "keras/keras_importer.hpp"
#include "layout/graph_layout.hpp"
#include "layout/level_groups.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <set>

// Importing a Keras document: the root checks, the model kinds, and the
// public entry point that turns every failure into a message.

namespace segforge::core {

using nlohmann::json;

namespace interop {

namespace {

std::string modelName(const json& model, const std::string& fallback) {
    const json& config = model["config"];
    if (config.is_object() && config.contains("name") && config["name"].is_string())
        return config["name"].get<std::string>();
    return fallback;
}

} // namespace

std::string layerNameOf(const json& layer) {
    if (auto it = layer.find("name"); it != layer.end() && it->is_string())
        return it->get<std::string>();
    if (auto c = layer.find("config"); c != layer.end() && c->is_object()) {
        if (auto it = c->find("name"); it != c->end() && it->is_string())
            return it->get<std::string>();
    }
    return "";
}

KerasImport Importer::run(const json& doc) {
    KerasImport out;
    try {
        if (!isKerasModelJson(doc))
            throw KerasFormatError("", "not a Keras model: expected an object with 'class_name' "
                                       "and 'config' at its root (the JSON of model.to_json())");
        warnUnknown(doc, "",
                    {"class_name", "config", "keras_version", "backend", "module",
                     "registered_name", "build_config", "compile_config"});
        Project project;
        project.name = modelName(doc, "keras_model");
        m_channelsFirst = usesChannelsFirst(doc);
        importModel(doc, "", nullptr, 0);
        resolveReshapes();
        sizeFreeInputs();
        if (m_channelsFirst)
            m_log.note(
                "the model is channels_first (N×C×H×W) and was converted to SegForge's "
                "channels_last (N×H×W×C): input shapes (C, H, W) became (H, W, C), axis "
                "settings (Concatenate, BatchNormalization, Softmax) now name the same axis "
                "in the new order, and data_format was dropped; per-axis pooling, upsampling, "
                "cropping and padding settings are spatial and stay. No weights are imported; "
                "Keras keeps convolution kernels as H×W×in×out in both layouts, so trained "
                "kernels would need no transpose");
        mapRegularizers(project.training);
        EditOutcome moved = applyEdits(m_graph, layoutGraph(m_graph));
        (void)moved; // moves of existing nodes cannot fail
        // A U-Net's levels become groups, so a large one can be read collapsed.
        EditOutcome grouped = applyEdits(m_graph, levelGroupsScript(m_graph));
        (void)grouped; // new groups of existing, ungrouped nodes cannot fail
        project.graph = std::move(m_graph);
        out.project = std::move(project);
    } catch (const KerasFormatError& e) {
        m_log.error(e.path(), e.what());
    } catch (const json::exception& e) { // a value of a type the mapping did not expect
        m_log.error(m_reading, strCat("malformed value: ", jsonExceptionReason(e)));
    }
    out.errors = m_log.errors();
    out.warnings = m_log.warnings();
    return out;
}

void Importer::warnUnknown(const json& obj, const std::string& path,
                           std::initializer_list<const char*> known, const std::string& subject) {
    std::set<std::string> k(known.begin(), known.end());
    for (auto it = obj.begin(); it != obj.end(); ++it) {
        if (k.count(it.key()))
            continue;
        const std::string what = "unknown field '" + it.key() + "' is ignored";
        if (subject.empty())
            m_log.warning(jsonPath(path, it.key()), what);
        else
            m_log.warning(jsonPath(path, it.key()), what,
                          {"unknown layer field '" + it.key() + "' ignored", subject});
    }
}

Outputs Importer::importModel(const json& model, const std::string& path, const Outputs* bound,
                              int nesting) {
    if (nesting > kMaxModelNesting)
        throw KerasFormatError(path,
                               strCat("models are nested more than ", kMaxModelNesting, " deep"));
    const std::string cls = model["class_name"].get<std::string>();
    const json& config = model["config"];
    const std::string cpath = jsonPath(path, "config");
    if (cls == "Sequential") {
        if (config.is_array()) // Keras 2.2: the config is the list of layers
            return importSequential(config, cpath, nullptr, bound, nesting);
        if (!config.is_object() || !config.contains("layers"))
            throw KerasFormatError(cpath, "a Sequential config needs a 'layers' list");
        return importSequential(config["layers"], jsonPath(cpath, "layers"), &config, bound,
                                nesting);
    }
    if (cls != "Functional" && cls != "Model")
        throw KerasFormatError(jsonPath(path, "class_name"),
                               "expected a model (Sequential, Functional or Model), got '" + cls +
                                   "'");
    if (!config.is_object())
        throw KerasFormatError(cpath,
                               "expected a model config object, got " + jsonTypeName(config));
    return importFunctional(config, cpath, bound, nesting);
}

} // namespace interop

KerasImport importKerasModel(const json& doc, const std::string& fileLabel) {
    try {
        return interop::Importer(fileLabel).run(doc);
    } catch (const std::exception& e) { // nothing on user input may escape as a crash
        KerasImport out;
        out.errors.push_back(fileLabel + ": internal error while importing: " + e.what());
        return out;
    }
}

} // namespace segforge::core
