#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

namespace segforge::core {

/// Reads a whole file that is parsed in memory (a project, a Keras JSON),
/// refusing one larger than `maxBytes` before reading it, so a huge or
/// endless file (a FIFO, /dev/zero) costs nothing. On failure `error` reads
/// "PATH: what" and nullopt is returned.
std::optional<std::string> readFileText(const std::filesystem::path& path, std::uint64_t maxBytes,
                                        std::string& error);

} // namespace segforge::core
