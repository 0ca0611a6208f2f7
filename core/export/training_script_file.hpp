#pragma once

// A training script written to a file: what `segforge-cli export --to
// pytorch|keras` and the app's File → Export Training Script… both do, so
// that they write the same script the same way (atomically: never a
// half-written script under the final name).

#include "export/python_script_export.hpp"
#include "project/project.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace segforge::core {

enum class ScriptFramework { PyTorch, Keras };

/// "pytorch" / "keras" (the CLI's --to values) and back; nullopt for others.
std::string_view scriptFrameworkName(ScriptFramework framework);
std::optional<ScriptFramework> scriptFrameworkFromName(std::string_view name);

/// exportPyTorchScript or exportKerasScript.
ScriptExport exportTrainingScript(const Project& project, ScriptFramework framework,
                                  const std::string& weights);

/// Exports the script and writes it to `path` atomically. On an export error
/// nothing is written; a write failure is added to `errors` (naming the file).
/// `weights` is the weights file the script loads by default ("" for none).
ScriptExport writeTrainingScript(const Project& project, ScriptFramework framework,
                                 const std::filesystem::path& path, const std::string& weights);

/// The folder to pass as --data for the project's own data: for PyTorch the
/// one holding the Dataset node's images folder (DATA/images, DATA/masks, as
/// `segforge-cli train --data`), for Keras the folder its relative image and
/// mask folders are resolved against (the project's). nullopt when the
/// project has no Dataset node with an images folder, or (relative folders)
/// no file.
std::optional<std::filesystem::path> scriptDataFolder(const Project& project,
                                                      ScriptFramework framework);

} // namespace segforge::core
