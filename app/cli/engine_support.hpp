#pragma once

// What train, bench and predict share: loading a project and compiling its
// graph with messages on stderr.

#include "engine/executor.hpp"
#include "engine/train_event.hpp"
#include "project/project.hpp"

#include <memory>
#include <optional>
#include <string>

namespace segforge::cli {

inline constexpr int kExitTrainingFailed = 3; ///< train: NaN/Inf (data errors are kExitBadInput)

/// The project, or nullopt after printing why (`command` prefixes messages).
std::optional<core::Project> loadProjectOrReport(const std::string& command,
                                                 const std::string& file);

/// The compiled graph, or nullptr after printing the checker's errors.
std::unique_ptr<core::Executor> compileOrReport(const std::string& command,
                                                const core::Graph& graph);

using core::formatDuration;

} // namespace segforge::cli
