// MaxPool2D, nearest UpSampling2D and Concatenate against naive loops, at 1 and
// 2 threads, on odd sizes and channel counts past the kernels' 64-channel
// blocks: the values must be the naive loops' bits (these ops only select, copy
// and add in a fixed order), and MaxPool2D keeps a uint8 tap per output.

#include "kernel_runs.hpp"

#include <cmath>
#include <limits>

using namespace segforge::core;
using namespace segforge::core::testing;
using V = std::vector<std::int64_t>;

namespace {

/// Values from a small set, so that windows hold ties (the first maximum wins).
Tensor tiedTensor(V dims, std::uint32_t seed) {
    Tensor t = uniformTensor(std::move(dims), -3, 3, seed);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.f32()[i] = std::round(t.f32()[i]);
    return t;
}

struct PoolCase {
    V input;
    std::int64_t k, s;
    std::string padding;
};

struct PoolReference {
    std::vector<float> y, dx;
};

/// MaxPool2D from its definition: TensorFlow padding (the smaller half before), the
/// in-bounds taps row-major, the first maximum (or a NaN) wins; the backward adds each
/// output gradient to its winner, outputs in row-major order.
PoolReference naiveMaxPool(const Tensor& x, const PoolCase& c, const Tensor& dy,
                           const Tensor& dx0) {
    const std::int64_t n = x.batch(), h = x.height(), w = x.width(), ch = x.channels();
    const bool same = c.padding == "same";
    const std::int64_t oh = same ? (h + c.s - 1) / c.s : (h - c.k) / c.s + 1;
    const std::int64_t ow = same ? (w + c.s - 1) / c.s : (w - c.k) / c.s + 1;
    const std::int64_t padH = same ? std::max<std::int64_t>((oh - 1) * c.s + c.k - h, 0) / 2 : 0;
    const std::int64_t padW = same ? std::max<std::int64_t>((ow - 1) * c.s + c.k - w, 0) / 2 : 0;
    PoolReference r;
    r.dx = valuesOf(dx0);
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox)
                for (std::int64_t k = 0; k < ch; ++k) {
                    float best = 0;
                    std::int64_t at = -1;
                    for (std::int64_t ky = 0; ky < c.k; ++ky)
                        for (std::int64_t kx = 0; kx < c.k; ++kx) {
                            const std::int64_t iy = oy * c.s - padH + ky, ix = ox * c.s - padW + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                continue;
                            const std::int64_t i = ((b * h + iy) * w + ix) * ch + k;
                            const float v = x.f32()[i];
                            if (at < 0 || v > best || std::isnan(v)) {
                                best = v;
                                at = i;
                            }
                        }
                    const std::int64_t o = ((b * oh + oy) * ow + ox) * ch + k;
                    r.y.push_back(best);
                    r.dx[static_cast<std::size_t>(at)] += dy.f32()[o];
                }
    return r;
}

AttrMap poolAttrs(const PoolCase& c) {
    return {{"pool_size", V{c.k, c.k}}, {"strides", V{c.s, c.s}}, {"padding", c.padding}};
}

class MaxPoolKernel : public ::testing::TestWithParam<PoolCase> {};

TEST_P(MaxPoolKernel, IsTheNaiveLoopAtOneAndTwoThreads) {
    const PoolCase& c = GetParam();
    Tensor x = tiedTensor(c.input, 3);
    x.f32()[5] = std::numeric_limits<float>::quiet_NaN(); // a NaN wins its window
    const auto shape = [&] {
        OpHarness h("MaxPool2D", poolAttrs(c), {x});
        return h.outputs().at(0).shape().dims();
    }();
    const Tensor dy = uniformTensor(shape, -1, 1, 9);
    const PoolReference want = naiveMaxPool(x, c, dy, initialGrad(x, 40));
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " threads");
        const KernelRun r = runKernels("MaxPool2D", poolAttrs(c), {x}, threads, {dy});
        ASSERT_EQ(r.outputs.size(), 1u);
        EXPECT_TRUE(sameValues(r.outputs[0], want.y));
        EXPECT_TRUE(sameValues(r.inputGrads.at(0), want.dx));
        // One byte per output for the winning tap: a quarter of an int32 index.
        ASSERT_EQ(r.state.size(), 1u);
        EXPECT_EQ(r.state[0].dtype(), DType::UInt8);
        EXPECT_EQ(r.state[0].numel(), dy.numel());
    }
}

INSTANTIATE_TEST_SUITE_P(
    Windows, MaxPoolKernel,
    ::testing::Values(PoolCase{{2, 7, 9, 5}, 2, 2, "valid"},  // the 2×2 path, odd edges dropped
                      PoolCase{{3, 8, 6, 70}, 2, 2, "valid"}, // channels past one block
                      PoolCase{{2, 7, 9, 5}, 2, 2, "same"},   // partial windows at the edge
                      PoolCase{{2, 9, 7, 3}, 3, 2, "same"},   // overlapping windows
                      PoolCase{{1, 6, 5, 67}, 3, 1, "valid"}, // stride 1, many channels
                      PoolCase{{2, 5, 5, 4}, 3, 3, "same"})); // padding before and after

TEST(MaxPoolKernel, RepeatedForwardRewritesTheTaps) {
    // The state is kept from step to step: a second forward with other values must
    // give the second input's taps, not a mix.
    const PoolCase c{{2, 6, 6, 16}, 2, 2, "valid"};
    setEngineThreads(2);
    OpHarness h("MaxPool2D", poolAttrs(c), {tiedTensor(c.input, 3)});
    h.forward();
    h.inputs()[0] = tiedTensor(c.input, 4);
    h.forward();
    const Tensor dy = uniformTensor(h.outputs()[0].shape().dims(), -1, 1, 9);
    Tensor dx = initialGrad(h.inputs()[0], 40);
    KernelContext ctx = h.context();
    ctx.outputGrads = {&dy};
    ctx.inputGrads = {&dx};
    h.schema().backward(ctx);
    setEngineThreads(1);
    const PoolReference want = naiveMaxPool(h.inputs()[0], c, dy, initialGrad(h.inputs()[0], 40));
    EXPECT_TRUE(sameValues(valuesOf(h.outputs()[0]), want.y));
    EXPECT_TRUE(sameValues(valuesOf(dx), want.dx));
}

/// Nearest upsampling from its definition; the backward adds the copies of each
/// pixel in row-major order.
PoolReference naiveNearest(const Tensor& x, V size, const Tensor& dy, const Tensor& dx0) {
    const std::int64_t n = x.batch(), h = x.height(), w = x.width(), c = x.channels();
    const std::int64_t oh = h * size[0], ow = w * size[1];
    PoolReference r;
    r.dx = valuesOf(dx0);
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox)
                for (std::int64_t k = 0; k < c; ++k)
                    r.y.push_back(x.f32()[((b * h + oy / size[0]) * w + ox / size[1]) * c + k]);
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t iy = 0; iy < h; ++iy)
            for (std::int64_t ix = 0; ix < w; ++ix)
                for (std::int64_t k = 0; k < c; ++k) {
                    float& d = r.dx[static_cast<std::size_t>(((b * h + iy) * w + ix) * c + k)];
                    for (std::int64_t ky = 0; ky < size[0]; ++ky)
                        for (std::int64_t kx = 0; kx < size[1]; ++kx)
                            d += dy.f32()[((b * oh + iy * size[0] + ky) * ow + ix * size[1] + kx) *
                                              c +
                                          k];
                }
    return r;
}

TEST(NearestUpSamplingKernel, IsTheNaiveLoopAtOneAndTwoThreads) {
    for (const V& size : {V{2, 2}, V{2, 3}, V{3, 1}, V{1, 2}}) {
        for (const V& input : {V{2, 5, 7, 3}, V{3, 4, 3, 70}, V{1, 9, 11, 16}}) {
            SCOPED_TRACE(::testing::Message() << "size " << size[0] << "×" << size[1] << ", input "
                                              << input[1] << "×" << input[2] << "×" << input[3]);
            const Tensor x = uniformTensor(input, -1, 1, 11);
            const Tensor dy = uniformTensor(
                {input[0], input[1] * size[0], input[2] * size[1], input[3]}, -1, 1, 12);
            const PoolReference want = naiveNearest(x, size, dy, initialGrad(x, 40));
            const AttrMap attrs{{"size", size}, {"interpolation", std::string("nearest")}};
            for (int threads : {1, 2}) {
                SCOPED_TRACE(::testing::Message() << threads << " threads");
                const KernelRun r = runKernels("UpSampling2D", attrs, {x}, threads, {dy});
                ASSERT_EQ(r.outputs.size(), 1u);
                EXPECT_TRUE(sameValues(r.outputs[0], want.y));
                EXPECT_TRUE(sameValues(r.inputGrads.at(0), want.dx));
            }
        }
    }
}

TEST(ConcatenateKernel, IsTheNaiveLoopOnEveryAxisAtOneAndTwoThreads) {
    const V channels{5, 16, 33};
    for (std::int64_t axis : {-1, 1, 2}) {
        SCOPED_TRACE(::testing::Message() << "axis " << axis);
        const int a = static_cast<int>(axis < 0 ? 3 : axis);
        std::vector<Tensor> xs;
        for (std::size_t i = 0; i < channels.size(); ++i) {
            V dims{2, 7, 9, 3};
            dims[static_cast<std::size_t>(a)] = channels[i];
            xs.push_back(uniformTensor(dims, -1, 1, 20 + static_cast<std::uint32_t>(i)));
        }
        V outDims = xs[0].shape().dims();
        outDims[static_cast<std::size_t>(a)] = 5 + 16 + 33;
        const Tensor dy = uniformTensor(outDims, -1, 1, 30);
        // Naive: the output index of every input element, by coordinates.
        std::vector<float> y(static_cast<std::size_t>(dy.numel()));
        std::vector<std::vector<float>> dx;
        std::int64_t offset = 0;
        for (std::size_t i = 0; i < xs.size(); ++i) {
            const Tensor& x = xs[i];
            dx.push_back(valuesOf(initialGrad(x, 40 + static_cast<std::uint32_t>(i))));
            const V d = x.shape().dims();
            for (std::int64_t b = 0; b < d[0]; ++b)
                for (std::int64_t r = 0; r < d[1]; ++r)
                    for (std::int64_t c = 0; c < d[2]; ++c)
                        for (std::int64_t k = 0; k < d[3]; ++k) {
                            V at{b, r, c, k};
                            at[static_cast<std::size_t>(a)] += offset;
                            const std::int64_t o =
                                ((at[0] * outDims[1] + at[1]) * outDims[2] + at[2]) * outDims[3] +
                                at[3];
                            const std::int64_t s = ((b * d[1] + r) * d[2] + c) * d[3] + k;
                            y[static_cast<std::size_t>(o)] = x.f32()[s];
                            dx.back()[static_cast<std::size_t>(s)] += dy.f32()[o];
                        }
            offset += channels[i];
        }
        for (int threads : {1, 2}) {
            SCOPED_TRACE(::testing::Message() << threads << " threads");
            const KernelRun r =
                runKernels("Concatenate", {{"axis", axis}, {"num_inputs", std::int64_t{3}}}, xs,
                           threads, {dy});
            ASSERT_EQ(r.outputs.size(), 1u);
            EXPECT_TRUE(sameValues(r.outputs[0], y));
            for (std::size_t i = 0; i < xs.size(); ++i)
                EXPECT_TRUE(sameValues(r.inputGrads.at(i), dx[i])) << "input " << i;
        }
    }
}

} // namespace
