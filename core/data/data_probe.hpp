#pragma once

// What a dataset really contains: true dtypes, sizes, channels, value ranges
// and the class histogram of its masks. The checker receives these (through
// CheckOptions) so the Dataset node's wires show the data, not the settings.
// Deliberately free of OpenCV types: checker headers include this one.

#include "data/dataset_index.hpp"
#include "data/image_limits.hpp"
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
    /// Files declaring more pixels are listed in DataProbe::tooLarge, never decoded.
    std::uint64_t maxImagePixels = defaultMaxImagePixels();
};

struct UnreadableFile {
    std::string name; ///< file name, e.g. "cat_07.png"
    std::string reason;
};

/// A file whose header declares more pixels than the limit; it is not decoded.
struct OversizedFile {
    std::string name;
    bool mask = false;  ///< a mask file, not an image
    std::string reason; ///< "declares 30000×30000 pixels, more than the limit of …"
};

/// A decoded mask whose first channel holds more than two values: what
/// binary mode would make of it. Levels near an end are within 1/8 of the
/// value range from the smallest or largest value.
struct MultiLevelMask {
    std::string name;
    std::size_t distinct = 0; ///< distinct values
    std::int64_t lo = 0, hi = 0;
    double betweenShare = 0; ///< pixels near neither end (a ramp, a photo, class indices)
    double faintShare =
        0; ///< non-zero pixels near 0 (compression noise): foreground in binary mode
};

/// A palette PNG mask using indices its palette does not have.
struct PaletteOverflow {
    std::string name;
    int maxIndex = 0;
    int paletteSize = 0;
    std::int64_t pixels = 0; ///< pixels whose index is past the palette
};

/// The channel count and bit depth a decoded file has.
struct FileType {
    int channels = 0;
    int bitDepth = 8;
    auto operator<=>(const FileType&) const = default;
};

/// How many decoded files have one FileType, and the first of them.
struct FileGroup {
    int count = 0;
    std::string example;
};

/// An image and its mask that differ in size.
struct PairSizeMismatch {
    std::string stem;
    int imageHeight = 0, imageWidth = 0;
    int maskHeight = 0, maskWidth = 0;
};

/// Summary of one side (images or masks) of a dataset.
struct ProbedSide {
    int height = 0; ///< most common size (every file's header)
    int width = 0;
    int channels = 0; ///< most common decoded channel count
    int bitDepth = 8; ///< 8, 16 or 32
    /// Distinct sizes seen in headers → file count; more than one entry means
    /// the files vary in size.
    std::map<std::pair<int, int>, int> sizes;
    std::map<int, int> channelCounts; ///< channels → decoded file count
    ValueRange range{};               ///< over decoded (sampled) files
    bool rangeKnown = false;
    /// Decoded files by channels and bit depth: more than one entry means a
    /// batch could mix types, which the engine cannot take.
    std::map<FileType, FileGroup> types;

    /// The dtype batches carry: u8 for 8-bit, i32 for 16-bit (no u16 on wires), f32 for float.
    DType dtype() const;
};

struct DataProbe {
    DatasetSpec spec;
    std::string folderError; ///< a folder is missing; nothing else is known
    /// Probed without data at hand (`check` without --data, the editor): a
    /// missing folder is then a warning that training will refuse, not an error.
    bool folderOptional = false;
    std::size_t pairCount = 0;
    std::size_t decodedCount = 0; ///< pairs fully decoded (the sample)
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

    std::vector<std::string> unpaired; ///< file names without a partner
    std::vector<PairSizeMismatch> sizeMismatches;
    std::vector<UnreadableFile> unreadable;
    std::vector<OversizedFile> tooLarge;
    /// Pairs training cannot use: a side unreadable or too large. When this
    /// is pairCount, nothing can be trained on.
    std::size_t badPairs = 0;
    /// The first kMaxListed decoded masks with more than two values, and how many there are.
    std::vector<MultiLevelMask> multiLevelMasks;
    std::size_t multiLevelMaskCount = 0;
    /// Palette PNG masks with indices past their palette (first kMaxListed), and how many.
    std::vector<PaletteOverflow> paletteOverflows;
    std::size_t paletteOverflowCount = 0;
    static constexpr std::size_t kMaxListed = 16;

    /// "{0, 255}" or "{0, 1, 2, …, 20} (21 values)" from the histogram.
    std::string maskValuesText() const;
    /// Share of mask pixels with value v, 0 if unseen.
    double maskValueShare(std::int64_t value) const;
};

/// Scans a dataset. Never throws and never crashes on bad files: they are
/// listed in `unreadable` or `tooLarge` by name, and left out of the sizes,
/// types and histograms.
DataProbe probeDataset(const DatasetSpec& spec, const ProbeOptions& options = {});

} // namespace segforge::core
