#include "data/mask_codec.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cstdio>
#include <opencv2/imgproc.hpp>
#include <unordered_map>

namespace segforge::core {

std::string_view maskModeName(MaskMode mode) {
    switch (mode) {
    case MaskMode::AsStored:
        return "as_stored";
    case MaskMode::Binary:
        return "binary";
    case MaskMode::ClassIndex:
        return "class_index";
    case MaskMode::Palette:
        return "palette";
    }
    return "as_stored";
}

std::optional<MaskMode> parseMaskMode(std::string_view text) {
    for (MaskMode m :
         {MaskMode::AsStored, MaskMode::Binary, MaskMode::ClassIndex, MaskMode::Palette}) {
        if (maskModeName(m) == text)
            return m;
    }
    return std::nullopt;
}

std::string colourName(const Colour& c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c[0], c[1], c[2]);
    return buf;
}

namespace {

/// Palette indices (CV_8UC1) → RGB colours of the file's palette; an index
/// past the palette's end is an error naming the pixel.
MaskDecodeResult expandIndices(const cv::Mat& indices, const std::vector<Colour>& filePalette) {
    MaskDecodeResult r;
    cv::Mat rgb(indices.rows, indices.cols, CV_8UC3);
    for (int y = 0; y < indices.rows; ++y) {
        const std::uint8_t* in = indices.ptr<std::uint8_t>(y);
        std::uint8_t* out = rgb.ptr<std::uint8_t>(y);
        for (int x = 0; x < indices.cols; ++x, out += 3) {
            if (in[x] >= filePalette.size()) {
                r.error = strCat("palette index ", int{in[x]}, " at (", x, ", ", y,
                                 ") is past the file's ", filePalette.size(), "-colour palette");
                return r;
            }
            const Colour& c = filePalette[in[x]];
            out[0] = c[0];
            out[1] = c[1];
            out[2] = c[2];
        }
    }
    r.mask = rgb;
    return r;
}

} // namespace

MaskDecodeResult decodeMask(const cv::Mat& stored, MaskMode mode,
                            const std::vector<Colour>& palette,
                            const std::vector<Colour>& filePalette) {
    MaskDecodeResult r;
    if (stored.empty()) {
        r.error = "empty mask";
        return r;
    }
    if (mode == MaskMode::Palette && stored.channels() == 1) {
        // One channel already holds indices (a palette PNG's, or grey levels).
        if (palette.empty())
            return decodeMask(stored, MaskMode::ClassIndex);
        if (!filePalette.empty()) {
            MaskDecodeResult rgb = expandIndices(stored, filePalette);
            return rgb.ok() ? decodeMask(rgb.mask, MaskMode::Palette, palette) : rgb;
        }
        // A grey mask with a palette: grey level v is the colour (v, v, v), below.
    }
    cv::Mat first;
    if (stored.channels() == 1) {
        first = stored;
    } else {
        cv::extractChannel(stored, first, 0);
    }
    switch (mode) {
    case MaskMode::AsStored:
        r.mask = stored;
        return r;
    case MaskMode::ClassIndex:
        if (first.depth() == CV_32F) {
            first.convertTo(r.mask, CV_16U); // float class indices: round to integers
            return r;
        }
        r.mask = first;
        return r;
    case MaskMode::Binary: {
        // Any channel non-zero marks foreground, so coloured masks work too.
        cv::Mat any = first != 0; // CV_8U 0/255
        for (int c = 1; c < std::min(stored.channels(), 3); ++c) {
            cv::Mat ch;
            cv::extractChannel(stored, ch, c);
            any |= (ch != 0);
        }
        r.mask = any / 255;
        return r;
    }
    case MaskMode::Palette: {
        if (stored.depth() != CV_8U) {
            r.error = "palette masks must be 8-bit";
            return r;
        }
        std::unordered_map<std::uint32_t, std::uint8_t> lookup;
        for (std::size_t k = 0; k < palette.size() && k < 256; ++k) {
            const Colour& c = palette[k];
            lookup.emplace((std::uint32_t{c[0]} << 16) | (std::uint32_t{c[1]} << 8) | c[2],
                           static_cast<std::uint8_t>(k));
        }
        r.mask.create(stored.rows, stored.cols, CV_8U);
        const int channels = stored.channels();
        for (int y = 0; y < stored.rows; ++y) {
            const std::uint8_t* in = stored.ptr<std::uint8_t>(y);
            std::uint8_t* out = r.mask.ptr<std::uint8_t>(y);
            for (int x = 0; x < stored.cols; ++x, in += channels) {
                const std::uint32_t key =
                    channels >= 3
                        ? (std::uint32_t{in[0]} << 16) | (std::uint32_t{in[1]} << 8) | in[2]
                        : (std::uint32_t{in[0]} << 16) | (std::uint32_t{in[0]} << 8) | in[0];
                auto it = lookup.find(key);
                if (it == lookup.end()) {
                    Colour c{static_cast<std::uint8_t>(key >> 16),
                             static_cast<std::uint8_t>(key >> 8), static_cast<std::uint8_t>(key)};
                    r.error = strCat("colour ", colourName(c), " at (", x, ", ", y,
                                     ") is not in the palette of ", palette.size(), " colours");
                    r.mask.release();
                    return r;
                }
                out[x] = it->second;
            }
        }
        return r;
    }
    }
    return r;
}

} // namespace segforge::core
