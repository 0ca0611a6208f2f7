// The engine's thread pool and the threaded convolution kernels: chunks cover
// the range exactly once, errors come back to the caller, and a threaded
// convolution agrees with the single-threaded one. The chunking rule in one
// place (chunksFor), the census of parallel loops and the scaling bound built
// on it (bench --scaling).

#include "engine/executor.hpp"
#include "engine/scaling_estimate.hpp"
#include "engine_op_harness.hpp"
#include "graph_builder.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

/// Restores one thread after a test, whatever it set.
struct ThreadsGuard {
    ~ThreadsGuard() { setEngineThreads(1); }
};

} // namespace

TEST(EngineParallel, ChunksCoverTheRangeOnceInOrder) {
    ThreadsGuard guard;
    for (int threads : {1, 2, 3}) {
        setEngineThreads(threads);
        EXPECT_EQ(engineThreads(), threads);
        for (std::int64_t n : {1, 2, 5, 1000}) {
            std::vector<std::atomic<int>> hits(static_cast<std::size_t>(n));
            std::vector<std::pair<std::int64_t, std::int64_t>> ranges(
                static_cast<std::size_t>(parallelChunks(n)));
            parallelFor(n, [&](std::int64_t b, std::int64_t e, int chunk) {
                ranges[static_cast<std::size_t>(chunk)] = {b, e};
                for (std::int64_t i = b; i < e; ++i)
                    ++hits[static_cast<std::size_t>(i)];
            });
            EXPECT_EQ(parallelChunks(n), static_cast<int>(std::min<std::int64_t>(n, threads)));
            for (const auto& h : hits)
                ASSERT_EQ(h.load(), 1) << "threads " << threads << " n " << n;
            for (std::size_t c = 1; c < ranges.size(); ++c)
                EXPECT_EQ(ranges[c].first, ranges[c - 1].second);
        }
    }
}

TEST(EngineParallel, ErrorsReachTheCallerAndNestedCallsRunSerially) {
    ThreadsGuard guard;
    setEngineThreads(2);
    EXPECT_THROW(parallelFor(10,
                             [](std::int64_t b, std::int64_t, int) {
                                 if (b > 0)
                                     throw std::runtime_error("chunk failed");
                             }),
                 std::runtime_error);
    std::atomic<int> inner{0};
    parallelFor(4, [&](std::int64_t, std::int64_t, int) {
        EXPECT_EQ(parallelChunks(100), 1);
        parallelFor(3,
                    [&](std::int64_t b, std::int64_t e, int) { inner += static_cast<int>(e - b); });
    });
    EXPECT_EQ(inner.load(), 6);
    // The pool still works after an error and a resize.
    setEngineThreads(3);
    std::atomic<int> sum{0};
    parallelFor(9, [&](std::int64_t b, std::int64_t e, int) { sum += static_cast<int>(e - b); });
    EXPECT_EQ(sum.load(), 9);
}

TEST(EngineParallel, ThreadedConvolutionsAgreeWithOneThread) {
    ThreadsGuard guard;
    // Conv2D 3×3 → Conv2D 1×1 → Conv2DTranspose, batch 5 (an odd split), gradients of every weight.
    GraphBuilder b;
    const NodeId in = b.input(12, 10, 3, "float32", "image");
    const NodeId c1 = b.then("Conv2D", "c1", out(in),
                             {{"filters", std::int64_t{6}},
                              {"padding", std::string("same")},
                              {"activation", std::string("relu")}});
    const NodeId c2 = b.then("Conv2D", "c2", out(c1),
                             {{"filters", std::int64_t{4}}, {"kernel_size", std::int64_t{1}}});
    const NodeId up =
        b.then("Conv2DTranspose", "up", out(c2),
               {{"filters", std::int64_t{1}}, {"activation", std::string("sigmoid")}});
    const NodeId target = b.input(24, 20, 1, "float32", "target");
    const NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(up), {loss, "prediction"});
    b.wire(out(target), {loss, "target"});
    Tensor image = uniformTensor({5, 12, 10, 3}, -1, 1, 3);
    Tensor mask = uniformTensor({5, 24, 20, 1}, 0, 1, 4);
    // Fills `out` with the prediction and every parameter gradient (void, so it may ASSERT).
    auto gradients = [&](int threads, std::vector<Tensor>& out) {
        setEngineThreads(threads);
        std::string error;
        auto ex = Executor::compile(b.graph, error);
        ASSERT_TRUE(ex) << error;
        ex->initializeParameters(9);
        ex->feedInput("image", image);
        ex->feedInput("target", mask);
        ex->beginStep(true);
        EXPECT_EQ(ex->run(), RunStatus::Finished);
        out = {*ex->output(up, "output")};
        for (const auto& p : ex->parameters())
            out.push_back(p.grad);
    };
    std::vector<Tensor> one, two, twoAgain;
    ASSERT_NO_FATAL_FAILURE(gradients(1, one));
    ASSERT_NO_FATAL_FAILURE(gradients(2, two));
    ASSERT_NO_FATAL_FAILURE(gradients(2, twoAgain));
    ASSERT_EQ(one.size(), two.size());
    EXPECT_EQ(std::memcmp(one[0].bytes(), two[0].bytes(), one[0].byteSize()), 0)
        << "forward blocks do not depend on the thread count";
    for (std::size_t t = 1; t < one.size(); ++t) {
        for (std::int64_t i = 0; i < one[t].numel(); ++i)
            ASSERT_NEAR(one[t].f32()[i], two[t].f32()[i], 1e-5 + 1e-4 * std::fabs(one[t].f32()[i]))
                << "tensor " << t;
        EXPECT_EQ(std::memcmp(two[t].bytes(), twoAgain[t].bytes(), two[t].byteSize()), 0)
            << "same threads, same bits";
    }
}

TEST(ParallelChunking, ThePoolRunsTheChunksThatChunksForCounts) {
    ThreadsGuard guard;
    for (int threads : {1, 2, 3}) {
        setEngineThreads(threads);
        for (std::int64_t n : {1, 2, 7, 100, 1000}) {
            EXPECT_EQ(parallelChunks(n), chunksFor(n, threads, false));
            std::atomic<int> fine{0};
            parallelForFine(n, [&](std::int64_t, std::int64_t) { ++fine; });
            EXPECT_EQ(fine.load(), chunksFor(n, threads, true)) << threads << " threads, n " << n;
        }
    }
    EXPECT_EQ(chunksFor(0, 4, false), 0);
    EXPECT_EQ(chunksFor(1, 16, true), 1);
    EXPECT_EQ(chunksFor(1000, 16, false), 16);
    EXPECT_EQ(chunksFor(1000, 16, true), 128);
    EXPECT_EQ(chunksFor(20, 16, true), 20);
}

TEST(ParallelChunking, MakespanSharesChunksOutInOrderToTheFirstFreeThread) {
    EXPECT_DOUBLE_EQ(makespanMs({}, 4), 0.0);
    EXPECT_DOUBLE_EQ(makespanMs({5, 5, 5, 5}, 1), 20.0);
    EXPECT_DOUBLE_EQ(makespanMs({5, 5, 5, 5}, 4), 5.0);
    EXPECT_DOUBLE_EQ(makespanMs({5, 5, 5, 5}, 16), 5.0) << "4 chunks keep 4 threads busy";
    // 4, 1, 1, 1, 1 on 2 threads: the second thread takes every small chunk while the
    // first is busy, then both finish at 4.
    EXPECT_DOUBLE_EQ(makespanMs({4, 1, 1, 1, 1}, 2), 4.0);
    // A big last chunk starts late: 1, 1, 4 on 2 threads ends at 5.
    EXPECT_DOUBLE_EQ(makespanMs({1, 1, 4}, 2), 5.0);
}

TEST(ParallelCensus, RecordsLoopsOfSeveralChunksOnlyAndOneCensusAtATime) {
    ThreadsGuard guard;
    {
        setEngineThreads(1); // every loop is one chunk: serial code
        ParallelCensus census;
        parallelFor(10, [](std::int64_t, std::int64_t, int) {});
        parallelForFine(100, [](std::int64_t, std::int64_t) {});
        EXPECT_TRUE(census.take().empty());
    }
    for (int threads : {2, 3}) {
        setEngineThreads(threads);
        ParallelCensus census;
        EXPECT_THROW(ParallelCensus{}, std::logic_error);
        parallelFor(10, [](std::int64_t, std::int64_t, int) {});
        parallelForFine(100, [](std::int64_t, std::int64_t) {
            parallelFor(5, [](std::int64_t, std::int64_t, int) {}); // part of its chunk
        });
        parallelForEach(10, [](std::int64_t) {}); // below serialBelow: no loop at all
        const std::vector<ParallelLoop> loops = census.take();
        ASSERT_EQ(loops.size(), 2u) << threads << " threads";
        EXPECT_EQ(loops[0].items, 10);
        EXPECT_FALSE(loops[0].fine);
        EXPECT_EQ(loops[1].items, 100);
        EXPECT_TRUE(loops[1].fine);
        EXPECT_GE(loops[0].ms, 0.0);
        EXPECT_TRUE(census.take().empty());
    }
    ParallelCensus again; // the last one is gone
    parallelFor(3, [](std::int64_t, std::int64_t, int) {});
    parallelFor(1, [](std::int64_t, std::int64_t, int) {
        parallelFor(4, [](std::int64_t, std::int64_t, int) {}); // not in a chunk: a loop
    });
    const std::vector<ParallelLoop> loops = again.take();
    ASSERT_EQ(loops.size(), 2u);
    EXPECT_EQ(loops[1].items, 4);
}

TEST(ParallelCensus, SimulatesAThreadCountChunkByChunkWithTheSameChunks) {
    ThreadsGuard guard;
    setEngineThreads(2);
    std::vector<std::pair<std::int64_t, std::int64_t>> real, simulated;
    parallelFor(10, [&](std::int64_t b, std::int64_t e, int) {
        static std::mutex m;
        std::lock_guard lock(m);
        real.emplace_back(b, e);
    });
    {
        ParallelCensus census(5);
        EXPECT_EQ(engineThreads(), 5) << "kernels cut their work for the simulated count";
        EXPECT_EQ(parallelChunks(10), 5);
        std::vector<int> order;
        parallelFor(10, [&](std::int64_t b, std::int64_t e, int chunk) {
            EXPECT_EQ(parallelChunks(100), 1) << "inside a chunk, as in a real run";
            simulated.emplace_back(b, e);
            order.push_back(chunk);
        });
        int fine = 0;
        parallelForFine(1000, [&](std::int64_t, std::int64_t) { ++fine; });
        EXPECT_EQ(fine, chunksFor(1000, 5, true));
        EXPECT_EQ(order, (std::vector<int>{0, 1, 2, 3, 4})) << "one after another, in order";
        const std::vector<ParallelLoop> loops = census.take();
        ASSERT_EQ(loops.size(), 2u);
        EXPECT_EQ(loops[0].chunkMs.size(), 5u);
        EXPECT_EQ(loops[1].chunkMs.size(), static_cast<std::size_t>(chunksFor(1000, 5, true)));
        double sum = 0;
        for (double ms : loops[1].chunkMs)
            sum += ms;
        EXPECT_LE(sum, loops[1].ms + 1e-9);
        EXPECT_THROW(parallelFor(3,
                                 [](std::int64_t, std::int64_t e, int) {
                                     if (e == 3)
                                         throw std::runtime_error("last chunk");
                                 }),
                     std::runtime_error);
        EXPECT_EQ(parallelChunks(10), 5) << "an error leaves no chunk marked as running";
    }
    EXPECT_EQ(engineThreads(), 2) << "the real count is back";
    EXPECT_EQ(real.size(), 2u);
    EXPECT_EQ(simulated.size(), 5u);
    EXPECT_EQ(simulated.back().second, 10);
}

namespace {

/// Three convolutions and a loss on a 32×32 image, batch 4, compiled and fed: a
/// step with parallel loops for the scaling profiles.
class ThreeConvolutions {
public:
    ThreeConvolutions() {
        const NodeId in = m_b.input(32, 32, 3, "float32", "image");
        const NodeId c1 = m_b.then("Conv2D", "c1", out(in),
                                   {{"filters", std::int64_t{8}},
                                    {"padding", std::string("same")},
                                    {"activation", std::string("relu")}});
        const NodeId c2 = m_b.then("Conv2D", "c2", out(c1),
                                   {{"filters", std::int64_t{8}},
                                    {"padding", std::string("same")},
                                    {"activation", std::string("relu")}});
        const NodeId c3 = m_b.then("Conv2D", "c3", out(c2),
                                   {{"filters", std::int64_t{1}},
                                    {"kernel_size", std::int64_t{1}},
                                    {"activation", std::string("sigmoid")}});
        const NodeId target = m_b.input(32, 32, 1, "float32", "target");
        const NodeId loss = m_b.add("BinaryCrossentropy", "loss");
        m_b.wire(out(c3), {loss, "prediction"});
        m_b.wire(out(target), {loss, "target"});
    }

    std::unique_ptr<Executor> compiled() const {
        std::string error;
        auto ex = Executor::compile(m_b.graph, error);
        EXPECT_TRUE(ex) << error;
        ex->initializeParameters(3);
        ex->feedInput("image", m_image);
        ex->feedInput("target", m_mask);
        return ex;
    }

    static std::vector<Tensor> gradients(Executor& ex) {
        std::vector<Tensor> g;
        for (const auto& p : ex.parameters())
            g.push_back(p.grad);
        return g;
    }

    /// Whether a and b hold the same bits, tensor by tensor.
    static void expectSameBits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
        ASSERT_EQ(a.size(), b.size());
        for (std::size_t t = 0; t < a.size(); ++t)
            EXPECT_EQ(std::memcmp(a[t].bytes(), b[t].bytes(), a[t].byteSize()), 0)
                << "tensor " << t;
    }

private:
    GraphBuilder m_b;
    Tensor m_image = uniformTensor({4, 32, 32, 3}, -1, 1, 1);
    Tensor m_mask = uniformTensor({4, 32, 32, 1}, 0, 1, 2);
};

} // namespace

TEST(ScalingProfile, SimulatedThreadsGiveTheBitsOfRealOnesAndTheBoundFallsWithThreads) {
    ThreadsGuard guard;
    const ThreeConvolutions net;
    auto compiled = [&] { return net.compiled(); };

    // Three real threads and three simulated ones compute the same bits.
    setEngineThreads(3);
    auto real = compiled();
    real->beginStep(true);
    ASSERT_EQ(real->run(), RunStatus::Finished);
    setEngineThreads(1);
    auto simulated = compiled();
    ScalingEstimate three;
    {
        ScalingProfile profile(*simulated, 3);
        profile.startStep();
        simulated->beginStep(true);
        ASSERT_EQ(simulated->run(), RunStatus::Finished);
        profile.endStep();
        three = profile.estimate();
    }
    ThreeConvolutions::expectSameBits(ThreeConvolutions::gradients(*real),
                                      ThreeConvolutions::gradients(*simulated));
    EXPECT_EQ(three.threads, 3);

    auto estimateAt = [&](int threads) {
        ScalingProfile profile(*simulated, threads);
        for (int step = 0; step < 3; ++step) {
            profile.startStep();
            simulated->beginStep(true);
            EXPECT_EQ(simulated->run(), RunStatus::Finished);
            profile.endStep();
        }
        return profile.estimate();
    };
    const ScalingEstimate one = estimateAt(1), sixteen = estimateAt(16);
    // One thread: the bound is the step as it ran.
    EXPECT_GT(one.workMs, 0.0);
    EXPECT_EQ(one.loopsPerStep, 0) << "at one thread every loop is one chunk";
    EXPECT_NEAR(one.boundMs, one.workMs, 1e-9 * one.workMs);
    EXPECT_NEAR(one.efficiencyAgainst(one), 1.0, 1e-9);
    EXPECT_NEAR(sixteen.efficiencyAgainst(one), one.workMs / (16 * sixteen.boundMs), 1e-12);
    EXPECT_GT(sixteen.loopsPerStep, 3) << "the convolutions run parallel loops";
    EXPECT_LT(sixteen.serialMs, sixteen.workMs);
    EXPECT_LT(sixteen.boundMs, sixteen.workMs) << "sixteen threads share the chunks";
    EXPECT_GE(sixteen.boundMs, sixteen.serialMs) << "Amdahl: the serial part stays";
    ASSERT_EQ(sixteen.nodes.size(), simulated->order().size());
    double nodesMs = 0;
    for (const NodeScaling& n : sixteen.nodes) {
        nodesMs += n.workMs;
        EXPECT_LE(n.serialMs, n.workMs + 1e-9) << n.name;
        EXPECT_LE(n.boundMs, n.workMs + 1e-9) << n.name;
        if (n.name == "c2") {
            EXPECT_LT(n.boundMs, n.workMs) << "a 32×32 convolution has chunks to share";
        }
    }
    EXPECT_LE(nodesMs, sixteen.workMs * (1 + 1e-9));
    EXPECT_EQ(engineThreads(), 1);
    simulated->beginStep(true); // the profile is gone: the executor runs unobserved
    EXPECT_EQ(simulated->run(), RunStatus::Finished);
}

TEST(ScalingProfile, MeasuredStepsRunOnThatManyThreadsAndTheirBoundIsTheTimeTheyTook) {
    ThreadsGuard guard;
    const ThreeConvolutions net;
    setEngineThreads(2);
    auto plain = net.compiled();
    plain->beginStep(true);
    ASSERT_EQ(plain->run(), RunStatus::Finished);

    setEngineThreads(1);
    auto measured = net.compiled();
    ScalingProfile profile(*measured, 2, ScalingRun::Measured);
    for (int step = 0; step < 3; ++step) {
        profile.startStep();
        EXPECT_EQ(engineThreads(), 2) << "a measured step runs on the target's threads";
        measured->beginStep(true);
        ASSERT_EQ(measured->run(), RunStatus::Finished);
        profile.endStep();
        if (step == 0) // a real 2-thread step: the bits of any other one
            ThreeConvolutions::expectSameBits(ThreeConvolutions::gradients(*plain),
                                              ThreeConvolutions::gradients(*measured));
    }
    const ScalingEstimate two = profile.estimate();
    EXPECT_EQ(two.threads, 2);
    EXPECT_GT(two.workMs, 0.0);
    EXPECT_NEAR(two.boundMs, two.workMs, 1e-9 * two.workMs) << "measured: the time it took";
    EXPECT_GT(two.loopsPerStep, 3) << "the real loops of two threads are recorded";
    EXPECT_GT(two.serialMs, 0.0);
    EXPECT_LT(two.serialMs, two.workMs);
    ASSERT_EQ(two.nodes.size(), measured->order().size());
    for (const NodeScaling& n : two.nodes) {
        EXPECT_NEAR(n.boundMs, n.workMs, 1e-9 * n.workMs + 1e-12) << n.name;
        EXPECT_LE(n.serialMs, n.workMs + 1e-9) << n.name;
    }
}
