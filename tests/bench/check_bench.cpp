// How fast is a re-check? The canvas re-runs it on every edit.

#include "check/checker.hpp"
#include "check/valid_input_sizes.hpp"
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

// The symbolic part of a re-check (every wire's H and W expressions and the
// size constraints) on the depth-5 U-Net with a free input size: the whole
// re-check, labels derived, must stay under 1 ms.
void BM_CheckUNetDepth5FreeSize(benchmark::State& state) {
    Graph g = unet(5);
    g.findNode(g.findNodeByName("data")->id)->attrs["variable_size"] = true;
    for (auto _ : state)
        benchmark::DoNotOptimize(checkGraph(g));
    state.counters["constraints"] = static_cast<double>(checkGraph(g).sizeConstraints.size());
}
BENCHMARK(BM_CheckUNetDepth5FreeSize)->Unit(benchmark::kMicrosecond);

// The derivation of the sizes that work from a check's constraints (was a sweep
// of 512 re-checks): must stay under 5 ms.
void BM_ValidInputSizesUNetDepth5(benchmark::State& state) {
    Graph g = unet(5);
    const CheckResult checked = checkGraph(g);
    for (auto _ : state)
        benchmark::DoNotOptimize(validInputSizes(g, checked));
}
BENCHMARK(BM_ValidInputSizesUNetDepth5)->Unit(benchmark::kMicrosecond);

// The same for a network whose strides combine to a large modulus (strides 3
// and poolings of 2 on parallel branches: lcm 3^3·2^5 = 864 classes).
void BM_ValidInputSizesLargeModulus(benchmark::State& state) {
    Graph g = unet(5);
    NodeId in = g.findNodeByName("data")->id;
    PortRef x{in, "image"};
    for (int i = 0; i < 3; ++i) {
        NodeId conv = g.addNode("Conv2D", "stride3_" + std::to_string(i),
                                {{"strides", std::int64_t{3}}, {"padding", std::string("same")}});
        g.connect(x, {conv, "input"});
        x = {conv, "output"};
    }
    const CheckResult checked = checkGraph(g);
    for (auto _ : state)
        benchmark::DoNotOptimize(validInputSizes(g, checked));
}
BENCHMARK(BM_ValidInputSizesLargeModulus)->Unit(benchmark::kMicrosecond);

} // namespace
