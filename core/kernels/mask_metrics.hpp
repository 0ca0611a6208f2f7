#pragma once

// Dice, IoU and pixel accuracy of a predicted label map against the true one,
// defined once: the metric kernels (the training plot), the predictions panel
// and `segforge-cli predict` all count pixels into ClassCounts and score them
// under a ClassPolicy, so the same weights show the same numbers everywhere.

#include <cstdint>
#include <string>
#include <vector>

namespace segforge::core {

/// The smoothing ε the Dice and IoU metrics default to (their `epsilon` attribute).
inline constexpr double kMetricEpsilon = 1e-6;

/// Which classes Dice and IoU score, and how. Pixel accuracy counts every pixel
/// whatever the policy.
struct ClassPolicy {
    /// K, the classes of the label maps: 2 for a binary mask (0 background, 1 foreground).
    std::int64_t classes = 2;
    /// Class 0 counts in the mean. A binary mask scores its foreground only.
    bool includeBackground = false;
    /// Each class scores (num + ε) / (den + ε). With ε > 0 a class absent from
    /// both maps scores exactly 1; with ε = 0 it scores 1 as well when
    /// `absentScoresOne`, else NaN (0/0: the training metric without epsilon,
    /// which the checker warns about and training stops on).
    double epsilon = 0;
    bool absentScoresOne = true;

    /// The training metrics' policy (DiceCoefficient, IoU) for a prediction with
    /// `predictionChannels` channels: one channel is binary (p > threshold) and
    /// scores the foreground only; K > 1 channels (argmax) average all K classes,
    /// background included.
    static ClassPolicy forPrediction(std::int64_t predictionChannels, double epsilon = 0);

    /// "foreground only" or "mean over 3 classes, background included", for
    /// legends, panels and CLI output.
    std::string describe() const;
};

/// Pixel counts of a predicted label map against the true one. Labels outside
/// [0, classes) count in no class (and a pixel is correct only when both agree).
struct ClassCounts {
    explicit ClassCounts(std::int64_t classes = 2);

    void add(std::int64_t predictedClass, std::int64_t trueClass) {
        const auto k = static_cast<std::int64_t>(intersection.size());
        const bool predictedIn = predictedClass >= 0 && predictedClass < k;
        if (predictedIn)
            ++predicted[static_cast<std::size_t>(predictedClass)];
        if (trueClass >= 0 && trueClass < k)
            ++truth[static_cast<std::size_t>(trueClass)];
        if (predictedClass == trueClass) {
            ++correct;
            if (predictedIn)
                ++intersection[static_cast<std::size_t>(predictedClass)];
        }
        ++pixels;
    }
    /// Adds another chunk's counts (whole numbers: exact in any order).
    void merge(const ClassCounts& other);

    std::vector<std::int64_t> intersection, predicted, truth; ///< per class
    std::int64_t pixels = 0, correct = 0;
};

/// Mean over the policy's classes of 2·|P∩T| / (|P| + |T|).
double meanDice(const ClassCounts& counts, const ClassPolicy& policy);
/// Mean over the policy's classes of |P∩T| / |P∪T|.
double meanIoU(const ClassCounts& counts, const ClassPolicy& policy);
/// Fraction of pixels whose predicted class equals the true one; 0 without pixels.
double pixelAccuracy(const ClassCounts& counts);

/// The three metrics of one comparison, with the policy they were scored under.
struct MaskScores {
    double dice = 0, iou = 0, accuracy = 0;
    ClassPolicy policy;
};
MaskScores scoreCounts(const ClassCounts& counts, const ClassPolicy& policy);

} // namespace segforge::core
