// Conv2D forward and backward at U-Net layer shapes (batch 8, 3×3, same), on
// one thread, for each convolution path: 0 = what Auto picks (Winograd on the
// AVX2 kernels when the CPU has them), 3 = Auto with Winograd off (the direct
// kernels), 1 = im2col + GEMM, 2 = direct portable (with Winograd).
// Reports GFLOP/s counting 2·N·H·W·Cin·Cout·9 per pass (backward: input + weight grads, 2×).

#include "conv_setup.hpp"
#include "engine/executor.hpp"
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

void convBench(benchmark::State& state, bool backward) {
    const std::int64_t hw = state.range(0), cin = state.range(1), cout = state.range(2);
    constexpr std::int64_t kDirectOnly = 3;
    const bool winograd = state.range(3) != kDirectOnly;
    const auto path = static_cast<segforge::core::kernels::ConvPath>(winograd ? state.range(3) : 0);
    segforge::core::kernels::setConvPath(path);
    segforge::core::kernels::setConvWinograd(winograd);
    setEngineThreads(1);
    ConvSetup s(8, hw, cin, cout);
    const OpSchema* conv = OpRegistry::builtin().find("Conv2D");
    conv->forward(s.ctx);
    for (auto _ : state) {
        if (backward)
            conv->backward(s.ctx);
        else
            conv->forward(s.ctx);
        benchmark::DoNotOptimize(s.y.f32());
    }
    const double flops =
        2.0 * 8 * static_cast<double>(hw * hw * cin * cout) * 9 * (backward ? 2 : 1);
    state.counters["GFLOP/s"] = benchmark::Counter(
        flops * static_cast<double>(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
    std::string label = path == segforge::core::kernels::ConvPath::Gemm
                            ? "gemm"
                            : segforge::core::kernels::convPathName();
    if (path != segforge::core::kernels::ConvPath::Gemm &&
        segforge::core::kernels::useWinogradConv(
            segforge::core::kernels::makeConvGeometry(8, hw, hw, cin, hw, hw, 3, 3, 1, 1, 1, 1,
                                                      true),
            cout))
        label += "+winograd";
    state.SetLabel(label);
    segforge::core::kernels::setConvPath(segforge::core::kernels::ConvPath::Auto);
    segforge::core::kernels::setConvWinograd(true);
}

/// {H=W, Cin, Cout} × every path.
void convShapes(benchmark::internal::Benchmark* b) {
    for (std::int64_t path : {0, 3, 1, 2})
        for (auto shape :
             {std::vector<std::int64_t>{128, 16, 16}, {64, 32, 32}, {32, 64, 64}, {8, 256, 256}})
            b->Args({shape[0], shape[1], shape[2], path});
}

void BM_Conv3x3Forward(benchmark::State& state) {
    convBench(state, false);
}
void BM_Conv3x3Backward(benchmark::State& state) {
    convBench(state, true);
}

} // namespace

BENCHMARK(BM_Conv3x3Forward)->Apply(convShapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Conv3x3Backward)->Apply(convShapes)->Unit(benchmark::kMillisecond);
