// The exports compute what the engine computes: the PyTorch script under
// torch and the ONNX model under OpenCV's DNN module are run on the engine's
// weights and input and must match its forward pass within 1e-4; the ONNX
// file must pass onnx.checker; the Keras script must compile and declare the
// same layers. Python is Debian's /usr/bin/python3 with python3-torch,
// python3-onnx and python3-numpy (scripts/deps.sh installs them).

#include "cli/cli_runner.hpp"
#include "engine/executor.hpp"
#include "engine/weights.hpp"
#include "export/export_graph.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

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
constexpr int kBatch = 2;

/// A network that goes through every exported op with the awkward cases:
/// odd sizes, even kernels and strides with asymmetric 'same' padding,
/// dilation, transposed convolutions that crop and that pad, 'same' pooling,
/// bilinear and non-square nearest upsampling, BatchNorm without gamma,
/// three-input Add, Multiply, Concatenate, a depthwise-separable convolution,
/// Dropout, cropping and padding.
Project zooProject() {
    Project p;
    p.name = "export zoo";
    Graph& g = p.graph;
    using L = std::vector<std::int64_t>;
    auto node = [&](const std::string& op, const std::string& name, AttrMap attrs,
                    std::vector<std::pair<PortRef, std::string>> inputs) {
        NodeId id = g.addNode(op, name, std::move(attrs));
        for (const auto& [from, port] : inputs)
            EXPECT_TRUE(g.connect(from, {id, port})) << name << "." << port;
        return PortRef{id, "output"};
    };
    NodeId data = g.addNode(
        "Dataset", "data",
        {{"height", std::int64_t{13}}, {"width", std::int64_t{11}}, {"channels", std::int64_t{3}}});
    auto x = node("Rescale", "scale", {{"scale", 1.0 / 127.5}, {"offset", -1.0}},
                  {{{data, "image"}, "input"}});
    x = node("Conv2D", "c1",
             {{"filters", std::int64_t{6}},
              {"kernel_size", std::int64_t{4}},
              {"strides", std::int64_t{2}},
              {"padding", std::string("same")},
              {"activation", std::string("leaky_relu")}},
             {{x, "input"}}); // 7×6: pads (1, 2) and (1, 2)
    x = node("BatchNormalization", "bn", {{"scale", false}}, {{x, "input"}});
    x = node("ZeroPadding2D", "pad", {{"padding", L{1, 0, 2, 1}}}, {{x, "input"}}); // 8×9
    x = node("Cropping2D", "crop", {{"cropping", L{0, 1, 1, 0}}}, {{x, "input"}});  // 7×8
    x = node("AvgPool2D", "avg",
             {{"pool_size", std::int64_t{3}},
              {"strides", std::int64_t{2}},
              {"padding", std::string("same")}},
             {{x, "input"}}); // 4×4
    x = node("MaxPool2D", "max",
             {{"pool_size", std::int64_t{2}},
              {"strides", std::int64_t{1}},
              {"padding", std::string("same")}},
             {{x, "input"}}); // 4×4
    auto up = node("UpSampling2D", "up_bilinear", {{"interpolation", std::string("bilinear")}},
                   {{x, "input"}});
    auto ct = node("Conv2DTranspose", "ct_same",
                   {{"filters", std::int64_t{6}},
                    {"kernel_size", std::int64_t{3}},
                    {"activation", std::string("tanh")}},
                   {{x, "input"}}); // 8×8, full 9: crop one at the end
    auto ct1 = node("Conv2DTranspose", "ct_k1",
                    {{"filters", std::int64_t{6}}, {"kernel_size", std::int64_t{1}}},
                    {{x, "input"}}); // full 7 → 8
    auto sum =
        node("Add", "sum", {{"num_inputs", std::int64_t{3}}}, {{up, "a"}, {ct, "b"}, {ct1, "c"}});
    auto ctv = node("Conv2DTranspose", "ct_valid",
                    {{"filters", std::int64_t{6}},
                     {"kernel_size", std::int64_t{3}},
                     {"padding", std::string("valid")}},
                    {{x, "input"}}); // 9×9
    auto gate = node("Cropping2D", "crop_valid", {{"cropping", L{0, 1, 1, 0}}}, {{ctv, "input"}});
    gate = node("Activation", "gate", {{"activation", std::string("sigmoid")}}, {{gate, "input"}});
    auto mul = node("Multiply", "gated", {}, {{sum, "a"}, {gate, "b"}});
    auto cat = node("Concatenate", "cat", {}, {{mul, "a"}, {sum, "b"}}); // 8×8×12
    auto sep = node("SeparableConv2D", "separable",
                    {{"filters", std::int64_t{5}},
                     {"kernel_size", std::int64_t{3}},
                     {"strides", std::int64_t{1}},
                     {"padding", std::string("same")},
                     {"depth_multiplier", std::int64_t{2}},
                     {"activation", std::string("relu")}},
                    {{cat, "input"}}); // 8×8×5
    x = node("Conv2D", "dilated",
             {{"filters", std::int64_t{4}},
              {"kernel_size", std::int64_t{3}},
              {"dilation_rate", std::int64_t{2}},
              {"padding", std::string("same")},
              {"activation", std::string("relu")}},
             {{sep, "input"}});
    x = node("Dropout", "drop", {{"rate", 0.3}}, {{x, "input"}});
    x = node("UpSampling2D", "up_nearest", {{"size", L{2, 3}}}, {{x, "input"}});       // 16×24
    x = node("Cropping2D", "crop_out", {{"cropping", L{1, 2, 6, 7}}}, {{x, "input"}}); // 13×11
    x = node("Activation", "leaky", {{"activation", std::string("leaky_relu")}, {"alpha", 0.1}},
             {{x, "input"}});
    auto out = node("Conv2D", "output",
                    {{"filters", std::int64_t{1}},
                     {"kernel_size", std::int64_t{2}},
                     {"padding", std::string("same")},
                     {"activation", std::string("sigmoid")}},
                    {{x, "input"}});
    auto target = node("Rescale", "scale_mask", {}, {{{data, "mask"}, "input"}});
    node("BinaryCrossentropy", "loss", {}, {{out, "prediction"}, {target, "target"}});
    return p;
}

/// A decoder step as PyTorch U-Nets write it: bilinear upsampling with
/// align_corners=True (non-square factor, odd sizes), which Keras cannot express.
Project alignCornersProject() {
    Project p;
    p.name = "align corners";
    Graph& g = p.graph;
    using L = std::vector<std::int64_t>;
    auto node = [&](const std::string& op, const std::string& name, AttrMap attrs, PortRef from,
                    const std::string& port = "input") {
        NodeId id = g.addNode(op, name, std::move(attrs));
        EXPECT_TRUE(g.connect(from, {id, port})) << name;
        return PortRef{id, "output"};
    };
    NodeId data = g.addNode(
        "Dataset", "data",
        {{"height", std::int64_t{9}}, {"width", std::int64_t{7}}, {"channels", std::int64_t{3}}});
    auto x = node("Rescale", "scale", {{"scale", 1.0 / 127.5}, {"offset", -1.0}}, {data, "image"});
    x = node("Conv2D", "c1", {{"filters", std::int64_t{4}}, {"padding", std::string("same")}}, x);
    x = node(
        "UpSampling2D", "up",
        {{"size", L{2, 3}}, {"interpolation", std::string("bilinear")}, {"align_corners", true}},
        x); // 18×21
    x = node("Conv2D", "c2",
             {{"filters", std::int64_t{3}},
              {"padding", std::string("same")},
              {"activation", std::string("relu")}},
             x);
    x = node("AvgPool2D", "pool", {{"pool_size", L{2, 3}}}, x); // 9×7
    auto out = node("Conv2D", "output",
                    {{"filters", std::int64_t{1}},
                     {"kernel_size", std::int64_t{1}},
                     {"activation", std::string("sigmoid")}},
                    x);
    auto target = node("Rescale", "scale_mask", {}, {data, "mask"});
    NodeId loss = g.addNode("BinaryCrossentropy", "loss", {});
    EXPECT_TRUE(g.connect(out, {loss, "prediction"}));
    EXPECT_TRUE(g.connect(target, {loss, "target"}));
    return p;
}

Project unetProject(bool transpose, int classes) {
    UNetOptions o;
    o.depth = 2;
    o.filters = 4;
    o.size = 16;
    o.classes = classes;
    o.batchnorm = true;
    o.up = transpose ? UNetOptions::Up::Transpose : UNetOptions::Up::Upsample;
    auto made = makeUNetProject(o);
    EXPECT_TRUE(std::holds_alternative<Project>(made));
    return std::get<Project>(made);
}

void writeFloats(const fs::path& path, const std::vector<float>& values) {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(values.data()),
              static_cast<std::streamsize>(values.size() * 4));
}

std::vector<float> readFloats(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<float> values(bytes.size() / 4);
    std::memcpy(values.data(), bytes.data(), values.size() * 4);
    return values;
}

/// "[lo, hi]" of the values compared, so that a small difference can be judged.
std::string rangeOf(const std::vector<float>& v) {
    auto [lo, hi] = std::minmax_element(v.begin(), v.end());
    return v.empty() ? "[]" : "[" + std::to_string(*lo) + ", " + std::to_string(*hi) + "]";
}

double maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
    double worst = 0;
    for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i)
        worst = std::max(worst, std::isfinite(a[i] - b[i]) ? std::abs(double(a[i]) - double(b[i]))
                                                           : INFINITY);
    return worst;
}

/// One model, its weights (seeded, with biases and BatchNorm statistics made
/// non-trivial) and the engine's output on a fixed input, all on disk.
struct Prepared {
    fs::path dir, project, weights, input;
    std::vector<std::int64_t> inputShape; ///< NHWC
    std::vector<float> inputValues;       ///< the uint8 pixels as floats
    std::vector<float> expected;          ///< engine output, NHWC
    std::vector<std::string> layerNames;  ///< what the exported network declares
};

fs::path scratchRoot() {
    return fs::temp_directory_path() / ("segforge_export_run_" + std::to_string(getpid()));
}

/// Removes the scratch folder when the tests are done.
class ScratchCleanup : public ::testing::Environment {
public:
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(scratchRoot(), ec);
    }
};
[[maybe_unused]] const auto* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new ScratchCleanup);

Prepared prepare(const std::string& key, const Project& project) {
    Prepared p;
    p.dir = scratchRoot() / key;
    fs::create_directories(p.dir);
    p.project = p.dir / "model.segforge";
    p.weights = p.dir / "weights.safetensors";
    p.input = p.dir / "input.f32";
    EXPECT_EQ(saveProject(project, p.project), "");

    std::string error;
    auto ex = Executor::compile(project.graph, error);
    EXPECT_TRUE(ex) << error;
    if (!ex)
        return p;
    ex->initializeParameters(7);
    std::mt19937 rng(11);
    std::uniform_real_distribution<float> u(-0.5f, 0.5f);
    for (Parameter& param : ex->parameters()) {
        const std::string& n = param.name;
        const bool variance = n.ends_with("/moving_variance"), gamma = n.ends_with("/gamma");
        if (!variance && !gamma && !n.ends_with("/bias") && !n.ends_with("/beta") &&
            !n.ends_with("/moving_mean"))
            continue;
        for (std::int64_t i = 0; i < param.value.numel(); ++i)
            param.value.f32()[i] =
                variance ? 1.0f + 1.5f * (u(rng) + 0.5f) : (gamma ? 1.0f : 0.0f) + u(rng);
    }
    EXPECT_EQ(saveWeights(*ex, p.weights), "");

    const Node* dataset = nullptr;
    for (const auto& [id, node] : project.graph.nodes())
        dataset = node.op == "Dataset" ? &node : dataset;
    EXPECT_NE(dataset, nullptr);
    const auto attr = [&](const char* k) { return std::get<std::int64_t>(dataset->attrs.at(k)); };
    const std::int64_t h = attr("height"), w = attr("width"),
                       c = dataset->attrs.count("channels") ? attr("channels") : 3;
    p.inputShape = {kBatch, h, w, c};
    Batch batch{Tensor(Shape{kBatch, h, w, c}, DType::UInt8),
                Tensor(Shape{kBatch, h, w, 1}, DType::UInt8),
                {}};
    std::uniform_int_distribution<int> pixel(0, 255);
    for (std::int64_t i = 0; i < batch.image.numel(); ++i) {
        batch.image.u8()[i] = static_cast<std::uint8_t>(pixel(rng));
        p.inputValues.push_back(batch.image.u8()[i]);
    }
    std::memset(batch.mask.bytes(), 0, batch.mask.byteSize());
    writeFloats(p.input, p.inputValues);
    EXPECT_EQ(ex->evaluate(batch), RunStatus::Finished);

    const interop::ExportGraph g = interop::collectExportGraph(project.graph);
    EXPECT_EQ(g.outputs.size(), 1u);
    for (const auto& l : g.layers)
        p.layerNames.push_back(l.node->name);
    const Node* out = project.graph.findNodeByName(g.outputs.at(0));
    const Tensor* y = ex->output(out->id, "output");
    EXPECT_NE(y, nullptr);
    if (y)
        p.expected.assign(y->f32(), y->f32() + y->numel());
    return p;
}

Project projectFor(const std::string& key) {
    if (key == "unet_bn_transpose")
        return unetProject(true, 1);
    if (key == "unet_bn_upsample_softmax")
        return unetProject(false, 3);
    if (key == "align_corners")
        return alignCornersProject();
    return zooProject();
}

const Prepared& prepared(const std::string& key) {
    static std::map<std::string, Prepared> cache;
    auto it = cache.find(key);
    if (it == cache.end())
        it = cache.emplace(key, prepare(key, projectFor(key))).first;
    return it->second;
}

const char* kPython = SEGFORGE_PYTHON;
std::string helper(const char* name) {
    return quoted(fs::path(SEGFORGE_INTEROP_TESTS) / name);
}

class ExportRun : public ::testing::TestWithParam<std::string> {};

} // namespace

TEST_P(ExportRun, PyTorchScriptMatchesEngine) {
    const Prepared& p = prepared(GetParam());
    ASSERT_FALSE(p.expected.empty());
    const fs::path script = p.dir / "model_torch.py", output = p.dir / "torch_output.f32";
    auto e = segforge::testing::runCli("export " + quoted(p.project) + " --to pytorch -o " +
                                           quoted(script),
                                       segforge::testing::Stderr::Merge);
    ASSERT_EQ(e.exitCode, 0) << e.out;
    std::string shape;
    for (auto d : p.inputShape)
        shape += (shape.empty() ? "" : ",") + std::to_string(d);
    auto r =
        shell(std::string(kPython) + " " + helper("run_pytorch_export.py") + " " + quoted(script) +
              " " + quoted(p.weights) + " " + quoted(p.input) + " " + shape + " " + quoted(output));
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const std::vector<float> got = readFloats(output);
    ASSERT_EQ(got.size(), p.expected.size()) << r.out;
    const double diff = maxAbsDiff(got, p.expected);
    RecordProperty("max_abs_diff", std::to_string(diff));
    std::cout << "[ measured ] " << GetParam() << " PyTorch vs engine: max abs diff " << diff
              << " over " << p.expected.size() << " outputs in " << rangeOf(p.expected) << "\n";
    EXPECT_LE(diff, kTolerance);
}

TEST_P(ExportRun, OnnxPassesCheckerAndMatchesEngineInOpenCvDnn) {
    const Prepared& p = prepared(GetParam());
    ASSERT_FALSE(p.expected.empty());
    const fs::path model = p.dir / "model.onnx";
    auto e = segforge::testing::runCli("export " + quoted(p.project) + " --to onnx --weights " +
                                           quoted(p.weights) + " -o " + quoted(model),
                                       segforge::testing::Stderr::Merge);
    ASSERT_EQ(e.exitCode, 0) << e.out;
    auto checked =
        shell(std::string(kPython) + " " + helper("check_onnx.py") + " " + quoted(model));
    EXPECT_EQ(checked.exitCode, 0) << checked.out;
    EXPECT_THAT(checked.out, ::testing::HasSubstr("opset {'ai.onnx': 13}"));

    cv::dnn::Net net;
    try {
        net = cv::dnn::readNetFromONNX(model.string());
    } catch (const cv::Exception& ex) {
        FAIL() << "OpenCV cannot read the model: " << ex.what();
    }
    net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    const std::vector<int> dims(p.inputShape.begin(), p.inputShape.end());
    cv::Mat blob(static_cast<int>(dims.size()), dims.data(), CV_32F,
                 const_cast<float*>(p.inputValues.data()));
    cv::Mat y;
    try {
        net.setInput(blob);
        y = net.forward();
    } catch (const cv::Exception& ex) {
        FAIL() << "OpenCV cannot run the model: " << ex.what();
    }
    ASSERT_EQ(y.total(), p.expected.size());
    ASSERT_EQ(y.type(), CV_32F);
    const std::vector<float> got(y.ptr<float>(), y.ptr<float>() + y.total());
    const double diff = maxAbsDiff(got, p.expected);
    RecordProperty("max_abs_diff", std::to_string(diff));
    std::cout << "[ measured ] " << GetParam() << " ONNX (OpenCV DNN) vs engine: max abs diff "
              << diff << " over " << p.expected.size() << " outputs in " << rangeOf(p.expected)
              << "\n";
    EXPECT_LE(diff, kTolerance);
}

TEST_P(ExportRun, KerasScriptCompilesAndDeclaresTheSameLayers) {
    const Prepared& p = prepared(GetParam());
    const fs::path script = p.dir / "model_keras.py", names = p.dir / "layer_names.txt";
    auto e = segforge::testing::runCli("export " + quoted(p.project) + " --to keras -o " +
                                           quoted(script),
                                       segforge::testing::Stderr::Merge);
    if (GetParam() == "align_corners") { // Keras' UpSampling2D has no align_corners
        EXPECT_NE(e.exitCode, 0) << e.out;
        EXPECT_THAT(e.out, ::testing::HasSubstr("UpSampling2D 'up' has no Keras layer: Keras' "
                                                "UpSampling2D has only align_corners = false"));
        return;
    }
    ASSERT_EQ(e.exitCode, 0) << e.out;
    {
        std::ofstream out(names);
        for (const auto& n : p.layerNames)
            out << n << "\n";
    }
    auto r = shell(std::string(kPython) + " " + helper("check_keras_script.py") + " " +
                   quoted(script) + " " + quoted(names));
    EXPECT_EQ(r.exitCode, 0) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Models, ExportRun,
                         ::testing::Values("unet_bn_transpose", "unet_bn_upsample_softmax", "zoo",
                                           "align_corners"));
