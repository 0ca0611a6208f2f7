// Forward kernels against naive reference loops written from the Keras /
// TensorFlow definitions (output sizes computed here independently of the
// schema's infer, so a disagreement between kernel, infer and Keras fails),
// plus small hand-computed cases with known TensorFlow answers.

#include "engine_op_harness.hpp"

#include <cmath>
#include <cstring>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

using V = std::vector<std::int64_t>;

struct ConvCfg {
    std::int64_t h, w, cin, f, kh, kw, sh, sw, dh, dw;
    bool same;
};

std::int64_t tfOutSize(std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d, bool same) {
    const std::int64_t eff = (k - 1) * d + 1;
    return same ? (in + s - 1) / s : (in - eff) / s + 1;
}

// TF: pad_before = max((out − 1)·s + eff − in, 0) / 2
std::int64_t tfPadBefore(std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t s,
                         std::int64_t d) {
    const std::int64_t need = (out - 1) * s + (k - 1) * d + 1 - in;
    return need > 0 ? need / 2 : 0;
}

AttrMap convAttrs(const ConvCfg& c) {
    return {{"filters", c.f},
            {"kernel_size", V{c.kh, c.kw}},
            {"strides", V{c.sh, c.sw}},
            {"dilation_rate", V{c.dh, c.dw}},
            {"padding", std::string(c.same ? "same" : "valid")}};
}

class ConvForward : public ::testing::TestWithParam<ConvCfg> {};

TEST_P(ConvForward, MatchesNaiveLoop) {
    const ConvCfg c = GetParam();
    OpHarness h("Conv2D", convAttrs(c), {uniformTensor({2, c.h, c.w, c.cin}, -1, 1, 1)});
    ASSERT_TRUE(h.ok());
    h.params()[0] = uniformTensor({c.kh, c.kw, c.cin, c.f}, -1, 1, 2);
    h.params()[1] = uniformTensor({c.f}, -1, 1, 3);
    h.forward();
    const std::int64_t oh = tfOutSize(c.h, c.kh, c.sh, c.dh, c.same);
    const std::int64_t ow = tfOutSize(c.w, c.kw, c.sw, c.dw, c.same);
    const Tensor& y = h.outputs()[0];
    ASSERT_EQ(y.shape(), (Shape{2, oh, ow, c.f}));
    const std::int64_t pt = c.same ? tfPadBefore(c.h, oh, c.kh, c.sh, c.dh) : 0;
    const std::int64_t pl = c.same ? tfPadBefore(c.w, ow, c.kw, c.sw, c.dw) : 0;
    const float* x = h.inputs()[0].f32();
    const float* k = h.params()[0].f32();
    const float* b = h.params()[1].f32();
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox)
                for (std::int64_t f = 0; f < c.f; ++f) {
                    double acc = b[f];
                    for (std::int64_t ky = 0; ky < c.kh; ++ky)
                        for (std::int64_t kx = 0; kx < c.kw; ++kx) {
                            const std::int64_t iy = oy * c.sh + ky * c.dh - pt;
                            const std::int64_t ix = ox * c.sw + kx * c.dw - pl;
                            if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w)
                                continue;
                            for (std::int64_t ci = 0; ci < c.cin; ++ci)
                                acc += x[((n * c.h + iy) * c.w + ix) * c.cin + ci] *
                                       k[((ky * c.kw + kx) * c.cin + ci) * c.f + f];
                        }
                    ASSERT_NEAR(y.f32()[((n * oh + oy) * ow + ox) * c.f + f], acc, 1e-4)
                        << "at " << n << "," << oy << "," << ox << "," << f;
                }
}

INSTANTIATE_TEST_SUITE_P(
    Keras, ConvForward,
    ::testing::Values(
        ConvCfg{7, 6, 3, 4, 3, 3, 1, 1, 1, 1, false}, ConvCfg{7, 6, 3, 4, 3, 3, 1, 1, 1, 1, true},
        ConvCfg{8, 7, 2, 3, 3, 3, 2, 2, 1, 1, true}, ConvCfg{9, 9, 2, 2, 2, 2, 2, 2, 1, 1, true},
        ConvCfg{9, 8, 2, 3, 3, 2, 1, 1, 2, 2, true}, ConvCfg{9, 8, 2, 3, 3, 3, 1, 1, 2, 1, false},
        ConvCfg{6, 6, 5, 3, 1, 1, 1, 1, 1, 1, false}, ConvCfg{11, 5, 1, 2, 4, 1, 3, 1, 1, 1, true},
        ConvCfg{300, 3, 2, 2, 3, 3, 1, 1, 1, 1, true})); // > one im2col block

struct SeparableCfg {
    ConvCfg conv;
    std::int64_t depthMultiplier;
};

class SeparableConvForward : public ::testing::TestWithParam<SeparableCfg> {};

// Reference: Keras' SeparableConv2D, a depthwise convolution (channel c's m-th filter
// writes channel c·dm + m), then a 1×1 convolution, then the bias.
TEST_P(SeparableConvForward, MatchesNaiveDepthwiseThenPointwise) {
    const ConvCfg c = GetParam().conv;
    const std::int64_t dm = GetParam().depthMultiplier, cm = c.cin * dm;
    AttrMap attrs = convAttrs(c);
    attrs["depth_multiplier"] = dm;
    OpHarness h("SeparableConv2D", attrs, {uniformTensor({2, c.h, c.w, c.cin}, -1, 1, 1)});
    ASSERT_TRUE(h.ok());
    ASSERT_EQ(h.params().size(), 3u);
    h.params()[0] = uniformTensor({c.kh, c.kw, c.cin, dm}, -1, 1, 2);
    h.params()[1] = uniformTensor({1, 1, cm, c.f}, -1, 1, 3);
    h.params()[2] = uniformTensor({c.f}, -1, 1, 4);
    h.forward();
    const std::int64_t oh = tfOutSize(c.h, c.kh, c.sh, c.dh, c.same);
    const std::int64_t ow = tfOutSize(c.w, c.kw, c.sw, c.dw, c.same);
    const Tensor& y = h.outputs()[0];
    ASSERT_EQ(y.shape(), (Shape{2, oh, ow, c.f}));
    const std::int64_t pt = c.same ? tfPadBefore(c.h, oh, c.kh, c.sh, c.dh) : 0;
    const std::int64_t pl = c.same ? tfPadBefore(c.w, ow, c.kw, c.sw, c.dw) : 0;
    const float* x = h.inputs()[0].f32();
    const float* dw = h.params()[0].f32();
    const float* pw = h.params()[1].f32();
    const float* b = h.params()[2].f32();
    std::vector<double> t(static_cast<std::size_t>(cm));
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox) {
                std::fill(t.begin(), t.end(), 0.0);
                for (std::int64_t ky = 0; ky < c.kh; ++ky)
                    for (std::int64_t kx = 0; kx < c.kw; ++kx) {
                        const std::int64_t iy = oy * c.sh + ky * c.dh - pt;
                        const std::int64_t ix = ox * c.sw + kx * c.dw - pl;
                        if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w)
                            continue;
                        for (std::int64_t ci = 0; ci < c.cin; ++ci)
                            for (std::int64_t m = 0; m < dm; ++m)
                                t[static_cast<std::size_t>(ci * dm + m)] +=
                                    x[((n * c.h + iy) * c.w + ix) * c.cin + ci] *
                                    dw[((ky * c.kw + kx) * c.cin + ci) * dm + m];
                    }
                for (std::int64_t f = 0; f < c.f; ++f) {
                    double acc = b[f];
                    for (std::int64_t j = 0; j < cm; ++j)
                        acc += t[static_cast<std::size_t>(j)] * pw[j * c.f + f];
                    ASSERT_NEAR(y.f32()[((n * oh + oy) * ow + ox) * c.f + f], acc, 1e-4)
                        << "at " << n << "," << oy << "," << ox << "," << f;
                }
            }
}

INSTANTIATE_TEST_SUITE_P(Keras, SeparableConvForward,
                         ::testing::Values(SeparableCfg{{7, 6, 3, 4, 3, 3, 1, 1, 1, 1, false}, 1},
                                           SeparableCfg{{7, 6, 3, 4, 3, 3, 1, 1, 1, 1, true}, 2},
                                           SeparableCfg{{8, 7, 2, 3, 3, 3, 2, 2, 1, 1, true}, 3},
                                           SeparableCfg{{9, 8, 2, 3, 3, 2, 1, 1, 2, 2, true}, 1},
                                           SeparableCfg{{11, 5, 1, 2, 4, 1, 3, 1, 1, 1, true}, 2}));

class ConvTransposeForward : public ::testing::TestWithParam<ConvCfg> {};

// Reference: every input pixel scatters kernel·x into the output at
// (iy·s + ky·d − pad); Keras' output size is in·s ('same') or
// in·s + max(eff − s, 0) ('valid'), pad as for the forward conv from that size.
TEST_P(ConvTransposeForward, MatchesNaiveScatter) {
    const ConvCfg c = GetParam();
    OpHarness h("Conv2DTranspose", convAttrs(c), {uniformTensor({2, c.h, c.w, c.cin}, -1, 1, 4)});
    ASSERT_TRUE(h.ok());
    h.params()[0] = uniformTensor({c.kh, c.kw, c.f, c.cin}, -1, 1, 5);
    h.params()[1] = uniformTensor({c.f}, -1, 1, 6);
    h.forward();
    auto outSize = [&](std::int64_t in, std::int64_t k, std::int64_t s, std::int64_t d) {
        const std::int64_t eff = (k - 1) * d + 1;
        return c.same ? in * s : in * s + std::max<std::int64_t>(eff - s, 0);
    };
    const std::int64_t oh = outSize(c.h, c.kh, c.sh, c.dh), ow = outSize(c.w, c.kw, c.sw, c.dw);
    const Tensor& y = h.outputs()[0];
    ASSERT_EQ(y.shape(), (Shape{2, oh, ow, c.f}));
    const std::int64_t pt = c.same ? tfPadBefore(oh, c.h, c.kh, c.sh, c.dh) : 0;
    const std::int64_t pl = c.same ? tfPadBefore(ow, c.w, c.kw, c.sw, c.dw) : 0;
    std::vector<double> ref(static_cast<std::size_t>(y.numel()));
    const float* x = h.inputs()[0].f32();
    const float* k = h.params()[0].f32();
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t iy = 0; iy < c.h; ++iy)
            for (std::int64_t ix = 0; ix < c.w; ++ix)
                for (std::int64_t ky = 0; ky < c.kh; ++ky)
                    for (std::int64_t kx = 0; kx < c.kw; ++kx) {
                        const std::int64_t oy = iy * c.sh + ky * c.dh - pt,
                                           ox = ix * c.sw + kx * c.dw - pl;
                        if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                            continue;
                        for (std::int64_t f = 0; f < c.f; ++f)
                            for (std::int64_t ci = 0; ci < c.cin; ++ci)
                                ref[static_cast<std::size_t>(((n * oh + oy) * ow + ox) * c.f +
                                                             f)] +=
                                    x[((n * c.h + iy) * c.w + ix) * c.cin + ci] *
                                    k[((ky * c.kw + kx) * c.f + f) * c.cin + ci];
                    }
    for (std::int64_t i = 0; i < y.numel(); ++i)
        ASSERT_NEAR(y.f32()[i], ref[static_cast<std::size_t>(i)] + h.params()[1].f32()[i % c.f],
                    1e-4)
            << i;
}

INSTANTIATE_TEST_SUITE_P(Keras, ConvTransposeForward,
                         ::testing::Values(ConvCfg{3, 4, 2, 3, 2, 2, 2, 2, 1, 1, true},
                                           ConvCfg{3, 4, 2, 3, 3, 3, 2, 2, 1, 1, true},
                                           ConvCfg{3, 4, 2, 3, 3, 3, 2, 2, 1, 1, false},
                                           ConvCfg{3, 3, 2, 2, 1, 1, 2, 2, 1, 1, false},
                                           ConvCfg{4, 3, 2, 2, 3, 3, 1, 1, 2, 2, true},
                                           ConvCfg{3, 3, 1, 2, 4, 3, 3, 2, 1, 1, true},
                                           ConvCfg{3, 3, 1, 2, 5, 5, 2, 2, 1, 1, false}));

// Values TensorFlow gives for these (checked by hand against its padding rule).
TEST(EngineForward, SamePaddingPutsTheExtraRowAtTheBottom) {
    // 1×4 row [1 2 3 4], 1×3 ones kernel, stride 2, same: pad 0 left, 1 right → [6, 7].
    OpHarness h("Conv2D",
                {{"filters", std::int64_t{1}},
                 {"kernel_size", V{1, 3}},
                 {"strides", V{1, 2}},
                 {"padding", std::string("same")},
                 {"use_bias", false}},
                {tensorOf({1, 1, 4, 1}, {1, 2, 3, 4})});
    ASSERT_TRUE(h.ok());
    h.params()[0].fill(1.0f);
    h.forward();
    ASSERT_EQ(h.outputs()[0].shape(), (Shape{1, 1, 2, 1}));
    EXPECT_FLOAT_EQ(h.outputs()[0].f32()[0], 6);
    EXPECT_FLOAT_EQ(h.outputs()[0].f32()[1], 7);
}

TEST(EngineForward, TransposedSameConvolutionMatchesTensorFlow) {
    // tf.nn.conv2d_transpose([1, 10], ones(3), stride 2, SAME) = [1, 1, 11, 10]
    OpHarness h("Conv2DTranspose",
                {{"filters", std::int64_t{1}},
                 {"kernel_size", V{1, 3}},
                 {"strides", V{1, 2}},
                 {"use_bias", false}},
                {tensorOf({1, 1, 2, 1}, {1, 10})});
    ASSERT_TRUE(h.ok());
    h.params()[0].fill(1.0f);
    h.forward();
    ASSERT_EQ(h.outputs()[0].shape(), (Shape{1, 1, 4, 1}));
    const float* y = h.outputs()[0].f32();
    EXPECT_FLOAT_EQ(y[0], 1);
    EXPECT_FLOAT_EQ(y[1], 1);
    EXPECT_FLOAT_EQ(y[2], 11);
    EXPECT_FLOAT_EQ(y[3], 10);
}

TEST(EngineForward, PoolingFloorsValidAndExcludesPaddingFromAverages) {
    const Tensor x = tensorOf({1, 1, 5, 1}, {1, 5, 2, 8, 4});
    OpHarness maxValid("MaxPool2D", {{"pool_size", V{1, 2}}}, {x});
    maxValid.forward();
    ASSERT_EQ(maxValid.outputs()[0].shape(), (Shape{1, 1, 2, 1})); // 5 → 2 (floored)
    EXPECT_FLOAT_EQ(maxValid.outputs()[0].f32()[0], 5);
    EXPECT_FLOAT_EQ(maxValid.outputs()[0].f32()[1], 8);
    OpHarness avgSame("AvgPool2D", {{"pool_size", V{1, 2}}, {"padding", std::string("same")}}, {x});
    avgSame.forward();
    ASSERT_EQ(avgSame.outputs()[0].shape(), (Shape{1, 1, 3, 1}));
    EXPECT_FLOAT_EQ(avgSame.outputs()[0].f32()[0], 3);
    EXPECT_FLOAT_EQ(avgSame.outputs()[0].f32()[1], 5);
    EXPECT_FLOAT_EQ(avgSame.outputs()[0].f32()[2], 4); // the padded tap is not counted
}

TEST(EngineForward, PoolingMatchesNaiveWindows) {
    const Tensor x = uniformTensor({2, 7, 6, 3}, -1, 1, 9);
    for (const bool same : {false, true}) {
        OpHarness mp("MaxPool2D",
                     {{"pool_size", V{3, 2}},
                      {"strides", V{2, 2}},
                      {"padding", std::string(same ? "same" : "valid")}},
                     {x});
        OpHarness ap("AvgPool2D",
                     {{"pool_size", V{3, 2}},
                      {"strides", V{2, 2}},
                      {"padding", std::string(same ? "same" : "valid")}},
                     {x});
        mp.forward();
        ap.forward();
        const std::int64_t oh = tfOutSize(7, 3, 2, 1, same), ow = tfOutSize(6, 2, 2, 1, same);
        ASSERT_EQ(mp.outputs()[0].shape(), (Shape{2, oh, ow, 3}));
        const std::int64_t pt = same ? tfPadBefore(7, oh, 3, 2, 1) : 0,
                           pl = same ? tfPadBefore(6, ow, 2, 2, 1) : 0;
        for (std::int64_t n = 0; n < 2; ++n)
            for (std::int64_t oy = 0; oy < oh; ++oy)
                for (std::int64_t ox = 0; ox < ow; ++ox)
                    for (std::int64_t c = 0; c < 3; ++c) {
                        float mx = -1e30f;
                        double sum = 0;
                        int count = 0;
                        for (std::int64_t ky = 0; ky < 3; ++ky)
                            for (std::int64_t kx = 0; kx < 2; ++kx) {
                                const std::int64_t iy = oy * 2 + ky - pt, ix = ox * 2 + kx - pl;
                                if (iy < 0 || iy >= 7 || ix < 0 || ix >= 6)
                                    continue;
                                const float v = x.f32()[((n * 7 + iy) * 6 + ix) * 3 + c];
                                mx = std::max(mx, v);
                                sum += v;
                                ++count;
                            }
                        const std::int64_t o = ((n * oh + oy) * ow + ox) * 3 + c;
                        EXPECT_FLOAT_EQ(mp.outputs()[0].f32()[o], mx);
                        EXPECT_NEAR(ap.outputs()[0].f32()[o], sum / count, 1e-6);
                    }
    }
}

TEST(EngineForward, UpSamplingNearestAndBilinearHalfPixel) {
    const Tensor x = tensorOf({1, 1, 2, 1}, {0, 1});
    OpHarness nearest("UpSampling2D", {{"size", V{1, 2}}}, {x});
    nearest.forward();
    const std::vector<float> wantNearest{0, 0, 1, 1};
    OpHarness bilinear("UpSampling2D",
                       {{"size", V{1, 2}}, {"interpolation", std::string("bilinear")}}, {x});
    bilinear.forward();
    // tf.image.resize([0, 1], 4, 'bilinear') with half-pixel centres.
    const std::vector<float> wantBilinear{0, 0.25f, 0.75f, 1};
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_FLOAT_EQ(nearest.outputs()[0].f32()[i], wantNearest[i]);
        EXPECT_FLOAT_EQ(bilinear.outputs()[0].f32()[i], wantBilinear[i]);
    }
    // 2-D nearest against a naive loop.
    const Tensor y = uniformTensor({2, 3, 2, 2}, -1, 1, 11);
    OpHarness up("UpSampling2D", {{"size", V{2, 3}}}, {y});
    up.forward();
    ASSERT_EQ(up.outputs()[0].shape(), (Shape{2, 6, 6, 2}));
    for (std::int64_t n = 0; n < 2; ++n)
        for (std::int64_t oy = 0; oy < 6; ++oy)
            for (std::int64_t ox = 0; ox < 6; ++ox)
                for (std::int64_t c = 0; c < 2; ++c)
                    EXPECT_EQ(up.outputs()[0].f32()[((n * 6 + oy) * 6 + ox) * 2 + c],
                              y.f32()[((n * 3 + oy / 2) * 2 + ox / 3) * 2 + c]);
}

TEST(EngineForward, BatchNormUsesBatchStatsInTrainingAndMovingStatsAtInference) {
    // One channel, values 1..4: mean 2.5, biased variance 1.25.
    const Tensor x = tensorOf({4, 1, 1, 1}, {1, 2, 3, 4});
    OpHarness bn("BatchNormalization", {{"momentum", 0.9}, {"epsilon", 0.0}}, {x});
    ASSERT_TRUE(bn.ok());
    ASSERT_EQ(bn.params().size(), 4u); // gamma, beta, moving_mean, moving_variance
    bn.params()[0].fill(1);
    bn.params()[1].fill(0);
    bn.params()[2].fill(0);
    bn.params()[3].fill(1);
    bn.forward();
    EXPECT_NEAR(bn.outputs()[0].f32()[0], (1 - 2.5) / std::sqrt(1.25), 1e-5);
    EXPECT_NEAR(bn.params()[2].f32()[0], 0.1 * 2.5, 1e-6); // Keras momentum
    EXPECT_NEAR(bn.params()[3].f32()[0], 0.9 + 0.1 * 1.25, 1e-6);
    bn.training = false;
    bn.forward();
    const double mm = 0.25, mv = 1.025;
    EXPECT_NEAR(bn.outputs()[0].f32()[3], (4 - mm) / std::sqrt(mv), 1e-5);
    EXPECT_NEAR(bn.params()[2].f32()[0], mm, 1e-6); // inference leaves them alone
}

TEST(EngineForward, DropoutIsSeededScaledAndIdentityAtInference) {
    const Tensor x = uniformTensor({4, 16, 16, 4}, 1, 2, 12);
    OpHarness d("Dropout", {{"rate", 0.25}}, {x});
    d.seed = 99;
    d.forward();
    const Tensor first = d.outputs()[0];
    std::int64_t zeros = 0;
    for (std::int64_t i = 0; i < x.numel(); ++i) {
        const float v = first.f32()[i];
        if (v == 0)
            ++zeros;
        else
            EXPECT_NEAR(v, x.f32()[i] / 0.75f, 1e-5);
    }
    EXPECT_NEAR(static_cast<double>(zeros) / static_cast<double>(x.numel()), 0.25, 0.03);
    d.forward();
    EXPECT_EQ(0, std::memcmp(first.bytes(), d.outputs()[0].bytes(), first.byteSize()))
        << "same seed, same mask";
    d.seed = 100;
    d.forward();
    EXPECT_NE(0, std::memcmp(first.bytes(), d.outputs()[0].bytes(), first.byteSize()))
        << "new step, new mask";
    d.training = false;
    d.forward();
    EXPECT_EQ(0, std::memcmp(x.bytes(), d.outputs()[0].bytes(), x.byteSize()));
}

float runLoss(const std::string& op, AttrMap attrs, const Tensor& p, const Tensor& t) {
    OpHarness h(op, std::move(attrs), {p, t});
    EXPECT_TRUE(h.ok());
    h.forward();
    return h.outputs()[0].f32()[0];
}

TEST(EngineForward, LossesMatchKerasFormulas) {
    const Tensor p = tensorOf({1, 1, 2, 1}, {0.9f, 0.2f});
    const Tensor t = tensorOf({1, 1, 2, 1}, {1, 0});
    const double eps = 1e-7;
    const double bce = -(std::log(0.9 + eps) + std::log(1 - 0.2 + eps)) / 2;
    EXPECT_NEAR(runLoss("BinaryCrossentropy", {}, p, t), bce, 1e-6);
    // label smoothing 0.2: targets 0.9 / 0.1
    const double smooth = -(0.9 * std::log(0.9 + eps) + 0.1 * std::log(0.1 + eps) +
                            0.1 * std::log(0.2 + eps) + 0.9 * std::log(0.8 + eps)) /
                          2;
    EXPECT_NEAR(runLoss("BinaryCrossentropy", {{"label_smoothing", 0.2}}, p, t), smooth, 1e-6);
    // Clipping: p = 0 with target 1 costs -log(1e-7 + 1e-7), not infinity.
    EXPECT_NEAR(
        runLoss("BinaryCrossentropy", {}, tensorOf({1, 1, 1, 1}, {0}), tensorOf({1, 1, 1, 1}, {1})),
        -std::log(2e-7), 1e-3);
    const Tensor logits = tensorOf({1, 1, 2, 1}, {2.0f, -1.0f});
    const double l = (std::log1p(std::exp(-2.0)) + std::log1p(std::exp(-1.0))) / 2;
    EXPECT_NEAR(runLoss("BinaryCrossentropy", {{"from_logits", true}}, logits, t), l, 1e-6);
    // Dice per sample: 1 − (2·0.9 + ε)/(1.1 + 1 + ε)
    EXPECT_NEAR(runLoss("Dice", {{"epsilon", 0.0}}, p, t), 1 - 1.8 / 2.1, 1e-6);
    EXPECT_NEAR(runLoss("BCEDice", {{"bce_weight", 2.0}, {"dice_weight", 0.5}}, p, t),
                2 * bce + 0.5 * (1 - (1.8 + 1e-6) / (2.1 + 1e-6)), 1e-5);
    // Focal, γ = 2: (1 − p_t)² · bce per pixel
    const double focal = (0.01 * -std::log(0.9 + eps) + 0.04 * -std::log(0.8 + eps)) / 2;
    EXPECT_NEAR(runLoss("Focal", {}, p, t), focal, 1e-6);
    EXPECT_NEAR(runLoss("Focal", {{"apply_class_balancing", true}}, p, t),
                (0.25 * 0.01 * -std::log(0.9 + eps) + 0.75 * 0.04 * -std::log(0.8 + eps)) / 2,
                1e-6);
    // Categorical: renormalised probabilities [0.5, 0.3, 0.2]·2 → −log 0.5 for class 0.
    const Tensor probs = tensorOf({1, 1, 1, 3}, {1.0f, 0.6f, 0.4f});
    EXPECT_NEAR(runLoss("CategoricalCrossentropy", {}, probs, tensorOf({1, 1, 1, 3}, {1, 0, 0})),
                -std::log(0.5), 1e-6);
    Tensor cls(Shape{1, 1, 1, 1}, DType::Int32);
    cls.i32()[0] = 2;
    const Tensor lg = tensorOf({1, 1, 1, 3}, {1.0f, 2.0f, 3.0f});
    const double lse = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(3.0));
    EXPECT_NEAR(runLoss("SparseCategoricalCrossentropy", {{"from_logits", true}}, lg, cls),
                lse - 3.0, 1e-5);
    EXPECT_FLOAT_EQ(runLoss("SparseCategoricalCrossentropy",
                            {{"from_logits", true}, {"ignore_class", std::int64_t{2}}}, lg, cls),
                    0.0f);
}

TEST(EngineForward, DiceWithoutEpsilonIsNaNOnEmptyMasksAndExplainsWhy) {
    const Tensor zero(Shape{2, 2, 2, 1}, DType::Float32);
    Tensor target(Shape{2, 2, 2, 1}, DType::Float32);
    Tensor pred(Shape{2, 2, 2, 1}, DType::Float32);
    target.f32()[0] = 1; // sample 0 has a foreground pixel, sample 1 is empty
    pred.f32()[0] = 1;
    OpHarness h("Dice", {{"epsilon", 0.0}}, {pred, target});
    h.forward();
    EXPECT_TRUE(std::isnan(h.outputs()[0].f32()[0]));
    EXPECT_EQ(h.schema().explainNonFinite(h.context(), 0), "");
    EXPECT_EQ(h.schema().explainNonFinite(h.context(), 1),
              "denominator sum(target)+sum(prediction) = 0 for sample 1; set epsilon > 0");
    OpHarness ok("Dice", {{"epsilon", 1e-6}}, {pred, target});
    ok.forward();
    EXPECT_NEAR(ok.outputs()[0].f32()[0], 0.0, 1e-6); // both samples perfect
}

TEST(EngineForward, MetricsCountThresholdedPixels) {
    // pred > 0.5 → [1, 1, 0, 0]; target [1, 0, 1, 0]: I = 1, |P| = 2, |T| = 2, U = 3.
    const Tensor p = tensorOf({1, 2, 2, 1}, {0.9f, 0.6f, 0.4f, 0.1f});
    const Tensor t = tensorOf({1, 2, 2, 1}, {1, 0, 1, 0});
    EXPECT_NEAR(runLoss("DiceCoefficient", {{"epsilon", 0.0}}, p, t), 0.5, 1e-6);
    EXPECT_NEAR(runLoss("IoU", {{"epsilon", 0.0}}, p, t), 1.0 / 3.0, 1e-6);
    EXPECT_NEAR(runLoss("PixelAccuracy", {}, p, t), 0.5, 1e-6);
    // Two empty masks score 1 with epsilon.
    const Tensor z(Shape{1, 2, 2, 1}, DType::Float32);
    EXPECT_NEAR(runLoss("DiceCoefficient", {}, z, z), 1.0, 1e-6);
    // Multi-class: argmax vs class indices, mean over classes.
    const Tensor p3 = tensorOf({1, 1, 2, 2}, {0.9f, 0.1f, 0.3f, 0.7f}); // classes 0, 1
    Tensor t3(Shape{1, 1, 2, 1}, DType::UInt8);
    t3.u8()[0] = 0;
    t3.u8()[1] = 0;
    EXPECT_NEAR(runLoss("PixelAccuracy", {}, p3, t3), 0.5, 1e-6);
    // class 0: I=1, P=1, T=2 → 2/3; class 1: I=0, P=1, T=0 → 0
    EXPECT_NEAR(runLoss("DiceCoefficient", {{"epsilon", 0.0}}, p3, t3), (2.0 / 3.0) / 2, 1e-6);
}

TEST(EngineForward, LayoutOpsMoveValues) {
    Tensor mask(Shape{1, 3, 3, 1}, DType::UInt8);
    for (int i = 0; i < 9; ++i)
        mask.u8()[i] = static_cast<std::uint8_t>(i);
    OpHarness crop("Cropping2D", {{"cropping", V{1, 0, 0, 1}}}, {mask});
    crop.forward();
    ASSERT_EQ(crop.outputs()[0].shape(), (Shape{1, 2, 2, 1}));
    EXPECT_EQ(crop.outputs()[0].u8()[0], 3);
    EXPECT_EQ(crop.outputs()[0].u8()[3], 7);
    OpHarness pad("ZeroPadding2D", {{"padding", V{0, 1, 1, 0}}}, {tensorOf({1, 1, 2, 1}, {5, 6})});
    pad.forward();
    ASSERT_EQ(pad.outputs()[0].shape(), (Shape{1, 2, 3, 1}));
    const std::vector<float> want{0, 5, 6, 0, 0, 0};
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_EQ(pad.outputs()[0].f32()[i], want[i]);
    OpHarness cast("Cast", {}, {mask});
    cast.forward();
    EXPECT_EQ(cast.outputs()[0].f32()[8], 8.0f);
    OpHarness rescale("Rescale", {}, {mask});
    rescale.forward();
    EXPECT_NEAR(rescale.outputs()[0].f32()[8], 8.0 / 255.0, 1e-7);
}

} // namespace
