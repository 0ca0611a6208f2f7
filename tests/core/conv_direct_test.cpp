// The direct convolution kernels (portable and AVX2) against the im2col + GEMM
// path on random data: forward output, input, weight and bias gradients, for
// odd channel counts, padding edges, several kernel sizes and batch > 1, on one
// and two threads. Conv2DTranspose with kernel == strides runs as a 1×1 direct
// convolution plus a shuffle, checked the same way; 3×3 layers with channels in
// multiples of 8 run Winograd F(4×4, 3×3), also checked against the direct
// kernels. The GEMM path itself is checked against naive loops and finite
// differences elsewhere (engine_forward_test, engine_gradient_test).

#include "kernels/conv_direct.hpp"
#include "kernels/conv_winograd.hpp"
#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

using namespace segforge::core;
using kernels::ConvPath;

namespace {

struct ConvCase {
    const char* name;
    std::int64_t n, h, w, cin, cout, kh, kw;
    const char* padding;
    const char* activation;
    bool bias;
    const char* op = "Conv2D";
    std::int64_t stride = 1;
};

std::ostream& operator<<(std::ostream& os, const ConvCase& c) {
    return os << c.name;
}

/// What one run of Conv2D forward + backward produced.
struct ConvRun {
    std::vector<float> y, dx, dw, db;
};

void fillRandom(Tensor& t, std::mt19937& rng, float scale) {
    std::uniform_real_distribution<float> u(-scale, scale);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.f32()[i] = u(rng);
}

std::vector<float> values(const Tensor& t) {
    return {t.f32(), t.f32() + t.numel()};
}

ConvRun runConv(const ConvCase& c, ConvPath path, int threads) {
    kernels::setConvPath(path);
    setEngineThreads(threads);
    const bool same = std::string(c.padding) == "same";
    const bool transposed = std::string(c.op) == "Conv2DTranspose";
    std::int64_t oh = same ? c.h : c.h - c.kh + 1, ow = same ? c.w : c.w - c.kw + 1;
    if (transposed) { // Keras: 'same' gives in·s, 'valid' (in−1)·s + max(k, s)
        oh = same ? c.h * c.stride : (c.h - 1) * c.stride + std::max(c.kh, c.stride);
        ow = same ? c.w * c.stride : (c.w - 1) * c.stride + std::max(c.kw, c.stride);
    }
    Tensor x(Shape{c.n, c.h, c.w, c.cin}, DType::Float32),
        y(Shape{c.n, oh, ow, c.cout}, DType::Float32);
    Tensor w(transposed ? Shape{c.kh, c.kw, c.cout, c.cin} : Shape{c.kh, c.kw, c.cin, c.cout},
             DType::Float32),
        b(Shape{c.cout}, DType::Float32);
    Tensor dy(y.shape(), DType::Float32), dx(x.shape(), DType::Float32);
    Tensor dw(w.shape(), DType::Float32), db(b.shape(), DType::Float32);
    std::mt19937 rng(17);
    fillRandom(x, rng, 1.0f);
    fillRandom(w, rng, 1.0f / std::sqrt(static_cast<float>(c.kh * c.kw * c.cin)));
    fillRandom(b, rng, 0.5f);
    fillRandom(dy, rng, 1.0f);
    // Backward accumulates: start the gradients from non-zero values.
    dx.fill(0.25f);
    dw.fill(-0.5f);
    db.fill(0.125f);
    AttrMap attrs{{"filters", c.cout},
                  {"kernel_size", std::vector<std::int64_t>{c.kh, c.kw}},
                  {"strides", std::vector<std::int64_t>{c.stride, c.stride}},
                  {"padding", std::string(c.padding)},
                  {"dilation_rate", std::vector<std::int64_t>{1, 1}},
                  {"activation", std::string(c.activation)},
                  {"use_bias", c.bias}};
    std::vector<Tensor> saved;
    KernelContext ctx;
    ctx.attrs = &attrs;
    ctx.inputs = {&x};
    ctx.outputs = {&y};
    ctx.params = {&w, &b};
    ctx.saved = &saved;
    ctx.outputGrads = {&dy};
    ctx.inputGrads = {&dx};
    ctx.paramGrads = {&dw, &db};
    const OpSchema* conv = OpRegistry::builtin().find(c.op);
    conv->forward(ctx);
    conv->backward(ctx);
    kernels::setConvPath(ConvPath::Auto);
    setEngineThreads(1);
    return {values(y), values(dx), values(dw), values(db)};
}

/// |a − b| ≤ tol · max(1, max |b|): float sums of up to a few thousand terms.
void expectClose(const std::vector<float>& a, const std::vector<float>& b, const char* what) {
    ASSERT_EQ(a.size(), b.size()) << what;
    float scale = 1.0f;
    for (float v : b)
        scale = std::max(scale, std::abs(v));
    std::size_t worst = 0;
    float worstDiff = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        const float d = std::abs(a[i] - b[i]);
        if (!(d <= worstDiff)) { // also catches NaN
            worstDiff = d;
            worst = i;
        }
    }
    EXPECT_LE(worstDiff, 2e-5f * scale)
        << what << ": element " << worst << " is " << a[worst] << ", GEMM gives " << b[worst]
        << " (scale " << scale << ")";
}

void expectSameAsGemm(const ConvRun& got, const ConvRun& ref) {
    expectClose(got.y, ref.y, "output");
    expectClose(got.dx, ref.dx, "input gradient");
    expectClose(got.dw, ref.dw, "weight gradient");
    expectClose(got.db, ref.db, "bias gradient");
}

/// Output and all three gradients, bit for bit.
void expectSameBits(const ConvRun& a, const ConvRun& b) {
    EXPECT_EQ(a.y, b.y);
    EXPECT_EQ(a.dx, b.dx);
    EXPECT_EQ(a.dw, b.dw);
    EXPECT_EQ(a.db, b.db);
}

ConvRun runWithoutWinograd(const ConvCase& c, ConvPath path, int threads);
ConvRun runWithTinyWinogradScratch(const ConvCase& c, ConvPath path, int threads);

class ConvDirectTest : public ::testing::TestWithParam<ConvCase> {};

TEST_P(ConvDirectTest, PortableMatchesGemm) {
    const ConvCase& c = GetParam();
    const ConvRun ref = runConv(c, ConvPath::Gemm, 1);
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " thread(s)");
        expectSameAsGemm(runConv(c, ConvPath::DirectPortable, threads), ref);
    }
}

TEST_P(ConvDirectTest, Avx2MatchesGemm) {
    if (!kernels::convAvx2Available())
        GTEST_SKIP() << "no AVX2/FMA on this CPU";
    const ConvCase& c = GetParam();
    const ConvRun ref = runConv(c, ConvPath::Gemm, 1);
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " thread(s)");
        expectSameAsGemm(runConv(c, ConvPath::DirectAvx2, threads), ref);
    }
}

/// The direct kernel sets this CPU runs, each with its name.
std::vector<std::pair<ConvPath, const char*>> directPaths() {
    std::vector<std::pair<ConvPath, const char*>> paths{{ConvPath::DirectPortable, "portable"}};
    if (kernels::convAvx2Available())
        paths.emplace_back(ConvPath::DirectAvx2, "avx2");
    if (kernels::convAvx512Available())
        paths.emplace_back(ConvPath::DirectAvx512, "avx512");
    return paths;
}

TEST_P(ConvDirectTest, Avx512GivesTheAvx2Bits) {
    if (!kernels::convAvx512Available())
        GTEST_SKIP() << "no AVX-512 on this CPU";
    // The 16-lane kernels sum every output in the 8-lane kernels' order: the same bits,
    // on the direct path, on Winograd and on blocked Winograd, at any thread count.
    const ConvCase& c = GetParam();
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " thread(s)");
        const ConvRun runs[][2] = {
            {runConv(c, ConvPath::DirectAvx2, threads),
             runConv(c, ConvPath::DirectAvx512, threads)},
            {runWithoutWinograd(c, ConvPath::DirectAvx2, threads),
             runWithoutWinograd(c, ConvPath::DirectAvx512, threads)},
            {runWithTinyWinogradScratch(c, ConvPath::DirectAvx2, threads),
             runWithTinyWinogradScratch(c, ConvPath::DirectAvx512, threads)}};
        for (const auto& [avx2, avx512] : runs)
            expectSameBits(avx512, avx2);
    }
}

TEST_P(ConvDirectTest, Avx512MatchesGemm) {
    if (!kernels::convAvx512Available())
        GTEST_SKIP() << "no AVX-512 on this CPU";
    const ConvCase& c = GetParam();
    const ConvRun ref = runConv(c, ConvPath::Gemm, 1);
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " thread(s)");
        expectSameAsGemm(runConv(c, ConvPath::DirectAvx512, threads), ref);
    }
}

TEST_P(ConvDirectTest, RepeatsBitForBit) {
    const ConvCase& c = GetParam();
    const ConvPath path =
        kernels::convAvx2Available() ? ConvPath::DirectAvx2 : ConvPath::DirectPortable;
    const ConvRun a = runConv(c, path, 2);
    const ConvRun b = runConv(c, path, 2);
    expectSameBits(a, b);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvDirectTest,
    ::testing::Values(
        // name, n, h, w, cin, cout, kh, kw, padding, activation, bias
        ConvCase{"unet_like_16", 2, 12, 12, 16, 16, 3, 3, "same", "relu", true},
        ConvCase{"odd_channels", 2, 9, 7, 5, 11, 3, 3, "same", "relu", true},
        ConvCase{"rgb_in", 3, 8, 10, 3, 16, 3, 3, "same", "relu", true},
        ConvCase{"wide_out_tail", 2, 6, 13, 17, 37, 3, 3, "same", "linear", true},
        ConvCase{"deep_small", 2, 4, 4, 64, 48, 3, 3, "same", "relu", true},
        // Rows of 30 (two 12-pixel tiles and a rest), 20 input channels (a 12-channel
        // tile and a rest), 48 outputs (a pair of 16-channel blocks and a single one).
        ConvCase{"wide_tiles_and_rests", 2, 5, 30, 20, 48, 3, 3, "same", "relu", true},
        ConvCase{"winograd_narrow_in", 2, 9, 8, 8, 64, 3, 3, "same", "relu", true},
        ConvCase{"one_pixel_wide", 2, 7, 1, 9, 8, 3, 3, "same", "relu", false},
        ConvCase{"valid_tanh", 1, 9, 11, 7, 20, 3, 3, "valid", "tanh", true},
        ConvCase{"even_kernel_same", 2, 5, 6, 6, 9, 2, 2, "same", "linear", true},
        ConvCase{"kernel_wider_than_image", 1, 3, 3, 4, 5, 5, 5, "same", "relu", true},
        ConvCase{"rect_kernel", 2, 7, 8, 5, 12, 1, 3, "same", "leaky_relu", true},
        ConvCase{"pointwise", 2, 10, 10, 13, 24, 1, 1, "valid", "relu", true},
        ConvCase{"sigmoid_head", 2, 8, 8, 16, 1, 1, 1, "same", "sigmoid", true},
        // 3×3 with channels in multiples of 8: Winograd F(4×4, 3×3) for the output and
        // the input gradient, tiles cut by the image edge, half-used channel blocks.
        ConvCase{"winograd_valid", 2, 11, 9, 16, 32, 3, 3, "valid", "relu", true},
        ConvCase{"winograd_partial_tiles", 3, 7, 13, 24, 40, 3, 3, "same", "linear", true},
        ConvCase{"winograd_unet_32", 2, 16, 16, 32, 32, 3, 3, "same", "relu", false},
        // Deep and low-resolution (the bottleneck's shape): one group takes all tiles.
        ConvCase{"winograd_deep_low_res", 2, 8, 8, 128, 96, 3, 3, "same", "relu", true},
        // Weight-heavy (36·C·F past the scratch budgets): filters transformed per block of
        // output channels, weight gradient summed per block of C × F over all tiles.
        ConvCase{"winograd_weight_heavy", 2, 8, 8, 256, 256, 3, 3, "same", "relu", true},
        // Weight-heavy with odd sizes, 'valid' padding and half-used 16-channel blocks.
        ConvCase{"winograd_heavy_odd", 3, 6, 9, 136, 232, 3, 3, "valid", "relu", true},
        // Few pixels for many channels: the gathered schedule (im2col rows, 32 output
        // channels per task), 'same' and 'valid' (the adjoint then pads by 2), with
        // tail blocks of 8 channels on both sides and a partial 48-row weight task.
        ConvCase{"gathered_bottleneck", 1, 4, 4, 256, 256, 3, 3, "same", "relu", true},
        ConvCase{"gathered_odd", 2, 3, 5, 200, 168, 3, 3, "valid", "linear", true},
        // Conv2DTranspose, kernel == strides: 1×1 direct convolution + shuffle.
        ConvCase{"transpose_unet_up", 2, 6, 5, 32, 16, 2, 2, "same", "linear", true,
                 "Conv2DTranspose", 2},
        ConvCase{"transpose_odd_relu", 3, 5, 7, 7, 11, 2, 2, "valid", "relu", true,
                 "Conv2DTranspose", 2},
        ConvCase{"transpose_3x3_sigmoid", 1, 4, 3, 5, 20, 3, 3, "valid", "sigmoid", false,
                 "Conv2DTranspose", 3},
        // Overlapping windows stay on the GEMM path (both runs agree trivially; shapes checked).
        ConvCase{"transpose_overlapping", 2, 4, 4, 6, 5, 3, 3, "same", "relu", true,
                 "Conv2DTranspose", 2}),
    [](const ::testing::TestParamInfo<ConvCase>& c) { return std::string(c.param.name); });

/// The same case with Winograd off: the direct kernels for every 3×3 layer.
ConvRun runWithoutWinograd(const ConvCase& c, ConvPath path, int threads) {
    kernels::setConvWinograd(false);
    ConvRun r = runConv(c, path, threads);
    kernels::setConvWinograd(true);
    return r;
}

TEST_P(ConvDirectTest, WinogradMatchesDirectAndIgnoresTheThreadCount) {
    const ConvCase& c = GetParam();
    for (const auto& [path, name] : directPaths()) {
        SCOPED_TRACE(name);
        const ConvRun direct = runWithoutWinograd(c, path, 1);
        const ConvRun one = runConv(c, path, 1);
        expectSameAsGemm(one, direct);
        // Each tile is computed the same way whichever group or thread takes it.
        const ConvRun two = runConv(c, path, 2);
        EXPECT_EQ(one.y, two.y);
        EXPECT_EQ(one.dx, two.dx);
    }
}

/// Winograd with scratch budgets so small that every 3×3 layer takes the blocked
/// paths: filters transformed 16 output channels at a time, super-groups of 4 tiles,
/// the weight gradient cut into blocks of C × F.
ConvRun runWithTinyWinogradScratch(const ConvCase& c, ConvPath path, int threads) {
    const kernels::WinogradScratchLimits saved = kernels::winogradScratchLimits();
    kernels::setWinogradScratchLimits({1, 1, 0});
    ConvRun r = runConv(c, path, threads);
    kernels::setWinogradScratchLimits(saved);
    return r;
}

/// c's geometry as the Conv2D kernel sees it.
kernels::ConvGeometry geometryOf(const ConvCase& c) {
    const bool same = std::string(c.padding) == "same";
    const std::int64_t oh = same ? c.h : c.h - c.kh + 1, ow = same ? c.w : c.w - c.kw + 1;
    return kernels::makeConvGeometry(c.n, c.h, c.w, c.cin, oh, ow, c.kh, c.kw, 1, 1, 1, 1, same);
}

/// Whether c's layer runs Winograd on the direct kernels.
bool takesWinograd(const ConvCase& c) {
    if (std::string(c.op) != "Conv2D" || c.stride != 1)
        return false;
    kernels::setConvPath(ConvPath::DirectPortable);
    const bool winograd = kernels::useWinogradConv(geometryOf(c), c.cout);
    kernels::setConvPath(ConvPath::Auto);
    return winograd;
}

TEST_P(ConvDirectTest, BlockedWinogradMatchesDirectAndIgnoresTheThreadCount) {
    const ConvCase& c = GetParam();
    if (!takesWinograd(c))
        GTEST_SKIP() << "not a Winograd layer";
    for (const auto& [path, name] : directPaths()) {
        SCOPED_TRACE(name);
        const ConvRun direct = runWithoutWinograd(c, path, 1);
        const ConvRun one = runWithTinyWinogradScratch(c, path, 1);
        expectSameAsGemm(one, direct);
        // Every block of outputs and of weight-gradient sums has one writer, whatever
        // the thread count.
        const ConvRun two = runWithTinyWinogradScratch(c, path, 2);
        expectSameBits(one, two);
        EXPECT_EQ(two.dw, runWithTinyWinogradScratch(c, path, 2).dw);
    }
}

/// c as its kernels cut it for `threads` threads (a simulating census: engineThreads()
/// answers `threads`), each chunk run in turn on this thread.
ConvRun runAsIfOnThreads(const ConvCase& c, ConvPath path, int threads) {
    const ParallelCensus census(threads);
    return runConv(c, path, 1);
}

TEST_P(ConvDirectTest, WinogradCutForManyThreadsMatchesDirect) {
    // At 16 and 64 threads the small layers take the schemes for many threads: the
    // blocked forward and input gradient (fewer than 12 tiles per thread), the weight
    // gradient summed by position (chunks of fewer than 32 tiles).
    const ConvCase& c = GetParam();
    if (!takesWinograd(c))
        GTEST_SKIP() << "not a Winograd layer";
    for (const auto& [path, name] : directPaths()) {
        SCOPED_TRACE(name);
        const ConvRun direct = runWithoutWinograd(c, path, 1);
        expectSameAsGemm(runAsIfOnThreads(c, path, 16), direct);
        expectSameAsGemm(runAsIfOnThreads(c, path, 64), direct);
        // Simulated threads compute the bits of real ones.
        expectSameBits(runAsIfOnThreads(c, path, 2), runConv(c, path, 2));
    }
}

TEST(ConvDirect, WinogradWeightGradientByPositionIgnoresTheThreadCount) {
    // 32 tiles of 32 → 32 channels: one thread sums them in one chunk; at 16 and 64
    // threads chunks would hold 12 tiles, so m[36][C][F] is summed by position, each
    // element by one unit over all tiles in order: the same bits at either count.
    const ConvCase c{"by_position", 2, 16, 16, 32, 32, 3, 3, "same", "relu", true};
    ASSERT_TRUE(takesWinograd(c));
    for (const auto& [path, name] : directPaths()) {
        SCOPED_TRACE(name);
        const ConvRun sixteen = runAsIfOnThreads(c, path, 16);
        const ConvRun sixtyFour = runAsIfOnThreads(c, path, 64);
        EXPECT_EQ(sixteen.dw, sixtyFour.dw);
        EXPECT_EQ(sixteen.db, sixtyFour.db);
        expectSameAsGemm(sixteen, runWithoutWinograd(c, path, 1));
    }
}

TEST(ConvDirect, GatheredScheduleTakesFewPixelsWithManyChannelsAndIgnoresTheThreadCount) {
    // The 64-filter U-Net's bottleneck at batch 1 (8×8, 1024 → 1024) is gathered, and
    // Winograd declines it; the level above it (16×16, 512 → 512) and the same
    // bottleneck at batch 4 (its patches past 8 MiB) are not.
    const auto g = [](std::int64_t n, std::int64_t hw, std::int64_t c) {
        return kernels::makeConvGeometry(n, hw, hw, c, hw, hw, 3, 3, 1, 1, 1, 1, true);
    };
    EXPECT_TRUE(kernels::useGatheredConv(g(1, 8, 1024), 1024));
    EXPECT_FALSE(kernels::useWinogradConv(g(1, 8, 1024), 1024));
    EXPECT_FALSE(kernels::useGatheredConv(g(1, 16, 512), 512));
    EXPECT_TRUE(kernels::useWinogradConv(g(1, 16, 512), 512));
    EXPECT_FALSE(kernels::useGatheredConv(g(4, 8, 1024), 1024));
    EXPECT_FALSE(kernels::useGatheredConv(
        kernels::makeConvGeometry(1, 4, 4, 256, 4, 4, 1, 1, 1, 1, 1, 1, true), 256))
        << "a 1×1 convolution has nothing to gather";
    // Each output and each weight-gradient row has one writer, whatever the thread count.
    for (const ConvCase& c :
         {ConvCase{"gathered", 1, 4, 4, 256, 256, 3, 3, "same", "relu", true},
          ConvCase{"gathered_odd", 2, 3, 5, 200, 168, 3, 3, "valid", "linear", true}}) {
        SCOPED_TRACE(c.name);
        ASSERT_TRUE(kernels::useGatheredConv(geometryOf(c), c.cout));
        for (const auto& [path, name] : directPaths()) {
            SCOPED_TRACE(name);
            const ConvRun one = runConv(c, path, 1);
            const ConvRun two = runConv(c, path, 2);
            expectSameBits(one, two);
        }
    }
}

TEST(ConvDirect, WinogradWeightHeavyGradientIgnoresTheThreadCount) {
    // At the default budgets a 256 → 256 layer at 8×8 cuts its weight gradient into
    // blocks of C × F: 1 and 2 threads give the same bits.
    const ConvCase c{"heavy", 2, 8, 8, 256, 256, 3, 3, "same", "relu", true};
    ASSERT_TRUE(takesWinograd(c));
    const ConvPath path =
        kernels::convAvx2Available() ? ConvPath::DirectAvx2 : ConvPath::DirectPortable;
    const ConvRun one = runConv(c, path, 1);
    const ConvRun two = runConv(c, path, 2);
    EXPECT_EQ(one.dw, two.dw);
    EXPECT_EQ(one.db, two.db);
}

TEST(ConvDirect, WinogradTakesOnly3x3StrideOneWithChannelsInEights) {
    using kernels::makeConvGeometry;
    EXPECT_TRUE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, true), 32));
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 3, 8, 8, 3, 3, 1, 1, 1, 1, true), 16));
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, true), 12));
    EXPECT_TRUE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, true), 16));
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1, true), 16));
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 4, 4, 3, 3, 2, 2, 1, 1, true), 16));
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 1, 1, 1, 1, 1, 1, true), 16));
    kernels::setConvWinograd(false);
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, true), 32));
    kernels::setConvWinograd(true);
    kernels::setConvPath(ConvPath::Gemm);
    EXPECT_FALSE(
        kernels::useWinogradConv(makeConvGeometry(1, 8, 8, 16, 8, 8, 3, 3, 1, 1, 1, 1, true), 32));
    kernels::setConvPath(ConvPath::Auto);
}

TEST(ConvDirect, AutoUsesTheWidestKernelsTheCpuHas) {
    kernels::setConvPath(ConvPath::Auto);
    const std::string name = kernels::convPathName();
    if (std::getenv("SEGFORGE_CONV_PORTABLE"))
        GTEST_SKIP() << "portable path forced by the environment";
    EXPECT_EQ(name, kernels::convAvx512Available() ? "avx512"
                    : kernels::convAvx2Available() ? "avx2"
                                                   : "portable");
    if (kernels::convAvx512Available()) { // a forced path answers its own name
        kernels::setConvPath(ConvPath::DirectAvx2);
        EXPECT_STREQ(kernels::convPathName(), "avx2");
        kernels::setConvPath(ConvPath::DirectAvx512);
        EXPECT_STREQ(kernels::convPathName(), "avx512");
        kernels::setConvPath(ConvPath::Auto);
    }
}

TEST(ConvDirect, StridedAndDilatedStayOnGemm) {
    kernels::ConvGeometry g = kernels::makeConvGeometry(1, 8, 8, 4, 4, 4, 3, 3, 2, 2, 1, 1, true);
    EXPECT_FALSE(kernels::useDirectConv(g));
    g = kernels::makeConvGeometry(1, 8, 8, 4, 8, 8, 3, 3, 1, 1, 2, 2, true);
    EXPECT_FALSE(kernels::useDirectConv(g));
    g = kernels::makeConvGeometry(1, 8, 8, 4, 8, 8, 3, 3, 1, 1, 1, 1, true);
    EXPECT_TRUE(kernels::useDirectConv(g));
    kernels::setConvPath(ConvPath::Gemm);
    EXPECT_FALSE(kernels::useDirectConv(g));
    kernels::setConvPath(ConvPath::Auto);
}

} // namespace
