// The memory-bound kernels at the end and between the convolutions of the
// reference U-Net (depth 4, 16 filters, 128×128, batch 8): MaxPool2D 2×2,
// nearest UpSampling2D ×2, Concatenate, the 1×1 sigmoid head (16 → 1),
// BCEDice and the Dice metric, forward and backward, at 1 and 2 threads.
// Reports the bytes the pass must move at least (GB/s), to set against the
// machine's memory bandwidth.

#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"

#include <benchmark/benchmark.h>
#include <random>

using namespace segforge::core;
using V = std::vector<std::int64_t>;

namespace {

Tensor randomTensor(V dims, float lo, float hi, std::uint32_t seed) {
    Tensor t{Shape(std::move(dims)), DType::Float32};
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.f32()[i] = u(rng);
    return t;
}

/// One op's tensors and context; gradients start at zero.
struct Setup {
    std::vector<Tensor> inputs, outputs, params, outGrads, inGrads, paramGrads, saved;
    AttrMap attrs;
    KernelContext ctx;
    const OpSchema* op = nullptr;

    Setup(const char* name, AttrMap a, std::vector<Tensor> in, std::vector<V> outShapes,
          std::vector<Tensor> p = {})
        : inputs(std::move(in))
        , params(std::move(p))
        , attrs(std::move(a)) {
        op = OpRegistry::builtin().find(name);
        for (std::size_t k = 0; k < outShapes.size(); ++k) {
            outputs.emplace_back(Shape(outShapes[k]), DType::Float32);
            outGrads.push_back(
                randomTensor(outShapes[k], 0, 1, 50 + static_cast<std::uint32_t>(k)));
        }
        for (const Tensor& t : inputs) {
            inGrads.emplace_back(t.shape(), DType::Float32);
            inGrads.back().fill(0.0f);
        }
        for (const Tensor& t : params) {
            paramGrads.emplace_back(t.shape(), DType::Float32);
            paramGrads.back().fill(0.0f);
        }
        ctx.attrs = &attrs;
        for (auto& t : inputs)
            ctx.inputs.push_back(&t);
        for (auto& t : outputs)
            ctx.outputs.push_back(&t);
        for (auto& t : params)
            ctx.params.push_back(&t);
        for (auto& t : outGrads)
            ctx.outputGrads.push_back(&t);
        for (auto& t : inGrads)
            ctx.inputGrads.push_back(&t);
        for (auto& t : paramGrads)
            ctx.paramGrads.push_back(&t);
        ctx.saved = &saved;
    }
};

Setup makeSetup(int which) {
    switch (which) {
    case 0:
        return Setup(
            "MaxPool2D",
            {{"pool_size", V{2, 2}}, {"strides", V{2, 2}}, {"padding", std::string("valid")}},
            {randomTensor({8, 128, 128, 16}, -1, 1, 1)}, {{8, 64, 64, 16}});
    case 1:
        return Setup("UpSampling2D", {{"size", V{2, 2}}, {"interpolation", std::string("nearest")}},
                     {randomTensor({8, 64, 64, 32}, -1, 1, 1)}, {{8, 128, 128, 32}});
    case 2:
        return Setup(
            "Concatenate", {{"axis", std::int64_t{-1}}, {"num_inputs", std::int64_t{2}}},
            {randomTensor({8, 128, 128, 32}, -1, 1, 1), randomTensor({8, 128, 128, 16}, -1, 1, 2)},
            {{8, 128, 128, 48}});
    case 3:
        return Setup(
            "Conv2D",
            {{"filters", std::int64_t{1}},
             {"kernel_size", V{1, 1}},
             {"strides", V{1, 1}},
             {"padding", std::string("same")},
             {"dilation_rate", V{1, 1}},
             {"activation", std::string("sigmoid")},
             {"use_bias", true}},
            {randomTensor({8, 128, 128, 16}, -1, 1, 1)}, {{8, 128, 128, 1}},
            {randomTensor({1, 1, 16, 1}, -0.5f, 0.5f, 3), randomTensor({1}, -0.5f, 0.5f, 4)});
    case 4: {
        Tensor t = randomTensor({8, 128, 128, 1}, 0, 1, 2);
        for (std::int64_t i = 0; i < t.numel(); ++i)
            t.f32()[i] = t.f32()[i] > 0.7f ? 1.0f : 0.0f;
        return Setup("BCEDice", {{"epsilon", 1e-6}, {"bce_weight", 1.0}, {"dice_weight", 1.0}},
                     {randomTensor({8, 128, 128, 1}, 0, 1, 1), std::move(t)}, {{}});
    }
    default: {
        Tensor t = randomTensor({8, 128, 128, 1}, 0, 1, 2);
        return Setup("DiceCoefficient", {{"threshold", 0.5}, {"epsilon", 1e-6}},
                     {randomTensor({8, 128, 128, 1}, 0, 1, 1), std::move(t)}, {{}});
    }
    }
}

const char* const kNames[] = {"MaxPool2D",         "UpSampling2D nearest",
                              "Concatenate 32+16", "Conv2D 1x1 16->1 sigmoid",
                              "BCEDice",           "DiceCoefficient"};

void tailBench(benchmark::State& state, bool backward) {
    const int which = static_cast<int>(state.range(0));
    setEngineThreads(static_cast<int>(state.range(1)));
    Setup s = makeSetup(which);
    s.op->forward(s.ctx);
    if (backward && s.op->role == OpRole::Loss)
        s.ctx.inputGrads[1] = nullptr;
    std::int64_t bytes = 0;
    for (const Tensor& t : s.inputs)
        bytes += t.byteSize();
    for (const Tensor& t : s.outputs)
        bytes += t.byteSize();
    if (backward)
        bytes *= 2; // roughly: dy read, dx read and written
    for (auto _ : state) {
        if (backward)
            s.op->backward(s.ctx);
        else
            s.op->forward(s.ctx);
        benchmark::ClobberMemory();
    }
    state.counters["GB/s"] = benchmark::Counter(static_cast<double>(bytes) *
                                                    static_cast<double>(state.iterations()) / 1e9,
                                                benchmark::Counter::kIsRate);
    state.SetLabel(std::string(kNames[which]) + ", " + std::to_string(state.range(1)) +
                   " thread(s)");
    setEngineThreads(1);
}

void tailArgs(benchmark::internal::Benchmark* b) {
    for (std::int64_t threads : {1, 2})
        for (std::int64_t which = 0; which < 6; ++which)
            b->Args({which, threads});
}

/// The metric has no backward.
void tailBackwardArgs(benchmark::internal::Benchmark* b) {
    for (std::int64_t threads : {1, 2})
        for (std::int64_t which = 0; which < 5; ++which)
            b->Args({which, threads});
}

void BM_TailForward(benchmark::State& state) {
    tailBench(state, false);
}
void BM_TailBackward(benchmark::State& state) {
    tailBench(state, true);
}

} // namespace

BENCHMARK(BM_TailForward)->Apply(tailArgs)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TailBackward)->Apply(tailBackwardArgs)->Unit(benchmark::kMillisecond);
