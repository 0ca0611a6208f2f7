#pragma once

// What a dataset really contains: true dtypes, sizes, channels, value ranges
// and the class histogram of its masks. The checker receives these (through
// CheckOptions) so the Dataset node's wires show the data, not the settings.
// Deliberately free of OpenCV types: checker headers include this one.

#include "data/dataset_index.hpp"
#include "tensor/dtype.hpp"
#include "tensor/tensor_type.hpp"

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace segforge::core {

struct ProbeOptions {
    /// Files decoded for value ranges and histograms in a fast scan; headers
    /// of every file are always read.
    int sampleCount = 16;
    /// Decode every file (slow on big sets; "full scan" in the UI).
    bool fullScan = false;
};

struct UnreadableFile {
    std::string name; ///< file name, e.g. "cat_07.png"
    std::string reason;
};

/// An image and its mask that differ in size.
struct PairSizeMismatch {
    std::string stem;
    int imageHeight = 0, imageWidth = 0;
    int maskHeight = 0, maskWidth = 0;
};

/// Summary of one side (images or masks) of a dataset.
struct ProbedSide {
    int height = 0;   ///< most common size (every file's header)
    int width = 0;
    int channels = 0; ///< most common decoded channel count
    int bitDepth = 8; ///< 8, 16 or 32
    /// Distinct sizes seen in headers → file count; more than one entry means
    /// the files vary in size.
    std::map<std::pair<int, int>, int> sizes;
    std::map<int, int> channelCounts; ///< channels → decoded file count
    ValueRange range{};               ///< over decoded (sampled) files
    bool rangeKnown = false;

    /// The dtype batches carry: u8 for 8-bit, i32 for 16-bit (no u16 on wires), f32 for float.
    DType dtype() const;
};

struct DataProbe {
    DatasetSpec spec;
    std::string folderError;       ///< a folder is missing; nothing else is known
    std::size_t pairCount = 0;
    std::size_t decodedCount = 0;  ///< pairs fully decoded (the sample)
    bool fullScan = false;

    ProbedSide images;
    ProbedSide masks;
    /// Mask value → pixel count over decoded masks (first channel). For class
    /// index masks this is the class histogram; for 0/255 masks two bins.
    std::map<std::int64_t, std::int64_t> maskHistogram;
    /// Multi-channel masks: whether every decoded pixel has equal channels
    /// (grey saved as RGB) — then one channel carries everything.
    bool maskChannelsEqual = true;
    /// Distinct RGB colours of multi-channel masks, sorted (at most kMaxColours).
    std::vector<std::array<std::uint8_t, 3>> maskColours;
    bool tooManyColours = false;
    /// Palette PNG masks: read as their palette indices (one channel, index k
    /// = class k), so the histogram holds indices, not colours.
    bool maskIndexed = false;
    static constexpr std::size_t kMaxColours = 256;

    std::vector<std::string> unpaired;         ///< file names without a partner
    std::vector<PairSizeMismatch> sizeMismatches;
    std::vector<UnreadableFile> unreadable;

    /// "{0, 255}" or "{0, 1, 2, …, 20} (21 values)" from the histogram.
    std::string maskValuesText() const;
    /// Share of mask pixels with value v, 0 if unseen.
    double maskValueShare(std::int64_t value) const;
};

/// Scans a dataset. Never throws and never crashes on bad files: they are
/// listed in `unreadable` by name.
DataProbe probeDataset(const DatasetSpec& spec, const ProbeOptions& options = {});

} // namespace segforge::core
