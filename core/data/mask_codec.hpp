#pragma once

// How a mask file's pixels become training targets. The mode is an explicit
// Dataset attribute: SegForge never guesses an encoding silently.

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

enum class MaskMode {
    AsStored,   ///< values and channels exactly as in the file
    Binary,     ///< one channel, 0 → 0 and anything else → 1 (0/1 and 0/255 masks alike)
    ClassIndex, ///< one channel of class indices (first channel of a grey-as-RGB file)
    Palette,    ///< RGB colours → class index by position in a palette
};

std::string_view maskModeName(MaskMode mode); ///< "as_stored", "binary", "class_index", "palette"
std::optional<MaskMode> parseMaskMode(std::string_view text);

using Colour = std::array<std::uint8_t, 3>;

/// Decoded mask: one channel (CV_8U, or CV_16U for 16-bit class indices) except
/// for AsStored. Empty `mask` means failure; `error` says why (e.g. a colour
/// missing from the palette).
struct MaskDecodeResult {
    cv::Mat mask;
    std::string error;
    bool ok() const { return error.empty(); }
};

/// `palette` is used by Palette mode only: colour k becomes class k.
/// `filePalette` is set when `stored` holds the indices of a palette PNG
/// (readMaskImage): in Palette mode without a palette of its own, index k is
/// class k (the file's numbering, as in Pascal VOC); with one, the indices
/// are expanded to the file's colours and those looked up.
MaskDecodeResult decodeMask(const cv::Mat& stored, MaskMode mode,
                            const std::vector<Colour>& palette = {},
                            const std::vector<Colour>& filePalette = {});

/// "#rrggbb"
std::string colourName(const Colour& c);

} // namespace segforge::core
