// BatchNormalization and GroupNormalization forward (training) and backward at
// U-Net shapes (batch 8), at 1 and 2 threads. Reports the values per second
// (Mvalue/s) of the (N,H,W,C) tensor.

#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"

#include <benchmark/benchmark.h>
#include <random>

using namespace segforge::core;

namespace {

struct NormSetup {
    Tensor x, y, dy, dx, gamma, beta, mean, var, dgamma, dbeta;
    std::vector<Tensor> saved;
    AttrMap attrs;
    KernelContext ctx;

    NormSetup(std::int64_t n, std::int64_t hw, std::int64_t c, bool batchNorm)
        : x(Shape{n, hw, hw, c}, DType::Float32)
        , y(Shape{n, hw, hw, c}, DType::Float32)
        , dy(Shape{n, hw, hw, c}, DType::Float32)
        , dx(Shape{n, hw, hw, c}, DType::Float32)
        , gamma(Shape{c}, DType::Float32)
        , beta(Shape{c}, DType::Float32)
        , mean(Shape{c}, DType::Float32)
        , var(Shape{c}, DType::Float32)
        , dgamma(Shape{c}, DType::Float32)
        , dbeta(Shape{c}, DType::Float32) {
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-1, 1);
        for (Tensor* t : {&x, &dy})
            for (std::int64_t i = 0; i < t->numel(); ++i)
                t->f32()[i] = u(rng) + 2.0f;
        gamma.fill(1.0f);
        beta.fill(0.0f);
        mean.fill(0.0f);
        var.fill(1.0f);
        for (Tensor* t : {&dx, &dgamma, &dbeta})
            t->fill(0.0f);
        if (batchNorm)
            attrs = {{"momentum", 0.99}, {"epsilon", 1e-3}, {"center", true}, {"scale", true}};
        else
            attrs = {
                {"groups", std::int64_t{4}}, {"epsilon", 1e-5}, {"center", true}, {"scale", true}};
        ctx.attrs = &attrs;
        ctx.inputs = {&x};
        ctx.outputs = {&y};
        ctx.params = {&gamma, &beta};
        ctx.paramGrads = {&dgamma, &dbeta};
        if (batchNorm) {
            ctx.params.push_back(&mean);
            ctx.params.push_back(&var);
            ctx.paramGrads.push_back(nullptr);
            ctx.paramGrads.push_back(nullptr);
        }
        ctx.outputGrads = {&dy};
        ctx.inputGrads = {&dx};
        ctx.saved = &saved;
        ctx.training = true;
    }
};

void normBench(benchmark::State& state, const char* op, bool backward) {
    const std::int64_t hw = state.range(0), c = state.range(1);
    setEngineThreads(static_cast<int>(state.range(2)));
    NormSetup s(8, hw, c, std::string(op) == "BatchNormalization");
    const OpSchema* schema = OpRegistry::builtin().find(op);
    schema->forward(s.ctx);
    for (auto _ : state) {
        if (backward)
            schema->backward(s.ctx);
        else
            schema->forward(s.ctx);
        benchmark::DoNotOptimize(s.y.f32());
        benchmark::DoNotOptimize(s.dx.f32());
    }
    state.counters["Mvalue/s"] = benchmark::Counter(
        static_cast<double>(s.x.numel()) * static_cast<double>(state.iterations()) / 1e6,
        benchmark::Counter::kIsRate);
    state.SetLabel(std::to_string(state.range(2)) + " thread(s)");
    setEngineThreads(1);
}

/// {H=W, C} of the U-Net's levels (depth 4, 16 filters, 128²) × {1, 2} threads.
void normShapes(benchmark::internal::Benchmark* b) {
    for (std::int64_t threads : {1, 2})
        for (auto shape : {std::vector<std::int64_t>{128, 16}, {64, 32}, {16, 128}})
            b->Args({shape[0], shape[1], threads});
}

void BM_BatchNormForward(benchmark::State& state) {
    normBench(state, "BatchNormalization", false);
}
void BM_BatchNormBackward(benchmark::State& state) {
    normBench(state, "BatchNormalization", true);
}
void BM_GroupNormForward(benchmark::State& state) {
    normBench(state, "GroupNormalization", false);
}
void BM_GroupNormBackward(benchmark::State& state) {
    normBench(state, "GroupNormalization", true);
}

} // namespace

BENCHMARK(BM_BatchNormForward)->Apply(normShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_BatchNormBackward)->Apply(normShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GroupNormForward)->Apply(normShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_GroupNormBackward)->Apply(normShapes)->Unit(benchmark::kMillisecond)->UseRealTime();
