#pragma once

// Reading image and mask files through OpenCV, as values: a decoded matrix in
// RGB(A) order or a message naming the file and the reason. Never throws.

#include <opencv2/core.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// What a file's header says, read without decoding the pixels (PNG, JPEG,
/// BMP); other formats are decoded to find out.
struct ImageHeader {
    int width = 0;
    int height = 0;
    int channels = 0; ///< as OpenCV will decode it (palette PNG → 3)
    int bitDepth = 8; ///< 8, 16 or 32 (float TIFF)
    bool indexed = false; ///< a palette PNG: one index per pixel, read as such by readMaskImage
};

/// A decoded image: 1 (grey), 3 (RGB) or 4 (RGBA) channels; CV_8U, CV_16U or
/// CV_32F. Empty `image` means failure and `error` says why.
struct ImageReadResult {
    cv::Mat image;
    /// Only from readMaskImage on a palette PNG: `image` holds the indices
    /// and colour k of the file's palette is index k.
    std::vector<std::array<std::uint8_t, 3>> palette;
    std::string error;
    bool ok() const { return error.empty(); }
};

/// True for the extensions the loader reads: png, jpg, jpeg, tif, tiff, bmp.
bool isImageFile(const std::filesystem::path& path);

/// Decodes a file with OpenCV (IMREAD_UNCHANGED, so 16-bit and alpha survive)
/// and converts BGR → RGB, BGRA → RGBA.
ImageReadResult readImage(const std::filesystem::path& path);

/// A mask file as stored: like readImage, except that a palette PNG gives
/// its palette indices (one channel) and its palette, not expanded colours.
ImageReadResult readMaskImage(const std::filesystem::path& path);

/// Header only for PNG, JPEG and BMP (fast), a full decode otherwise.
/// nullopt with `error` set when the file is not a readable image.
std::optional<ImageHeader> readImageHeader(const std::filesystem::path& path, std::string* error);

/// Writes an RGB(A) or grey matrix (converting to OpenCV's BGR order).
/// Returns an error message, empty on success.
std::string writeImage(const std::filesystem::path& path, const cv::Mat& rgb);

} // namespace segforge::core
