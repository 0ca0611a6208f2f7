#pragma once

// How large an image the readers decode. A small file can declare an enormous
// image (a 2.6 MB PNG can say 30000×30000, 2.7 GB of pixels), so every reader
// compares the size in the header with this limit before it allocates.
// Free of OpenCV types: the probe's options carry it into checker headers.

#include <cstdint>

namespace segforge::core {

/// The largest width × height decoded unless changed: 64 Mi pixels (8192×8192),
/// far beyond what a U-Net trains on and at most 1 GiB decoded (4 channels of
/// float32).
inline constexpr std::uint64_t kDefaultMaxImagePixels = std::uint64_t{1} << 26;

/// The environment variable that changes the default pixel limit for every
/// reader in the process (check, train, predict and the editor alike).
inline constexpr const char* kMaxImagePixelsVariable = "SEGFORGE_MAX_IMAGE_PIXELS";

/// OpenCV refuses longer sides whatever the pixel count (its 1 << 20 default).
inline constexpr std::int64_t kMaxImageSide = std::int64_t{1} << 20;

/// $SEGFORGE_MAX_IMAGE_PIXELS when it is a positive integer, otherwise
/// kDefaultMaxImagePixels. Read once.
std::uint64_t defaultMaxImagePixels();

struct ImageLimits {
    /// Images whose header declares more pixels (width × height) are refused.
    std::uint64_t maxPixels = defaultMaxImagePixels();
};

} // namespace segforge::core
