// The generated sample set and the overlays, checked on pixel values.

#include "data/data_probe.hpp"
#include "data/overlay.hpp"
#include "data/sample_data.hpp"
#include "data_fixtures.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {
bool sameMat(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}
cv::Vec3b rgb(const Colour& c) {
    return {c[0], c[1], c[2]};
}
} // namespace

TEST(DataSample, DeterministicBinaryAndVaried) {
    SampleDataOptions o;
    o.count = 40;
    o.size = 64;
    o.seed = 5;
    int empty = 0, withForeground = 0;
    double fgTotal = 0, contrastSum = 0, minContrast = 1e9;
    for (int i = 0; i < o.count; ++i) {
        SyntheticSample a = makeSyntheticSample(o, i);
        SyntheticSample b = makeSyntheticSample(o, i);
        ASSERT_TRUE(sameMat(a.image, b.image));
        ASSERT_TRUE(sameMat(a.mask, b.mask));
        ASSERT_EQ(a.image.type(), CV_8UC3);
        ASSERT_EQ(a.mask.type(), CV_8UC1);
        const int fg = cv::countNonZero(a.mask);
        ASSERT_EQ(a.mask.size(), cv::Size(64, 64));
        ASSERT_EQ(a.image.size(), a.mask.size());
        EXPECT_EQ(cv::countNonZero(a.mask == 255), fg) << "mask values other than 0/255";
        empty += fg == 0;
        fgTotal += fg / (64.0 * 64.0);
        if (fg > 0 && fg < 64 * 64) { // foreground must look different from background
            const cv::Scalar in = cv::mean(a.image, a.mask), out = cv::mean(a.image, a.mask == 0);
            const double contrast = cv::norm(in - out);
            EXPECT_GT(contrast, 5.0) << "sample " << i; // hard cases rely on texture, but not none
            minContrast = std::min(minContrast, contrast);
            contrastSum += contrast;
            ++withForeground;
        }
    }
    EXPECT_GT(contrastSum / withForeground, 30.0) << "min " << minContrast;
    EXPECT_GE(empty, 1);
    EXPECT_LE(empty, 12);
    EXPECT_GT(fgTotal / o.count, 0.05);
    EXPECT_LT(fgTotal / o.count, 0.5);
    SampleDataOptions other = o;
    other.seed = 6;
    EXPECT_FALSE(sameMat(makeSyntheticSample(o, 0).image, makeSyntheticSample(other, 0).image));
}

TEST(DataSample, WrittenSetProbesAsRgbWithZero255Masks) {
    TempDir t;
    SampleDataOptions o;
    o.count = 6;
    o.size = 32;
    ASSERT_EQ(writeSampleData(t.path(), o), "");
    DataProbe p = probeDataset({t / "images", t / "masks"}, {16, true});
    EXPECT_EQ(p.pairCount, 6u);
    EXPECT_TRUE(p.unreadable.empty());
    EXPECT_EQ(p.images.channels, 3);
    EXPECT_EQ(p.images.height, 32);
    EXPECT_EQ(p.masks.channels, 1);
    for (const auto& [value, count] : p.maskHistogram)
        EXPECT_TRUE(value == 0 || value == 255) << value;
    EXPECT_NE(writeSampleData(t.path(), {0, 32, 1, 0.1}), "");
}

TEST(DataOverlay, BlendsClassColoursOnlyOnForeground) {
    cv::Mat image(2, 2, CV_8UC3, cv::Scalar(100, 100, 100));
    cv::Mat mask = (cv::Mat_<std::uint8_t>(2, 2) << 0, 255, 0, 0);
    cv::Mat out = overlayMask(image, mask, 0.5);
    EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(100, 100, 100));
    const Colour c1 = classPalette(2)[1];
    const cv::Vec3b want(static_cast<uchar>(std::lround(50 + c1[0] / 2.0)),
                         static_cast<uchar>(std::lround(50 + c1[1] / 2.0)),
                         static_cast<uchar>(std::lround(50 + c1[2] / 2.0)));
    EXPECT_EQ(out.at<cv::Vec3b>(0, 1), want);
    EXPECT_EQ(image.at<cv::Vec3b>(0, 1), cv::Vec3b(100, 100, 100)); // input untouched
}

TEST(DataOverlay, ComparisonColoursTpFpFn) {
    cv::Mat image(1, 4, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::Mat pred = (cv::Mat_<std::uint8_t>(1, 4) << 1, 1, 0, 0);
    cv::Mat truth = (cv::Mat_<std::uint8_t>(1, 4) << 1, 0, 1, 0);
    cv::Mat out = overlayComparison(image, pred, truth, 1.0);
    EXPECT_EQ(out.at<cv::Vec3b>(0, 0), rgb(kTruePositive));
    EXPECT_EQ(out.at<cv::Vec3b>(0, 1), rgb(kFalsePositive));
    EXPECT_EQ(out.at<cv::Vec3b>(0, 2), rgb(kFalseNegative));
    EXPECT_EQ(out.at<cv::Vec3b>(0, 3), cv::Vec3b(0, 0, 0));
}

TEST(DataOverlay, PaletteDistinctAndContoursTraceTheBorder) {
    auto pal = classPalette(12);
    for (std::size_t a = 1; a < pal.size(); ++a) {
        for (std::size_t b = a + 1; b < pal.size(); ++b)
            EXPECT_NE(pal[a], pal[b]) << a << " vs " << b;
    }
    cv::Mat image(10, 10, CV_8UC3, cv::Scalar(0, 0, 0));
    cv::Mat mask = cv::Mat::zeros(10, 10, CV_8UC1);
    mask(cv::Rect(2, 2, 5, 5)).setTo(2);
    drawMaskContours(image, mask, 1, pal);
    EXPECT_EQ(image.at<cv::Vec3b>(2, 2), rgb(pal[2]));        // corner of the square
    EXPECT_EQ(image.at<cv::Vec3b>(6, 4), rgb(pal[2]));        // bottom edge
    EXPECT_EQ(image.at<cv::Vec3b>(4, 4), cv::Vec3b(0, 0, 0)); // interior untouched
    EXPECT_EQ(image.at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 0));
}

TEST(DataOverlay, ScoresToMask) {
    cv::Mat prob = (cv::Mat_<float>(1, 3) << 0.2f, 0.5f, 0.9f);
    cv::Mat m = maskFromScores(prob);
    EXPECT_EQ(m.at<std::uint8_t>(0, 0), 0);
    EXPECT_EQ(m.at<std::uint8_t>(0, 1), 1);
    cv::Mat scores(1, 1, CV_32FC3, cv::Scalar(0.1, 0.7, 0.2));
    EXPECT_EQ(maskFromScores(scores).at<std::uint8_t>(0, 0), 1);
    cv::Mat wrong(2, 2, CV_8UC1, cv::Scalar(1));
    EXPECT_THROW(overlayMask(cv::Mat(3, 3, CV_8UC3), wrong), std::invalid_argument);
}
