#pragma once

// Feature maps as a picture: every channel of one sample as a small tile,
// each stretched to its own min..max and coloured with viridis, so a channel
// that is dead (constant) or saturated stands out next to the live ones.

#include "tensor/tensor.hpp"

#include <cstdint>
#include <opencv2/core.hpp>

namespace segforge::core {

/// Where the tiles of a channel grid sit, so a viewer can map a click back to
/// a channel. Tiles are laid out row by row with a `gap`-pixel separator.
struct ChannelGridLayout {
    int channels = 0; ///< channels drawn (≤ maxChannels)
    int columns = 0, rows = 0;
    int tileWidth = 0, tileHeight = 0;
    int gap = 0;

    int width() const { return columns * tileWidth + (columns > 0 ? (columns - 1) * gap : 0); }
    int height() const { return rows * tileHeight + (rows > 0 ? (rows - 1) * gap : 0); }
    /// Channel under pixel (x, y) of the grid image, or -1 (gap or empty cell).
    int channelAt(int x, int y) const;
};

inline constexpr int kChannelGridGap = 1;
/// Colour of NaN/Inf pixels in a channel grid (not on the viridis scale).
inline constexpr std::uint8_t kChannelGridBad[3] = {255, 0, 255};

/// Tiles keep the feature map's own size when `tile` is 0; otherwise the longer
/// side of each tile becomes `tile` pixels (aspect kept). A near-square grid.
/// Throws std::invalid_argument unless `t` is rank 4.
ChannelGridLayout channelGridLayout(const Tensor& t, int maxChannels = 64, int tile = 0);

/// RGB CV_8UC3 grid of the first `maxChannels` channels of batch sample
/// `sample` (-1 means sample 0) of an NHWC tensor; see ChannelGridLayout.
/// NaN/Inf pixels are magenta; a constant channel is drawn in the lowest colour.
/// Throws std::invalid_argument for other ranks, std::out_of_range for a
/// sample outside the batch.
cv::Mat channelGrid(const Tensor& t, std::int64_t sample, int maxChannels = 64, int tile = 0);

/// A single channel of one sample at its own size, coloured the same way.
cv::Mat channelImage(const Tensor& t, std::int64_t sample, int channel);

} // namespace segforge::core
