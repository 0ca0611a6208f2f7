// How long does reading an ONNX file take (parse with protobuf, validate,
// convert to OnnxFile)? A 100-node chain — 50 Conv (16→16, 3×3, with bias)
// each followed by a Relu — written in memory with OnnxModel: ~470 KB, as a
// small torch.onnx.export U-Net. The budget is 200 ms for a whole
// 100-node import; this is the reader's share.

#include "onnx/onnx_model.hpp"
#include "onnx/onnx_reader.hpp"

#include <benchmark/benchmark.h>
#include <string>
#include <vector>

using namespace segforge::core::interop;

namespace {

std::string chainModel(int convs, int channels) {
    OnnxModel m("chain");
    m.addInput({"x", OnnxType::Float, {-1, channels, 64, 64}});
    std::string prev = "x";
    std::vector<float> w(static_cast<std::size_t>(channels * channels * 9));
    for (std::size_t i = 0; i < w.size(); ++i)
        w[i] = 0.001f * static_cast<float>(i % 97);
    const std::vector<float> b(static_cast<std::size_t>(channels), 0.5f);
    for (int i = 0; i < convs; ++i) {
        const std::string n = std::to_string(i);
        m.addFloatInitializer("conv" + n + ".weight", {channels, channels, 3, 3}, w);
        m.addFloatInitializer("conv" + n + ".bias", {channels}, b);
        m.addNode("Conv", "conv" + n, {prev, "conv" + n + ".weight", "conv" + n + ".bias"},
                  {"c" + n},
                  {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
                   {"pads", std::vector<std::int64_t>{1, 1, 1, 1}},
                   {"strides", std::vector<std::int64_t>{1, 1}}});
        m.addNode("Relu", "relu" + n, {"c" + n}, {"r" + n});
        prev = "r" + n;
    }
    m.addOutput({prev, OnnxType::Float, {-1, channels, 64, 64}});
    return m.serialize("bench");
}

void BM_ReadOnnx100Nodes(benchmark::State& state) {
    const std::string bytes = chainModel(50, 16);
    std::string error;
    for (auto _ : state) {
        auto file = readOnnx(bytes, "bench.onnx", error);
        if (!file)
            state.SkipWithError(error.c_str());
        benchmark::DoNotOptimize(file);
    }
    state.counters["bytes"] = static_cast<double>(bytes.size());
    state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(bytes.size()));
}
BENCHMARK(BM_ReadOnnx100Nodes)->Unit(benchmark::kMicrosecond);

// The same graph without weights: what parsing and converting the nodes costs.
void BM_ReadOnnx100NodesNoWeights(benchmark::State& state) {
    const std::string bytes = chainModel(50, 0);
    std::string error;
    for (auto _ : state) {
        auto file = readOnnx(bytes, "bench.onnx", error);
        if (!file)
            state.SkipWithError(error.c_str());
        benchmark::DoNotOptimize(file);
    }
}
BENCHMARK(BM_ReadOnnx100NodesNoWeights)->Unit(benchmark::kMicrosecond);

} // namespace
