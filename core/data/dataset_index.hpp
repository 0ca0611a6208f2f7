#pragma once

// Which image goes with which mask: pairing files by stem, either across an
// images folder and a masks folder, or inside one folder by a suffix rule
// (x.png / x_mask.png).

#include <filesystem>
#include <string>
#include <vector>

namespace segforge::core {

/// Where a dataset lives. An empty `masksDir` (or one equal to `imagesDir`)
/// selects the single-folder rule: `<stem><maskSuffix>.*` is the mask of `<stem>.*`.
struct DatasetSpec {
    std::filesystem::path imagesDir;
    std::filesystem::path masksDir;
    std::string maskSuffix = "_mask";

    bool singleFolder() const;
};

struct SamplePair {
    std::string stem;
    std::filesystem::path image;
    std::filesystem::path mask;
};

/// The pairing of a dataset's files. Files are sorted by name, so the index
/// (and everything seeded from it) is the same on every machine.
struct DatasetIndex {
    std::vector<SamplePair> pairs;
    std::vector<std::filesystem::path> imagesWithoutMask;
    std::vector<std::filesystem::path> masksWithoutImage;
    /// Second file with an already-used stem (x.png and x.jpg): ignored.
    std::vector<std::filesystem::path> duplicates;
    /// A folder that does not exist or cannot be listed; empty if fine.
    std::string error;

    /// File names (not paths) of every unpaired or duplicate file.
    std::vector<std::string> unpairedNames() const;
};

/// Lists and pairs the files. Never throws: problems land in `error`.
DatasetIndex indexDataset(const DatasetSpec& spec);

} // namespace segforge::core
