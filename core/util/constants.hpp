#pragma once

// Names and values that several parts of SegForge (core, the CLI, the app)
// must agree on, written once. Op knowledge lives with the ops, not here.

#include <array>
#include <string_view>

namespace segforge {

/// A project file's extension (the app's Open/Save filters, the recovery copy,
/// the weights files named after a project).
inline constexpr const char* kProjectExtension = ".segforge";

/// The image files data folders hold, lower case, in the order a ground-truth
/// mask is looked for by its image's stem.
inline constexpr std::array<std::string_view, 6> kImageExtensions{".png", ".jpg",  ".jpeg",
                                                                  ".tif", ".tiff", ".bmp"};

/// A trained network's weights and the training state a run resumes from: the
/// files in a `segforge-cli train` run folder, the app's default export name,
/// and, after the project's stem ("net." + name), the files saved beside a project.
inline constexpr const char* kWeightsFileName = "weights.safetensors";
inline constexpr const char* kCheckpointFileName = "checkpoint.safetensors";

/// The per-epoch training history a run folder holds (project/run_history_csv.hpp).
inline constexpr const char* kMetricsFileName = "metrics.csv";

} // namespace segforge
