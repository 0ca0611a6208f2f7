#pragma once

// safetensors (https://github.com/huggingface/safetensors): an 8-byte
// little-endian header length, a JSON header {name: {dtype, shape,
// data_offsets}, "__metadata__": {string: string}}, then raw little-endian
// data. Readable by PyTorch, JAX and numpy tools. We write float32 only.

#include "tensor/tensor.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace segforge::core {

struct SafetensorsData {
    std::map<std::string, Tensor> tensors;
    std::map<std::string, std::string> metadata;
};

/// The largest JSON header read (the reference implementation's limit): a
/// header is parsed into memory whole, so its size is capped before that.
inline constexpr std::uint64_t kMaxSafetensorsHeaderBytes = 100'000'000;

/// Writes crash-consistently (writeFileAtomically: a temporary beside `path`,
/// fsynced, renamed over it), so a failure or a kill never leaves a
/// half-written file. Returns "" or a message saying what failed.
std::string saveSafetensors(const std::filesystem::path& path,
                            const std::vector<std::pair<std::string, const Tensor*>>& tensors,
                            const std::map<std::string, std::string>& metadata = {});

/// Reads a file. The header is validated whole before any tensor is
/// allocated: its length against the file and kMaxSafetensorsHeaderBytes, every
/// entry's dtype, shape (overflow-checked) and data_offsets, which must lie in
/// the data section, match the shape's byte size, and cover the section
/// without overlaps or holes (as the format requires); metadata values must be
/// strings. Only then is each tensor allocated and read from the file. On
/// failure `error` says where: "FILE: header: …", "FILE: tensor 'NAME'.shape: …",
/// "FILE: __metadata__ 'KEY': …", and the result is empty.
SafetensorsData loadSafetensors(const std::filesystem::path& path, std::string& error);

/// The same validation over bytes already in memory; `name` stands for the
/// file in messages.
SafetensorsData readSafetensors(std::string_view bytes, const std::string& name,
                                std::string& error);

} // namespace segforge::core
