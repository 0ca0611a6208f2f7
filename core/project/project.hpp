#pragma once

#include "graph/graph.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace segforge::core {

/// How the graph is trained. Batch size lives on the Dataset node (it shapes
/// what the loader produces); everything else is here.
struct TrainingSettings {
    std::int64_t epochs = 20;
    double learningRate = 1e-3;
    std::string optimizer = "adam";   ///< sgd, adam, adamw
    std::string schedule = "constant"; ///< constant, step, cosine
    double momentum = 0.9;             ///< SGD
    double weightDecay = 1e-4;         ///< AdamW
    double validationSplit = 0.2;
    std::int64_t seed = 42;
    std::int64_t threads = 0;          ///< 0: all cores
    friend bool operator==(const TrainingSettings&, const TrainingSettings&) = default;
};

/// A *.segforge document: the graph with node positions, training settings,
/// and opaque view state the GUI keeps (zoom, open panels).
struct Project {
    std::string name = "Untitled";
    Graph graph;
    TrainingSettings training;
    nlohmann::json view = nlohmann::json::object();
    /// Where it was loaded from; dataset folders are relative to its directory.
    std::filesystem::path sourcePath;
};

inline constexpr int kProjectFormatVersion = 1;
inline constexpr const char* kProjectFormatName = "segforge-project";

} // namespace segforge::core
