#pragma once

// Keras model import: the JSON of `model.to_json()` (Keras 2 and Keras 3,
// Sequential and Functional, nested models inlined, channels_first converted
// to channels_last) and the config.json of a `.keras` archive, into a SegForge
// project.
//
// The project has no loss: Keras keeps the loss in model.compile(), which
// to_json() does not write. Checking the Keras file itself (`segforge-cli
// check model.json`) therefore treats no-loss as a warning
// (CheckOptions::requireLoss = false); the imported project is an ordinary
// project, and there no-loss stays an error until a loss is added for training.

#include "project/project.hpp"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

/// Outcome of an import. `errors` are fatal (no project); `warnings` say what
/// was approximated, ignored or left as a KerasLayer placeholder. Every message
/// reads `file:json.path: what`; a warning said of many layers is one line that
/// names them (`file: what on 58 layers (a, b, c, … and 55 more)`), and what the
/// import changed on purpose (a channels_first model converted, a free input
/// size, regularizers as weight decay) is a line `file: note: what`.
struct KerasImport {
    std::optional<Project> project;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    bool ok() const { return project.has_value(); }
};

/// A Keras model document: an object with class_name and config at its root.
bool isKerasModelJson(const nlohmann::json& doc);

/// Imports a parsed document. Never throws for bad input.
KerasImport importKerasModel(const nlohmann::json& doc, const std::string& fileLabel);
/// Parses and imports JSON text. Never throws for bad input.
KerasImport importKerasJson(std::string_view text, const std::string& fileLabel);
/// Reads a .json file or a .keras archive (detected by content). Never throws.
KerasImport importKerasFile(const std::filesystem::path& path);

/// True when the file looks like a Keras model by content: a zip archive, or
/// JSON with class_name and config at its root. Reads the file.
bool looksLikeKerasFile(const std::filesystem::path& path);

} // namespace segforge::core
