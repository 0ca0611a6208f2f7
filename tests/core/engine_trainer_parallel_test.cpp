// The engine's thread pool and the threaded convolution kernels: chunks cover
// the range exactly once, errors come back to the caller, and a threaded
// convolution agrees with the single-threaded one.

#include "engine/executor.hpp"
#include "engine_op_harness.hpp"
#include "graph_builder.hpp"
#include "kernels/parallel.hpp"

#include <atomic>
#include <cmath>
#include <cstring>
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
