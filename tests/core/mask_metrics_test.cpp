// One definition of Dice, IoU and pixel accuracy (core/kernels/mask_metrics):
// the class policy, the scores, and the agreement of the three places that
// show them — the metric kernels (the training plot), the predictions panel's
// computation and `segforge-cli predict` (both core::scorePredictedMask on the
// mask core::maskFromScores makes).

#include "data/overlay.hpp"
#include "engine/prediction.hpp"
#include "engine_op_harness.hpp"
#include "kernels/mask_metrics.hpp"

#include <cmath>
#include <gtest/gtest.h>
#include <vector>

using namespace segforge::core;
using segforge::core::testing::OpHarness;

namespace {

/// Counts two label lists.
ClassCounts countOf(const std::vector<int>& predicted, const std::vector<int>& truth,
                    std::int64_t classes) {
    ClassCounts c(classes);
    for (std::size_t i = 0; i < predicted.size(); ++i)
        c.add(predicted[i], truth[i]);
    return c;
}

// 4×4, three classes. Row by row:
//   truth      0 0 0 0 | 0 0 1 1 | 1 1 1 1 | 2 2 2 2
//   predicted  0 0 0 1 | 0 0 1 1 | 1 1 2 2 | 2 2 2 0
// class 0: I 5, P 6, T 6 → Dice 10/12, IoU 5/7
// class 1: I 4, P 5, T 6 → Dice 8/11,  IoU 4/7
// class 2: I 3, P 5, T 4 → Dice 6/9,   IoU 3/6; 12 of 16 pixels correct.
const std::vector<int> kTruth{0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
const std::vector<int> kPredicted{0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0};
const double kDice3 = (10.0 / 12 + 8.0 / 11 + 6.0 / 9) / 3;
const double kIoU3 = (5.0 / 7 + 4.0 / 7 + 3.0 / 6) / 3;

Tensor scoresOf(const std::vector<int>& classes, int k) {
    Tensor t(Shape{1, 4, 4, k}, DType::Float32);
    for (std::size_t i = 0; i < classes.size(); ++i)
        for (int c = 0; c < k; ++c)
            t.f32()[i * static_cast<std::size_t>(k) + static_cast<std::size_t>(c)] =
                c == classes[i] ? 0.8f : 0.1f;
    return t;
}

Tensor labelsOf(const std::vector<int>& classes) {
    Tensor t(Shape{1, 4, 4, 1}, DType::UInt8);
    for (std::size_t i = 0; i < classes.size(); ++i)
        t.u8()[i] = static_cast<std::uint8_t>(classes[i]);
    return t;
}

float kernelValue(const std::string& op, const Tensor& scores, const Tensor& truth) {
    OpHarness h(op, {},
                {scores, truth}); // the schema's defaults: threshold 0.5, epsilon kMetricEpsilon
    EXPECT_TRUE(h.ok());
    h.forward();
    return h.outputs()[0].f32()[0];
}

} // namespace

TEST(MaskMetrics, PolicyFollowsThePredictionsChannels) {
    const ClassPolicy binary = ClassPolicy::forPrediction(1);
    EXPECT_EQ(binary.classes, 2);
    EXPECT_FALSE(binary.includeBackground);
    EXPECT_EQ(binary.describe(), "foreground only");
    const ClassPolicy three = ClassPolicy::forPrediction(3, 1e-6);
    EXPECT_EQ(three.classes, 3);
    EXPECT_TRUE(three.includeBackground);
    EXPECT_EQ(three.epsilon, 1e-6);
    EXPECT_EQ(three.describe(), "mean over 3 classes, background included");
    ClassPolicy withoutBackground = three;
    withoutBackground.includeBackground = false;
    EXPECT_EQ(withoutBackground.describe(), "mean over 2 classes, background excluded");
}

TEST(MaskMetrics, ScoresPerClassUnderThePolicy) {
    const ClassCounts c = countOf(kPredicted, kTruth, 3);
    EXPECT_EQ(c.intersection, (std::vector<std::int64_t>{5, 4, 3}));
    EXPECT_EQ(c.predicted, (std::vector<std::int64_t>{6, 5, 5}));
    EXPECT_EQ(c.truth, (std::vector<std::int64_t>{6, 6, 4}));
    EXPECT_EQ(c.pixels, 16);
    EXPECT_EQ(c.correct, 12);
    const ClassPolicy all = ClassPolicy::forPrediction(3);
    EXPECT_DOUBLE_EQ(meanDice(c, all), kDice3);
    EXPECT_DOUBLE_EQ(meanIoU(c, all), kIoU3);
    EXPECT_DOUBLE_EQ(pixelAccuracy(c), 0.75);
    ClassPolicy noBackground = all;
    noBackground.includeBackground = false;
    EXPECT_DOUBLE_EQ(meanDice(c, noBackground), (8.0 / 11 + 6.0 / 9) / 2);
    EXPECT_DOUBLE_EQ(pixelAccuracy(c), 0.75) << "accuracy counts every pixel whatever the policy";

    // Chunks counted apart and merged give the same counts.
    ClassCounts a = countOf({0, 0, 0, 1, 0, 0, 1, 1}, {0, 0, 0, 0, 0, 0, 1, 1}, 3);
    a.merge(countOf({1, 1, 2, 2, 2, 2, 2, 0}, {1, 1, 1, 1, 2, 2, 2, 2}, 3));
    EXPECT_EQ(a.intersection, c.intersection);
    EXPECT_EQ(a.predicted, c.predicted);
    EXPECT_EQ(a.truth, c.truth);
    EXPECT_EQ(a.correct, c.correct);

    // Labels outside [0, K) count in no class and are never correct against a class.
    const ClassCounts odd = countOf({0, 1}, {255, 1}, 2);
    EXPECT_EQ(odd.truth, (std::vector<std::int64_t>{0, 1}));
    EXPECT_EQ(odd.correct, 1);
}

TEST(MaskMetrics, AbsentClassScoresOneOrNaNWithoutEpsilon) {
    // Class 2 appears in neither map.
    const ClassCounts c = countOf({0, 1, 1, 0}, {0, 1, 0, 0}, 3);
    ClassPolicy p = ClassPolicy::forPrediction(3);
    const double dice01 =
        (2.0 * 2 / 5 + 2.0 * 1 / 3); // class 0: I 2, P 2, T 3; class 1: I 1, P 2, T 1
    EXPECT_DOUBLE_EQ(meanDice(c, p), (dice01 + 1.0) / 3);
    p.epsilon = 1e-6; // the training metric: (0 + ε) / (0 + ε) is exactly 1
    p.absentScoresOne = false;
    EXPECT_DOUBLE_EQ(meanDice(c, p), ((4 + 1e-6) / (5 + 1e-6) + (2 + 1e-6) / (3 + 1e-6) + 1.0) / 3);
    p.epsilon = 0; // the training metric without epsilon: 0/0
    EXPECT_TRUE(std::isnan(meanDice(c, p)));
    EXPECT_TRUE(std::isnan(meanIoU(c, p)));
    // Binary, both masks empty: a perfect score, as before.
    EXPECT_DOUBLE_EQ(meanDice(countOf({0, 0}, {0, 0}, 2), ClassPolicy::forPrediction(1)), 1.0);
    EXPECT_DOUBLE_EQ(pixelAccuracy(ClassCounts(2)), 0.0);
}

TEST(MaskMetrics, KernelPanelAndPredictAgreeOnAMultiClassPrediction) {
    const Tensor scores = scoresOf(kPredicted, 3);
    const Tensor truth = labelsOf(kTruth);
    // The plot: the DiceCoefficient / IoU / PixelAccuracy kernels.
    const float dice = kernelValue("DiceCoefficient", scores, truth);
    const float iou = kernelValue("IoU", scores, truth);
    const float accuracy = kernelValue("PixelAccuracy", scores, truth);
    // The panel and `predict`: the mask maskFromScores makes, scored by scorePredictedMask.
    const cv::Mat predicted = maskFromScores(sampleScores(scores, 0), 0.5f);
    const cv::Mat truthMask = sampleMask(truth, 0);
    const MaskScores shown = scorePredictedMask(predicted, truthMask, 3);
    EXPECT_EQ(shown.policy.describe(), "mean over 3 classes, background included");
    EXPECT_DOUBLE_EQ(shown.dice, kDice3);
    EXPECT_DOUBLE_EQ(shown.iou, kIoU3);
    EXPECT_DOUBLE_EQ(shown.accuracy, 0.75);
    // The kernel smooths with ε = 1e-6 per class: within 1e-6 of the plain ratios.
    EXPECT_NEAR(dice, shown.dice, 1e-6);
    EXPECT_NEAR(iou, shown.iou, 1e-6);
    EXPECT_FLOAT_EQ(accuracy, static_cast<float>(shown.accuracy));
    // The panel used to drop the background: (8/11 + 6/9) / 2 = 0.697, not 0.742.
    EXPECT_GT(std::fabs(dice - (8.0 / 11 + 6.0 / 9) / 2), 0.04);
    // A truth mask stored as 16-bit class indices scores the same.
    cv::Mat wide;
    truthMask.convertTo(wide, CV_16U);
    EXPECT_DOUBLE_EQ(scorePredictedMask(predicted, wide, 3).dice, shown.dice);
}

TEST(MaskMetrics, KernelPanelAndPredictAgreeOnABinaryPrediction) {
    // Foreground only: truth stored as 0/255, prediction thresholded at 0.5.
    Tensor scores(Shape{1, 4, 4, 1}, DType::Float32);
    Tensor truth(Shape{1, 4, 4, 1}, DType::UInt8);
    for (int i = 0; i < 16; ++i) {
        scores.f32()[i] = i < 6 ? 0.9f : 0.2f;      // foreground predicted on 0..5
        truth.u8()[i] = i >= 2 && i < 10 ? 255 : 0; // true foreground on 2..9
    }
    const float dice = kernelValue("DiceCoefficient", scores, truth);
    cv::Mat truthMask(4, 4, CV_8UC1, truth.u8());
    const MaskScores shown =
        scorePredictedMask(maskFromScores(sampleScores(scores, 0), 0.5f), truthMask, 1);
    EXPECT_EQ(shown.policy.describe(), "foreground only");
    EXPECT_DOUBLE_EQ(shown.dice, 2.0 * 4 / (6 + 8)); // I = 4 (pixels 2..5)
    EXPECT_NEAR(dice, shown.dice, 1e-6);
    EXPECT_DOUBLE_EQ(shown.iou, 4.0 / 10);
    EXPECT_DOUBLE_EQ(shown.accuracy, 10.0 / 16); // 4 foreground and 6 background pixels agree
    EXPECT_FLOAT_EQ(kernelValue("PixelAccuracy", scores, truth),
                    static_cast<float>(shown.accuracy));
    // Mismatched sizes are no score at all.
    EXPECT_TRUE(std::isnan(scorePredictedMask(cv::Mat::zeros(2, 2, CV_8UC1), truthMask, 1).dice));
}
