// ONNX import of instance and group normalisation: InstanceNormalization
// (with initializers, and torch's affine=False constants), opset 18's
// GroupNormalization with per-group scale and bias, and the Reshape →
// InstanceNormalization → Reshape → Mul → Add that torch 1.13 writes for
// nn.GroupNorm, each one SegForge GroupNormalization.

#include "onnx_build.hpp"

using namespace segforge::core;
using namespace segforge::core::interop;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

void constant(OnnxBuild& b, const std::string& out, Dims dims, std::vector<float> floats,
              Dims ints = {}) {
    auto& n = b.node("Constant", "/Constant_" + out, {}, {out});
    interop::OnnxAttribute a;
    a.name = "value";
    a.kind = interop::OnnxAttribute::Kind::Tensor;
    a.tensor = OnnxTensor{};
    a.tensor->type = ints.empty() ? OnnxElem::Float : OnnxElem::Int64;
    a.tensor->floats = std::move(floats);
    a.tensor->ints = std::move(ints);
    a.tensor->dims = std::move(dims);
    n.attributes.push_back(a);
}

std::vector<float> values(const OnnxImport& r, const std::string& name) {
    const Tensor& t = r.weights.at(name);
    return std::vector<float>(t.f32(), t.f32() + t.numel());
}

std::int64_t groupsOf(const Graph& g, const std::string& name) {
    return std::get<std::int64_t>(attr(g, name, "groups"));
}

} // namespace

TEST(OnnxImportNorm, InstanceNormalizationIsGroupNormWithGroupsC) {
    OnnxBuild b(13);
    b.input("x", {1, 3, 5, 4});
    b.init("norm.weight", {3}, {1.5f, 2, 0.5f});
    b.init("norm.bias", {3}, {0.1f, -0.2f, 0.3f});
    auto& n = b.node("InstanceNormalization", "/norm/InstanceNormalization",
                     {"x", "norm.weight", "norm.bias"}, {"y"});
    setFloat(n, "epsilon", 1e-5f);
    b.node("LeakyRelu", "/act/LeakyRelu", {"y"}, {"z"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(r.placeholders, 0);
    EXPECT_EQ(nodeOp(g, "norm"), ops::kGroupNormalizationOp);
    EXPECT_EQ(groupsOf(g, "norm"), 3);
    EXPECT_DOUBLE_EQ(std::get<double>(attr(g, "norm", "epsilon")), 1e-5);
    EXPECT_TRUE(std::get<bool>(attr(g, "norm", "scale")));
    EXPECT_EQ(values(r, "norm/gamma"), (std::vector<float>{1.5f, 2, 0.5f}));
    EXPECT_EQ(values(r, "norm/beta"), (std::vector<float>{0.1f, -0.2f, 0.3f}));
    EXPECT_EQ(typeOf(g, "act"), "N×5×4×3");
}

TEST(OnnxImportNorm, AffineFalseInstanceNormHasNoParameters) {
    // torch writes nn.InstanceNorm2d(3) (affine=False) with Constant ones and zeros.
    OnnxBuild b(13);
    b.input("x", {1, 3, 4, 4});
    constant(b, "ones", {3}, {1, 1, 1});
    constant(b, "zeros", {3}, {0, 0, 0});
    b.node("InstanceNormalization", "/norm/InstanceNormalization", {"x", "ones", "zeros"}, {"y"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "norm"), ops::kGroupNormalizationOp);
    EXPECT_FALSE(std::get<bool>(attr(g, "norm", "scale")));
    EXPECT_FALSE(std::get<bool>(attr(g, "norm", "center")));
    EXPECT_EQ(r.weights.count("norm/gamma"), 0u);
}

TEST(OnnxImportNorm, Opset18GroupNormalizationExpandsPerGroupScale) {
    OnnxBuild b(18);
    b.input("x", {1, 4, 3, 3});
    b.init("s", {2}, {2, 3});
    b.init("t", {2}, {-1, 1});
    auto& n = b.node("GroupNormalization", "/gn/GroupNormalization", {"x", "s", "t"}, {"y"});
    setInt(n, "num_groups", 2);
    setFloat(n, "epsilon", 1e-3f);
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "gn"), ops::kGroupNormalizationOp);
    EXPECT_EQ(groupsOf(g, "gn"), 2);
    EXPECT_DOUBLE_EQ(std::get<double>(attr(g, "gn", "epsilon")), 1e-3);
    EXPECT_EQ(values(r, "gn/gamma"), (std::vector<float>{2, 2, 3, 3}));
    EXPECT_EQ(values(r, "gn/beta"), (std::vector<float>{-1, -1, 1, 1}));
}

TEST(OnnxImportNorm, Opset21GroupNormalizationPerChannelAndBadGroups) {
    OnnxBuild b(21);
    b.input("x", {1, 4, 3, 3});
    b.init("s", {4}, {1, 2, 3, 4});
    b.init("t", {4}, {0, 0, 0, 1});
    auto& n = b.node("GroupNormalization", "/gn/GroupNormalization", {"x", "s", "t"}, {"y"});
    setInt(n, "num_groups", 2);
    auto& bad = b.node("GroupNormalization", "/bad/GroupNormalization", {"y", "s", "t"}, {"z"});
    setInt(bad, "num_groups", 3);
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(values(r, "gn/gamma"), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(nodeOp(g, "bad"), ops::kOnnxNodeOp);
    EXPECT_THAT(std::get<std::string>(attr(g, "bad", "reason")),
                HasSubstr("num_groups = 3 does not divide the 4 channels"));
}

TEST(OnnxImportNorm, TorchGroupNormPatternIsOneNode) {
    // torch.onnx.export(nn.GroupNorm(2, 4), opset_version=13), node for node.
    OnnxBuild b(13);
    b.input("input", {1, 4, 5, 6});
    constant(b, "/Constant_output_0", {3}, {}, {0, 2, -1});
    b.node("Reshape", "/norm/Reshape", {"input", "/Constant_output_0"}, {"/Reshape_output_0"});
    constant(b, "/Constant_1_output_0", {2}, {1, 1});
    constant(b, "/Constant_2_output_0", {2}, {0, 0});
    auto& in = b.node("InstanceNormalization", "/norm/InstanceNormalization",
                      {"/Reshape_output_0", "/Constant_1_output_0", "/Constant_2_output_0"},
                      {"/InstanceNormalization_output_0"});
    setFloat(in, "epsilon", 1e-5f);
    b.node("Shape", "/norm/Shape", {"input"}, {"/Shape_output_0"});
    b.node("Reshape", "/norm/Reshape_1", {"/InstanceNormalization_output_0", "/Shape_output_0"},
           {"/Reshape_1_output_0"});
    b.init("onnx::Mul_16", {4, 1, 1}, {1, 2, 3, 4});
    b.init("onnx::Add_17", {4, 1, 1}, {0.5f, 0, -0.5f, 1});
    b.node("Mul", "/norm/Mul", {"/Reshape_1_output_0", "onnx::Mul_16"}, {"/Mul_output_0"});
    b.node("Add", "/norm/Add", {"/Mul_output_0", "onnx::Add_17"}, {"15"});
    b.node("Relu", "/act/Relu", {"15"}, {"16"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(r.placeholders, 0) << joined(r.warnings);
    int norms = 0, others = 0;
    for (const auto& [id, n] : g.nodes()) {
        if (n.op == ops::kGroupNormalizationOp)
            ++norms;
        else if (n.op != ops::kInputOp && n.op != ops::kActivationOp)
            ++others;
    }
    EXPECT_EQ(norms, 1);
    EXPECT_EQ(others, 0);
    EXPECT_EQ(groupsOf(g, "norm"), 2);
    EXPECT_EQ(values(r, "norm/gamma"), (std::vector<float>{1, 2, 3, 4}));
    EXPECT_EQ(values(r, "norm/beta"), (std::vector<float>{0.5f, 0, -0.5f, 1}));
    EXPECT_EQ(typeOf(g, "act"), "N×5×6×4");
}

TEST(OnnxImportNorm, OtherReshapeIsAPlaceholderWithAReason) {
    OnnxBuild b(13);
    b.input("x", {1, 4, 2, 2});
    b.ints("flat", {1, -1});
    b.node("Reshape", "/head/Reshape", {"x", "flat"}, {"y"});
    OnnxImport r = importOk(b);
    EXPECT_EQ(r.placeholders, 1);
    EXPECT_THAT(std::get<std::string>(attr(r.project->graph, "head", "reason")),
                HasSubstr("a reshape of the tensor"));
}
