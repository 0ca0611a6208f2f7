// Engine work runs with denormals flushed to zero (kernels/denormals.hpp): on
// the pool's threads always, on the calling thread for the length of each
// parallelFor and executor pass, and the caller's own mode is given back.

#include "engine/executor.hpp"
#include "graph_builder.hpp"
#include "kernels/denormals.hpp"
#include "kernels/parallel.hpp"

#include <atomic>
#include <gtest/gtest.h>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

/// 1e-20 × 1e-20 = 1e-40: below the smallest normal float (1.2e-38).
float tinyProduct() {
    volatile float a = 1e-20f, b = 1e-20f;
    return a * b;
}

TEST(DenormalsFlushed, FlushesInsideTheScopeAndRestoresTheCallersMode) {
    ASSERT_FALSE(denormalsFlushed()) << "a test thread starts in the default mode";
    EXPECT_GT(tinyProduct(), 0.0f);
    {
        const DenormalsFlushed outer;
        if (!denormalsFlushed())
            GTEST_SKIP() << "no flush-to-zero mode on this CPU";
        EXPECT_EQ(tinyProduct(), 0.0f);
        {
            const DenormalsFlushed inner; // nests
            EXPECT_EQ(tinyProduct(), 0.0f);
        }
        EXPECT_TRUE(denormalsFlushed()) << "the inner scope restored the outer one's mode";
    }
    EXPECT_FALSE(denormalsFlushed());
    EXPECT_GT(tinyProduct(), 0.0f);
}

TEST(DenormalsFlushed, EveryChunkOfAParallelLoopRunsFlushed) {
    {
        const DenormalsFlushed probe;
        if (!denormalsFlushed())
            GTEST_SKIP() << "no flush-to-zero mode on this CPU";
    }
    for (int threads : {1, 2, 3}) {
        SCOPED_TRACE(threads);
        setEngineThreads(threads);
        std::atomic<int> flushed{0}, unflushed{0};
        parallelFor(12, [&](std::int64_t, std::int64_t, int) {
            (denormalsFlushed() && tinyProduct() == 0.0f ? flushed : unflushed)++;
        });
        parallelForFine(
            40, [&](std::int64_t, std::int64_t) { (denormalsFlushed() ? flushed : unflushed)++; });
        EXPECT_EQ(unflushed.load(), 0);
        EXPECT_GT(flushed.load(), 0);
        EXPECT_FALSE(denormalsFlushed()) << "the caller's mode is given back";
    }
    setEngineThreads(1);
}

TEST(DenormalsFlushed, AnExecutorPassFlushesWhatItComputesAndGivesTheModeBack) {
    {
        const DenormalsFlushed probe;
        if (!denormalsFlushed())
            GTEST_SKIP() << "no flush-to-zero mode on this CPU";
    }
    // x → Rescale(scale 1e-10): 1e-30 · 1e-10 is denormal, 1 · 1e-10 is not.
    GraphBuilder b;
    const NodeId x = b.input(1, 2, 1, "float32", "x");
    const NodeId scaled = b.then("Rescale", "scaled", out(x), {{"scale", 1e-10}});
    std::string error;
    auto ex = Executor::compileWithoutLoss(b.graph, error);
    ASSERT_TRUE(ex) << error;
    Tensor in(Shape{1, 1, 2, 1}, DType::Float32);
    in.f32()[0] = 1e-30f;
    in.f32()[1] = 1.0f;
    ex->feedInput("x", in);
    ex->beginStep(false);
    ASSERT_EQ(ex->run(), RunStatus::Finished);
    const Tensor* y = ex->output(scaled, "output");
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(y->f32()[0], 0.0f);
    EXPECT_FLOAT_EQ(y->f32()[1], 1e-10f);
    EXPECT_FALSE(denormalsFlushed());
}

} // namespace
