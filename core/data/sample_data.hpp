#pragma once

// The bundled sample dataset, generated rather than downloaded: textured
// shapes (foreground) on noisy, textured backgrounds, with decoy blobs that
// share the background's texture, and some images with no foreground at all.
// Deterministic: one seed, one dataset, on every machine.

#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>

namespace segforge::core {

struct SampleDataOptions {
    int count = 200;
    int size = 128;
    std::uint64_t seed = 1;
    double emptyFraction = 0.1; ///< share of images without any foreground
};

struct SyntheticSample {
    cv::Mat image; ///< size×size, CV_8UC3, RGB
    cv::Mat mask;  ///< size×size, CV_8UC1, 0 or 255
};

/// Sample `index` of the set; independent of the other samples.
SyntheticSample makeSyntheticSample(const SampleDataOptions& options, int index);

/// Writes dir/images/sample_NNNN.png and dir/masks/sample_NNNN.png. Returns an
/// error message (empty on success).
std::string writeSampleData(const std::filesystem::path& dir, const SampleDataOptions& options);

} // namespace segforge::core
