#pragma once

// Reading image and mask files through OpenCV, as values: a decoded matrix in
// RGB(A) order or a message naming the reason. Never throws.
//
// A small file can declare an enormous image (a 2.6 MB PNG can say
// 30000×30000, 2.7 GB of pixels), so every reader parses the header first and
// refuses, before anything is allocated, an image over the pixel limit or one
// whose file is too small to hold what it declares. Only PNG, JPEG, BMP and
// TIFF are decoded (recognised by their signature, not their name): those are
// the formats whose header is checked here.

#include "data/image_limits.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace segforge::core {

enum class ImageFormat { Png, Jpeg, Bmp, Tiff };

/// What a file's header says, read without decoding the pixels.
struct ImageHeader {
    ImageFormat format = ImageFormat::Png;
    std::int64_t width = 0; ///< as declared: may exceed any limit
    std::int64_t height = 0;
    int channels = 0;     ///< as OpenCV will decode it (palette PNG → 3)
    int bitDepth = 8;     ///< 8, 16 or 32 (float TIFF)
    bool indexed = false; ///< a palette PNG: one index per pixel, read as such by readMaskImage

    std::uint64_t pixels() const {
        return static_cast<std::uint64_t>(width) * static_cast<std::uint64_t>(height);
    }
};

/// Empty when the header's size is within `limits`; otherwise why not:
/// "declares 30000×30000 pixels, more than the limit of 67108864 (…)".
std::string pixelLimitError(const ImageHeader& header, const ImageLimits& limits);

/// A decoded image: 1 (grey), 3 (RGB) or 4 (RGBA) channels; CV_8U, CV_16U or
/// CV_32F. Empty `image` means failure and `error` says why (without the file
/// name: the caller knows it).
struct ImageReadResult {
    cv::Mat image;
    /// Only from readMaskImage on a palette PNG: `image` holds the indices
    /// and colour k of the file's palette is index k.
    std::vector<std::array<std::uint8_t, 3>> palette;
    std::string error;
    bool tooLarge = false; ///< refused by the pixel limit, not decoded
    bool ok() const { return error.empty(); }
};

/// True for the extensions the loader reads: png, jpg, jpeg, tif, tiff, bmp.
bool isImageFile(const std::filesystem::path& path);

/// Decodes a file's bytes with OpenCV (IMREAD_UNCHANGED, so 16-bit and alpha
/// survive) after checking its header against `limits`, and converts BGR →
/// RGB, BGRA → RGBA.
ImageReadResult readImage(std::span<const std::uint8_t> bytes, const ImageLimits& limits = {});
ImageReadResult readImage(const std::filesystem::path& path, const ImageLimits& limits = {});

/// A mask file as stored: like readImage, except that a palette PNG gives
/// its palette indices (one channel) and its palette, not expanded colours.
ImageReadResult readMaskImage(std::span<const std::uint8_t> bytes, const ImageLimits& limits = {});
ImageReadResult readMaskImage(const std::filesystem::path& path, const ImageLimits& limits = {});

/// The header of a PNG, JPEG, BMP or TIFF held in `bytes` (the whole file, or
/// at least its start). nullopt with `error` set when it is not a readable
/// image header. The size is as declared: compare it with pixelLimitError.
std::optional<ImageHeader> readImageHeader(std::span<const std::uint8_t> bytes, std::string* error);
/// Reads only as much of the file as the header needs (usually 64 KiB).
std::optional<ImageHeader> readImageHeader(const std::filesystem::path& path, std::string* error);

/// Writes an RGB(A) or grey matrix (converting to OpenCV's BGR order).
/// Returns an error message, empty on success.
std::string writeImage(const std::filesystem::path& path, const cv::Mat& rgb);

} // namespace segforge::core
