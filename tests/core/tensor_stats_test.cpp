// Tensor statistics and channel grids for the inspector, on small tensors
// whose numbers can be worked out by hand.

#include "data/channel_grid.hpp"
#include "engine/tensor_stats.hpp"

#include <cmath>
#include <gmock/gmock.h>
#include <limits>
#include <numeric>

using namespace segforge::core;

namespace {

Tensor f32Tensor(Shape shape, std::initializer_list<float> values) {
    Tensor t(std::move(shape), DType::Float32);
    EXPECT_EQ(static_cast<std::size_t>(t.numel()), values.size());
    std::copy(values.begin(), values.end(), t.f32());
    return t;
}

std::int64_t histogramTotal(const TensorStats& s) {
    return std::accumulate(s.histogram.begin(), s.histogram.end(), std::int64_t{0});
}

} // namespace

TEST(TensorStats, WholeTensorExactValues) {
    // 2×1×2×1: samples {0, 2} and {4, -2}
    const Tensor t = f32Tensor({2, 1, 2, 1}, {0.f, 2.f, 4.f, -2.f});
    const TensorStats s = tensorStats(t, -1, 4);
    EXPECT_EQ(s.count, 4);
    EXPECT_EQ(s.finiteCount, 4);
    EXPECT_DOUBLE_EQ(s.min, -2.0);
    EXPECT_DOUBLE_EQ(s.max, 4.0);
    EXPECT_DOUBLE_EQ(s.mean, 1.0);
    // deviations -1, 1, 3, -3 → variance 20/4 = 5
    EXPECT_DOUBLE_EQ(s.std, std::sqrt(5.0));
    EXPECT_DOUBLE_EQ(s.zeroFraction, 0.25);
    EXPECT_DOUBLE_EQ(s.l2norm, std::sqrt(24.0));
    EXPECT_EQ(s.nanCount, 0);
    EXPECT_EQ(s.infCount, 0);
    // bins of width 1.5 from -2: [-2,-0.5) [-0.5,1) [1,2.5) [2.5,4]
    EXPECT_DOUBLE_EQ(s.histMin, -2.0);
    EXPECT_DOUBLE_EQ(s.histMax, 4.0);
    EXPECT_DOUBLE_EQ(s.binWidth(), 1.5);
    EXPECT_THAT(s.histogram, ::testing::ElementsAre(1, 1, 1, 1));
}

TEST(TensorStats, NaNAndInfAreCountedNotAveraged) {
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const float inf = std::numeric_limits<float>::infinity();
    const Tensor t = f32Tensor({1, 2, 3, 1}, {1.f, nan, 3.f, inf, -inf, 0.f});
    const TensorStats s = tensorStats(t);
    EXPECT_EQ(s.count, 6);
    EXPECT_EQ(s.finiteCount, 3);
    EXPECT_EQ(s.nanCount, 1);
    EXPECT_EQ(s.infCount, 2);
    EXPECT_DOUBLE_EQ(s.min, 0.0);
    EXPECT_DOUBLE_EQ(s.max, 3.0);
    EXPECT_DOUBLE_EQ(s.mean, 4.0 / 3.0);
    EXPECT_DOUBLE_EQ(s.zeroFraction, 1.0 / 6.0);
    EXPECT_DOUBLE_EQ(s.l2norm, std::sqrt(10.0));
    EXPECT_EQ(histogramTotal(s), 3);
    EXPECT_EQ(s.histogram.size(), 64u);
    EXPECT_EQ(s.histogram.front(), 1); // 0
    EXPECT_EQ(s.histogram.back(), 1);  // 3 (max lands in the last bin)
}

TEST(TensorStats, PerSampleSelection) {
    const Tensor t = f32Tensor({3, 1, 1, 2}, {1.f, 1.f, 0.f, 0.f, 5.f, -1.f});
    const TensorStats s0 = tensorStats(t, 0, 8);
    EXPECT_EQ(s0.count, 2);
    EXPECT_DOUBLE_EQ(s0.mean, 1.0);
    EXPECT_DOUBLE_EQ(s0.std, 0.0);
    // constant: the range is widened by ±0.5 and the value sits in the middle
    EXPECT_DOUBLE_EQ(s0.histMin, 0.5);
    EXPECT_DOUBLE_EQ(s0.histMax, 1.5);
    EXPECT_EQ(s0.histogram[4], 2);
    const TensorStats s1 = tensorStats(t, 1, 8);
    EXPECT_DOUBLE_EQ(s1.zeroFraction, 1.0);
    EXPECT_DOUBLE_EQ(s1.l2norm, 0.0);
    const TensorStats s2 = tensorStats(t, 2, 8);
    EXPECT_DOUBLE_EQ(s2.min, -1.0);
    EXPECT_DOUBLE_EQ(s2.max, 5.0);
    EXPECT_DOUBLE_EQ(s2.mean, 2.0);
    EXPECT_DOUBLE_EQ(s2.std, 3.0);
    EXPECT_THROW(tensorStats(t, 3), std::out_of_range);
    EXPECT_THROW(tensorStats(t, -1, 0), std::invalid_argument);
}

TEST(TensorStats, IntegerDTypesAndScalars) {
    Tensor u(Shape{2, 2}, DType::UInt8);
    const std::uint8_t uv[] = {0, 255, 10, 0};
    std::copy(std::begin(uv), std::end(uv), u.u8());
    const TensorStats su = tensorStats(u);
    EXPECT_DOUBLE_EQ(su.max, 255.0);
    EXPECT_DOUBLE_EQ(su.zeroFraction, 0.5);
    EXPECT_DOUBLE_EQ(tensorStats(u, 1).mean, 5.0);

    Tensor i(Shape{1, 3}, DType::Int32);
    const std::int32_t iv[] = {-7, 3, 1};
    std::copy(std::begin(iv), std::end(iv), i.i32());
    const TensorStats si = tensorStats(i);
    EXPECT_DOUBLE_EQ(si.min, -7.0);
    EXPECT_DOUBLE_EQ(si.mean, -1.0);

    Tensor scalar(Shape::scalar(), DType::Float32);
    scalar.fill(0.25f);
    const TensorStats ss = tensorStats(scalar, 5); // no batch: the sample is ignored
    EXPECT_EQ(ss.count, 1);
    EXPECT_DOUBLE_EQ(ss.mean, 0.25);

    const TensorStats empty = tensorStats(Tensor(Shape{0, 4, 4, 1}, DType::Float32));
    EXPECT_EQ(empty.count, 0);
    EXPECT_DOUBLE_EQ(empty.zeroFraction, 0.0);
    EXPECT_EQ(histogramTotal(empty), 0);
}

TEST(ChannelGrid, SizeAndLayout) {
    Tensor t(Shape{2, 4, 6, 5}, DType::Float32);
    // 5 channels → 3 columns, 2 rows of 6×4 tiles with a 1 px gap
    const ChannelGridLayout l = channelGridLayout(t);
    EXPECT_EQ(l.columns, 3);
    EXPECT_EQ(l.rows, 2);
    const cv::Mat grid = channelGrid(t, 1);
    EXPECT_EQ(grid.type(), CV_8UC3);
    EXPECT_EQ(grid.cols, 3 * 6 + 2);
    EXPECT_EQ(grid.rows, 2 * 4 + 1);
    EXPECT_EQ(l.channelAt(0, 0), 0);
    EXPECT_EQ(l.channelAt(7, 0), 1);
    EXPECT_EQ(l.channelAt(6, 0), -1); // gap
    EXPECT_EQ(l.channelAt(7, 5), 4);
    EXPECT_EQ(l.channelAt(14, 5), -1); // the sixth cell is empty

    // tile: the longer side becomes 12 (aspect kept), maxChannels limits the count
    const cv::Mat small = channelGrid(t, 0, 4, 12);
    EXPECT_EQ(small.cols, 2 * 12 + 1);
    EXPECT_EQ(small.rows, 2 * 8 + 1);
    EXPECT_EQ(channelGrid(Tensor(Shape{1, 3, 3, 1}, DType::Float32), -1).size(), cv::Size(3, 3));

    EXPECT_THROW(channelGrid(t, 2), std::out_of_range);
    EXPECT_THROW(channelGrid(Tensor(Shape{2, 3}, DType::Float32), 0), std::invalid_argument);
}

TEST(ChannelGrid, EachChannelNormalisedToItsOwnRange) {
    // Two channels of 1×2: channel 0 = {0, 1}, channel 1 = {-100, 100}, second sample NaN.
    const float nan = std::numeric_limits<float>::quiet_NaN();
    const Tensor t = f32Tensor({2, 1, 2, 2}, {0.f, -100.f, 1.f, 100.f, nan, 3.f, 3.f, 3.f});
    const cv::Mat g = channelGrid(t, 0);
    ASSERT_EQ(g.size(), cv::Size(2 * 2 + 1, 1));
    // Both channels span their full range: the same viridis ends.
    EXPECT_EQ(g.at<cv::Vec3b>(0, 0), g.at<cv::Vec3b>(0, 3));
    EXPECT_EQ(g.at<cv::Vec3b>(0, 1), g.at<cv::Vec3b>(0, 4));
    // Viridis: dark purple at the low end (blue > red), yellow at the high end (red > blue), RGB
    // order.
    EXPECT_GT(g.at<cv::Vec3b>(0, 0)[2], g.at<cv::Vec3b>(0, 0)[0]);
    EXPECT_GT(g.at<cv::Vec3b>(0, 1)[0], g.at<cv::Vec3b>(0, 1)[2]);
    const cv::Mat bad = channelGrid(t, 1);
    EXPECT_EQ(bad.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 0, 255));
    // Constant channel: lowest colour everywhere.
    EXPECT_EQ(bad.at<cv::Vec3b>(0, 3), bad.at<cv::Vec3b>(0, 4));
    EXPECT_EQ(bad.at<cv::Vec3b>(0, 3), g.at<cv::Vec3b>(0, 0));
    EXPECT_EQ(channelImage(t, 0, 1).size(), cv::Size(2, 1));
}
