#pragma once

#include "graph/graph.hpp"

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace segforge::core {

/// How the graph is trained. Batch size lives on the Dataset node (it shapes
/// what the loader produces); everything else is here.
struct TrainingSettings {
    std::int64_t epochs = 20;
    double learningRate = 1e-3;
    std::string optimizer = "adam";    ///< sgd, adam, adamw
    std::string schedule = "constant"; ///< constant, step, cosine
    double momentum = 0.9;             ///< SGD
    double weightDecay = 1e-4;         ///< AdamW
    double validationSplit = 0.2;
    std::int64_t seed = 42;
    std::int64_t threads = 0; ///< 0: all cores
    friend bool operator==(const TrainingSettings&, const TrainingSettings&) = default;
};

/// The trained weights saved with a project (the file's `weights` section):
/// which files beside the project hold them and which network they belong to.
/// File names are plain names in the project's directory, never paths, so a
/// project cannot make SegForge read or overwrite a file elsewhere.
struct WeightsSection {
    std::string file;       ///< safetensors with "<node>/<param>" tensors: NAME.weights.safetensors
    std::string checkpoint; ///< "" or the optimizer state for continuing exactly
                            ///< (NAME.checkpoint.safetensors)
    std::string graphRevision; ///< graphRevision() of the network the weights were trained for
    std::int64_t step = 0;     ///< optimizer steps the weights have had
    friend bool operator==(const WeightsSection&, const WeightsSection&) = default;
};

/// A *.segforge document: the graph with node positions, training settings,
/// and opaque view state the GUI keeps (zoom, open panels).
struct Project {
    std::string name = "Untitled";
    Graph graph;
    TrainingSettings training;
    nlohmann::json view = nlohmann::json::object();
    /// Trained weights saved beside the project, if any.
    std::optional<WeightsSection> weights;
    /// Where it was loaded from; dataset folders are relative to its directory.
    std::filesystem::path sourcePath;
};

/// 2: graph.groups (named, collapsible blocks of nodes). Version-1 files open
/// unchanged (no groups) and are saved as version 2.
inline constexpr int kProjectFormatVersion = 2;
inline constexpr const char* kProjectFormatName = "segforge-project";

} // namespace segforge::core
