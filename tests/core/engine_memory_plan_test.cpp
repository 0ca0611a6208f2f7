// The lean memory plan (engine/value_lifetimes, engine/buffer_pool and the
// executor's lean mode): the lifetimes it computes, the pool it lends from, the
// op contracts it relies on — every forward overwrites all of its outputs (the
// pool's buffers hold old data), a backward reads only what its schema declares,
// a recomputable op is pure — and, end to end, the same bits as the kept plan
// with less memory.

#include "engine/buffer_pool.hpp"
#include "engine/executor.hpp"
#include "engine/value_lifetimes.hpp"
#include "kernels/parallel.hpp"
#include "op_gradient_cases.hpp"
#include "templates/unet_template.hpp"

#include <cmath>
#include <cstring>
#include <gtest/gtest.h>
#include <limits>
#include <random>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

// ---- lifetimes -------------------------------------------------------------

LifetimeStep lstep(std::vector<int> in, std::vector<int> out) {
    LifetimeStep s;
    s.inputs = std::move(in);
    s.outputs = std::move(out);
    return s;
}

TEST(ValueLifetimes, FollowTheReadersOfEachValue) {
    // 0: source → v0; 1: rescale(v0) → v1 (recomputable, reads nothing);
    // 2: conv(v1) → v2; 3: concat(v1, v2) → v3 (recomputable); 4: conv(v3) → v4;
    // 5: loss(v4, v0) → v5.
    std::vector<LifetimeStep> steps{lstep({}, {0}),     lstep({0}, {1}), lstep({1}, {2}),
                                    lstep({1, 2}, {3}), lstep({3}, {4}), lstep({4, 0}, {5})};
    steps[0].source = true;
    for (int i : {1, 3}) {
        steps[static_cast<std::size_t>(i)].recomputable = true;
        steps[static_cast<std::size_t>(i)].backwardReadsInputs = false;
        steps[static_cast<std::size_t>(i)].backwardReadsOutputs = false;
    }
    steps[5].reported = true;
    const std::vector<std::size_t> backward{5, 4, 3, 2}; // rescale passes no gradient
    const auto life = planValueLifetimes(steps, 6, backward);
    EXPECT_TRUE(life[0].pinned);  // a source
    EXPECT_FALSE(life[1].pinned); // read by both convolutions' backward: recomputed
    EXPECT_TRUE(life[1].recompute);
    EXPECT_EQ(life[1].lastForwardUse, 3);
    EXPECT_EQ(life[1].lastBackwardRead, 3); // conv 2 runs at backward position 3
    EXPECT_FALSE(life[2].recompute);        // a convolution's output is kept
    EXPECT_EQ(life[2].lastBackwardRead, 3);
    EXPECT_TRUE(life[3].recompute);
    EXPECT_EQ(life[3].lastBackwardRead, 1); // conv 4's backward
    EXPECT_TRUE(life[4].pinned);            // the loss reads it: the prediction stays
    EXPECT_TRUE(life[5].pinned);            // the loss value
}

TEST(ValueLifetimes, AValueNoBackwardReadsIsNeitherKeptNorRecomputed) {
    std::vector<LifetimeStep> steps{lstep({}, {0}), lstep({0}, {1}), lstep({1}, {2})};
    steps[0].source = true;
    steps[1].recomputable = true;
    steps[2].backwardReadsInputs = false;
    steps[2].backwardReadsOutputs = false;
    const auto life = planValueLifetimes(steps, 3, {2});
    EXPECT_EQ(life[1].lastBackwardRead, -1);
    EXPECT_FALSE(life[1].recompute);
    EXPECT_TRUE(life[2].pinned); // nothing consumes it: a graph output
}

// ---- pool ------------------------------------------------------------------

TEST(BufferPool, LendsTheSmallestBufferThatHoldsARequest) {
    BufferPool pool;
    TensorStorage a = pool.take(4 << 20), b = pool.take(8 << 20);
    const std::byte* aData = a.data();
    const std::byte* bData = b.data();
    pool.give(std::move(b));
    pool.give(std::move(a));
    EXPECT_EQ(pool.freeBytes(), std::size_t{12} << 20);
    TensorStorage c = pool.take(3 << 20); // fits both: the smaller one
    EXPECT_EQ(c.data(), aData);
    TensorStorage d = pool.take(5 << 20);
    EXPECT_EQ(d.data(), bData);
    EXPECT_EQ(pool.freeBytes(), 0u);
    pool.give(std::move(d));
    TensorStorage e = pool.take(1024); // 8 MiB is far too large for 1 KiB
    EXPECT_NE(e.data(), bData);
    EXPECT_GE(e.size(), 1024u);
    EXPECT_EQ(pool.freeBytes(), std::size_t{8} << 20);
}

TEST(TensorStorageLending, CanBeLentAndTakenBackKeepingTheShape) {
    Tensor t = Tensor::unallocated(Shape{2, 3, 4, 5}, DType::Float32);
    EXPECT_FALSE(t.hasStorage());
    EXPECT_EQ(t.dataBytes(), 2u * 3 * 4 * 5 * 4);
    EXPECT_EQ(t.byteSize(), 0u);
    TensorStorage big(4096, std::byte{7});
    const std::byte* data = big.data();
    t.adoptStorage(std::move(big));
    EXPECT_TRUE(t.hasStorage());
    EXPECT_EQ(t.bytes(), data); // capacity reused
    EXPECT_EQ(t.byteSize(), t.dataBytes());
    TensorStorage back = t.takeStorage();
    EXPECT_EQ(back.data(), data);
    EXPECT_FALSE(t.hasStorage());
    EXPECT_EQ(t.shape(), (Shape{2, 3, 4, 5}));
}

// ---- op contracts ----------------------------------------------------------

class OpContract : public ::testing::TestWithParam<GradCase> {};

OpHarness harnessFor(const GradCase& c) {
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
        inputs.push_back(makeInput(c.inputs[i], 100 + static_cast<std::uint32_t>(i)));
    OpHarness h(c.op, c.attrs, inputs);
    h.training = c.training;
    for (std::size_t p = 0; p < h.params().size(); ++p)
        h.params()[p] = uniformTensor(h.params()[p].shape().dims(), 0.2f, 1.0f,
                                      300 + static_cast<std::uint32_t>(p));
    return h;
}

/// Fills any tensor with values unlike what a kernel would write (NaN for floats).
void scramble(Tensor& t, std::uint32_t seed) {
    std::mt19937 rng(seed);
    if (t.dtype() == DType::Float32) {
        for (std::int64_t i = 0; i < t.numel(); ++i)
            t.f32()[i] = rng() % 3 == 0 ? std::numeric_limits<float>::quiet_NaN()
                                        : static_cast<float>(rng() % 1000) - 500.0f;
        return;
    }
    for (std::size_t i = 0; i < t.byteSize(); ++i)
        t.bytes()[i] = static_cast<std::byte>(rng());
}

bool sameBits(const Tensor& a, const Tensor& b) {
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.byteSize() == b.byteSize() &&
           std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0;
}

TEST_P(OpContract, ForwardOverwritesEveryOutputElement) {
    const GradCase& c = GetParam();
    OpHarness h = harnessFor(c);
    ASSERT_TRUE(h.ok());
    h.forward();
    const std::vector<Tensor> clean = h.outputs();
    for (std::size_t k = 0; k < h.outputs().size(); ++k)
        scramble(h.outputs()[k], 11 + static_cast<std::uint32_t>(k));
    h.forward();
    for (std::size_t k = 0; k < clean.size(); ++k)
        EXPECT_TRUE(sameBits(clean[k], h.outputs()[k]))
            << c.name << ": output " << k << " depends on what its buffer held";
}

TEST_P(OpContract, BackwardReadsOnlyWhatItsSchemaDeclares) {
    const GradCase& c = GetParam();
    auto gradients = [&](bool scrambleUndeclared, bool disposable = false) {
        OpHarness h = harnessFor(c);
        EXPECT_TRUE(h.ok());
        h.forward();
        const auto reads = h.schema().backwardReadsFor(*h.context().attrs);
        if (scrambleUndeclared) {
            if (!reads.inputs)
                for (std::size_t i = 0; i < h.inputs().size(); ++i)
                    scramble(h.inputs()[i], 21 + static_cast<std::uint32_t>(i));
            if (!reads.outputs)
                for (std::size_t k = 0; k < h.outputs().size(); ++k)
                    scramble(h.outputs()[k], 31 + static_cast<std::uint32_t>(k));
        }
        KernelContext ctx = h.context();
        ctx.outputGradsDisposable = disposable;
        std::vector<Tensor> outGrads, inGrads, paramGrads;
        for (std::size_t k = 0; k < h.outputs().size(); ++k)
            outGrads.push_back(h.outputs()[k].numel() == 1
                                   ? tensorOf({}, {1.0f})
                                   : uniformTensor(h.outputs()[k].shape().dims(), -1, 1,
                                                   500 + static_cast<std::uint32_t>(k)));
        for (const Tensor& in : h.inputs())
            inGrads.push_back(in.dtype() == DType::Float32 ? Tensor(in.shape(), DType::Float32)
                                                           : Tensor());
        for (const Tensor& p : h.params())
            paramGrads.emplace_back(p.shape(), DType::Float32);
        for (auto& g : outGrads)
            ctx.outputGrads.push_back(&g);
        for (auto& g : inGrads)
            ctx.inputGrads.push_back(g.empty() ? nullptr : &g);
        for (std::size_t p = 0; p < paramGrads.size(); ++p)
            ctx.paramGrads.push_back(h.trainable(p) ? &paramGrads[p] : nullptr);
        h.schema().backward(ctx);
        inGrads.insert(inGrads.end(), paramGrads.begin(), paramGrads.end());
        return inGrads;
    };
    const std::vector<Tensor> real = gradients(false);
    const std::vector<Tensor> blind = gradients(true);
    ASSERT_EQ(real.size(), blind.size());
    for (std::size_t i = 0; i < real.size(); ++i)
        EXPECT_TRUE(sameBits(real[i], blind[i]))
            << c.name << ": gradient " << i
            << " changed when data its schema says backward does not read was replaced";
    // The lean plan lets a backward overwrite its output gradients (they are freed next).
    const std::vector<Tensor> inPlace = gradients(false, true);
    for (std::size_t i = 0; i < real.size(); ++i)
        EXPECT_TRUE(sameBits(real[i], inPlace[i]))
            << c.name << ": gradient " << i << " differs with disposable output gradients";
}

TEST_P(OpContract, RecomputableOpsArePure) {
    const GradCase& c = GetParam();
    OpHarness h = harnessFor(c);
    ASSERT_TRUE(h.ok());
    if (!h.schema().recomputable)
        GTEST_SKIP() << c.op << " is not recomputable";
    EXPECT_TRUE(h.params().empty()) << c.op;
    h.seed = 1;
    h.forward();
    const std::vector<Tensor> first = h.outputs();
    EXPECT_TRUE(h.context().saved->empty()) << c.op << " saved state";
    h.seed = 2;
    h.training = !h.training;
    h.forward();
    for (std::size_t k = 0; k < first.size(); ++k)
        EXPECT_TRUE(sameBits(first[k], h.outputs()[k])) << c.op;
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpContract, ::testing::ValuesIn(gradCases()),
                         [](const auto& p) { return p.param.name; });

// ---- end to end ------------------------------------------------------------

Batch syntheticBatch(const UNetOptions& u, std::int64_t batch, std::uint32_t seed) {
    std::mt19937 rng(seed);
    Batch b;
    b.image = Tensor(Shape{batch, u.size, u.size, u.channels}, DType::UInt8);
    for (std::int64_t i = 0; i < b.image.numel(); ++i)
        b.image.u8()[i] = static_cast<std::uint8_t>(rng());
    b.mask = Tensor(Shape{batch, u.size, u.size, 1}, DType::UInt8);
    for (std::int64_t i = 0; i < b.mask.numel(); ++i)
        b.mask.u8()[i] = static_cast<std::uint8_t>(
            u.classes > 1 ? rng() % static_cast<unsigned>(u.classes) : (rng() % 2) * 255);
    return b;
}

struct TrainedRun {
    std::vector<double> losses;
    std::vector<std::map<std::string, double>> evaluations;
    std::vector<std::vector<float>> params;
    Executor::MemoryUse afterForward;
};

TrainedRun train(const UNetOptions& u, bool keep, int threads) {
    setEngineThreads(threads);
    auto made = makeUNetProject(u);
    EXPECT_TRUE(std::holds_alternative<Project>(made));
    Project project = std::get<Project>(made);
    std::string error;
    auto ex = Executor::compile(project.graph, error);
    EXPECT_TRUE(ex) << error;
    ex->setKeepIntermediates(keep);
    ex->initializeParameters(3);
    auto adam = makeOptimizer({"adam"});
    TrainedRun r;
    for (int s = 0; s < 3; ++s) {
        EXPECT_EQ(
            ex->trainStep(syntheticBatch(u, 4, 40 + static_cast<std::uint32_t>(s)), *adam, 1e-3),
            RunStatus::Finished);
        r.losses.push_back(ex->loss());
        // A validation pass between training steps, at another batch size.
        EXPECT_EQ(ex->evaluate(syntheticBatch(u, 3, 90)), RunStatus::Finished);
        r.evaluations.push_back(ex->scalars());
    }
    ex->feed(syntheticBatch(u, 4, 7));
    ex->beginStep(true);
    for (std::size_t i = 0; i < ex->order().size(); ++i)
        ex->stepNode(); // the whole forward pass
    r.afterForward = ex->memoryUse();
    for (const Parameter& p : ex->parameters())
        r.params.emplace_back(p.value.f32(), p.value.f32() + p.value.numel());
    setEngineThreads(0);
    return r;
}

struct PlanCase {
    const char* name;
    UNetOptions u;
};

class LeanPlan : public ::testing::TestWithParam<PlanCase> {};

TEST_P(LeanPlan, GivesTheSameBitsAsKeepingEverythingWithLessMemory) {
    for (int threads : {1, 2}) {
        const TrainedRun kept = train(GetParam().u, true, threads);
        const TrainedRun lean = train(GetParam().u, false, threads);
        EXPECT_EQ(kept.losses, lean.losses) << threads << " threads";
        EXPECT_EQ(kept.evaluations, lean.evaluations) << threads << " threads";
        ASSERT_EQ(kept.params.size(), lean.params.size());
        for (std::size_t p = 0; p < kept.params.size(); ++p)
            EXPECT_EQ(kept.params[p], lean.params[p]) << "parameter " << p;
        // At the end of the forward pass, the lean plan holds the values the backward
        // pass reads and no gradient; recomputed values are not among them.
        EXPECT_EQ(lean.afterForward.gradients, 0u);
        EXPECT_LT(lean.afterForward.values, kept.afterForward.values * 8 / 10)
            << "lean " << lean.afterForward.values << " B, kept " << kept.afterForward.values;
    }
}

UNetOptions unet(int depth, int filters, int size, UNetOptions::Up up, int classes = 1,
                 bool batchnorm = false) {
    UNetOptions u;
    u.depth = depth;
    u.filters = filters;
    u.size = size;
    u.up = up;
    u.classes = classes;
    u.batchnorm = batchnorm;
    return u;
}

INSTANTIATE_TEST_SUITE_P(
    UNets, LeanPlan,
    ::testing::Values(
        PlanCase{"upsample_conv", unet(2, 8, 32, UNetOptions::Up::UpsampleConv)},
        PlanCase{"transpose_batchnorm", unet(2, 8, 32, UNetOptions::Up::Transpose, 1, true)},
        PlanCase{"upsample_multiclass", unet(3, 8, 32, UNetOptions::Up::Upsample, 3)}),
    [](const auto& p) { return std::string(p.param.name); });

} // namespace
