// The ops added for the ONNX import leave SegForge computing what the engine
// computes: a squeeze-excitation block (GlobalAvgPool2D → 1×1 convolutions →
// sigmoid gate × the feature map, in both input orders) with LeakyReLU of a
// slope above 1 and of a small one. The PyTorch export runs under torch; the
// ONNX export passes onnx.checker, and its squeeze path (without the broadcast
// Mul, which OpenCV 4.6 cannot run) runs in OpenCV's DNN module. Within 1e-4.

#include "cli/cli_runner.hpp"
#include "engine/executor.hpp"
#include "engine/weights.hpp"
#include "ops/builtin_ops.hpp"
#include "project/project_file.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <map>
#include <opencv2/dnn.hpp>
#include <random>
#include <unistd.h>

namespace fs = std::filesystem;
using segforge::testing::quoted;
using segforge::testing::shell;
using namespace segforge::core;

namespace {

constexpr double kTolerance = 1e-4;
constexpr std::int64_t kBatch = 2, kH = 9, kW = 7, kC = 3;

/// With `excite` false: the head reads the squeeze (N×1×1×1), without the
/// broadcast Multiply, which OpenCV 4.6's DNN module cannot run (two graph
/// tensors of different shapes: "Assertion failed … in function 'total'").
/// data(9×7×3 uint8) → Rescale → Conv2D(6) → LeakyReLU(1.3) = feat → GAP →
/// Conv1×1(3, relu) → Conv1×1(6, sigmoid) = gate → Multiply(gate, feat) →
/// LeakyReLU(0.01) → Multiply(feat, GAP of it) → Conv1×1(1, sigmoid) → BCE.
Project seProject(bool excite) {
    Project p;
    p.name = "squeeze excitation";
    Graph& g = p.graph;
    auto node = [&](const std::string& op, const std::string& name, AttrMap attrs,
                    std::vector<std::pair<PortRef, std::string>> inputs) {
        NodeId id = g.addNode(op, name, std::move(attrs));
        for (const auto& [from, port] : inputs)
            EXPECT_TRUE(g.connect(from, {id, port})) << name << "." << port;
        return PortRef{id, "output"};
    };
    NodeId data = g.addNode("Dataset", "data", {{"height", kH}, {"width", kW}, {"channels", kC}});
    auto x = node("Rescale", "scale", {{"scale", 1.0 / 127.5}, {"offset", -1.0}},
                  {{{data, "image"}, "input"}});
    x = node("Conv2D", "c1", {{"filters", std::int64_t{6}}, {"padding", std::string("same")}},
             {{x, "input"}});
    auto feat = node(ops::kLeakyReLUOp, "leaky_steep", {{"alpha", 1.3}}, {{x, "input"}});
    auto squeeze = node(ops::kGlobalAvgPool2DOp, "squeeze", {}, {{feat, "input"}});
    auto reduce = node("Conv2D", "reduce",
                       {{"filters", std::int64_t{3}},
                        {"kernel_size", std::int64_t{1}},
                        {"activation", std::string("relu")}},
                       {{squeeze, "input"}});
    auto gate = node("Conv2D", "expand",
                     {{"filters", std::int64_t{6}},
                      {"kernel_size", std::int64_t{1}},
                      {"activation", std::string("sigmoid")}},
                     {{reduce, "input"}});
    if (!excite) {
        auto out = node("Conv2D", "output",
                        {{"filters", std::int64_t{1}},
                         {"kernel_size", std::int64_t{1}},
                         {"activation", std::string("sigmoid")}},
                        {{gate, "input"}});
        auto scaled = node("Rescale", "scale_mask", {}, {{{data, "mask"}, "input"}});
        auto target = node(ops::kGlobalAvgPool2DOp, "mask_mean", {}, {{scaled, "input"}});
        node("BinaryCrossentropy", "loss", {}, {{out, "prediction"}, {target, "target"}});
        return p;
    }
    auto excited = node("Multiply", "excite", {}, {{gate, "a"}, {feat, "b"}});
    auto y = node(ops::kLeakyReLUOp, "leaky_small", {{"alpha", 0.01}}, {{excited, "input"}});
    auto mean = node(ops::kGlobalAvgPool2DOp, "mean", {}, {{y, "input"}});
    y = node("Multiply", "rescale_by_mean", {}, {{y, "a"}, {mean, "b"}});
    auto out = node("Conv2D", "output",
                    {{"filters", std::int64_t{1}},
                     {"kernel_size", std::int64_t{1}},
                     {"activation", std::string("sigmoid")}},
                    {{y, "input"}});
    auto target = node("Rescale", "scale_mask", {}, {{{data, "mask"}, "input"}});
    node("BinaryCrossentropy", "loss", {}, {{out, "prediction"}, {target, "target"}});
    return p;
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = a.size() == b.size() ? 0 : INFINITY;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        worst = std::max(worst, std::isfinite(a[i] - b[i]) ? std::abs(double(a[i]) - double(b[i]))
                                                           : INFINITY);
    return worst;
}

struct Prepared {
    fs::path dir, project, weights, input;
    std::vector<float> inputValues, expected;
};

/// The project, seeded weights with non-zero biases, a random uint8 input and
/// the engine's output, on disk.
const Prepared& prepared(bool excite) {
    static std::map<bool, Prepared> cache;
    if (auto it = cache.find(excite); it != cache.end())
        return it->second;
    return cache[excite] = [excite] {
        Prepared r;
        r.dir = fs::temp_directory_path() / ("segforge_import_ops_" + std::to_string(getpid())) /
                (excite ? "excite" : "squeeze");
        fs::create_directories(r.dir);
        r.project = r.dir / "model.segforge";
        r.weights = r.dir / "weights.safetensors";
        r.input = r.dir / "input.f32";
        const Project project = seProject(excite);
        EXPECT_EQ(saveProject(project, r.project), "");
        std::string error;
        auto ex = Executor::compile(project.graph, error);
        EXPECT_TRUE(ex) << error;
        if (!ex)
            return r;
        ex->initializeParameters(5);
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-0.5f, 0.5f);
        for (Parameter& param : ex->parameters()) {
            if (param.name.ends_with("/bias"))
                for (std::int64_t i = 0; i < param.value.numel(); ++i)
                    param.value.f32()[i] = u(rng);
        }
        EXPECT_EQ(saveWeights(*ex, r.weights), "");
        Batch batch{Tensor(Shape{kBatch, kH, kW, kC}, DType::UInt8),
                    Tensor(Shape{kBatch, kH, kW, 1}, DType::UInt8),
                    {}};
        std::uniform_int_distribution<int> pixel(0, 255);
        for (std::int64_t i = 0; i < batch.image.numel(); ++i) {
            batch.image.u8()[i] = static_cast<std::uint8_t>(pixel(rng));
            r.inputValues.push_back(batch.image.u8()[i]);
        }
        std::memset(batch.mask.bytes(), 0, batch.mask.byteSize());
        std::ofstream(r.input, std::ios::binary)
            .write(reinterpret_cast<const char*>(r.inputValues.data()),
                   static_cast<std::streamsize>(r.inputValues.size() * 4));
        EXPECT_EQ(ex->evaluate(batch), RunStatus::Finished);
        const Tensor* y = ex->output(project.graph.findNodeByName("output")->id, "output");
        EXPECT_NE(y, nullptr);
        if (y)
            r.expected.assign(y->f32(), y->f32() + y->numel());
        return r;
    }();
}

std::string helper(const char* name) {
    return quoted(fs::path(SEGFORGE_INTEROP_TESTS) / name);
}

void pytorchMatches(bool excite) {
    const Prepared& r = prepared(excite);
    ASSERT_FALSE(r.expected.empty());
    const fs::path script = r.dir / "model_torch.py", output = r.dir / "torch_output.f32";
    auto e = segforge::testing::runCli("export " + quoted(r.project) + " --to pytorch -o " +
                                           quoted(script),
                                       segforge::testing::Stderr::Merge);
    ASSERT_EQ(e.exitCode, 0) << e.out;
    const std::string shape = std::to_string(kBatch) + "," + std::to_string(kH) + "," +
                              std::to_string(kW) + "," + std::to_string(kC);
    auto run = shell(std::string(SEGFORGE_PYTHON) + " " + helper("run_pytorch_export.py") + " " +
                     quoted(script) + " " + quoted(r.weights) + " " + quoted(r.input) + " " +
                     shape + " " + quoted(output));
    ASSERT_EQ(run.exitCode, 0) << run.out;
    std::ifstream in(output, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> got(bytes.size() / 4);
    std::memcpy(got.data(), bytes.data(), got.size() * 4);
    const double diff = maxAbsDiff(got, r.expected);
    std::cout << "[ measured ] " << (excite ? "squeeze-excitation" : "squeeze")
              << " PyTorch vs engine: max abs diff " << diff << " over " << r.expected.size()
              << " outputs\n";
    EXPECT_LE(diff, kTolerance);
}

TEST(ImportOpsExport, PyTorchScriptMatchesEngine) {
    pytorchMatches(true);
    pytorchMatches(false);
}

TEST(ImportOpsExport, OnnxPassesCheckerAndMatchesEngineInOpenCvDnn) {
    {
        // The whole block is a valid ONNX model (OpenCV cannot run its broadcast Mul).
        const Prepared& se = prepared(true);
        const fs::path model = se.dir / "model.onnx";
        auto e =
            segforge::testing::runCli("export " + quoted(se.project) + " --to onnx --weights " +
                                          quoted(se.weights) + " -o " + quoted(model),
                                      segforge::testing::Stderr::Merge);
        ASSERT_EQ(e.exitCode, 0) << e.out;
        auto checked = shell(std::string(SEGFORGE_PYTHON) + " " + helper("check_onnx.py") + " " +
                             quoted(model));
        EXPECT_EQ(checked.exitCode, 0) << checked.out;
    }
    const Prepared& r = prepared(false);
    ASSERT_FALSE(r.expected.empty());
    const fs::path model = r.dir / "model.onnx";
    auto e = segforge::testing::runCli("export " + quoted(r.project) + " --to onnx --weights " +
                                           quoted(r.weights) + " -o " + quoted(model),
                                       segforge::testing::Stderr::Merge);
    ASSERT_EQ(e.exitCode, 0) << e.out;
    auto checked =
        shell(std::string(SEGFORGE_PYTHON) + " " + helper("check_onnx.py") + " " + quoted(model));
    EXPECT_EQ(checked.exitCode, 0) << checked.out;

    cv::dnn::Net net;
    try {
        net = cv::dnn::readNetFromONNX(model.string());
    } catch (const cv::Exception& ex) {
        FAIL() << "OpenCV cannot read the model: " << ex.what();
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const std::vector<int> dims{kBatch, kH, kW, kC};
    cv::Mat blob(4, dims.data(), CV_32F, const_cast<float*>(r.inputValues.data()));
    cv::Mat y;
    try {
        net.setInput(blob);
        y = net.forward();
    } catch (const cv::Exception& ex) {
        FAIL() << "OpenCV cannot run the model: " << ex.what();
    }
    ASSERT_EQ(y.total(), r.expected.size());
    const std::vector<float> got(y.ptr<float>(), y.ptr<float>() + y.total());
    const double diff = maxAbsDiff(got, r.expected);
    std::cout << "[ measured ] squeeze (GAP, LeakyReLU) ONNX (OpenCV DNN) vs engine: max abs diff "
              << diff << " over " << r.expected.size() << " outputs\n";
    EXPECT_LE(diff, kTolerance);
}

} // namespace
