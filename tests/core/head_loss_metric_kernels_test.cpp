// The end of a segmentation step, against naive double loops at 1 and 2
// threads: the 1×1 head with a few classes (conv_pointwise_head), the
// vectorised sigmoid, BCEDice forward and backward, and the Dice / IoU metrics'
// pixel counts. Results must not depend on the thread count at all.

#include "kernel_runs.hpp"
#include "kernels/activation_math.hpp"
#include "kernels/conv_direct.hpp"

#include <cmath>
#include <limits>

using namespace segforge::core;
using namespace segforge::core::testing;
using V = std::vector<std::int64_t>;

namespace {

double sigmoidRef(double x) {
    return 1 / (1 + std::exp(-x));
}

TEST(SigmoidActivation, IsWithinAFewUlpOfTheDoubleFunctionEverywhere) {
    std::vector<float> xs;
    for (float x = -110; x <= 110; x += 0.01173f)
        xs.push_back(x);
    for (float x : {0.0f, -0.0f, 1e-8f, -1e-8f, 87.29f, -87.29f, 87.31f, -87.31f, 88.8f, -88.8f,
                    103.0f, -103.0f, 1e30f, -1e30f})
        xs.push_back(x);
    std::vector<float> y = xs;
    kernels::activateInPlace(y.data(), static_cast<std::int64_t>(y.size()), 1,
                             kernels::ActKind::Sigmoid, 0);
    for (std::size_t i = 0; i < xs.size(); ++i) {
        const double want = sigmoidRef(xs[i]);
        // 3 ulp relative; below x = −87.3 (e^−87.3 ≈ 1.208e-38, about the smallest
        // normal float) the kernel flushes to 0.
        EXPECT_LE(std::fabs(y[i] - want), 3 * 6e-8 * want + 1.21e-38) << "x = " << xs[i];
    }
    std::vector<float> special{std::numeric_limits<float>::infinity(),
                               -std::numeric_limits<float>::infinity(),
                               std::numeric_limits<float>::quiet_NaN()};
    kernels::activateInPlace(special.data(), 3, 1, kernels::ActKind::Sigmoid, 0);
    EXPECT_EQ(special[0], 1.0f);
    EXPECT_EQ(special[1], 0.0f);
    EXPECT_TRUE(std::isnan(special[2])); // the NaN guard must still see it
}

struct HeadCase {
    std::int64_t channels, filters;
    std::string activation;
    bool bias;
};

class PointwiseHead : public ::testing::TestWithParam<HeadCase> {};

TEST_P(PointwiseHead, IsTheNaiveProductAndItsGradients) {
    const HeadCase& c = GetParam();
    const V input{2, 37, 29, c.channels}; // 2146 pixels: several blocks, the last partial
    const Tensor x = uniformTensor(input, -1, 1, 1);
    const Tensor w = uniformTensor({1, 1, c.channels, c.filters}, -0.5f, 0.5f, 2);
    const Tensor b = uniformTensor({c.filters}, -0.5f, 0.5f, 3);
    const Tensor dy = uniformTensor({2, 37, 29, c.filters}, -1, 1, 4);
    const AttrMap attrs{{"filters", c.filters},
                        {"kernel_size", V{1, 1}},
                        {"activation", c.activation},
                        {"use_bias", c.bias}};
    std::vector<Tensor> params{w};
    if (c.bias)
        params.push_back(b);

    // Naive, in double: z = x·w + b, y = act(z), dz = dy·act'(z).
    const std::int64_t pixels = 2 * 37 * 29, cin = c.channels, f = c.filters;
    std::vector<double> y(static_cast<std::size_t>(pixels * f)), dz(y.size());
    for (std::int64_t p = 0; p < pixels; ++p) {
        std::vector<double> z(static_cast<std::size_t>(f));
        for (std::int64_t j = 0; j < f; ++j) {
            double s = c.bias ? b.f32()[j] : 0.0;
            for (std::int64_t k = 0; k < cin; ++k)
                s += double(x.f32()[p * cin + k]) * w.f32()[k * f + j];
            z[static_cast<std::size_t>(j)] = s;
        }
        double mx = -1e300, sum = 0;
        for (double v : z)
            mx = std::max(mx, v);
        for (double v : z)
            sum += std::exp(v - mx);
        double dot = 0;
        for (std::int64_t j = 0; j < f; ++j) {
            const double v = z[static_cast<std::size_t>(j)];
            double out = v;
            if (c.activation == "sigmoid")
                out = sigmoidRef(v);
            else if (c.activation == "relu")
                out = std::max(v, 0.0);
            else if (c.activation == "softmax")
                out = std::exp(v - mx) / sum;
            y[static_cast<std::size_t>(p * f + j)] = out;
            dot += out * dy.f32()[p * f + j];
        }
        for (std::int64_t j = 0; j < f; ++j) {
            const double out = y[static_cast<std::size_t>(p * f + j)], g = dy.f32()[p * f + j];
            double d = g;
            if (c.activation == "sigmoid")
                d = g * out * (1 - out);
            else if (c.activation == "relu")
                d = out > 0 ? g : 0.0;
            else if (c.activation == "softmax")
                d = out * (g - dot);
            dz[static_cast<std::size_t>(p * f + j)] = d;
        }
    }
    std::vector<double> dx(static_cast<std::size_t>(pixels * cin)), dw(w.numel(), 0.0),
        db(static_cast<std::size_t>(f), 0.0);
    const std::vector<float> dx0 = valuesOf(initialGrad(x, 40)), dw0 = valuesOf(initialGrad(w, 60)),
                             db0 = valuesOf(initialGrad(b, 61));
    for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t k = 0; k < cin; ++k) {
            double s = dx0[static_cast<std::size_t>(p * cin + k)];
            for (std::int64_t j = 0; j < f; ++j) {
                const double g = dz[static_cast<std::size_t>(p * f + j)];
                s += g * w.f32()[k * f + j];
                dw[static_cast<std::size_t>(k * f + j)] += g * x.f32()[p * cin + k];
            }
            dx[static_cast<std::size_t>(p * cin + k)] = s;
        }
    for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t j = 0; j < f; ++j)
            db[static_cast<std::size_t>(j)] += dz[static_cast<std::size_t>(p * f + j)];
    for (std::size_t i = 0; i < dw.size(); ++i)
        dw[i] += dw0[i];
    for (std::size_t i = 0; i < db.size(); ++i)
        db[i] += db0[i];

    std::vector<KernelRun> runs;
    for (int threads : {1, 2}) {
        SCOPED_TRACE(::testing::Message() << threads << " threads");
        runs.push_back(runKernels("Conv2D", attrs, {x}, threads, {dy}, params));
        const KernelRun& r = runs.back();
        ASSERT_EQ(r.outputs.size(), 1u);
        EXPECT_TRUE(closeTo(r.outputs[0], y, 1e-6, 1e-5));
        EXPECT_TRUE(closeTo(r.inputGrads.at(0), dx, 1e-6, 1e-5));
        EXPECT_TRUE(closeTo(r.paramGrads.at(0), dw, 1e-4, 1e-5)); // sums of 2146 products
        if (c.bias) {
            EXPECT_TRUE(closeTo(r.paramGrads.at(1), db, 1e-4, 1e-5));
        }
    }
    // Fixed blocks, partials added in block order: the same bits at any thread count.
    EXPECT_TRUE(sameValues(runs[0].outputs[0], runs[1].outputs[0]));
    EXPECT_TRUE(sameValues(runs[0].inputGrads[0], runs[1].inputGrads[0]));
    for (std::size_t p = 0; p < runs[0].paramGrads.size(); ++p)
        EXPECT_TRUE(sameValues(runs[0].paramGrads[p], runs[1].paramGrads[p])) << "param " << p;

    // The Eigen path (forced) agrees too.
    kernels::setConvPath(kernels::ConvPath::Gemm);
    const KernelRun gemm = runKernels("Conv2D", attrs, {x}, 2, {dy}, params);
    kernels::setConvPath(kernels::ConvPath::Auto);
    ASSERT_EQ(gemm.outputs.size(), 1u);
    EXPECT_TRUE(closeTo(gemm.outputs[0], y, 1e-6, 1e-5));
    EXPECT_TRUE(closeTo(gemm.paramGrads.at(0), dw, 1e-4, 1e-5));
}

INSTANTIATE_TEST_SUITE_P(Heads, PointwiseHead,
                         ::testing::Values(HeadCase{16, 1, "sigmoid", true},
                                           HeadCase{13, 1, "sigmoid", false},
                                           HeadCase{21, 3, "softmax", true},
                                           HeadCase{7, 5, "relu", true},
                                           HeadCase{16, 2, "linear", true}));

/// Probabilities with the clip's edge cases in them: 0, 1, below ε, above 1 − ε.
Tensor probabilities(V dims, std::uint32_t seed) {
    Tensor p = uniformTensor(std::move(dims), 0, 1, seed);
    const float edges[] = {0.0f, 1.0f, 1e-9f, 0.99999999f, 0.5f, 1e-7f};
    for (std::int64_t i = 0; i < p.numel(); i += 17)
        p.f32()[i] = edges[(i / 17) % 6];
    return p;
}

struct LossReference {
    double loss = 0;
    std::vector<double> dp;
};

/// BCEDice from its definition in double (Keras' clip and log(p + ε)).
LossReference naiveBceDice(const Tensor& p, const Tensor& t, double bceWeight, double diceWeight,
                           double eps, double upstream, const std::vector<float>& dp0) {
    constexpr double kClip = 1e-7;
    const std::int64_t batch = p.batch(), n = p.numel(), per = n / batch;
    LossReference r;
    r.dp.assign(dp0.begin(), dp0.end());
    double bce = 0, dice = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
        double inter = 0, total = 0;
        for (std::int64_t i = b * per; i < (b + 1) * per; ++i) {
            const double pv = p.f32()[i], tv = t.f32()[i];
            const double c = std::clamp(pv, kClip, 1 - kClip);
            bce -= tv * std::log(c + kClip) + (1 - tv) * std::log(1 - c + kClip);
            inter += pv * tv;
            total += pv + tv;
        }
        const double num = 2 * inter + eps, den = total + eps;
        dice += 1 - num / den;
        for (std::int64_t i = b * per; i < (b + 1) * per; ++i) {
            const double pv = p.f32()[i], tv = t.f32()[i];
            const double g = pv < kClip || pv > 1 - kClip
                                 ? 0.0
                                 : -tv / (pv + kClip) + (1 - tv) / (1 - pv + kClip);
            r.dp[static_cast<std::size_t>(i)] +=
                upstream * (bceWeight * g / double(n) -
                            diceWeight / double(batch) * (2 * tv * den - num) / (den * den));
        }
    }
    r.loss = bceWeight * bce / double(n) + diceWeight * dice / double(batch);
    return r;
}

TEST(BceDiceKernel, IsTheDefinitionInDoubleAtOneAndTwoThreads) {
    for (const V& dims : {V{3, 5, 7, 1}, V{2, 131, 127, 1}, V{1, 9, 4, 3}}) {
        for (bool binary : {true, false}) {
            SCOPED_TRACE(::testing::Message() << dims[0] << "×" << dims[1] << "×" << dims[2] << "×"
                                              << dims[3] << (binary ? " binary" : " soft"));
            const Tensor p = probabilities(dims, 5);
            Tensor t = uniformTensor(dims, 0, 1, 6);
            if (binary)
                for (std::int64_t i = 0; i < t.numel(); ++i)
                    t.f32()[i] = t.f32()[i] > 0.6f ? 1.0f : 0.0f;
            const AttrMap attrs{{"bce_weight", 0.7}, {"dice_weight", 1.3}, {"epsilon", 1e-6}};
            const Tensor upstream = tensorOf({}, {1.5f});
            const LossReference want =
                naiveBceDice(p, t, 0.7, 1.3, 1e-6, 1.5, valuesOf(initialGrad(p, 40)));
            std::vector<KernelRun> runs;
            for (int threads : {1, 2}) {
                SCOPED_TRACE(::testing::Message() << threads << " threads");
                runs.push_back(runKernels("BCEDice", attrs, {p, t}, threads, {upstream}));
                const KernelRun& r = runs.back();
                ASSERT_EQ(r.outputs.size(), 1u);
                // The logs are float (2 ulp), the sums double.
                EXPECT_NEAR(r.outputs[0].at(0), want.loss, 1e-6 * std::fabs(want.loss));
                EXPECT_TRUE(closeTo(r.inputGrads.at(0), want.dp, 1e-7, 1e-6));
            }
            EXPECT_TRUE(sameValues(runs[0].outputs[0], runs[1].outputs[0]));
            EXPECT_TRUE(sameValues(runs[0].inputGrads[0], runs[1].inputGrads[0]));
        }
    }
}

TEST(BceDiceKernel, ANanPredictionGivesANanLoss) {
    Tensor p = probabilities({2, 4, 4, 1}, 5);
    p.f32()[20] = std::numeric_limits<float>::quiet_NaN();
    const KernelRun r = runKernels("BCEDice", {}, {p, uniformTensor({2, 4, 4, 1}, 0, 1, 6)}, 2,
                                   {tensorOf({}, {1})});
    ASSERT_EQ(r.outputs.size(), 1u);
    EXPECT_TRUE(std::isnan(r.outputs[0][0]));
    EXPECT_TRUE(std::isnan(r.inputGrads.at(0)[20]));
}

struct Counts {
    double inter = 0, pred = 0, truth = 0;
};

TEST(MaskMetricKernels, CountTheThresholdedMapsExactly) {
    const V dims{3, 37, 41, 1};
    Tensor p = uniformTensor(dims, 0, 1, 7);
    // Values on the thresholds: p > threshold is strict, in double.
    for (std::int64_t i = 0; i < p.numel(); i += 13)
        p.f32()[i] = (i / 13) % 2 ? 0.5f : 0.3f;
    Tensor tf = uniformTensor(dims, 0, 1, 8);
    for (std::int64_t i = 0; i < tf.numel(); i += 11)
        tf.f32()[i] = 0.5f; // not foreground: the target must exceed 0.5
    Tensor tu(Shape(dims), DType::UInt8);
    for (std::int64_t i = 0; i < tu.numel(); ++i)
        tu.u8()[i] = static_cast<std::uint8_t>((i * 7) % 5 == 0 ? 0 : (i % 3)); // 0, 1, 2
    for (double threshold : {0.5, 0.3, 0.7}) {
        for (const Tensor* t : {&tf, &tu}) {
            SCOPED_TRACE(::testing::Message() << "threshold " << threshold << ", "
                                              << dtypeName(t->dtype()) << " target");
            Counts c;
            for (std::int64_t i = 0; i < p.numel(); ++i) {
                const bool pv = static_cast<double>(p.f32()[i]) > threshold;
                const bool tv = t->dtype() == DType::Float32 ? t->f32()[i] > 0.5f : t->u8()[i] != 0;
                c.pred += pv;
                c.truth += tv;
                c.inter += pv && tv;
            }
            const double eps = 1e-6;
            const auto dice = static_cast<float>((2 * c.inter + eps) / (c.pred + c.truth + eps));
            const auto iou =
                static_cast<float>((c.inter + eps) / (c.pred + c.truth - c.inter + eps));
            const AttrMap attrs{{"threshold", threshold}, {"epsilon", eps}};
            for (int threads : {1, 2}) {
                SCOPED_TRACE(::testing::Message() << threads << " threads");
                const KernelRun d = runKernels("DiceCoefficient", attrs, {p, *t}, threads);
                const KernelRun u = runKernels("IoU", attrs, {p, *t}, threads);
                ASSERT_EQ(d.outputs.size(), 1u);
                ASSERT_EQ(u.outputs.size(), 1u);
                EXPECT_EQ(d.outputs[0][0], dice);
                EXPECT_EQ(u.outputs[0][0], iou);
            }
        }
    }
}

} // namespace
