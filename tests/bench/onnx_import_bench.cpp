// How fast is an ONNX import? The budget: a 100-node model in under
// 200 ms. The model is a depth-4 U-Net as torch.onnx.export writes it:
// Conv/BatchNorm/Relu pairs, MaxPool, ConvTranspose, the F.pad size chain
// (Shape → Gather → Sub → Div → Unsqueeze → Concat → Pad) before each
// Concat — 111 nodes, 128×128 input, 16…256 channels (about 1.9 M weights).

#include "onnx/onnx_import.hpp"
#include "onnx/onnx_model.hpp"

#include <benchmark/benchmark.h>

using namespace segforge::core;
using namespace segforge::core::interop;

namespace {

using Ints = std::vector<std::int64_t>;

struct UNetWriter {
    OnnxModel m{"unet"};
    int count = 0;

    std::string conv(const std::string& x, std::int64_t cin, std::int64_t cout,
                     const std::string& name) {
        const std::string w = name + ".conv.weight";
        m.addFloatInitializer(w, {cout, cin, 3, 3},
                              std::vector<float>(static_cast<std::size_t>(cout * cin * 9), 0.01f));
        m.addNode("Conv", "/" + name + "/Conv", {x, w}, {name + "_c"},
                  {{"kernel_shape", Ints{3, 3}}, {"pads", Ints{1, 1, 1, 1}}});
        const std::vector<float> ones(static_cast<std::size_t>(cout), 1.0f);
        for (const char* p : {"weight", "bias", "running_mean", "running_var"})
            m.addFloatInitializer(name + ".bn." + p, {cout}, ones);
        m.addNode("BatchNormalization", "/" + name + "/BatchNormalization",
                  {name + "_c", name + ".bn.weight", name + ".bn.bias", name + ".bn.running_mean",
                   name + ".bn.running_var"},
                  {name + "_b"}, {{"epsilon", 1e-5f}});
        m.addNode("Relu", "/" + name + "/Relu", {name + "_b"}, {name + "_r"});
        count += 3;
        return name + "_r";
    }

    std::string block(const std::string& x, std::int64_t cin, std::int64_t cout,
                      const std::string& name) {
        return conv(conv(x, cin, cout, name + "_1"), cout, cout, name + "_2");
    }

    /// F.pad(x, [dX // 2, dX − dX // 2, dY // 2, dY − dY // 2]) with dY = skip.H − x.H.
    std::string padTo(const std::string& x, const std::string& skip, const std::string& name) {
        const std::string p = "/" + name + "/";
        m.addNode("Shape", p + "Shape", {skip}, {name + "_s1"});
        m.addNode("Gather", p + "Gather", {name + "_s1", "two"}, {name + "_hs"});
        m.addNode("Shape", p + "Shape_1", {x}, {name + "_s2"});
        m.addNode("Gather", p + "Gather_1", {name + "_s2", "two"}, {name + "_hx"});
        m.addNode("Sub", p + "Sub", {name + "_hs", name + "_hx"}, {name + "_d"});
        m.addNode("Div", p + "Div", {name + "_d", "two"}, {name + "_h"});
        m.addNode("Sub", p + "Sub_1", {name + "_d", name + "_h"}, {name + "_r"});
        m.addNode("Unsqueeze", p + "Unsqueeze", {name + "_h", "zero1"}, {name + "_uh"});
        m.addNode("Unsqueeze", p + "Unsqueeze_1", {name + "_r", "zero1"}, {name + "_ur"});
        m.addNode("Concat", p + "Concat",
                  {"zeros2", name + "_uh", name + "_uh", "zeros2", name + "_ur", name + "_ur"},
                  {name + "_pads"}, {{"axis", std::int64_t{0}}});
        m.addNode("Pad", p + "Pad", {x, name + "_pads"}, {name + "_p"});
        count += 11;
        return name + "_p";
    }

    std::string build() {
        m.addInput({"input", OnnxType::Float, {-1, 3, 128, 128}});
        m.addInt64Initializer("two", {}, {2});
        m.addInt64Initializer("zero1", {1}, {0});
        m.addInt64Initializer("zeros2", {2}, {0, 0});
        std::string x = "input";
        std::int64_t c = 3, f = 16;
        std::vector<std::pair<std::string, std::int64_t>> skips;
        for (int level = 1; level <= 4; ++level, f *= 2) {
            x = block(x, c, f, "enc" + std::to_string(level));
            c = f;
            skips.emplace_back(x, c);
            m.addNode("MaxPool", "/pool" + std::to_string(level) + "/MaxPool", {x}, {x + "_pool"},
                      {{"kernel_shape", Ints{2, 2}}, {"strides", Ints{2, 2}}});
            x += "_pool";
            ++count;
        }
        x = block(x, c, f, "bottleneck");
        c = f;
        for (int level = 4; level >= 1; --level) {
            const std::string name = "dec" + std::to_string(level);
            const auto& [skip, sc] = skips[static_cast<std::size_t>(level - 1)];
            m.addFloatInitializer(name + ".up.weight", {c, sc, 2, 2},
                                  std::vector<float>(static_cast<std::size_t>(c * sc * 4), 0.01f));
            m.addNode("ConvTranspose", "/" + name + "/up/ConvTranspose", {x, name + ".up.weight"},
                      {name + "_up"}, {{"strides", Ints{2, 2}}, {"kernel_shape", Ints{2, 2}}});
            const std::string padded = padTo(name + "_up", skip, name);
            m.addNode("Concat", "/" + name + "/Concat", {skip, padded}, {name + "_cat"},
                      {{"axis", std::int64_t{1}}});
            count += 2;
            x = block(name + "_cat", 2 * sc, sc, name);
            c = sc;
        }
        m.addFloatInitializer("head.weight", {1, c, 1, 1}, std::vector<float>(16, 0.1f));
        m.addNode("Conv", "/head/Conv", {x, "head.weight"}, {"output"});
        ++count;
        m.addOutput({"output", OnnxType::Float, {-1, 1, 128, 128}});
        return m.serialize("bench");
    }
};

OnnxFile unetFile(int* nodes = nullptr) {
    UNetWriter w;
    const std::string bytes = w.build();
    if (nodes)
        *nodes = w.count;
    std::string error;
    auto file = readOnnx(bytes, "unet.onnx", error);
    if (!file)
        throw std::runtime_error(error);
    return *file;
}

/// The import proper: translation, folding, weights, the shape check and the U layout.
void BM_OnnxImportUNet(benchmark::State& state) {
    int nodes = 0;
    const OnnxFile file = unetFile(&nodes);
    for (auto _ : state) {
        OnnxImport r = importOnnx(file, "unet.onnx");
        if (!r.ok() || r.placeholders != 0)
            state.SkipWithError("the U-Net did not import cleanly");
        benchmark::DoNotOptimize(r);
    }
    state.counters["onnx_nodes"] = nodes;
}
BENCHMARK(BM_OnnxImportUNet)->Unit(benchmark::kMillisecond);

/// Parsing the bytes as well (what `segforge-cli import` does after reading the file).
void BM_OnnxReadAndImportUNet(benchmark::State& state) {
    UNetWriter w;
    const std::string bytes = w.build();
    for (auto _ : state) {
        std::string error;
        auto file = readOnnx(bytes, "unet.onnx", error);
        OnnxImport r = importOnnx(*file, "unet.onnx");
        benchmark::DoNotOptimize(r);
    }
    state.counters["onnx_nodes"] = w.count;
    state.counters["bytes"] = static_cast<double>(bytes.size());
}
BENCHMARK(BM_OnnxReadAndImportUNet)->Unit(benchmark::kMillisecond);

} // namespace
