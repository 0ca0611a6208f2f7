#pragma once

// Palette ("indexed", PNG colour type 3) files read as what they are for a
// mask: one byte per pixel holding the palette index. OpenCV expands such
// files to colours, which loses the numbering Pascal VOC-style masks rely on
// (index k is class k, 255 is "ignore"), so masks go through libpng instead.

#include "data/image_io.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

namespace segforge::core {

struct IndexedPng {
    cv::Mat indices;                                  ///< CV_8UC1, one palette index per pixel
    std::vector<std::array<std::uint8_t, 3>> palette; ///< PLTE colours: index k is colour k
    std::string error;     ///< set when the file is indexed but unreadable
    bool tooLarge = false; ///< refused by the pixel limit before decoding
    bool ok() const { return error.empty(); }
};

/// True when the file starts like a PNG whose header says colour type 3.
bool isIndexedPng(const std::filesystem::path& path);
bool isIndexedPng(std::span<const std::uint8_t> bytes);

/// Decodes an indexed PNG to its palette indices (1-, 2-, 4- and 8-bit
/// indices, interlaced or not), refusing one over `limits` before anything is
/// allocated. Any other file gives an error naming why.
IndexedPng readIndexedPng(std::span<const std::uint8_t> bytes, const ImageLimits& limits = {});
IndexedPng readIndexedPng(const std::filesystem::path& path, const ImageLimits& limits = {});

} // namespace segforge::core
