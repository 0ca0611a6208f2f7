#pragma once

// What `check` and `train` share about data, so that they always agree:
// the folders are probed exactly as training reads them (the same --data
// override, every file decoded, the same pixel limit), and train refuses to
// start on any error the checker reports on them, printed as `check` prints it.

#include "check/checker.hpp"
#include "project/project.hpp"

#include <optional>
#include <string>
#include <unordered_map>

namespace segforge::cli {

/// Probes of the project's Dataset nodes over the folders training would read
/// (core::pipelineOptionsFor, with `dataDir` as --data), every file decoded.
/// A node that names no folder, or whose folder does not exist, gets a probe
/// carrying the reason: an error (dataset-empty) with `requireData`, else the
/// same code as a warning that training will refuse (DataProbe::folderOptional).
std::unordered_map<core::NodeId, core::DataProbe>
probeProjectData(const core::Project& project, const std::optional<std::string>& dataDir,
                 bool requireData);

/// The options `check` uses when it has data, and `train` always: the data
/// must also fit the Dataset's declared types (CheckOptions::forTraining).
core::CheckOptions trainingCheckOptions(std::unordered_map<core::NodeId, core::DataProbe> probes);

/// train's pre-flight: the checker as `check FILE --data DIR` runs it. Prints
/// its errors and warnings on stderr in check's format. Returns kExitOk, or
/// after saying why training does not start: kExitBadInput when a data folder
/// is missing or unreadable, kExitFindings for any other error.
int preflightTraining(const core::Project& project, const std::string& file,
                      const std::optional<std::string>& dataDir);

} // namespace segforge::cli
