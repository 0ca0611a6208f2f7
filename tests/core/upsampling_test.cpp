// UpSampling2D's bilinear interpolation: half-pixel centres (Keras, the
// default) and align_corners (PyTorch's align_corners=True, ONNX Resize's
// coordinate_transformation_mode 'align_corners'). The threaded kernels are
// compared bit for bit with a serial scatter (the kernel as it was before it
// was threaded) at 1 and 2 threads; values against the formula in double;
// the checker, the exporters and the Keras importer around the attribute.
// PyTorch's own values are in tests/data/reference (ReferenceOp.*upsample*).

#include "engine_op_harness.hpp"
#include "export/python_script_export.hpp"
#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "kernels/parallel.hpp"
#include "onnx/onnx_export.hpp"
#include "ops/op_helpers.hpp"

#include <algorithm>
#include <cmath>
#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using V = std::vector<std::int64_t>;

namespace {

AttrMap bilinear(V size, bool alignCorners) {
    return {{"size", std::move(size)},
            {"interpolation", std::string("bilinear")},
            {"align_corners", alignCorners}};
}

/// Source coordinate of output index o along an axis of `in` pixels upsampled
/// `factor` times: PyTorch's formula for each mode.
double sourceOf(std::int64_t o, std::int64_t in, std::int64_t factor, bool alignCorners) {
    const std::int64_t out = in * factor;
    if (alignCorners)
        return out > 1 ? double(o) * double(in - 1) / double(out - 1) : 0.0;
    return std::max(0.0, (double(o) + 0.5) / double(factor) - 0.5);
}

/// Bilinear upsampling of x (NHWC) in double, straight from the formula.
std::vector<double> formula(const Tensor& x, V size, bool alignCorners) {
    const std::int64_t n = x.batch(), h = x.height(), w = x.width(), c = x.channels();
    const std::int64_t oh = h * size[0], ow = w * size[1];
    std::vector<double> y;
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t oy = 0; oy < oh; ++oy)
            for (std::int64_t ox = 0; ox < ow; ++ox)
                for (std::int64_t k = 0; k < c; ++k) {
                    const double sy = sourceOf(oy, h, size[0], alignCorners);
                    const double sx = sourceOf(ox, w, size[1], alignCorners);
                    const auto y0 = std::min<std::int64_t>(std::int64_t(sy), h - 1);
                    const auto x0 = std::min<std::int64_t>(std::int64_t(sx), w - 1);
                    const std::int64_t y1 = std::min(y0 + 1, h - 1), x1 = std::min(x0 + 1, w - 1);
                    const double fy = sy - double(y0), fx = sx - double(x0);
                    auto at = [&](std::int64_t yy, std::int64_t xx) {
                        return double(x.f32()[((b * h + yy) * w + xx) * c + k]);
                    };
                    y.push_back((1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x1)) +
                                fy * ((1 - fx) * at(y1, x0) + fx * at(y1, x1)));
                }
    return y;
}

/// The serial scatter the kernel was before it was threaded (float taps, four
/// weighted adds per output pixel in the order (lo, lo), (lo, hi), (hi, lo),
/// (hi, hi)), with align_corners' source coordinate added: the threaded kernel
/// must give exactly its bits.
struct Scatter {
    struct Tap {
        std::int64_t lo = 0, hi = 0;
        float frac = 0;
    };
    static std::vector<Tap> taps(std::int64_t in, std::int64_t factor, bool align) {
        std::vector<Tap> t(static_cast<std::size_t>(in * factor));
        const std::int64_t out = in * factor;
        for (std::int64_t o = 0; o < out; ++o) {
            const double src = align ? (out > 1 ? double(o * (in - 1)) / double(out - 1) : 0.0)
                                     : (double(o) + 0.5) / double(factor) - 0.5;
            const double base = std::floor(src);
            Tap& tap = t[static_cast<std::size_t>(o)];
            tap.frac = static_cast<float>(src - base);
            tap.lo = std::clamp<std::int64_t>(std::int64_t(base), 0, in - 1);
            tap.hi = std::clamp<std::int64_t>(std::int64_t(base) + 1, 0, in - 1);
        }
        return t;
    }
    template <typename Fn> static void run(const Tensor& x, V size, bool align, Fn&& fn) {
        const std::int64_t h = x.height(), w = x.width(), c = x.channels();
        const std::int64_t oh = h * size[0], ow = w * size[1];
        const auto ty = taps(h, size[0], align), tx = taps(w, size[1], align);
        for (std::int64_t n = 0; n < x.batch(); ++n)
            for (std::int64_t oy = 0; oy < oh; ++oy)
                for (std::int64_t ox = 0; ox < ow; ++ox) {
                    const std::int64_t o = ((n * oh + oy) * ow + ox) * c;
                    const Tap& a = ty[static_cast<std::size_t>(oy)];
                    const Tap& b = tx[static_cast<std::size_t>(ox)];
                    for (std::int64_t k = 0; k < c; ++k) {
                        fn(o + k, ((n * h + a.lo) * w + b.lo) * c + k, (1 - a.frac) * (1 - b.frac));
                        fn(o + k, ((n * h + a.lo) * w + b.hi) * c + k, (1 - a.frac) * b.frac);
                        fn(o + k, ((n * h + a.hi) * w + b.lo) * c + k, a.frac * (1 - b.frac));
                        fn(o + k, ((n * h + a.hi) * w + b.hi) * c + k, a.frac * b.frac);
                    }
                }
    }
};

struct Passes {
    std::vector<float> y, dx;
};

/// Forward and backward through the op's schema at `threads` threads; dx starts
/// from non-zero values (backward accumulates).
Passes runKernel(const Tensor& x, const Tensor& dy, V size, bool align, int threads) {
    setEngineThreads(threads);
    OpHarness h("UpSampling2D", bilinear(size, align), {x});
    Passes r;
    if (!h.ok()) {
        setEngineThreads(1);
        return r;
    }
    h.forward();
    Tensor dout = dy, din = uniformTensor(x.shape().dims(), -0.5f, 0.5f, 5);
    KernelContext ctx = h.context();
    ctx.outputGrads = {&dout};
    ctx.inputGrads = {&din};
    h.schema().backward(ctx);
    setEngineThreads(1);
    r.y.assign(h.outputs()[0].f32(), h.outputs()[0].f32() + h.outputs()[0].numel());
    r.dx.assign(din.f32(), din.f32() + din.numel());
    return r;
}

Passes runScatter(const Tensor& x, const Tensor& dy, V size, bool align) {
    Passes r;
    r.y.assign(static_cast<std::size_t>(dy.numel()), 0.0f);
    Tensor din = uniformTensor(x.shape().dims(), -0.5f, 0.5f, 5);
    r.dx.assign(din.f32(), din.f32() + din.numel());
    // The old kernel looped channels innermost per tap: per element, the same order.
    Scatter::run(x, size, align, [&](std::int64_t o, std::int64_t i, float weight) {
        r.y[static_cast<std::size_t>(o)] += weight * x.f32()[i];
    });
    Scatter::run(x, size, align, [&](std::int64_t o, std::int64_t i, float weight) {
        r.dx[static_cast<std::size_t>(i)] += weight * dy.f32()[o];
    });
    return r;
}

/// Exact float equality, naming the first element that differs.
::testing::AssertionResult sameBits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure() << a.size() << " values, expected " << b.size();
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i]))
            return ::testing::AssertionFailure()
                   << "element " << i << ": " << a[i] << " vs " << b[i];
    return ::testing::AssertionSuccess();
}

Graph upGraph(AttrMap attrs, int h = 5, int w = 4) {
    GraphBuilder b;
    b.then("UpSampling2D", "up", out(b.input(h, w, 3)), std::move(attrs));
    return b.graph;
}

} // namespace

TEST(UpSamplingAlignCorners, OneDimensionIsPyTorchsGrid) {
    // F.interpolate([0, 1, 3], scale_factor=2, mode='linear', align_corners=True):
    // sources 0, 0.4, 0.8, 1.2, 1.6, 2.
    const Tensor x = tensorOf({1, 1, 3, 1}, {0, 1, 3});
    OpHarness h("UpSampling2D", bilinear({1, 2}, true), {x});
    ASSERT_TRUE(h.ok());
    h.forward();
    const std::vector<float> want{0, 0.4f, 0.8f, 1.4f, 2.2f, 3};
    ASSERT_EQ(h.outputs()[0].numel(), 6);
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_FLOAT_EQ(h.outputs()[0].f32()[i], want[i]) << i;
    // Half-pixel centres on the same input: sources 0 (clamped), 0.25, 0.75, 1.25, 1.75, 2
    // (clamped).
    OpHarness half("UpSampling2D", bilinear({1, 2}, false), {x});
    half.forward();
    const std::vector<float> wantHalf{0, 0.25f, 0.75f, 1.5f, 2.5f, 3};
    for (std::size_t i = 0; i < wantHalf.size(); ++i)
        EXPECT_FLOAT_EQ(half.outputs()[0].f32()[i], wantHalf[i]) << i;
}

TEST(UpSamplingAlignCorners, CornersAreTheInputsAndTheRestIsTheFormula) {
    for (const V& size : {V{2, 2}, V{3, 3}, V{2, 3}, V{3, 1}}) {
        for (bool align : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "size " << size[0] << "×" << size[1]
                                              << (align ? " align_corners" : " half-pixel"));
            const Tensor x = uniformTensor({2, 4, 3, 2}, -1, 1, 21);
            OpHarness h("UpSampling2D", bilinear(size, align), {x});
            ASSERT_TRUE(h.ok());
            h.forward();
            const Tensor& y = h.outputs()[0];
            const auto want = formula(x, size, align);
            ASSERT_EQ(y.numel(), static_cast<std::int64_t>(want.size()));
            for (std::size_t i = 0; i < want.size(); ++i)
                EXPECT_NEAR(y.f32()[i], want[i], 1e-6) << i;
            if (!align)
                continue;
            // The four corner pixels of every channel are the input's, exactly.
            const std::int64_t oh = y.height(), ow = y.width();
            const std::int64_t rows[2][2] = {{0, 0}, {oh - 1, 3}};
            const std::int64_t cols[2][2] = {{0, 0}, {ow - 1, 2}};
            for (std::int64_t n = 0; n < 2; ++n)
                for (const auto& r : rows)
                    for (const auto& c : cols)
                        for (std::int64_t k = 0; k < 2; ++k)
                            EXPECT_EQ(y.f32()[((n * oh + r[0]) * ow + c[0]) * 2 + k],
                                      x.f32()[((n * 4 + r[1]) * 3 + c[1]) * 2 + k]);
        }
    }
}

TEST(UpSamplingAlignCorners, ASinglePixelAxisReadsSourceZero) {
    // in = 1: (in − 1)/(out − 1) = 0, every output row is the input row.
    const Tensor x = uniformTensor({1, 1, 3, 2}, -1, 1, 4);
    OpHarness h("UpSampling2D", bilinear({3, 2}, true), {x});
    ASSERT_TRUE(h.ok());
    h.forward();
    const auto want = formula(x, {3, 2}, true);
    for (std::size_t i = 0; i < want.size(); ++i)
        EXPECT_NEAR(h.outputs()[0].f32()[i], want[i], 1e-6) << i;
    for (std::int64_t oy = 1; oy < 3; ++oy)
        for (std::int64_t i = 0; i < 6 * 2; ++i)
            EXPECT_EQ(h.outputs()[0].f32()[oy * 12 + i], h.outputs()[0].f32()[i]);
}

// The threaded kernel gives the serial scatter's bits, forward and backward, at 1
// and 2 threads: with align_corners false that is the kernel as it was.
TEST(UpSamplingAlignCorners, ThreadedKernelHasTheSerialScattersBits) {
    for (const V& size : {V{2, 2}, V{3, 3}, V{2, 3}, V{1, 4}}) {
        for (bool align : {false, true}) {
            SCOPED_TRACE(::testing::Message() << "size " << size[0] << "×" << size[1]
                                              << (align ? " align_corners" : " half-pixel"));
            const Tensor x = uniformTensor({3, 5, 7, 3}, -1, 1, 8);
            const Tensor dy = uniformTensor({3, 5 * size[0], 7 * size[1], 3}, -1, 1, 9);
            const Passes serial = runScatter(x, dy, size, align);
            for (int threads : {1, 2}) {
                SCOPED_TRACE(::testing::Message() << threads << " threads");
                const Passes r = runKernel(x, dy, size, align, threads);
                EXPECT_TRUE(sameBits(r.y, serial.y)) << "forward";
                EXPECT_TRUE(sameBits(r.dx, serial.dx)) << "backward";
            }
        }
    }
}

TEST(UpSamplingAlignCorners, NearestWithAlignCornersIsABadAttribute) {
    Graph g = upGraph({{"align_corners", true}});
    CheckResult r = checkGraph(g, CheckOptions::withoutInputSizeSweep());
    const Diagnostic& d = expectDiagnostic(r, codes::kBadAttribute);
    EXPECT_EQ(d.node, node(g, "up").id);
    EXPECT_THAT(d.message, HasSubstr("UpSampling2D 'up'"));
    EXPECT_THAT(d.message, HasSubstr("align_corners = true needs interpolation = bilinear"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_EQ(d.fixes.front().description, "Set align_corners to false");
    r = applyFirstFix(g, codes::kBadAttribute);
    EXPECT_TRUE(r.find(codes::kBadAttribute).empty()) << codesOf(r);
    EXPECT_FALSE(node(g, "up").attrs.count("align_corners"));

    // Bilinear with it checks, the shape as without.
    Graph ok = upGraph(bilinear({2, 3}, true));
    CheckResult okr = checkGraph(ok, CheckOptions::withoutInputSizeSweep());
    EXPECT_TRUE(okr.find(codes::kBadAttribute).empty()) << codesOf(okr);
    EXPECT_EQ(okr.nodes.at(node(ok, "up").id).outputs.at(0)->shape.toString(),
              Shape::image(10, 12, 3).toString());
}

TEST(UpSamplingAlignCorners, KerasExportsRefuseItAndSayWhy) {
    Project p;
    p.name = "aligned";
    p.graph = upGraph(bilinear({2, 2}, true));
    const std::string why =
        "UpSampling2D 'up' has no Keras layer: Keras' UpSampling2D has only align_corners = "
        "false, and this node has align_corners = true";
    KerasJsonExport json = exportKerasJson(p.graph, "m");
    EXPECT_FALSE(json.ok());
    EXPECT_THAT(::testing::PrintToString(json.errors), HasSubstr(why));
    ScriptExport script = exportKerasScript(p, "");
    EXPECT_FALSE(script.ok());
    EXPECT_THAT(::testing::PrintToString(script.errors), HasSubstr(why));

    // Without align_corners the same layer leaves, and comes back with it false.
    p.graph = upGraph(bilinear({2, 2}, false));
    json = exportKerasJson(p.graph, "m");
    ASSERT_TRUE(json.ok()) << ::testing::PrintToString(json.errors);
    EXPECT_TRUE(exportKerasScript(p, "").ok());
    KerasImport back = importKerasJson(json.model.dump(), "m.json");
    ASSERT_TRUE(back.ok());
    const Node& up = node(back.project->graph, "up");
    const auto align = ops::resolvedAttr(up, "align_corners");
    ASSERT_TRUE(align);
    EXPECT_EQ(attrToString(*align), "false");
    const auto interpolation = ops::resolvedAttr(up, "interpolation");
    ASSERT_TRUE(interpolation);
    EXPECT_EQ(attrToString(*interpolation), "\"bilinear\"");
}

TEST(UpSamplingAlignCorners, PyTorchAndOnnxExportsCarryIt) {
    Project p;
    p.name = "aligned";
    p.graph = upGraph(bilinear({2, 3}, true));
    ScriptExport torch = exportPyTorchScript(p, "");
    ASSERT_TRUE(torch.ok()) << ::testing::PrintToString(torch.errors);
    EXPECT_THAT(torch.text, HasSubstr("self.layers[\"up\"] = nn.Upsample(scale_factor=(2, 3), "
                                      "mode=\"bilinear\", align_corners=True)"));
    const auto noWeights = [](const std::string&) -> const Tensor* { return nullptr; };
    OnnxExport onnx = exportOnnx(p.graph, "m", noWeights);
    ASSERT_TRUE(onnx.ok()) << ::testing::PrintToString(onnx.errors);
    EXPECT_THAT(onnx.bytes, HasSubstr("coordinate_transformation_mode"));
    EXPECT_THAT(onnx.bytes, HasSubstr("align_corners"));
    EXPECT_THAT(onnx.bytes, ::testing::Not(HasSubstr("half_pixel")));

    p.graph = upGraph(bilinear({2, 3}, false));
    torch = exportPyTorchScript(p, "");
    ASSERT_TRUE(torch.ok());
    EXPECT_THAT(torch.text, HasSubstr("mode=\"bilinear\", align_corners=False))"));
    onnx = exportOnnx(p.graph, "m", noWeights);
    ASSERT_TRUE(onnx.ok());
    EXPECT_THAT(onnx.bytes, HasSubstr("half_pixel"));
    EXPECT_THAT(onnx.bytes, ::testing::Not(HasSubstr("align_corners")));
}
