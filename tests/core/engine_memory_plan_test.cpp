// The lean memory plan (engine/value_lifetimes, tensor/buffer_pool and the
// executor's lean mode): the lifetimes it computes, the pool it lends from, the
// op contracts it relies on — every forward overwrites all of its outputs (the
// pool's buffers hold old data), a backward reads only what its schema declares,
// a recomputable op is pure — and, end to end, the same bits as the kept plan
// with less memory.

#include "engine/executor.hpp"
#include "engine/value_lifetimes.hpp"
#include "kernels/parallel.hpp"
#include "op_gradient_cases.hpp"
#include "templates/unet_template.hpp"
#include "tensor/buffer_plan.hpp"
#include "tensor/buffer_pool.hpp"

#include <algorithm>
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

TEST(BufferPlan, RequestsShareABufferOnlyWhenTheirLifetimesDoNotOverlap) {
    // a: [1, 3)  b: [2, 5)  c: [4, 6)  d: [6, never)  e: [7, 8)
    const std::vector<BufferRequest> requests = {
        {8, 1, 3}, {4, 2, 5}, {6, 4, 6}, {5, 6, BufferRequest::kNeverGiven}, {2, 7, 8}};
    const BufferPlan plan = planBuffers(requests);
    ASSERT_EQ(plan.bufferOf.size(), requests.size());
    for (std::size_t i = 0; i < requests.size(); ++i)
        for (std::size_t j = i + 1; j < requests.size(); ++j)
            if (plan.bufferOf[i] == plan.bufferOf[j]) {
                EXPECT_TRUE(requests[i].given <= requests[j].taken ||
                            requests[j].given <= requests[i].taken)
                    << i << " and " << j << " overlap but share a buffer";
            }
    for (std::size_t i = 0; i < requests.size(); ++i)
        EXPECT_GE(plan.capacity[static_cast<std::size_t>(plan.bufferOf[i])], requests[i].bytes);
    // a, c and d follow each other in the 8-byte buffer; b and e share the 4-byte one.
    EXPECT_EQ(plan.bufferOf[0], plan.bufferOf[2]);
    EXPECT_EQ(plan.bufferOf[0], plan.bufferOf[3]);
    EXPECT_EQ(plan.bufferOf[1], plan.bufferOf[4]);
    EXPECT_EQ(plan.totalBytes(), 12u);
}

constexpr std::size_t kMiB = std::size_t{1} << 20;

/// One pass of the pattern above, with tags 1, 2, 3: returns the three buffers' data.
std::vector<const std::byte*> runPass(BufferPool& pool, std::uint64_t kind,
                                      std::size_t cBytes = 6 * kMiB) {
    pool.beginPass(kind);
    TensorStorage a = pool.take(8 * kMiB, 1);
    TensorStorage b = pool.take(4 * kMiB, 2);
    std::vector<const std::byte*> data = {a.data(), b.data()};
    pool.give(std::move(a));
    TensorStorage c = pool.take(cBytes, 3);
    EXPECT_GE(c.size(), cBytes);
    data.push_back(c.data());
    pool.give(std::move(b));
    pool.give(std::move(c));
    return data;
}

TEST(BufferPool, FreesWhatNoPlanNames) {
    BufferPool pool;
    TensorStorage a = pool.take(4 * kMiB);
    EXPECT_EQ(pool.use().lent, 4 * kMiB);
    pool.give(std::move(a));
    EXPECT_EQ(pool.freeBytes(), 0u);
    EXPECT_EQ(pool.use().held, 0u);
    EXPECT_EQ(pool.use().peakHeld, 4 * kMiB);
}

TEST(BufferPool, PlansARecordedPassSoThatLaterPassesReuseItsBuffers) {
    BufferPool pool;
    runPass(pool, 7); // recorded: a and b are held at once, then b and c
    EXPECT_FALSE(pool.planned(7));
    EXPECT_EQ(pool.use().peakHeld, 12 * kMiB);
    const std::vector<const std::byte*> second = runPass(pool, 7);
    EXPECT_TRUE(pool.planned(7));
    EXPECT_EQ(second[2], second[0]) << "c follows a in its buffer";
    EXPECT_EQ(pool.freeBytes(), 12 * kMiB); // the plan's two buffers, kept
    pool.resetPeaks();
    const std::vector<const std::byte*> third = runPass(pool, 7);
    EXPECT_EQ(third, second) << "a planned pass allocates nothing";
    EXPECT_EQ(pool.use().peakHeld, 12 * kMiB);
    EXPECT_EQ(pool.use().peakLent, 12 * kMiB);
    EXPECT_EQ(pool.use().lent, 0u);
}

TEST(BufferPool, APassThatStraysFromItsPlanStillGetsBuffersAndIsPlannedAgain) {
    BufferPool pool;
    runPass(pool, 1);
    runPass(pool, 1);
    runPass(pool, 1, 16 * kMiB); // c outgrew its slot
    pool.beginPass(2);           // ends the pass: planned again from it
    EXPECT_TRUE(pool.planned(1));
    const std::vector<const std::byte*> again = runPass(pool, 1, 16 * kMiB);
    EXPECT_EQ(runPass(pool, 1, 16 * kMiB), again);
    EXPECT_TRUE(pool.planned(1));
}

TEST(BufferPool, PlansOfTwoKindsShareTheirBuffers) {
    BufferPool pool;
    runPass(pool, 1);
    runPass(pool, 1); // kind 1 holds an 8 and a 4 MiB buffer
    for (int i = 0; i < 3; ++i) {
        pool.beginPass(2);
        TensorStorage v = pool.take(7 * kMiB, 9);
        pool.give(std::move(v));
    }
    EXPECT_TRUE(pool.planned(2));
    EXPECT_EQ(pool.use().held, 12 * kMiB) << "kind 2 uses kind 1's 8 MiB buffer";
    runPass(pool, 1);
    EXPECT_EQ(pool.use().held, 12 * kMiB);
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
    // An empty tensor has no data pointer, and memcmp must not be given a null one.
    return a.shape() == b.shape() && a.dtype() == b.dtype() && a.byteSize() == b.byteSize() &&
           (a.byteSize() == 0 || std::memcmp(a.bytes(), b.bytes(), a.byteSize()) == 0);
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
    auto gradients = [&](bool scrambleUndeclared, bool disposable = false, bool fresh = false) {
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
        for (std::size_t i = 0; i < inGrads.size(); ++i) {
            ctx.inputGrads.push_back(inGrads[i].empty() ? nullptr : &inGrads[i]);
            if (fresh) { // what a buffer fresh from the pool may hold
                scramble(inGrads[i], 41 + static_cast<std::uint32_t>(i));
                ctx.freshInputGrads.push_back(true);
            }
        }
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
    // An op that assigns fresh input gradients writes every element of them.
    if (harnessFor(c).schema().assignsFreshInputGrads) {
        const std::vector<Tensor> assigned = gradients(false, false, true);
        for (std::size_t i = 0; i < real.size(); ++i)
            EXPECT_TRUE(sameBits(real[i], assigned[i]))
                << c.name << ": gradient " << i << " depends on what its fresh buffer held";
    }
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
    std::vector<std::vector<float>> optimizerState; ///< every slot of every parameter
    std::size_t trainableBytes = 0;
    Executor::MemoryUse afterForward;
    std::size_t savedBetweenSteps = 0; ///< the most saved state held after a step ended
};

/// Three steps and validation passes; the lean plan's trainStep updates the parameters
/// in the backward pass (Executor::updateInBackward), the kept plan after it.
TrainedRun train(const UNetOptions& u, bool keep, int threads, const char* optimizer = "adam") {
    setEngineThreads(threads);
    auto made = makeUNetProject(u);
    EXPECT_TRUE(std::holds_alternative<Project>(made));
    Project project = std::get<Project>(made);
    std::string error;
    auto ex = Executor::compile(project.graph, error);
    EXPECT_TRUE(ex) << error;
    ex->setKeepIntermediates(keep);
    ex->initializeParameters(3);
    OptimizerSettings settings;
    settings.kind = optimizer;
    auto opt = makeOptimizer(settings);
    TrainedRun r;
    for (int s = 0; s < 3; ++s) {
        EXPECT_EQ(
            ex->trainStep(syntheticBatch(u, 4, 40 + static_cast<std::uint32_t>(s)), *opt, 1e-3),
            RunStatus::Finished);
        r.losses.push_back(ex->loss());
        r.savedBetweenSteps = std::max(r.savedBetweenSteps, ex->memoryUse().saved);
        // A validation pass between training steps, at another batch size.
        EXPECT_EQ(ex->evaluate(syntheticBatch(u, 3, 90)), RunStatus::Finished);
        r.evaluations.push_back(ex->scalars());
        r.savedBetweenSteps = std::max(r.savedBetweenSteps, ex->memoryUse().saved);
    }
    ex->feed(syntheticBatch(u, 4, 7));
    ex->beginStep(true);
    for (std::size_t i = 0; i < ex->order().size(); ++i)
        ex->stepNode(); // the whole forward pass
    r.afterForward = ex->memoryUse();
    for (const Parameter& p : ex->parameters()) {
        r.params.emplace_back(p.value.f32(), p.value.f32() + p.value.numel());
        if (p.spec.trainable)
            r.trainableBytes += p.value.byteSize();
    }
    for (const auto& [name, slots] : opt->state())
        for (const OptimizerSlot& slot : *slots)
            r.optimizerState.emplace_back(slot.begin(), slot.end());
    EXPECT_EQ(opt->iterations(), 3);
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
        // Saved state (pooling taps, x̂) lives from a node's forward to its backward.
        EXPECT_GT(lean.afterForward.saved, 0u);
        EXPECT_GT(kept.savedBetweenSteps, 0u);
        EXPECT_EQ(lean.savedBetweenSteps, 0u);
        // Updated in the backward pass, the lean plan holds no parameter gradient
        // between steps; the kept plan one per trainable parameter.
        EXPECT_EQ(kept.afterForward.parameters - lean.afterForward.parameters, kept.trainableBytes);
    }
}

TEST_P(LeanPlan, UpdatesInTheBackwardPassGiveTheOptimizerStepsBits) {
    // Every optimizer: the same parameters and the same optimizer state (momenta,
    // moments) as its step after the pass, element by element.
    for (const char* optimizer : {"sgd", "adamw"}) {
        const TrainedRun kept = train(GetParam().u, true, 2, optimizer);
        const TrainedRun lean = train(GetParam().u, false, 2, optimizer);
        EXPECT_EQ(kept.losses, lean.losses) << optimizer;
        EXPECT_EQ(kept.params, lean.params) << optimizer;
        EXPECT_EQ(kept.optimizerState, lean.optimizerState) << optimizer;
        EXPECT_FALSE(lean.optimizerState.empty());
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
