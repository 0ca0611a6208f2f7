// ONNX import, end to end in C++: the imported weights are written beside a
// project (writeWeightsMap), loaded into the engine as a reopened project
// loads them (readProjectWeights), and the forward pass matches PyTorch's
// definitions of Conv (stride 2, padding 1) and ConvTranspose (stride 2,
// padding 1, output_padding 1), computed here naively in NCHW.

#include "engine/executor.hpp"
#include "engine/project_weights.hpp"
#include "onnx_build.hpp"

#include <cmath>
#include <filesystem>
#include <unistd.h>

using namespace segforge::core;
using namespace segforge::core::interop;
using namespace segforge::core::testing;

namespace {

using Vec = std::vector<float>;

float wave(std::size_t i, float scale) {
    return std::sin(static_cast<float>(i) * 0.7f + scale) * scale;
}

Vec values(std::size_t n, float scale) {
    Vec v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = wave(i, scale);
    return v;
}

/// PyTorch's Conv2d, NCHW, batch 1: W (O, I, k, k).
Vec conv(const Vec& x, int c, int h, int w, const Vec& wt, const Vec& bias, int o, int k, int s,
         int p, int& oh, int& ow) {
    oh = (h + 2 * p - k) / s + 1;
    ow = (w + 2 * p - k) / s + 1;
    Vec out(static_cast<std::size_t>(o * oh * ow));
    for (int f = 0; f < o; ++f)
        for (int y = 0; y < oh; ++y)
            for (int xx = 0; xx < ow; ++xx) {
                double acc = bias[static_cast<std::size_t>(f)];
                for (int i = 0; i < c; ++i)
                    for (int ky = 0; ky < k; ++ky)
                        for (int kx = 0; kx < k; ++kx) {
                            const int iy = y * s - p + ky, ix = xx * s - p + kx;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w)
                                continue;
                            acc += x[static_cast<std::size_t>((i * h + iy) * w + ix)] *
                                   wt[static_cast<std::size_t>(((f * c + i) * k + ky) * k + kx)];
                        }
                out[static_cast<std::size_t>((f * oh + y) * ow + xx)] = static_cast<float>(acc);
            }
    return out;
}

/// PyTorch's ConvTranspose2d, NCHW, batch 1: W (I, O, k, k).
Vec convTranspose(const Vec& x, int c, int h, int w, const Vec& wt, const Vec& bias, int o, int k,
                  int s, int p, int op, int& oh, int& ow) {
    oh = (h - 1) * s - 2 * p + k + op;
    ow = (w - 1) * s - 2 * p + k + op;
    Vec out(static_cast<std::size_t>(o * oh * ow));
    for (int f = 0; f < o; ++f)
        for (int i = 0; i < oh * ow; ++i)
            out[static_cast<std::size_t>(f * oh * ow + i)] = bias[static_cast<std::size_t>(f)];
    for (int i = 0; i < c; ++i)
        for (int y = 0; y < h; ++y)
            for (int xx = 0; xx < w; ++xx)
                for (int f = 0; f < o; ++f)
                    for (int ky = 0; ky < k; ++ky)
                        for (int kx = 0; kx < k; ++kx) {
                            const int oy = y * s - p + ky, ox = xx * s - p + kx;
                            if (oy < 0 || oy >= oh || ox < 0 || ox >= ow)
                                continue;
                            out[static_cast<std::size_t>((f * oh + oy) * ow + ox)] +=
                                x[static_cast<std::size_t>((i * h + y) * w + xx)] *
                                wt[static_cast<std::size_t>(((i * o + f) * k + ky) * k + kx)];
                        }
    return out;
}

} // namespace

TEST(OnnxImportForward, WeightsWrittenReloadedAndTheForwardMatchesPyTorchDefinitions) {
    constexpr int kC = 2, kH = 6, kW = 7, kF = 3;
    OnnxBuild b;
    b.input("x", {1, kC, kH, kW});
    const Vec w1 = values(kF * kC * 9, 0.5f), b1 = values(kF, 0.3f);
    const Vec w2 = values(kF * kC * 9, 0.4f), b2 = values(kC, 0.2f);
    b.init("down.weight", {kF, kC, 3, 3}, w1);
    b.init("down.bias", {kF}, b1);
    b.init("up.weight", {kF, kC, 3, 3}, w2); // (in, out, k, k)
    b.init("up.bias", {kC}, b2);
    auto& c1 = b.node("Conv", "/down/Conv", {"x", "down.weight", "down.bias"}, {"a"});
    setInts(c1, "strides", {2, 2});
    setInts(c1, "pads", {1, 1, 1, 1});
    b.node("Relu", "/down/Relu", {"a"}, {"r"});
    auto& t = b.node("ConvTranspose", "/up/ConvTranspose", {"r", "up.weight", "up.bias"}, {"y"});
    setInts(t, "strides", {2, 2});
    setInts(t, "pads", {1, 1, 1, 1});
    setInts(t, "output_padding", {1, 1});
    OnnxImport r = importOk(b);
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;

    const auto dir =
        std::filesystem::temp_directory_path() / ("onnx_forward_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    SavedWeights saved = writeWeightsMap(dir / "net.segforge", g, r.weights);
    ASSERT_TRUE(saved.section) << saved.error;
    std::string error;
    auto exec = Executor::compileWithoutLoss(g, error);
    ASSERT_TRUE(exec) << error;
    exec->initializeParameters(3);
    LoadedWeights loaded = readProjectWeights(dir / "net.segforge", *saved.section, *exec, g);
    EXPECT_TRUE(loaded.match.complete()) << describeWeightsMatch(loaded.match);
    EXPECT_TRUE(loaded.sameNetwork);
    EXPECT_EQ(loaded.match.loaded.size(), 4u);
    std::filesystem::remove_all(dir);

    const Vec x = values(kC * kH * kW, 1.0f);
    Tensor in(Shape{1, kH, kW, kC}, DType::Float32);
    for (int c = 0; c < kC; ++c)
        for (int y = 0; y < kH; ++y)
            for (int xx = 0; xx < kW; ++xx)
                in.f32()[(y * kW + xx) * kC + c] =
                    x[static_cast<std::size_t>((c * kH + y) * kW + xx)];
    exec->feedInput("x", in);
    exec->beginStep(false);
    exec->run();

    int h1 = 0, w1Len = 0, h2 = 0, w2Len = 0;
    Vec a = conv(x, kC, kH, kW, w1, b1, kF, 3, 2, 1, h1, w1Len);
    for (float& v : a)
        v = std::max(v, 0.0f);
    const Vec want = convTranspose(a, kF, h1, w1Len, w2, b2, kC, 3, 2, 1, 1, h2, w2Len);
    ASSERT_EQ(h2, 6);
    ASSERT_EQ(w2Len, 8); // (4 − 1)·2 − 2 + 3 + 1
    const Node& last = node(g, "up_crop");
    const Tensor* got = exec->output(last.id, "output");
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->shape(), (Shape{1, h2, w2Len, kC}));
    for (int c = 0; c < kC; ++c)
        for (int y = 0; y < h2; ++y)
            for (int xx = 0; xx < w2Len; ++xx)
                EXPECT_NEAR(got->f32()[(y * w2Len + xx) * kC + c],
                            want[static_cast<std::size_t>((c * h2 + y) * w2Len + xx)], 1e-5)
                    << "channel " << c << " at " << y << "," << xx;
}
