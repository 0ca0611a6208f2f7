#include "data/channel_grid.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

namespace segforge::core {
namespace {

void requireImage(const Tensor& t) {
    if (t.shape().rank() != 4)
        throw std::invalid_argument(
            strCat("a channel grid needs an N×H×W×C tensor, got ", t.describe()));
}

std::int64_t checkedSample(const Tensor& t, std::int64_t sample) {
    sample = std::max<std::int64_t>(sample, 0);
    if (sample >= t.batch())
        throw std::out_of_range(
            strCat("sample ", sample, " is outside the batch of ", t.describe()));
    return sample;
}

/// Channel `c` of sample `n` as grey levels (0..255 over its finite range) and
/// a mask of its non-finite pixels.
void channelToGrey(const Tensor& t, std::int64_t n, int c, cv::Mat& grey, cv::Mat& bad) {
    const int h = static_cast<int>(t.height()), w = static_cast<int>(t.width());
    const std::int64_t channels = t.channels();
    const std::int64_t base = n * h * w * channels + c;
    cv::Mat values(h, w, CV_64F);
    bad = cv::Mat::zeros(h, w, CV_8UC1);
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double v = t.valueAt(base + (static_cast<std::int64_t>(y) * w + x) * channels);
            values.at<double>(y, x) = v;
            if (!std::isfinite(v)) {
                bad.at<std::uint8_t>(y, x) = 255;
                continue;
            }
            lo = std::min(lo, v);
            hi = std::max(hi, v);
        }
    }
    grey = cv::Mat::zeros(h, w, CV_8UC1);
    if (!(hi > lo))
        return; // constant or all non-finite: lowest colour
    const double scale = 255.0 / (hi - lo);
    for (int y = 0; y < h; ++y) {
        for (int x = 0; x < w; ++x) {
            const double v = values.at<double>(y, x);
            if (std::isfinite(v))
                grey.at<std::uint8_t>(y, x) = cv::saturate_cast<std::uint8_t>((v - lo) * scale);
        }
    }
}

cv::Mat colourise(const cv::Mat& grey, const cv::Mat& bad) {
    cv::Mat bgr, rgb;
    cv::applyColorMap(grey, bgr, cv::COLORMAP_VIRIDIS);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    rgb.setTo(cv::Scalar(kChannelGridBad[0], kChannelGridBad[1], kChannelGridBad[2]), bad);
    return rgb;
}

} // namespace

int ChannelGridLayout::channelAt(int x, int y) const {
    if (x < 0 || y < 0 || tileWidth <= 0 || tileHeight <= 0)
        return -1;
    const int col = x / (tileWidth + gap), row = y / (tileHeight + gap);
    if (col >= columns || row >= rows || x % (tileWidth + gap) >= tileWidth ||
        y % (tileHeight + gap) >= tileHeight)
        return -1;
    const int c = row * columns + col;
    return c < channels ? c : -1;
}

ChannelGridLayout channelGridLayout(const Tensor& t, int maxChannels, int tile) {
    requireImage(t);
    ChannelGridLayout l;
    l.channels = static_cast<int>(std::min<std::int64_t>(t.channels(), std::max(maxChannels, 0)));
    if (l.channels == 0 || t.height() == 0 || t.width() == 0)
        return ChannelGridLayout{};
    l.columns = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(l.channels))));
    l.rows = (l.channels + l.columns - 1) / l.columns;
    l.tileWidth = static_cast<int>(t.width());
    l.tileHeight = static_cast<int>(t.height());
    if (tile > 0) {
        const double s = static_cast<double>(tile) / std::max(l.tileWidth, l.tileHeight);
        l.tileWidth = std::max(1, static_cast<int>(std::lround(l.tileWidth * s)));
        l.tileHeight = std::max(1, static_cast<int>(std::lround(l.tileHeight * s)));
    }
    l.gap = l.channels > 1 ? kChannelGridGap : 0;
    return l;
}

cv::Mat channelGrid(const Tensor& t, std::int64_t sample, int maxChannels, int tile) {
    const ChannelGridLayout l = channelGridLayout(t, maxChannels, tile);
    const std::int64_t n = checkedSample(t, sample);
    if (l.channels == 0)
        return cv::Mat(0, 0, CV_8UC3);
    // Separator and empty cells in a neutral grey that is not on viridis.
    cv::Mat grid(l.height(), l.width(), CV_8UC3, cv::Scalar(60, 60, 60));
    const bool resize = l.tileWidth != t.width() || l.tileHeight != t.height();
    for (int c = 0; c < l.channels; ++c) {
        cv::Mat grey, bad;
        channelToGrey(t, n, c, grey, bad);
        cv::Mat rgb = colourise(grey, bad);
        if (resize) {
            // Nearest when enlarging keeps pixels crisp; area when shrinking keeps detail honest.
            const int interp = l.tileWidth > rgb.cols ? cv::INTER_NEAREST : cv::INTER_AREA;
            cv::resize(rgb, rgb, cv::Size(l.tileWidth, l.tileHeight), 0, 0, interp);
        }
        const int x = (c % l.columns) * (l.tileWidth + l.gap),
                  y = (c / l.columns) * (l.tileHeight + l.gap);
        rgb.copyTo(grid(cv::Rect(x, y, l.tileWidth, l.tileHeight)));
    }
    return grid;
}

cv::Mat channelImage(const Tensor& t, std::int64_t sample, int channel) {
    requireImage(t);
    const std::int64_t n = checkedSample(t, sample);
    if (channel < 0 || channel >= t.channels())
        throw std::out_of_range(strCat("channel ", channel, " is outside ", t.describe()));
    cv::Mat grey, bad;
    channelToGrey(t, n, channel, grey, bad);
    return colourise(grey, bad);
}

} // namespace segforge::core
