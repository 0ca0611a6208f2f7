#pragma once

// A `.keras` file (Keras 3 `model.save()`) is a zip holding config.json (the
// same JSON as `to_json()`), metadata.json and model.weights.h5.

#include <filesystem>
#include <optional>
#include <string>

namespace segforge::core::interop {

/// True when the file starts like a zip archive (reads its first four bytes).
bool looksLikeZipFile(const std::filesystem::path& path);

/// The text of config.json inside a .keras archive, or nullopt with `error` set.
std::optional<std::string> readKerasArchiveConfig(const std::filesystem::path& path,
                                                  std::string& error);

} // namespace segforge::core::interop
