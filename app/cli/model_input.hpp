#pragma once

// What `check` and `fix` share: reading the FILE they are given (a project,
// or a Keras model imported on the fly) and the check options they declare
// (--data, --no-data) and build from it, so that `fix` re-checks
// exactly as `check` reports.

#include "check/checker.hpp"
#include "cli/options.hpp"
#include "project/project.hpp"

#include <optional>
#include <string>
#include <vector>

namespace segforge::cli {

/// A project read from a project file or imported from a Keras model.
struct ModelInput {
    std::optional<core::Project> project;
    std::vector<std::string> errors; ///< why there is no project
    bool keras = false;              ///< read from a Keras model (JSON or .keras)
    bool onnx = false;               ///< imported from an ONNX model
    /// Imported from a model file (Keras or ONNX): it carries no loss.
    bool imported() const { return keras || onnx; }
};

/// Reads FILE: an ONNX model (by content or the .onnx extension), a Keras
/// model JSON (class_name/config at its root) or .keras archive is imported,
/// anything else is loaded as a project. Warnings go to
/// stderr as they are met.
ModelInput readModelInput(const std::string& file);

/// The check options a command takes from its command line.
struct CheckDataArgs {
    bool noData = false;
    std::optional<std::string> data;
};

/// Declares --data DIR and --no-data on `command`.
void addCheckDataOptions(CLI::App& command, CheckDataArgs& args);

/// The options `check` runs with: a project's Dataset folders (or --data DIR)
/// probed as training reads them, unless --no-data; a Keras or ONNX model
/// carries no loss, so no-loss is only a warning for it.
core::CheckOptions checkOptionsFor(const ModelInput& input, const CheckDataArgs& args);

} // namespace segforge::cli
