// The Winograd convolution's two ways of cutting work, at the U-Net's deep layer
// shapes (3×3, same, ReLU, bias): scheme 0 = the default budgets
// (WinogradScratchLimits), 1 = unlimited budgets (the many-tile scheme: all 36·C·F
// transformed filters at once, one 36·C·F weight-gradient sum per thread chunk,
// except on weight-heavy layers, which always take the blocked scheme), 2 = zero
// budgets (everything blocked: filters 16 output channels at a time, weight gradient
// in blocks of C × F). On a shared machine run with
// --benchmark_enable_random_interleaving=true and repetitions. Reports GFLOP/s
// counting 2·N·H·W·Cin·Cout·9 per pass (backward: input + weight gradients, 2×).

#include "conv_setup.hpp"
#include "kernels/conv_direct.hpp"
#include "kernels/conv_winograd.hpp"
#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"

#include <benchmark/benchmark.h>
#include <random>
#include <string>

using namespace segforge::core;

namespace {

using bench::ConvSetup;

kernels::WinogradScratchLimits limitsOf(std::int64_t scheme) {
    constexpr std::int64_t kHuge = std::int64_t{1} << 40;
    switch (scheme) {
    case 1:
        return {kHuge, kernels::WinogradScratchLimits{}.tileBytes, kHuge};
    case 2:
        return {0, kernels::WinogradScratchLimits{}.tileBytes, 0};
    default:
        return {};
    }
}

/// Args: batch, H = W, Cin, Cout, scheme, threads.
void winogradBench(benchmark::State& state, bool backward) {
    const std::int64_t n = state.range(0), hw = state.range(1), cin = state.range(2),
                       cout = state.range(3);
    kernels::setConvPath(kernels::ConvPath::Auto);
    kernels::setConvWinograd(true);
    kernels::setWinogradScratchLimits(limitsOf(state.range(4)));
    setEngineThreads(static_cast<int>(state.range(5)));
    ConvSetup s(n, hw, cin, cout);
    const OpSchema* conv = OpRegistry::builtin().find("Conv2D");
    conv->forward(s.ctx);
    for (auto _ : state) {
        if (backward)
            conv->backward(s.ctx);
        else
            conv->forward(s.ctx);
        benchmark::DoNotOptimize(s.dw.f32());
    }
    const double flops =
        2.0 * static_cast<double>(n * hw * hw * cin * cout) * 9 * (backward ? 2 : 1);
    state.counters["GFLOP/s"] = benchmark::Counter(
        flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
    state.SetLabel(std::string(kernels::convPathName()) + " scheme " +
                   std::to_string(state.range(4)));
    kernels::setWinogradScratchLimits({});
    setEngineThreads(1);
}

void winogradShapes(benchmark::internal::Benchmark* b) {
    for (auto shape : {std::vector<std::int64_t>{8, 32, 64, 64},
                       {8, 32, 128, 64},
                       {8, 16, 64, 128},
                       {8, 16, 128, 128},
                       {8, 16, 256, 128},
                       {8, 8, 128, 256},
                       {8, 8, 256, 256},
                       {4, 16, 512, 512}})
        for (std::int64_t scheme : {0, 1, 2})
            b->Args({shape[0], shape[1], shape[2], shape[3], scheme, 2});
}

/// The default scheme at 1 and 2 threads (all the cores this machine has), for the
/// parallel efficiency of each shape: `bench --scaling` measures the deep layers at
/// 0.6–0.7 on two cores where the bound allows 0.9.
void winogradThreads(benchmark::internal::Benchmark* b) {
    for (auto shape : {std::vector<std::int64_t>{8, 32, 64, 64},
                       {8, 16, 128, 128},
                       {8, 16, 256, 128},
                       {8, 8, 128, 256},
                       {8, 8, 256, 256}})
        for (std::int64_t threads : {1, 2})
            b->Args({shape[0], shape[1], shape[2], shape[3], 0, threads});
}

void BM_WinogradForward(benchmark::State& state) {
    winogradBench(state, false);
}
void BM_WinogradBackward(benchmark::State& state) {
    winogradBench(state, true);
}

} // namespace

BENCHMARK(BM_WinogradForward)->Apply(winogradShapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WinogradBackward)->Apply(winogradShapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WinogradForward)
    ->Name("BM_WinogradForwardThreads")
    ->Apply(winogradThreads)
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_WinogradBackward)
    ->Name("BM_WinogradBackwardThreads")
    ->Apply(winogradThreads)
    ->Unit(benchmark::kMillisecond);
