#include "data/data_probe.hpp"

#include "data/image_io.hpp"
#include "util/str_cat.hpp"

#include <opencv2/core.hpp>

#include <algorithm>
#include <set>

namespace segforge::core {
namespace {

template <typename Map> typename Map::key_type mostCommon(const Map& counts) {
    typename Map::key_type best{};
    int bestCount = -1;
    for (const auto& [key, count] : counts) {
        if (count > bestCount) {
            best = key;
            bestCount = count;
        }
    }
    return best;
}

void widen(ProbedSide& side, const cv::Mat& m) {
    double lo = 0, hi = 0;
    cv::minMaxLoc(m.reshape(1), &lo, &hi);
    if (!side.rangeKnown) {
        side.range = {lo, hi};
        side.rangeKnown = true;
    } else {
        side.range.lo = std::min(side.range.lo, lo);
        side.range.hi = std::max(side.range.hi, hi);
    }
    ++side.channelCounts[m.channels()];
    const int bits = m.depth() == CV_8U ? 8 : (m.depth() == CV_16U ? 16 : 32);
    side.bitDepth = std::max(side.bitDepth, bits);
}

template <typename T> void histogram(const cv::Mat& mask, std::map<std::int64_t, std::int64_t>& out) {
    const int channels = mask.channels();
    std::map<std::int64_t, std::int64_t> local;
    if (sizeof(T) == 1) { // dense bins are much faster for 8-bit masks
        std::array<std::int64_t, 256> bins{};
        for (int y = 0; y < mask.rows; ++y) {
            const T* p = mask.ptr<T>(y);
            for (int x = 0; x < mask.cols; ++x)
                ++bins[static_cast<std::size_t>(p[x * channels])];
        }
        for (std::size_t v = 0; v < bins.size(); ++v) {
            if (bins[v])
                out[static_cast<std::int64_t>(v)] += bins[v];
        }
        return;
    }
    for (int y = 0; y < mask.rows; ++y) {
        const T* p = mask.ptr<T>(y);
        for (int x = 0; x < mask.cols; ++x)
            ++out[static_cast<std::int64_t>(p[x * channels])];
    }
}

void scanColours(const cv::Mat& mask, DataProbe& probe, std::set<std::array<std::uint8_t, 3>>& colours) {
    if (mask.channels() < 3 || mask.depth() != CV_8U)
        return;
    const int channels = mask.channels();
    for (int y = 0; y < mask.rows; ++y) {
        const std::uint8_t* p = mask.ptr<std::uint8_t>(y);
        for (int x = 0; x < mask.cols; ++x, p += channels) {
            if (p[0] != p[1] || p[1] != p[2])
                probe.maskChannelsEqual = false;
            if (colours.size() <= DataProbe::kMaxColours)
                colours.insert({p[0], p[1], p[2]});
        }
    }
}

} // namespace

DType ProbedSide::dtype() const {
    if (bitDepth == 32)
        return DType::Float32;
    return bitDepth == 16 ? DType::UInt16 : DType::UInt8;
}

std::string DataProbe::maskValuesText() const {
    if (maskHistogram.empty())
        return "{}";
    std::string text = "{";
    std::size_t i = 0;
    for (const auto& [value, count] : maskHistogram) {
        if (maskHistogram.size() > 8 && i == 6) {
            text += strCat("…, ", maskHistogram.rbegin()->first);
            break;
        }
        text += strCat(i ? ", " : "", value);
        ++i;
    }
    text += "}";
    if (maskHistogram.size() > 8)
        text += strCat(" (", maskHistogram.size(), " values)");
    return text;
}

double DataProbe::maskValueShare(std::int64_t value) const {
    std::int64_t total = 0;
    for (const auto& [v, count] : maskHistogram)
        total += count;
    auto it = maskHistogram.find(value);
    return total == 0 || it == maskHistogram.end() ? 0.0 : static_cast<double>(it->second) / total;
}

DataProbe probeDataset(const DatasetSpec& spec, const ProbeOptions& options) {
    DataProbe probe;
    probe.spec = spec;
    probe.fullScan = options.fullScan;
    const DatasetIndex index = indexDataset(spec);
    probe.folderError = index.error;
    probe.unpaired = index.unpairedNames();
    probe.pairCount = index.pairs.size();
    if (!index.error.empty() || index.pairs.empty())
        return probe;

    // Evenly spread sample, deterministic: the same files every time.
    const std::size_t n = index.pairs.size();
    const std::size_t want = options.fullScan ? n : std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, options.sampleCount)));
    std::set<std::size_t> sample;
    for (std::size_t k = 0; k < want; ++k)
        sample.insert(k * n / want);

    std::set<std::array<std::uint8_t, 3>> colours;
    std::map<int, int> headerChannels[2];
    for (std::size_t i = 0; i < n; ++i) {
        const SamplePair& pair = index.pairs[i];
        std::optional<ImageHeader> headers[2];
        bool bad = false;
        const std::filesystem::path* paths[2] = {&pair.image, &pair.mask};
        for (int side = 0; side < 2; ++side) {
            std::string why;
            headers[side] = readImageHeader(*paths[side], &why);
            if (!headers[side]) {
                probe.unreadable.push_back({paths[side]->filename().string(), why});
                bad = true;
            }
        }
        if (bad)
            continue;
        for (int side = 0; side < 2; ++side) {
            ProbedSide& s = side == 0 ? probe.images : probe.masks;
            ++s.sizes[{headers[side]->height, headers[side]->width}];
            // Palette PNG masks are read as their indices: one channel.
            const bool indices = side == 1 && headers[side]->indexed;
            ++headerChannels[side][indices ? 1 : headers[side]->channels];
            if (indices)
                probe.maskIndexed = true;
            s.bitDepth = std::max(s.bitDepth, headers[side]->bitDepth);
        }
        if (headers[0]->height != headers[1]->height || headers[0]->width != headers[1]->width) {
            probe.sizeMismatches.push_back({pair.stem, headers[0]->height, headers[0]->width,
                                            headers[1]->height, headers[1]->width});
        }
        if (!sample.count(i))
            continue;
        ImageReadResult decoded[2] = {readImage(pair.image), readMaskImage(pair.mask)};
        for (int side = 0; side < 2; ++side) {
            if (!decoded[side].ok()) {
                probe.unreadable.push_back({paths[side]->filename().string(), decoded[side].error});
                bad = true;
            }
        }
        if (bad)
            continue;
        ++probe.decodedCount;
        widen(probe.images, decoded[0].image);
        const cv::Mat& mask = decoded[1].image;
        widen(probe.masks, mask);
        switch (mask.depth()) {
        case CV_8U: histogram<std::uint8_t>(mask, probe.maskHistogram); break;
        case CV_16U: histogram<std::uint16_t>(mask, probe.maskHistogram); break;
        default: break; // float masks: range only
        }
        scanColours(mask, probe, colours);
    }
    for (int side = 0; side < 2; ++side) {
        ProbedSide& s = side == 0 ? probe.images : probe.masks;
        if (!s.sizes.empty()) {
            const auto size = mostCommon(s.sizes);
            s.height = size.first;
            s.width = size.second;
        }
        // Decoded channel counts are the truth; headers fill in when nothing decoded.
        s.channels = !s.channelCounts.empty() ? mostCommon(s.channelCounts)
                                              : (headerChannels[side].empty() ? 0 : mostCommon(headerChannels[side]));
    }
    if (colours.size() > DataProbe::kMaxColours)
        probe.tooManyColours = true;
    else
        probe.maskColours.assign(colours.begin(), colours.end());
    return probe;
}

} // namespace segforge::core
