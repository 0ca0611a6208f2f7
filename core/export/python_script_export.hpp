#pragma once

// Readable, self-contained Python training scripts (Keras 3 or PyTorch) that
// build the same network as a project, with the same layer names, load its
// safetensors weights ("<layer>/<param>", Keras layouts) when given, and
// train on the Dataset node's image/mask folders. Only numpy, Pillow and the
// framework are needed; the safetensors reader is inline.

#include "project/project.hpp"

#include <string>
#include <vector>

namespace segforge::core {

struct ScriptExport {
    std::string text;                  ///< the script, valid only when errors is empty
    std::vector<std::string> errors;   ///< why the project cannot be exported
    std::vector<std::string> warnings; ///< what the script does differently
    bool ok() const { return errors.empty(); }
};

/// `weights` is the default weights file the script loads ("" for none).
ScriptExport exportKerasScript(const Project& project, const std::string& weights);
ScriptExport exportPyTorchScript(const Project& project, const std::string& weights);

} // namespace segforge::core
