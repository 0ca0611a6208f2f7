// How fast is a re-check? The canvas re-runs it on every edit.

#include "check/checker.hpp"
#include "check/input_size_sweep.hpp"
#include "templates/unet_template.hpp"

#include <benchmark/benchmark.h>

using namespace segforge::core;

namespace {

Graph unet(int depth) {
    UNetOptions o;
    o.depth = depth;
    o.size = 256;
    o.filters = 16;
    o.batchnorm = true;
    return std::get<Project>(makeUNetProject(o)).graph;
}

Graph chain(int length) {
    Graph g;
    NodeId prev =
        g.addNode("Input", "in", {{"height", std::int64_t{64}}, {"width", std::int64_t{64}}});
    for (int i = 0; i < length - 1; ++i) {
        const bool conv = i % 2 == 0;
        NodeId n = g.addNode(conv ? "Conv2D" : "Activation", "n" + std::to_string(i),
                             conv ? AttrMap{{"padding", std::string("same")}} : AttrMap{});
        g.connect({prev, "output"}, {n, "input"});
        prev = n;
    }
    return g;
}

void BM_CheckUNetDepth5(benchmark::State& state) {
    Graph g = unet(5);
    for (auto _ : state)
        benchmark::DoNotOptimize(checkGraph(g));
    state.counters["nodes"] = static_cast<double>(g.nodeCount());
}
BENCHMARK(BM_CheckUNetDepth5)->Unit(benchmark::kMicrosecond);

void BM_CheckChain1000(benchmark::State& state) {
    Graph g = chain(1000);
    for (auto _ : state)
        benchmark::DoNotOptimize(checkGraph(g));
    state.counters["nodes"] = static_cast<double>(g.nodeCount());
    state.counters["errors"] = static_cast<double>(checkGraph(g).count(Severity::Error));
}
BENCHMARK(BM_CheckChain1000)->Unit(benchmark::kMicrosecond);

void BM_SweepInputSizesUNetDepth4(benchmark::State& state) {
    Graph g = unet(4);
    for (auto _ : state)
        benchmark::DoNotOptimize(sweepInputSizes(g, 512));
}
BENCHMARK(BM_SweepInputSizesUNetDepth4)->Unit(benchmark::kMillisecond);

} // namespace
