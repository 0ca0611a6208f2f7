#pragma once

// A trained network saved with its project: NAME.weights.safetensors beside
// NAME.segforge holds the parameters under the graph's node names (readable by
// any safetensors tool), NAME.checkpoint.safetensors the optimizer state and
// position for continuing exactly (Trainer::saveCheckpoint), and the
// project's `weights` section records both with the graph revision they
// belong to. The weights file's metadata adds what a reopened project needs:
// the revision, the step, a signature per layer (so an edited layer is named,
// not silently fed weights trained for another) and the run's history.

#include "engine/executor.hpp"
#include "engine/weights.hpp"
#include "project/project.hpp"
#include "project/run_history.hpp"

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

class Trainer;

/// "net.weights.safetensors" for net.segforge (any other name: NAME + that suffix).
std::string weightsFileNameFor(const std::filesystem::path& projectPath);
/// "net.checkpoint.safetensors" for net.segforge.
std::string checkpointFileNameFor(const std::filesystem::path& projectPath);
/// A file the weights section names, in the project's folder.
std::filesystem::path projectSibling(const std::filesystem::path& projectPath,
                                     const std::string& fileName);

/// What to write. `trained` is the graph the executor was compiled from;
/// `current` the document's graph now (a node renamed since then is written
/// under its new name, a node deleted since then is left out).
struct WeightsToSave {
    Executor* executor = nullptr;
    const Graph* trained = nullptr;
    const Graph* current = nullptr;
    std::int64_t step = 0;
    const RunHistory* history = nullptr;
    /// Writes the checkpoint when set (not while it runs a step).
    const Trainer* trainer = nullptr;
};

struct SavedWeights {
    std::optional<WeightsSection> section; ///< to record in the project; nullopt on error
    std::string error;
    std::string note; ///< e.g. why no checkpoint was written
};

/// Writes the weights file and, when possible, the checkpoint beside
/// `projectPath`, each atomically. Write the project file after this returns,
/// so that it never names files that are not complete.
SavedWeights writeProjectWeights(const std::filesystem::path& projectPath,
                                 const WeightsToSave& what);

/// Writes parameters that come without an executor (an imported model's:
/// "<node>/<param>" in SegForge's layouts) as NAME.weights.safetensors beside
/// `projectPath`, with the metadata readProjectWeights reads (the graph's
/// revision, step 0, each layer's signature), atomically. Record the returned
/// section in the project and write the project after this returns.
SavedWeights writeWeightsMap(const std::filesystem::path& projectPath, const Graph& graph,
                             const std::map<std::string, Tensor>& weights);

struct LoadedWeights {
    WeightsMatch match;
    /// The project's graph has the revision the weights were trained for.
    bool sameNetwork = false;
    std::optional<RunHistory> history;
    std::vector<std::string> notes; ///< things the user should know (a stale file, a bad history)
};

/// Loads the section's weights file into `executor` (compiled from `graph`)
/// as far as it fits: tensors by name and shape, and only for layers whose
/// signature is the one they were trained with. The network they were trained
/// for is the one the file's metadata names (else the section's revision); a
/// section with an empty graphRevision (a recovery copy) is not compared with
/// the file.
LoadedWeights readProjectWeights(const std::filesystem::path& projectPath,
                                 const WeightsSection& section, Executor& executor,
                                 const Graph& graph);

/// The metadata key of each layer's signature (a JSON object name → signature).
inline constexpr const char* kLayersMetadataKey = "segforge.layers";

/// "enc1_conv1 (changed), dec2_conv1/kernel (other shape)": the parameters a
/// partial load did not set, by layer where a whole layer was refused.
std::string describeNotLoaded(const WeightsMatch& match);

} // namespace segforge::core
