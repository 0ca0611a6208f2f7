#include "engine/project_weights.hpp"

#include "engine/trainer.hpp"
#include "io/safetensors.hpp"
#include "project/graph_revision.hpp"
#include "util/bounded_json.hpp"
#include "util/constants.hpp"
#include "util/str_cat.hpp"

#include <nlohmann/json.hpp>
#include <set>

namespace segforge::core {

namespace {

constexpr const char* kRevisionKey = "segforge.graph_revision";
constexpr const char* kStepKey = "segforge.step";
constexpr const char* kHistoryKey = "segforge.history";

std::string stemOf(const std::filesystem::path& projectPath) {
    std::string name = projectPath.filename().string();
    const std::string ext = kProjectExtension;
    if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
        name.resize(name.size() - ext.size());
    return name;
}

/// "enc1_conv1" from "enc1_conv1/kernel".
std::string layerOf(const std::string& tensor) {
    return tensor.substr(0, tensor.rfind('/'));
}

} // namespace

std::string weightsFileNameFor(const std::filesystem::path& projectPath) {
    return stemOf(projectPath) + "." + kWeightsFileName;
}

std::string checkpointFileNameFor(const std::filesystem::path& projectPath) {
    return stemOf(projectPath) + "." + kCheckpointFileName;
}

std::filesystem::path projectSibling(const std::filesystem::path& projectPath,
                                     const std::string& fileName) {
    return projectPath.parent_path() / fileName;
}

SavedWeights writeProjectWeights(const std::filesystem::path& projectPath,
                                 const WeightsToSave& what) {
    SavedWeights out;
    Executor& executor = *what.executor;
    const Graph& trained = *what.trained;
    const Graph& current = *what.current;

    bool renamed = false;
    nlohmann::json layers = nlohmann::json::object();
    auto keyOf = [&](const Parameter& p) -> std::optional<std::string> {
        const Node* now = current.findNode(p.node);
        if (!now)
            return std::nullopt;
        const std::string key = now->name + "/" + p.spec.name;
        renamed = renamed || key != p.name;
        if (const Node* then = trained.findNode(p.node))
            layers[now->name] = layerSignature(*then);
        return key;
    };
    for (const Parameter& p : executor.parameters())
        keyOf(p); // fills `layers` and `renamed` before the metadata is written
    std::map<std::string, std::string> meta{
        {kRevisionKey, graphRevision(trained)},
        {kStepKey, std::to_string(what.step)},
        {kLayersMetadataKey, layers.dump()},
    };
    if (what.history && !what.history->empty())
        meta[kHistoryKey] = runHistoryToJson(*what.history);

    WeightsSection section;
    section.file = weightsFileNameFor(projectPath);
    section.graphRevision = meta[kRevisionKey];
    section.step = what.step;
    if (std::string err =
            saveWeights(executor, projectSibling(projectPath, section.file), meta, keyOf);
        !err.empty()) {
        out.error = err;
        return out;
    }
    if (what.trainer) {
        // The checkpoint names tensors as the executor does; after a rename it
        // could not be restored under the graph's new names.
        if (renamed) {
            out.note =
                "layers were renamed since training: the optimizer state was not saved (training "
                "continues with these weights as a new run)";
        } else {
            const std::string file = checkpointFileNameFor(projectPath);
            if (std::string err = what.trainer->saveCheckpoint(projectSibling(projectPath, file));
                !err.empty()) {
                out.error = err;
                return out;
            }
            section.checkpoint = file;
        }
    }
    out.section = std::move(section);
    return out;
}

SavedWeights writeWeightsMap(const std::filesystem::path& projectPath, const Graph& graph,
                             const std::map<std::string, Tensor>& weights) {
    SavedWeights out;
    nlohmann::json layers = nlohmann::json::object();
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const auto& [name, tensor] : weights) {
        const Node* node = graph.findNodeByName(layerOf(name));
        if (!node) {
            out.error = strCat("weight '", name, "' names no node of the graph");
            return out;
        }
        layers[node->name] = layerSignature(*node);
        tensors.emplace_back(name, &tensor);
    }
    WeightsSection section;
    section.file = weightsFileNameFor(projectPath);
    section.graphRevision = graphRevision(graph);
    section.step = 0;
    const std::map<std::string, std::string> meta{{kRevisionKey, section.graphRevision},
                                                  {kStepKey, "0"},
                                                  {kLayersMetadataKey, layers.dump()},
                                                  {"format", "segforge"}};
    if (std::string err = saveSafetensors(projectSibling(projectPath, section.file), tensors, meta);
        !err.empty()) {
        out.error = err;
        return out;
    }
    out.section = std::move(section);
    return out;
}

LoadedWeights readProjectWeights(const std::filesystem::path& projectPath,
                                 const WeightsSection& section, Executor& executor,
                                 const Graph& graph) {
    LoadedWeights out;
    const std::filesystem::path file = projectSibling(projectPath, section.file);
    const std::string revision = graphRevision(graph);
    // The file's own record of its network wins over the project's (a project
    // may name a file another save or an autosave wrote since).
    auto trainedFor = [&](const std::map<std::string, std::string>& meta) {
        auto it = meta.find(kRevisionKey);
        return it != meta.end() ? it->second : section.graphRevision;
    };
    // The layer signatures are in the file's metadata, parsed at the first
    // parameter (the metadata is read with the header, before any tensor is set).
    std::optional<std::map<std::string, std::string>> signatures;
    std::string layersError;
    auto accept = [&](const Parameter& p, const std::map<std::string, std::string>& meta) {
        if (revision == trainedFor(meta))
            return true;
        if (!signatures) {
            signatures.emplace();
            if (auto it = meta.find(kLayersMetadataKey); it != meta.end()) {
                BoundedJson parsed = parseBoundedJson(it->second);
                if (parsed.ok() && parsed.value.is_object()) {
                    for (const auto& [name, sig] : parsed.value.items())
                        if (sig.is_string())
                            (*signatures)[name] = sig.get<std::string>();
                } else {
                    layersError = "its layer signatures cannot be read; layers are matched by name "
                                  "and shape only";
                }
            }
        }
        const Node* node = graph.findNode(p.node);
        auto it = node ? signatures->find(node->name) : signatures->end();
        return it == signatures->end() || it->second == layerSignature(*node);
    };
    out.match = loadMatchingWeights(executor, file, accept);
    if (!out.match.error.empty())
        return out;
    if (!layersError.empty())
        out.notes.push_back(strCat(section.file, ": ", layersError));
    const auto& meta = out.match.metadata;
    out.sameNetwork = revision == trainedFor(meta);
    // An empty revision: a recovery copy, which the file alone describes.
    const bool checkAgainstProject = !section.graphRevision.empty();
    if (auto it = meta.find(kRevisionKey);
        checkAgainstProject && it != meta.end() && it->second != section.graphRevision)
        out.notes.push_back(strCat(section.file,
                                   " was written by another save than the project (graph revision ",
                                   it->second, ", the project says ", section.graphRevision, ")"));
    if (auto it = meta.find(kStepKey);
        checkAgainstProject && it != meta.end() && it->second != std::to_string(section.step))
        out.notes.push_back(strCat(section.file, " holds the weights of step ", it->second,
                                   ", the project says ", section.step));
    if (auto it = meta.find(kHistoryKey); it != meta.end()) {
        std::string error;
        out.history = runHistoryFromJson(it->second, error);
        if (!out.history)
            out.notes.push_back(
                strCat(section.file, ": the training curves cannot be read (", error, ")"));
    }
    return out;
}

std::string describeNotLoaded(const WeightsMatch& m) {
    std::string out;
    std::set<std::string> layers;
    auto add = [&out](const std::string& text) { out += (out.empty() ? "" : ", ") + text; };
    for (const auto& name : m.refused)
        if (layers.insert(layerOf(name)).second)
            add(layerOf(name) + " (changed since training)");
    for (const auto& text : m.mismatched)
        add(text.substr(0, text.find(':')) + " (other shape)");
    for (const auto& name : m.missing)
        add(name + " (not in the file)");
    return out;
}

} // namespace segforge::core
