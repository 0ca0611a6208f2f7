#pragma once

// From a project file to what the trainer needs: the data pipeline its Dataset
// node describes, and trainer settings from its training section.

#include "data/image_pipeline.hpp"
#include "engine/trainer.hpp"
#include "project/project.hpp"

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>

namespace segforge::core {

/// The graph's one Dataset node; nullptr and `error` set when there is none or several.
const Node* findDatasetNode(const Graph& graph, std::string& error);

/// Overrides the command line (or the GUI) may apply to a project's settings.
struct TrainingOverrides {
    std::optional<std::filesystem::path>
        dataDir; ///< DIR/images and DIR/masks instead of the node's folders
    std::optional<int> epochs;
    std::optional<int> batchSize;
    std::optional<double> learningRate;
    std::optional<std::uint64_t> seed;
    std::optional<int> threads;
};

/// The pipeline the Dataset node describes: its folders resolved against the
/// project file's directory, size (height × width) and size policy, mask mode,
/// on_error, batch size; the project's validation split and seed. No augmentation.
/// Throws std::invalid_argument for an attribute the checker would reject.
PipelineOptions pipelineOptionsFor(const Project& project, const Node& dataset,
                                   const TrainingOverrides& overrides = {});

/// Trainer settings from the project's training section and the overrides. A
/// "step" schedule decays ×0.1 after each third of the run (needs the number of
/// batches per epoch); threads = 0 means all cores.
TrainerSettings trainerSettingsFor(const TrainingSettings& training,
                                   const TrainingOverrides& overrides, std::size_t batchesPerEpoch);

} // namespace segforge::core
