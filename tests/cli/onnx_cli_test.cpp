// segforge-cli import / check on ONNX files written with the ONNX writer
// (as torch.onnx.export lays them out): the project and its weights file,
// a state_dict given with --weights, placeholders, and bad files refused
// with a located message.

#include "cli_runner.hpp"
#include "io/safetensors.hpp"
#include "onnx/onnx_model.hpp"
#include "project/project_file.hpp"

#include <fstream>
#include <gmock/gmock.h>

using namespace segforge::testing;
using namespace segforge::core;
using interop::OnnxAttr;
using interop::OnnxModel;
using ::testing::HasSubstr;

namespace {

std::vector<float> ramp(std::size_t n) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = static_cast<float>(i % 7) * 0.1f - 0.3f;
    return v;
}

/// A small U: conv → relu → pool → transposed conv → concat with the skip → 1×1 conv → sigmoid.
/// `extraOp` adds an op SegForge has no equivalent for at the end.
std::string smallUnet(const std::string& extraOp = "") {
    OnnxModel m("tiny_unet");
    m.addInput({"input", interop::OnnxType::Float, {-1, 3, 16, 16}});
    m.addFloatInitializer("c1.weight", {4, 3, 3, 3}, ramp(108));
    m.addFloatInitializer("c1.bias", {4}, ramp(4));
    m.addNode("Conv", "/c1/Conv", {"input", "c1.weight", "c1.bias"}, {"a"},
              {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
               {"pads", std::vector<std::int64_t>{1, 1, 1, 1}}});
    m.addNode("Relu", "/c1/Relu", {"a"}, {"b"});
    m.addNode("MaxPool", "/pool/MaxPool", {"b"}, {"c"},
              {{"kernel_shape", std::vector<std::int64_t>{2, 2}},
               {"strides", std::vector<std::int64_t>{2, 2}}});
    m.addFloatInitializer("up.weight", {4, 4, 2, 2}, ramp(64));
    m.addNode("ConvTranspose", "/up/ConvTranspose", {"c", "up.weight"}, {"d"},
              {{"strides", std::vector<std::int64_t>{2, 2}}});
    m.addNode("Concat", "/cat/Concat", {"b", "d"}, {"e"}, {{"axis", std::int64_t{1}}});
    m.addFloatInitializer("head.weight", {1, 8, 1, 1}, ramp(8));
    m.addNode("Conv", "/head/Conv", {"e", "head.weight"}, {"f"});
    m.addNode("Sigmoid", "/head/Sigmoid", {"f"}, {extraOp.empty() ? "output" : "g"});
    if (!extraOp.empty())
        m.addNode(extraOp, "/tail/" + extraOp, {"g"}, {"output"});
    m.addOutput({"output", interop::OnnxType::Float, {-1, 1, 16, 16}});
    return m.serialize("test");
}

void write(const std::filesystem::path& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
}

} // namespace

TEST(OnnxCli, ImportWritesTheProjectAndItsWeightsThenChecks) {
    ScratchDir dir("onnx_cli_import");
    const auto model = dir.path() / "tiny.onnx";
    write(model, smallUnet());
    const auto project = dir.path() / "tiny.segforge";
    CliResult r = runCli("import " + model.string() + " -o " + project.string(), Stderr::Merge);
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("wrote " + project.string()));
    EXPECT_THAT(r.out, HasSubstr("weights: 4 tensors in tiny.weights.safetensors"));
    EXPECT_THAT(r.out, HasSubstr("check: 0 errors"));
    EXPECT_THAT(r.out, HasSubstr("no loss"));

    ProjectLoad load = loadProject(project);
    ASSERT_TRUE(load.project) << load.errors.front();
    ASSERT_TRUE(load.project->weights);
    std::string error;
    SafetensorsData w = loadSafetensors(dir.path() / load.project->weights->file, error);
    ASSERT_EQ(error, "");
    ASSERT_TRUE(w.tensors.count("c1/kernel"));
    EXPECT_EQ(w.tensors.at("c1/kernel").shape(), (Shape{3, 3, 3, 4}));
    EXPECT_EQ(w.tensors.at("up/kernel").shape(), (Shape{2, 2, 4, 4}));

    // The ONNX file itself checks as a model without a loss: exit 0.
    CliResult check = runCli("check " + model.string(), Stderr::Merge);
    EXPECT_EQ(check.exitCode, 0) << check.out;
    // The project is an ordinary one: without a loss it does not train.
    CliResult checkProject = runCli("check --no-data " + project.string(), Stderr::Merge);
    EXPECT_EQ(checkProject.exitCode, 1) << checkProject.out;
    EXPECT_THAT(checkProject.out, HasSubstr("no-loss"));
}

TEST(OnnxCli, StateDictWeightsAndPlaceholders) {
    ScratchDir dir("onnx_cli_state_dict");
    const auto model = dir.path() / "tiny.onnx";
    write(model, smallUnet("Erf"));
    Tensor c1(Shape{4, 3, 3, 3}, DType::Float32);
    c1.fill(0.25f);
    Tensor extra(Shape{2}, DType::Float32);
    const auto sd = dir.path() / "sd.safetensors";
    ASSERT_EQ(saveSafetensors(sd, {{"c1.weight", &c1}, {"fc.bias", &extra}}), "");
    const auto project = dir.path() / "tiny.segforge";
    CliResult r =
        runCli("import " + model.string() + " -o " + project.string() + " --weights " + sd.string(),
               Stderr::Merge);
    EXPECT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("1 unsupported ONNX node(s) kept as OnnxNode placeholders"));
    EXPECT_THAT(r.out, HasSubstr("state_dict: 1 of 2 tensors matched; unused: fc.bias"));
    EXPECT_THAT(r.out, HasSubstr("node '/tail/Erf' (Erf)"));
    std::string error;
    SafetensorsData w = loadSafetensors(dir.path() / "tiny.weights.safetensors", error);
    ASSERT_EQ(error, "");
    EXPECT_EQ(w.tensors.at("c1/kernel").f32()[5], 0.25f);

    CliResult check = runCli("check " + model.string(), Stderr::Merge);
    EXPECT_EQ(check.exitCode, 1) << check.out;
    EXPECT_THAT(check.out, HasSubstr("unsupported-op"));
}

TEST(OnnxCli, BadFilesAreRefusedWithALocatedMessage) {
    ScratchDir dir("onnx_cli_bad");
    const auto model = dir.path() / "cut.onnx";
    const std::string bytes = smallUnet();
    write(model, bytes.substr(0, bytes.size() / 2));
    CliResult r = runCli("import " + model.string() + " -o " + (dir.path() / "p.segforge").string(),
                         Stderr::Merge);
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_THAT(r.out, HasSubstr(model.string() + ": "));
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "p.segforge"));

    CliResult check = runCli("check " + model.string(), Stderr::Merge);
    EXPECT_EQ(check.exitCode, 2) << check.out;
    EXPECT_THAT(check.out, HasSubstr(model.string() + ": "));

    const auto sd = dir.path() / "missing.safetensors";
    write(model, bytes);
    CliResult noSd = runCli("import " + model.string() + " -o " +
                                (dir.path() / "p.segforge").string() + " --weights " + sd.string(),
                            Stderr::Merge);
    EXPECT_EQ(noSd.exitCode, 2) << noSd.out;
    EXPECT_THAT(noSd.out, HasSubstr("missing.safetensors"));
}
