#include "kernels/mask_metrics.hpp"

#include <cmath>
#include <limits>

namespace segforge::core {

ClassPolicy ClassPolicy::forPrediction(std::int64_t predictionChannels, double epsilon) {
    ClassPolicy p;
    p.classes = predictionChannels <= 1 ? 2 : predictionChannels;
    p.includeBackground = predictionChannels > 1;
    p.epsilon = epsilon;
    return p;
}

std::string ClassPolicy::describe() const {
    if (!includeBackground && classes == 2)
        return "foreground only";
    return "mean over " + std::to_string(includeBackground ? classes : classes - 1) +
           " classes, background " + (includeBackground ? "included" : "excluded");
}

ClassCounts::ClassCounts(std::int64_t classes)
    : intersection(static_cast<std::size_t>(classes))
    , predicted(intersection.size())
    , truth(intersection.size()) {}

void ClassCounts::merge(const ClassCounts& other) {
    for (std::size_t c = 0; c < intersection.size() && c < other.intersection.size(); ++c) {
        intersection[c] += other.intersection[c];
        predicted[c] += other.predicted[c];
        truth[c] += other.truth[c];
    }
    pixels += other.pixels;
    correct += other.correct;
}

namespace {

/// Mean over the policy's classes of (num(c) + ε) / (den(c) + ε), summed in class order.
template <typename Score>
double classMean(const ClassCounts& counts, const ClassPolicy& policy, Score&& score) {
    const std::size_t first = policy.includeBackground ? 0 : 1;
    const std::size_t k = counts.intersection.size();
    if (k <= first)
        return std::numeric_limits<double>::quiet_NaN();
    double sum = 0;
    for (std::size_t c = first; c < k; ++c) {
        const auto i = static_cast<double>(counts.intersection[c]);
        const auto p = static_cast<double>(counts.predicted[c]);
        const auto t = static_cast<double>(counts.truth[c]);
        sum += p + t == 0 && policy.absentScoresOne ? 1.0 : score(i, p, t, policy.epsilon);
    }
    return sum / static_cast<double>(k - first);
}

} // namespace

double meanDice(const ClassCounts& counts, const ClassPolicy& policy) {
    return classMean(counts, policy, [](double i, double p, double t, double eps) {
        return (2 * i + eps) / (p + t + eps);
    });
}

double meanIoU(const ClassCounts& counts, const ClassPolicy& policy) {
    return classMean(counts, policy, [](double i, double p, double t, double eps) {
        return (i + eps) / (p + t - i + eps);
    });
}

double pixelAccuracy(const ClassCounts& counts) {
    return counts.pixels == 0
               ? 0.0
               : static_cast<double>(counts.correct) / static_cast<double>(counts.pixels);
}

MaskScores scoreCounts(const ClassCounts& counts, const ClassPolicy& policy) {
    return {meanDice(counts, policy), meanIoU(counts, policy), pixelAccuracy(counts), policy};
}

} // namespace segforge::core
