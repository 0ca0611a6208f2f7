// The parallel BatchNormalization, GroupNormalization, elementwise (Cast,
// Rescale, Add, Multiply) and Dropout kernels against straightforward serial
// loops written here, at 1 and 2 threads, on odd sizes small enough to run on
// the caller and large enough to be cut into chunks and several pixel blocks;
// training and inference; the same bits on a repeated run and at 1 and 2
// threads (the chunking depends only on the sizes). Gradients start from
// non-zero values, so a backward that overwrites instead of accumulating fails.

#include "engine_op_harness.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <gtest/gtest.h>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

using Dims = std::vector<std::int64_t>;

struct OpRun {
    std::vector<Tensor> outputs, params, inputGrads, paramGrads, state;
};

Tensor filled(const Tensor& like, std::uint32_t seed) {
    return uniformTensor(like.shape().dims(), -0.5f, 0.5f, seed);
}

/// Forward (and backward with `dy` unless it is empty) at `threads` threads.
OpRun runOp(const std::string& op, AttrMap attrs, std::vector<Tensor> inputs, int threads,
            bool training, const std::vector<Tensor>& params, const std::vector<Tensor>& dy) {
    const int before = engineThreads();
    setEngineThreads(threads);
    OpHarness h(op, std::move(attrs), std::move(inputs));
    OpRun r;
    EXPECT_TRUE(h.ok());
    if (!h.ok()) {
        setEngineThreads(before);
        return r;
    }
    h.training = training;
    for (std::size_t p = 0; p < params.size() && p < h.params().size(); ++p)
        h.params()[p] = params[p];
    h.forward();
    r.outputs = h.outputs();
    for (const Tensor& p : h.params())
        r.params.push_back(p);
    if (!dy.empty()) {
        KernelContext ctx = h.context();
        for (std::size_t i = 0; i < h.inputs().size(); ++i)
            r.inputGrads.push_back(h.inputs()[i].dtype() == DType::Float32
                                       ? filled(h.inputs()[i], 40 + static_cast<std::uint32_t>(i))
                                       : Tensor());
        for (std::size_t p = 0; p < h.params().size(); ++p)
            r.paramGrads.push_back(filled(h.params()[p], 60 + static_cast<std::uint32_t>(p)));
        for (const Tensor& g : dy)
            ctx.outputGrads.push_back(&g);
        for (Tensor& g : r.inputGrads)
            ctx.inputGrads.push_back(g.numel() ? &g : nullptr);
        for (Tensor& g : r.paramGrads)
            ctx.paramGrads.push_back(&g);
        h.schema().backward(ctx);
    }
    r.state = h.context().state();
    setEngineThreads(before);
    return r;
}

bool sameBits(const Tensor& a, const Tensor& b) {
    return a.numel() == b.numel() && a.dtype() == b.dtype() &&
           std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0;
}

void expectSameBits(const OpRun& a, const OpRun& b) {
    for (auto [x, y] : {std::pair{&a.outputs, &b.outputs}, std::pair{&a.params, &b.params},
                        std::pair{&a.inputGrads, &b.inputGrads},
                        std::pair{&a.paramGrads, &b.paramGrads}, std::pair{&a.state, &b.state}}) {
        ASSERT_EQ(x->size(), y->size());
        for (std::size_t i = 0; i < x->size(); ++i)
            EXPECT_TRUE(sameBits((*x)[i], (*y)[i])) << "tensor " << i;
    }
}

void expectNear(const Tensor& got, const std::vector<double>& want, double tol, const char* what) {
    ASSERT_EQ(got.numel(), static_cast<std::int64_t>(want.size())) << what;
    for (std::int64_t i = 0; i < got.numel(); ++i) {
        const double w = want[static_cast<std::size_t>(i)];
        ASSERT_NEAR(got.f32()[i], w, tol * (1.0 + std::abs(w))) << what << "[" << i << "]";
    }
}

std::vector<double> doubles(const Tensor& t) {
    return std::vector<double>(t.f32(), t.f32() + t.numel());
}

// ---- Normalisations: a serial reference per (sample, group) in double. ----------------
// BatchNormalization is the case of one "sample" (all N·H·W pixels) and C groups.

struct NormRef {
    std::vector<double> y, xhat, mean, var, dx, dgamma, dbeta;
};

/// Statistics over `samples` runs of `pixels` pixels and groups of `cg` channels.
NormRef normReference(const Tensor& x, std::int64_t samples, std::int64_t cg, double eps,
                      const std::vector<double>& gamma, const std::vector<double>& beta,
                      const Tensor& dy, bool batchStats, const std::vector<double>& fixedMean,
                      const std::vector<double>& fixedVar) {
    const std::int64_t c = x.channels(), pixels = x.numel() / c / samples, groups = c / cg;
    NormRef r;
    r.y.assign(static_cast<std::size_t>(x.numel()), 0.0);
    r.xhat = r.y;
    r.dx = r.y;
    r.dgamma.assign(static_cast<std::size_t>(c), 0.0);
    r.dbeta = r.dgamma;
    for (std::int64_t b = 0; b < samples; ++b)
        for (std::int64_t g = 0; g < groups; ++g) {
            auto at = [&](std::int64_t p, std::int64_t k) {
                return static_cast<std::size_t>((b * pixels + p) * c + g * cg + k);
            };
            double mean = 0, var = 0;
            if (batchStats) {
                for (std::int64_t p = 0; p < pixels; ++p)
                    for (std::int64_t k = 0; k < cg; ++k)
                        mean += x.f32()[at(p, k)];
                mean /= double(pixels * cg);
                for (std::int64_t p = 0; p < pixels; ++p)
                    for (std::int64_t k = 0; k < cg; ++k)
                        var += (x.f32()[at(p, k)] - mean) * (x.f32()[at(p, k)] - mean);
                var /= double(pixels * cg);
            } else {
                mean = fixedMean[static_cast<std::size_t>(g)];
                var = fixedVar[static_cast<std::size_t>(g)];
            }
            r.mean.push_back(mean);
            r.var.push_back(var);
            const double inv = 1.0 / std::sqrt(var + eps);
            double sumG = 0, sumGX = 0;
            for (std::int64_t p = 0; p < pixels; ++p)
                for (std::int64_t k = 0; k < cg; ++k) {
                    const auto i = at(p, k);
                    const auto ch = static_cast<std::size_t>(g * cg + k);
                    r.xhat[i] = (x.f32()[i] - mean) * inv;
                    r.y[i] = r.xhat[i] * gamma[ch] + beta[ch];
                    sumG += dy.f32()[i] * gamma[ch];
                    sumGX += dy.f32()[i] * gamma[ch] * r.xhat[i];
                    r.dgamma[ch] += dy.f32()[i] * r.xhat[i];
                    r.dbeta[ch] += dy.f32()[i];
                }
            const double m = double(pixels * cg);
            for (std::int64_t p = 0; p < pixels; ++p)
                for (std::int64_t k = 0; k < cg; ++k) {
                    const auto i = at(p, k);
                    const double gd = dy.f32()[i] * gamma[static_cast<std::size_t>(g * cg + k)];
                    r.dx[i] = batchStats ? inv * (gd - sumG / m - r.xhat[i] * sumGX / m) : inv * gd;
                }
        }
    return r;
}

std::vector<double> plus(const Tensor& start, const std::vector<double>& delta) {
    std::vector<double> v = doubles(start);
    for (std::size_t i = 0; i < v.size(); ++i)
        v[i] += delta[i];
    return v;
}

struct NormCase {
    Dims dims;
    bool training;
    bool affine;
};

class BatchNormParallel : public ::testing::TestWithParam<NormCase> {};

TEST_P(BatchNormParallel, MatchesSerialLoopsAndRepeatsItsBits) {
    const NormCase nc = GetParam();
    const std::int64_t c = nc.dims[3];
    const double eps = 1e-3, momentum = 0.9;
    // An offset mean, as after a convolution, so a one-pass variance would lose digits.
    const Tensor x = uniformTensor(nc.dims, 2.0f, 4.0f, 1);
    const Tensor dy = uniformTensor(nc.dims, -1.0f, 1.0f, 2);
    const Tensor gamma = uniformTensor({c}, 0.5f, 1.5f, 3);
    const Tensor beta = uniformTensor({c}, -0.5f, 0.5f, 4);
    const Tensor movingMean = uniformTensor({c}, 2.5f, 3.5f, 5);
    const Tensor movingVar = uniformTensor({c}, 0.05f, 0.5f, 6);
    AttrMap attrs{
        {"epsilon", eps}, {"momentum", momentum}, {"scale", nc.affine}, {"center", nc.affine}};
    std::vector<Tensor> params;
    if (nc.affine)
        params = {gamma, beta};
    params.push_back(movingMean);
    params.push_back(movingVar);
    const std::vector<double> g = nc.affine ? doubles(gamma) : std::vector<double>(c, 1.0);
    const std::vector<double> b = nc.affine ? doubles(beta) : std::vector<double>(c, 0.0);
    const NormRef ref =
        normReference(x, 1, 1, eps, g, b, dy, nc.training, doubles(movingMean), doubles(movingVar));
    for (int threads : {1, 2}) {
        SCOPED_TRACE(threads);
        const OpRun r = runOp("BatchNormalization", attrs, {x}, threads, nc.training, params, {dy});
        ASSERT_EQ(r.outputs.size(), 1u);
        expectNear(r.outputs[0], ref.y, 2e-6, "y");
        // The state is per channel (x̂ is recomputed from x in the backward pass).
        ASSERT_EQ(r.state.size(), 2u);
        expectNear(r.state[0], ref.mean, 1e-6, "mean");
        std::vector<double> inv;
        for (double v : ref.var)
            inv.push_back(1.0 / std::sqrt(v + eps));
        expectNear(r.state[1], inv, 1e-6, "inv");
        const std::size_t mm = nc.affine ? 2 : 0;
        std::vector<double> wantMean = doubles(movingMean), wantVar = doubles(movingVar);
        if (nc.training)
            for (std::size_t k = 0; k < wantMean.size(); ++k) {
                wantMean[k] = momentum * wantMean[k] + (1 - momentum) * ref.mean[k];
                wantVar[k] = momentum * wantVar[k] + (1 - momentum) * ref.var[k];
            }
        expectNear(r.params[mm], wantMean, 1e-6, "moving_mean");
        expectNear(r.params[mm + 1], wantVar, 1e-6, "moving_variance");
        ASSERT_EQ(r.inputGrads.size(), 1u);
        // dx is a difference of sums of ~M terms: absolute tolerance scaled by the size.
        expectNear(r.inputGrads[0], plus(filled(x, 40), ref.dx), 2e-5, "dx");
        if (nc.affine) {
            const double tol = 1e-6 * std::sqrt(double(x.numel() / c));
            expectNear(r.paramGrads[0], plus(filled(gamma, 60), ref.dgamma), tol, "dgamma");
            expectNear(r.paramGrads[1], plus(filled(beta, 61), ref.dbeta), tol, "dbeta");
        }
        const OpRun again =
            runOp("BatchNormalization", attrs, {x}, threads, nc.training, params, {dy});
        expectSameBits(r, again);
    }
    // The pixel blocks depend on the sizes only: 1 and 2 threads give the same bits.
    expectSameBits(runOp("BatchNormalization", attrs, {x}, 1, nc.training, params, {dy}),
                   runOp("BatchNormalization", attrs, {x}, 2, nc.training, params, {dy}));
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, BatchNormParallel,
    ::testing::Values(NormCase{{3, 5, 7, 13}, true, true}, NormCase{{3, 5, 7, 13}, false, true},
                      NormCase{{3, 45, 47, 13}, true, true}, // several blocks, the last partial
                      NormCase{{3, 45, 47, 13}, false, true}, NormCase{{2, 61, 67, 5}, true, false},
                      NormCase{{1, 1, 1, 3}, true, true}, NormCase{{4, 16, 16, 64}, true, true}));

struct GnCase {
    Dims dims;
    std::int64_t groups;
};

class GroupNormParallel : public ::testing::TestWithParam<GnCase> {};

TEST_P(GroupNormParallel, MatchesSerialLoopsAndRepeatsItsBits) {
    const GnCase gc = GetParam();
    const std::int64_t c = gc.dims[3];
    const double eps = 1e-5;
    const Tensor x = uniformTensor(gc.dims, 1.0f, 3.0f, 11);
    const Tensor dy = uniformTensor(gc.dims, -1.0f, 1.0f, 12);
    const Tensor gamma = uniformTensor({c}, 0.5f, 1.5f, 13);
    const Tensor beta = uniformTensor({c}, -0.5f, 0.5f, 14);
    const AttrMap attrs{{"groups", gc.groups}, {"epsilon", eps}};
    std::vector<double> ys, xhats, dxs, dgs(static_cast<std::size_t>(c)), dbs(dgs.size());
    // The reference per sample (the groups of one sample are independent of the others).
    const std::int64_t per = x.numel() / gc.dims[0];
    for (std::int64_t n = 0; n < gc.dims[0]; ++n) {
        Dims one = gc.dims;
        one[0] = 1;
        Tensor xs(Shape(one), DType::Float32), ds(Shape(one), DType::Float32);
        std::copy(x.f32() + n * per, x.f32() + (n + 1) * per, xs.f32());
        std::copy(dy.f32() + n * per, dy.f32() + (n + 1) * per, ds.f32());
        const NormRef r = normReference(xs, 1, c / gc.groups, eps, doubles(gamma), doubles(beta),
                                        ds, true, {}, {});
        ys.insert(ys.end(), r.y.begin(), r.y.end());
        xhats.insert(xhats.end(), r.xhat.begin(), r.xhat.end());
        dxs.insert(dxs.end(), r.dx.begin(), r.dx.end());
        for (std::size_t k = 0; k < dgs.size(); ++k) {
            dgs[k] += r.dgamma[k];
            dbs[k] += r.dbeta[k];
        }
    }
    for (int threads : {1, 2}) {
        SCOPED_TRACE(threads);
        for (bool training : {true, false}) { // no running statistics: the same either way
            const OpRun r =
                runOp("GroupNormalization", attrs, {x}, threads, training, {gamma, beta}, {dy});
            ASSERT_EQ(r.outputs.size(), 1u);
            expectNear(r.outputs[0], ys, 2e-6, "y");
            ASSERT_EQ(r.state.size(), 2u);
            expectNear(r.state[1], xhats, 2e-6, "xhat");
            expectNear(r.inputGrads[0], plus(filled(x, 40), dxs), 2e-5, "dx");
            const double tol = 1e-6 * std::sqrt(double(x.numel() / c));
            expectNear(r.paramGrads[0], plus(filled(gamma, 60), dgs), tol, "dgamma");
            expectNear(r.paramGrads[1], plus(filled(beta, 61), dbs), tol, "dbeta");
            expectSameBits(
                r, runOp("GroupNormalization", attrs, {x}, threads, training, {gamma, beta}, {dy}));
        }
    }
    expectSameBits(runOp("GroupNormalization", attrs, {x}, 1, true, {gamma, beta}, {dy}),
                   runOp("GroupNormalization", attrs, {x}, 2, true, {gamma, beta}, {dy}));
}

INSTANTIATE_TEST_SUITE_P(Sizes, GroupNormParallel,
                         ::testing::Values(GnCase{{3, 5, 7, 12}, 1}, GnCase{{3, 5, 7, 12}, 4},
                                           GnCase{{3, 5, 7, 13}, 13},
                                           GnCase{{3, 45, 47, 12}, 3}, // several blocks a sample
                                           GnCase{{2, 61, 67, 6}, 2}, GnCase{{2, 33, 35, 48}, 48}));

// ---- Elementwise ops: the serial loops give the exact bits. ----------------------------

/// The inputs share the run's batch (an op's inputs never broadcast along it).
struct BroadcastCase {
    Dims out;
    std::vector<Dims> inputs;
};

/// Output index -> input index of a broadcast input, the straightforward way.
std::int64_t inputIndex(const Dims& in, const Dims& out, std::int64_t o) {
    std::int64_t coord[4];
    for (int a = 3; a >= 0; --a) {
        coord[a] = o % out[static_cast<std::size_t>(a)];
        o /= out[static_cast<std::size_t>(a)];
    }
    std::int64_t i = 0;
    for (int a = 0; a < 4; ++a)
        i = i * in[static_cast<std::size_t>(a)] +
            (in[static_cast<std::size_t>(a)] == 1 ? 0 : coord[a]);
    return i;
}

class MergeParallel : public ::testing::TestWithParam<BroadcastCase> {};

TEST_P(MergeParallel, AddAndMultiplyMatchSerialLoopsBitForBit) {
    const BroadcastCase bc = GetParam();
    std::vector<Tensor> inputs;
    for (std::size_t k = 0; k < bc.inputs.size(); ++k)
        inputs.push_back(
            uniformTensor(bc.inputs[k], 0.5f, 1.5f, 30 + static_cast<std::uint32_t>(k)));
    const Tensor dy = uniformTensor(bc.out, -1.0f, 1.0f, 39);
    const std::int64_t n = dy.numel();
    for (const std::string op : {"Add", "Multiply"}) {
        SCOPED_TRACE(op);
        const bool add = op == "Add";
        std::vector<float> y(static_cast<std::size_t>(n), add ? 0.0f : 1.0f);
        for (const Tensor& x : inputs)
            for (std::int64_t o = 0; o < n; ++o) {
                const float v = x.f32()[inputIndex(x.shape().dims(), bc.out, o)];
                y[static_cast<std::size_t>(o)] =
                    add ? y[static_cast<std::size_t>(o)] + v : y[static_cast<std::size_t>(o)] * v;
            }
        std::vector<Tensor> dx;
        for (std::size_t k = 0; k < inputs.size(); ++k) {
            Tensor d = filled(inputs[k], 40 + static_cast<std::uint32_t>(k));
            for (std::int64_t o = 0; o < n; ++o) {
                float term = dy.f32()[o];
                if (!add)
                    for (std::size_t j = 0; j < inputs.size(); ++j)
                        if (j != k)
                            term *=
                                inputs[j].f32()[inputIndex(inputs[j].shape().dims(), bc.out, o)];
                d.f32()[inputIndex(inputs[k].shape().dims(), bc.out, o)] += term;
            }
            dx.push_back(std::move(d));
        }
        for (int threads : {1, 2}) {
            SCOPED_TRACE(threads);
            const OpRun r = runOp(op, {}, inputs, threads, true, {}, {dy});
            ASSERT_EQ(r.outputs.size(), 1u);
            EXPECT_EQ(std::memcmp(r.outputs[0].f32(), y.data(), y.size() * sizeof(float)), 0);
            ASSERT_EQ(r.inputGrads.size(), inputs.size());
            for (std::size_t k = 0; k < inputs.size(); ++k)
                EXPECT_TRUE(sameBits(r.inputGrads[k], dx[k])) << "input " << k;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, MergeParallel,
    ::testing::Values(BroadcastCase{{3, 5, 7, 13}, {{3, 5, 7, 13}, {3, 5, 7, 13}}},
                      BroadcastCase{{3, 45, 47, 13},
                                    {{3, 45, 47, 13}, {3, 45, 47, 13}, {3, 45, 47, 13}}},
                      BroadcastCase{{3, 45, 47, 13}, {{3, 45, 47, 13}, {3, 1, 1, 13}}},
                      BroadcastCase{{3, 45, 47, 13}, {{3, 45, 47, 1}, {3, 45, 47, 13}}},
                      BroadcastCase{{3, 45, 47, 13}, {{3, 1, 1, 13}, {3, 45, 47, 1}}}));

TEST(ElementwiseParallel, RescaleAndCastMatchSerialLoopsBitForBit) {
    for (const Dims& dims : {Dims{3, 5, 7, 13}, Dims{3, 45, 47, 13}}) {
        const Tensor xf = uniformTensor(dims, -300.0f, 300.0f, 51);
        Tensor xu(Shape(dims), DType::UInt8);
        for (std::int64_t i = 0; i < xu.numel(); ++i)
            xu.u8()[i] = static_cast<std::uint8_t>((i * 37 + 11) % 256);
        const Tensor dy = uniformTensor(dims, -1.0f, 1.0f, 52);
        const double scale = 1.0 / 255.0, offset = -0.25;
        for (int threads : {1, 2}) {
            SCOPED_TRACE(threads);
            // Rescale of uint8 pixels and of floats, and its backward.
            const AttrMap attrs{{"scale", scale}, {"offset", offset}};
            const OpRun ru = runOp("Rescale", attrs, {xu}, threads, true, {}, {dy});
            const OpRun rf = runOp("Rescale", attrs, {xf}, threads, true, {}, {dy});
            Tensor dx = filled(xf, 40);
            for (std::int64_t i = 0; i < xu.numel(); ++i) {
                EXPECT_EQ(ru.outputs[0].f32()[i], static_cast<float>(xu.u8()[i] * scale + offset));
                EXPECT_EQ(rf.outputs[0].f32()[i],
                          static_cast<float>(static_cast<double>(xf.f32()[i]) * scale + offset));
                dx.f32()[i] += dy.f32()[i] * static_cast<float>(scale);
            }
            EXPECT_TRUE(sameBits(rf.inputGrads[0], dx));
            // Cast float32 -> uint8 (saturating, truncating) and float32 -> float32's backward.
            const OpRun rc =
                runOp("Cast", {{"dtype", std::string("uint8")}}, {xf}, threads, true, {}, {});
            for (std::int64_t i = 0; i < xf.numel(); ++i)
                EXPECT_EQ(rc.outputs[0].u8()[i], static_cast<std::uint8_t>(std::clamp(
                                                     std::trunc(double(xf.f32()[i])), 0.0, 255.0)));
            const OpRun rb =
                runOp("Cast", {{"dtype", std::string("float32")}}, {xf}, threads, true, {}, {dy});
            Tensor dc = filled(xf, 40);
            for (std::int64_t i = 0; i < xf.numel(); ++i)
                dc.f32()[i] += dy.f32()[i];
            EXPECT_TRUE(sameBits(rb.outputs[0], xf));
            EXPECT_TRUE(sameBits(rb.inputGrads[0], dc));
        }
    }
}

TEST(ElementwiseParallel, DropoutMasksDoNotDependOnTheThreadCount) {
    for (const Dims& dims : {Dims{3, 5, 7, 13}, Dims{3, 45, 47, 13}}) {
        const Tensor x = uniformTensor(dims, 0.5f, 1.5f, 61);
        const Tensor dy = uniformTensor(dims, -1.0f, 1.0f, 62);
        const AttrMap attrs{{"rate", 0.3}};
        const OpRun one = runOp("Dropout", attrs, {x}, 1, true, {}, {dy});
        const OpRun two = runOp("Dropout", attrs, {x}, 2, true, {}, {dy});
        expectSameBits(one, two);
        ASSERT_EQ(one.state.size(), 1u);
        const float scale = static_cast<float>(1.0 / (1.0 - 0.3));
        std::int64_t dropped = 0;
        Tensor dx = filled(x, 40);
        for (std::int64_t i = 0; i < x.numel(); ++i) {
            const float m = one.state[0].f32()[i];
            ASSERT_TRUE(m == 0.0f || m == scale);
            dropped += m == 0.0f;
            EXPECT_EQ(one.outputs[0].f32()[i], x.f32()[i] * m);
            dx.f32()[i] += dy.f32()[i] * m;
        }
        EXPECT_TRUE(sameBits(one.inputGrads[0], dx));
        EXPECT_NEAR(double(dropped) / double(x.numel()), 0.3, 0.1);
        // Inference: the identity, and the gradient passes unchanged.
        const OpRun infer = runOp("Dropout", attrs, {x}, 2, false, {}, {dy});
        EXPECT_TRUE(sameBits(infer.outputs[0], x));
        Tensor dp = filled(x, 40);
        for (std::int64_t i = 0; i < x.numel(); ++i)
            dp.f32()[i] += dy.f32()[i];
        EXPECT_TRUE(sameBits(infer.inputGrads[0], dp));
    }
}

} // namespace
