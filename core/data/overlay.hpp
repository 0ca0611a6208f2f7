#pragma once

// Pictures of predictions, drawn with OpenCV so the GUI and the CLI show the
// same thing. Images are RGB CV_8UC3; masks are CV_8UC1 class indices (0 =
// background; binary masks are 0/1 or 0/255 — any non-zero is foreground).

#include "data/mask_codec.hpp"

#include <opencv2/core.hpp>
#include <vector>

namespace segforge::core {

/// Colours for comparison mode.
inline constexpr Colour kTruePositive{40, 200, 80};   ///< green: predicted and true
inline constexpr Colour kFalsePositive{230, 40, 40};  ///< red: predicted, not true
inline constexpr Colour kFalseNegative{40, 120, 255}; ///< blue: true, missed

/// Distinct colours for classes 1…n-1 (class 0, background, is never painted).
/// Class 1 is yellow-orange, so binary overlays read well on most images.
std::vector<Colour> classPalette(int classes);

/// The image with every non-background pixel blended towards its class colour.
/// A binary (0/255) mask is treated as class 1.
cv::Mat overlayMask(const cv::Mat& rgb, const cv::Mat& mask, double alpha = 0.45,
                    const std::vector<Colour>& palette = classPalette(256));

/// The image with true positives, false positives and false negatives
/// blended in their own colours; true negatives untouched.
cv::Mat overlayComparison(const cv::Mat& rgb, const cv::Mat& predicted, const cv::Mat& truth,
                          double alpha = 0.5);

/// Draws the outline of each class region onto `rgb` (in place).
void drawMaskContours(cv::Mat& rgb, const cv::Mat& mask, int thickness = 1,
                      const std::vector<Colour>& palette = classPalette(256));

/// Probabilities (CV_32F, one channel) → 0/1 mask at `threshold`;
/// scores (CV_32FC(K)) → class index of the maximum.
cv::Mat maskFromScores(const cv::Mat& scores, float threshold = 0.5f);

} // namespace segforge::core
