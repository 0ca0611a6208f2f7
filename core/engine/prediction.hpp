#pragma once

// Running a trained graph on pictures, shared by `segforge-cli predict` and the
// app's overlays: which output is the prediction, how a file is brought to what
// the Dataset node reads, and how batch tensors become displayable images.

#include "engine/executor.hpp"
#include "graph/graph.hpp"
#include "kernels/mask_metrics.hpp"
#include "tensor/tensor_type.hpp"

#include <filesystem>
#include <opencv2/core.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// The output the network's loss (or, failing that, a metric) judges: the prediction.
std::optional<PortRef> predictionPort(const Graph& graph);

/// Brings a decoded image to what the Dataset node reads: channels, depth and,
/// when `resize` is allowed, size. Returns "" or why it cannot be done.
std::string conformImage(cv::Mat& image, const TensorType& type, bool resize);

/// A 1×H×W×C tensor holding the matrix's pixels (uint8 or float32).
Tensor tensorFromImage(const cv::Mat& image, DType dtype);

/// Any decoded image as 8-bit RGB for display (16-bit scaled, grey expanded, alpha dropped).
cv::Mat displayRgb(const cv::Mat& image);

/// Sample `sample` of an NHWC image tensor as 8-bit RGB: uint8 as is, float32
/// scaled from its own range when it exceeds [0, 1], one channel expanded.
cv::Mat sampleImage(const Tensor& images, std::int64_t sample);
/// Sample `sample` of a mask tensor as CV_8UC1 class indices (255 read as 1;
/// several channels read as one-hot, the largest wins).
cv::Mat sampleMask(const Tensor& masks, std::int64_t sample);
/// Sample `sample` of a float32 score tensor as CV_32FC(C) (a copy).
cv::Mat sampleScores(const Tensor& scores, std::int64_t sample);

/// Dice, IoU and pixel accuracy of a predicted mask (CV_8UC1 class indices, as
/// maskFromScores makes them) against its truth (one channel of any integer
/// depth: non-zero is foreground when the prediction has one channel, else the
/// class index), scored as the DiceCoefficient, IoU and PixelAccuracy metrics
/// score a `predictionChannels`-channel prediction (ClassPolicy::forPrediction,
/// a class absent from both masks scoring 1): what the predictions panel and
/// `segforge-cli predict` show. NaN scores when either mask is empty or their sizes differ.
MaskScores scorePredictedMask(const cv::Mat& predicted, const cv::Mat& truth,
                              std::int64_t predictionChannels);

/// A validation sample with what the network made of it, for overlays.
struct SamplePrediction {
    std::string name; ///< file stem
    cv::Mat image;    ///< 8-bit RGB as fed (after the pipeline's size policy)
    cv::Mat truth;    ///< CV_8UC1 class indices
    cv::Mat scores;   ///< CV_32FC(K) at the network's resolution
};

/// Runs the first validation batches of `source` in inference mode and returns
/// up to `maxSamples` samples with their scores at `prediction`. Returns fewer
/// (or none) when the source has no validation data or a batch does not finish.
std::vector<SamplePrediction> predictValidation(Executor& executor, BatchSource& source,
                                                const PortRef& prediction, std::size_t maxSamples);

/// One image file through the network.
struct FilePrediction {
    cv::Mat rgb;    ///< the file as decoded, 8-bit RGB, original size
    cv::Mat scores; ///< CV_32FC(K) at the network's resolution
    std::string error;
    bool ok() const { return error.empty(); }
};

/// Reads `file`, conforms it to `imageType` (resizing when `resize`), runs
/// `executor` in inference mode and returns the scores at `prediction`.
FilePrediction predictFile(Executor& executor, const PortRef& prediction,
                           const TensorType& imageType, const TensorType& maskType, bool resize,
                           const std::filesystem::path& file);

} // namespace segforge::core
