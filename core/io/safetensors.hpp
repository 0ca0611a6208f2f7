#pragma once

// safetensors (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape,
// data_offsets}, "__metadata__": {string: string}}, then raw little-endian
// data. Readable by PyTorch, JAX and numpy tools. We write float32 only.

#include "tensor/tensor.hpp"

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace segforge::core {

struct SafetensorsData {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> metadata;
};

/// Writes to a temporary file beside `path`, then renames it over `path`, so a
/// failure never leaves a half-written file. Returns "" or a message saying what failed.
std::string saveSafetensors(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                            const std::map<std::string, std::string>& metadata = {});

/// Reads a file; on failure `error` says what is wrong and where.
SafetensorsData loadSafetensors(const std::filesystem::path& path, std::string& error);

} // namespace segforge::core
