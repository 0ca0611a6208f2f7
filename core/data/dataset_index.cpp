#include "data/dataset_index.hpp"

#include "data/image_io.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace segforge::core {
namespace fs = std::filesystem;
namespace {

/// Image files of a folder, sorted by file name.
std::vector<fs::path> listImages(const fs::path& dir, std::string& error) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        error = strCat("folder '", dir.string(), "' does not exist");
        return files;
    }
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        if (it->is_regular_file(ec) && isImageFile(it->path()))
            files.push_back(it->path());
    }
    if (ec)
        error = strCat("cannot list folder '", dir.string(), "': ", ec.message());
    std::sort(files.begin(), files.end(),
              [](const fs::path& a, const fs::path& b) { return a.filename() < b.filename(); });
    return files;
}

bool endsWith(const std::string& s, const std::string& suffix) {
    return !suffix.empty() && s.size() > suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

/// stem → file, first one wins; later files with the same stem are duplicates.
std::map<std::string, fs::path> byStem(const std::vector<fs::path>& files,
                                       std::vector<fs::path>& duplicates) {
    std::map<std::string, fs::path> out;
    for (const fs::path& f : files) {
        if (!out.emplace(f.stem().string(), f).second)
            duplicates.push_back(f);
    }
    return out;
}

} // namespace

bool DatasetSpec::singleFolder() const {
    if (masksDir.empty())
        return true;
    std::error_code ec;
    return fs::equivalent(imagesDir, masksDir, ec) || masksDir == imagesDir;
}

std::vector<std::string> DatasetIndex::unpairedNames() const {
    std::vector<std::string> names;
    for (const auto* list : {&imagesWithoutMask, &masksWithoutImage, &duplicates}) {
        for (const fs::path& p : *list)
            names.push_back(p.filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

DatasetIndex indexDataset(const DatasetSpec& spec) {
    DatasetIndex index;
    std::vector<fs::path> imageFiles = listImages(spec.imagesDir, index.error);
    if (!index.error.empty())
        return index;
    std::vector<fs::path> maskFiles;
    if (spec.singleFolder()) {
        std::vector<fs::path> images;
        for (fs::path& f : imageFiles)
            (endsWith(f.stem().string(), spec.maskSuffix) ? maskFiles : images)
                .push_back(std::move(f));
        imageFiles = std::move(images);
    } else {
        maskFiles = listImages(spec.masksDir, index.error);
        if (!index.error.empty())
            return index;
    }

    const auto images = byStem(imageFiles, index.duplicates);
    auto masks = byStem(maskFiles, index.duplicates);
    // A mask may be named like its image (x.png) or with the suffix (x_mask.png).
    std::map<std::string, fs::path> maskFor;
    for (const auto& [stem, path] : masks) {
        std::string key = endsWith(stem, spec.maskSuffix)
                              ? stem.substr(0, stem.size() - spec.maskSuffix.size())
                              : stem;
        if (spec.singleFolder() || !maskFor.count(key) || key == stem)
            maskFor[key] = path;
    }
    std::set<fs::path> usedMasks;
    for (const auto& [stem, path] : images) {
        auto it = maskFor.find(stem);
        if (it == maskFor.end()) {
            index.imagesWithoutMask.push_back(path);
            continue;
        }
        index.pairs.push_back({stem, path, it->second});
        usedMasks.insert(it->second);
    }
    for (const auto& [stem, path] : masks) {
        if (!usedMasks.count(path))
            index.masksWithoutImage.push_back(path);
    }
    return index;
}

} // namespace segforge::core
