#pragma once

#include "engine/executor.hpp"

#include <filesystem>
#include <string>

namespace segforge::core {

/// Saves every parameter (trainable and moving statistics) as
/// "<node>/<param>" float32 tensors. Returns "" or an error message.
std::string saveWeights(Executor& executor, const std::filesystem::path& path);

/// Loads parameters by name. Every parameter of the graph must be present with
/// its shape; extra tensors in the file are an error too (a different network).
/// Nothing is changed unless the whole file fits. Returns "" or an error message.
std::string loadWeights(Executor& executor, const std::filesystem::path& path);

} // namespace segforge::core
