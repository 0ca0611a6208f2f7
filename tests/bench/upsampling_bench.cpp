// UpSampling2D bilinear forward and backward at U-Net decoder shapes (batch 8,
// factor 2), half-pixel (Keras) and align_corners (PyTorch), at 1 and 2
// threads. Reports the output's megapixels·channels per second (Mvalue/s).

#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"

#include <benchmark/benchmark.h>
#include <random>

using namespace segforge::core;

namespace {

struct UpSetup {
    Tensor x, y, dy, dx;
    AttrMap attrs;
    KernelContext ctx;

    UpSetup(std::int64_t n, std::int64_t hw, std::int64_t c, bool align)
        : x(Shape{n, hw, hw, c}, DType::Float32)
        , y(Shape{n, 2 * hw, 2 * hw, c}, DType::Float32)
        , dy(Shape{n, 2 * hw, 2 * hw, c}, DType::Float32)
        , dx(Shape{n, hw, hw, c}, DType::Float32) {
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-1, 1);
        for (Tensor* t : {&x, &dy})
            for (std::int64_t i = 0; i < t->numel(); ++i)
                t->f32()[i] = u(rng);
        dx.fill(0.0f);
        attrs = {{"size", std::vector<std::int64_t>{2, 2}},
                 {"interpolation", std::string("bilinear")},
                 {"align_corners", align}};
        ctx.attrs = &attrs;
        ctx.inputs = {&x};
        ctx.outputs = {&y};
        ctx.outputGrads = {&dy};
        ctx.inputGrads = {&dx};
    }
};

void upBench(benchmark::State& state, bool backward) {
    const std::int64_t hw = state.range(0), c = state.range(1);
    const bool align = state.range(2) != 0;
    setEngineThreads(static_cast<int>(state.range(3)));
    UpSetup s(8, hw, c, align);
    const OpSchema* up = OpRegistry::builtin().find("UpSampling2D");
    for (auto _ : state) {
        if (backward)
            up->backward(s.ctx);
        else
            up->forward(s.ctx);
        benchmark::DoNotOptimize(s.y.f32());
        benchmark::DoNotOptimize(s.dx.f32());
    }
    state.counters["Mvalue/s"] = benchmark::Counter(
        static_cast<double>(s.y.numel()) * static_cast<double>(state.iterations()) / 1e6,
        benchmark::Counter::kIsRate);
    state.SetLabel(std::string(align ? "align_corners" : "half_pixel") + ", " +
                   std::to_string(state.range(3)) + " thread(s)");
    setEngineThreads(1);
}

/// {H=W, C} of the decoder's inputs × {half-pixel, align_corners} × {1, 2} threads.
void upShapes(benchmark::internal::Benchmark* b) {
    for (std::int64_t threads : {1, 2})
        for (std::int64_t align : {0, 1})
            for (auto shape : {std::vector<std::int64_t>{64, 32}, {32, 64}, {16, 128}})
                b->Args({shape[0], shape[1], align, threads});
}

void BM_UpSamplingBilinearForward(benchmark::State& state) {
    upBench(state, false);
}
void BM_UpSamplingBilinearBackward(benchmark::State& state) {
    upBench(state, true);
}

} // namespace

BENCHMARK(BM_UpSamplingBilinearForward)->Apply(upShapes)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_UpSamplingBilinearBackward)->Apply(upShapes)->Unit(benchmark::kMillisecond);
