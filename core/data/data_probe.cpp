#include "data/data_probe.hpp"

#include "data/image_io.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <opencv2/core.hpp>
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

int bitsOf(const cv::Mat& m) {
    return m.depth() == CV_8U ? 8 : (m.depth() == CV_16U ? 16 : 32);
}

void widen(ProbedSide& side, const cv::Mat& m, const std::string& name) {
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
    const int bits = bitsOf(m);
    side.bitDepth = std::max(side.bitDepth, bits);
    FileGroup& group = side.types[{m.channels(), bits}];
    if (group.count++ == 0)
        group.example = name;
}

/// Value → pixel count of the first channel of one mask.
template <typename T> std::map<std::int64_t, std::int64_t> histogram(const cv::Mat& mask) {
    const int channels = mask.channels();
    std::map<std::int64_t, std::int64_t> out;
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
        return out;
    }
    for (int y = 0; y < mask.rows; ++y) {
        const T* p = mask.ptr<T>(y);
        for (int x = 0; x < mask.cols; ++x)
            ++out[static_cast<std::int64_t>(p[x * channels])];
    }
    return out;
}

/// How far a mask with more than two values is from two levels.
MultiLevelMask levelsOf(const std::string& name, const std::map<std::int64_t, std::int64_t>& hist) {
    MultiLevelMask m{name, hist.size(), hist.begin()->first, hist.rbegin()->first, 0, 0};
    const double band = static_cast<double>(m.hi - m.lo) / 8;
    std::int64_t total = 0, between = 0, faint = 0;
    for (const auto& [value, count] : hist) {
        total += count;
        const auto v = static_cast<double>(value);
        if (v > m.lo + band && v < m.hi - band)
            between += count;
        else if (value != 0 && m.lo == 0 && v <= band)
            faint += count;
    }
    m.betweenShare = static_cast<double>(between) / static_cast<double>(total);
    m.faintShare = static_cast<double>(faint) / static_cast<double>(total);
    return m;
}

/// The mask's histogram into the probe's, and what it says about the file.
void scanMaskValues(const cv::Mat& mask, const std::string& name, DataProbe& probe) {
    std::map<std::int64_t, std::int64_t> hist;
    switch (mask.depth()) {
    case CV_8U:
        hist = histogram<std::uint8_t>(mask);
        break;
    case CV_16U:
        hist = histogram<std::uint16_t>(mask);
        break;
    default:
        return; // float masks: range only
    }
    for (const auto& [value, count] : hist)
        probe.maskHistogram[value] += count;
    if (hist.size() <= 2)
        return;
    if (probe.multiLevelMasks.size() < DataProbe::kMaxListed)
        probe.multiLevelMasks.push_back(levelsOf(name, hist));
    ++probe.multiLevelMaskCount;
}

/// Palette indices past the file's palette: libpng reads them without a word.
void scanPaletteIndices(const ImageReadResult& mask, const std::string& name, DataProbe& probe) {
    if (mask.palette.empty() || mask.image.depth() != CV_8U)
        return;
    const int entries = static_cast<int>(mask.palette.size());
    PaletteOverflow o{name, 0, entries, 0};
    for (int y = 0; y < mask.image.rows; ++y) {
        const std::uint8_t* p = mask.image.ptr<std::uint8_t>(y);
        for (int x = 0; x < mask.image.cols; ++x) {
            if (p[x] >= entries) {
                ++o.pixels;
                o.maxIndex = std::max<int>(o.maxIndex, p[x]);
            }
        }
    }
    if (o.pixels == 0)
        return;
    if (probe.paletteOverflows.size() < DataProbe::kMaxListed)
        probe.paletteOverflows.push_back(o);
    ++probe.paletteOverflowCount;
}

void scanColours(const cv::Mat& mask, DataProbe& probe,
                 std::set<std::array<std::uint8_t, 3>>& colours) {
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
    const std::size_t want =
        options.fullScan
            ? n
            : std::min<std::size_t>(n, static_cast<std::size_t>(std::max(1, options.sampleCount)));
    std::set<std::size_t> sample;
    for (std::size_t k = 0; k < want; ++k)
        sample.insert(k * n / want);

    const ImageLimits limits{options.maxImagePixels};
    std::set<std::array<std::uint8_t, 3>> colours;
    std::map<int, int> headerChannels[2];
    for (std::size_t i = 0; i < n; ++i) {
        const SamplePair& pair = index.pairs[i];
        std::optional<ImageHeader> headers[2];
        bool bad = false;
        const std::filesystem::path* paths[2] = {&pair.image, &pair.mask};
        const std::string names[2] = {pair.image.filename().string(),
                                      pair.mask.filename().string()};
        for (int side = 0; side < 2; ++side) {
            std::string why;
            headers[side] = readImageHeader(*paths[side], &why);
            if (!headers[side]) {
                probe.unreadable.push_back({names[side], why});
                bad = true;
            } else if (std::string over = pixelLimitError(*headers[side], limits); !over.empty()) {
                // Left out of every statistic: its size would only contradict the others.
                probe.tooLarge.push_back({names[side], side == 1, over});
                bad = true;
            }
        }
        if (bad) {
            ++probe.badPairs;
            continue;
        }
        for (int side = 0; side < 2; ++side) {
            ProbedSide& s = side == 0 ? probe.images : probe.masks;
            ++s.sizes[{static_cast<int>(headers[side]->height),
                       static_cast<int>(headers[side]->width)}];
            // Palette PNG masks are read as their indices: one channel.
            const bool indices = side == 1 && headers[side]->indexed;
            ++headerChannels[side][indices ? 1 : headers[side]->channels];
            if (indices)
                probe.maskIndexed = true;
            s.bitDepth = std::max(s.bitDepth, headers[side]->bitDepth);
        }
        if (headers[0]->height != headers[1]->height || headers[0]->width != headers[1]->width) {
            probe.sizeMismatches.push_back({pair.stem, static_cast<int>(headers[0]->height),
                                            static_cast<int>(headers[0]->width),
                                            static_cast<int>(headers[1]->height),
                                            static_cast<int>(headers[1]->width)});
        }
        if (!sample.count(i))
            continue;
        ImageReadResult decoded[2] = {readImage(pair.image, limits),
                                      readMaskImage(pair.mask, limits)};
        for (int side = 0; side < 2; ++side) {
            if (!decoded[side].ok()) {
                probe.unreadable.push_back({names[side], decoded[side].error});
                bad = true;
            }
        }
        if (bad) {
            ++probe.badPairs;
            continue;
        }
        ++probe.decodedCount;
        widen(probe.images, decoded[0].image, names[0]);
        const cv::Mat& mask = decoded[1].image;
        widen(probe.masks, mask, names[1]);
        scanMaskValues(mask, names[1], probe);
        scanPaletteIndices(decoded[1], names[1], probe);
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
        s.channels = !s.channelCounts.empty()
                         ? mostCommon(s.channelCounts)
                         : (headerChannels[side].empty() ? 0 : mostCommon(headerChannels[side]));
    }
    if (colours.size() > DataProbe::kMaxColours)
        probe.tooManyColours = true;
    else
        probe.maskColours.assign(colours.begin(), colours.end());
    return probe;
}

} // namespace segforge::core
