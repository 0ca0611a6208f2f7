#pragma once

// The training data pipeline over an image/mask folder: split, shuffle, decode
// (once, into a cache), bring to size, augment, batch, prefetch. Everything
// random is derived from the seed, the epoch and the sample, never from thread
// timing, so two runs with one seed see identical batches.

#include "data/batch_source.hpp"
#include "data/data_probe.hpp"
#include "data/dataset_index.hpp"
#include "data/mask_codec.hpp"

#include <cstdint>
#include <future>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace segforge::core {

/// A data problem fit for the user ("mask cat_07.png: OpenCV could not decode it").
class DataError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// Training-time augmentation; the same geometric change is applied to image and mask.
struct AugmentOptions {
    bool flips = false;    ///< horizontal and vertical, each with p = 0.5
    bool rotate90 = false; ///< k·90°, k uniform in 0..3 (square samples only)
    int cropHeight = 0;    ///< random crop to this size (0: no crop)
    int cropWidth = 0;
    double brightness = 0; ///< add U(−b, b)·255 to the image
    double contrast = 0;   ///< scale the image about its mean by U(1−c, 1+c)
};

enum class SizePolicy { Exact, Resize, CropOrPad };

struct PipelineOptions {
    DatasetSpec spec;
    MaskMode maskMode = MaskMode::AsStored;
    /// Palette mode; empty: palette PNGs keep their own indices, colour masks
    /// number all colours of a full probe in sorted order
    std::vector<Colour> palette;
    SizePolicy sizePolicy = SizePolicy::Exact;
    int height = 0; ///< target size for Resize / CropOrPad; Exact: 0 = the first sample's size
    int width = 0;
    bool stopOnError = false; ///< false: skip bad files and report them
    std::size_t batchSize = 8;
    double validationFraction = 0.2;
    std::uint64_t seed = 42;
    AugmentOptions augment;
    bool dropLastPartial = true; ///< training only; validation keeps its last, smaller batch
    std::size_t cacheBytes = std::size_t{1} << 30; ///< decoded samples kept in memory
    bool prefetch = true; ///< build the next training batch on a background thread
    /// Files declaring more pixels (width × height) are refused from their
    /// header, before anything is decoded (skipped, or an error with stopOnError).
    std::uint64_t maxImagePixels = defaultMaxImagePixels();
};

class ImageFolderSource final : public BatchSource {
public:
    /// Indexes and splits the dataset. Throws DataError when there is nothing to train on.
    explicit ImageFolderSource(PipelineOptions options);
    ~ImageFolderSource() override;
    ImageFolderSource(const ImageFolderSource&) = delete;
    ImageFolderSource& operator=(const ImageFolderSource&) = delete;

    std::size_t trainBatchCount() const override;
    std::size_t validationBatchCount() const override;
    void beginEpoch(int epoch) override;
    /// Throws DataError on an unreadable file when stopOnError is set.
    Batch trainBatch(std::size_t index) override;
    Batch validationBatch(std::size_t index) override;

    std::size_t trainSize() const { return m_train.size(); }
    std::size_t validationSize() const { return m_validation.size(); }
    /// Stems of the validation samples (fixed for a seed).
    std::vector<std::string> validationStems() const;
    /// Files skipped so far, with the reason.
    std::vector<UnreadableFile> problems() const;
    const DatasetIndex& index() const { return m_index; }

private:
    struct Sample {
        cv::Mat image;
        cv::Mat mask;
    };
    using SamplePtr = std::shared_ptr<const Sample>;

    Batch buildBatch(const std::vector<std::size_t>& order, std::size_t batchIndex, bool train,
                     int epoch);
    SamplePtr loadSample(std::size_t pair);
    /// The sample, or a good stand-in (the next good one in `order`) if it is bad.
    SamplePtr loadOrSubstitute(const std::vector<std::size_t>& order, std::size_t position,
                               std::size_t& used);
    Sample decodeSample(std::size_t pair, std::string& error) const;
    /// Why the pair's headers rule it out (unreadable, over the pixel limit), or "".
    std::string headerProblem(const SamplePair& pair) const;
    void waitForPrefetch();

    PipelineOptions m_options;
    DatasetIndex m_index;
    std::vector<std::size_t> m_train;      ///< pair indices, this epoch's order
    std::vector<std::size_t> m_validation; ///< pair indices, fixed order
    int m_epoch = 0;
    int m_refHeight = 0;
    int m_refWidth = 0;

    mutable std::mutex m_mutex; ///< guards the members below
    std::unordered_map<std::size_t, SamplePtr> m_cache;
    std::size_t m_cacheBytes = 0;
    std::unordered_set<std::size_t> m_bad;
    std::vector<UnreadableFile> m_problems;

    std::future<Batch> m_next;
    std::size_t m_nextIndex = 0;
    int m_nextEpoch = -1;
};

} // namespace segforge::core
