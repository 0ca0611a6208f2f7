// ONNX import, the graph as a whole: folded shape chains, placeholders for
// what SegForge cannot compute (and the import going on), state_dict weights,
// names, free sizes and refused inputs.

#include "onnx_build.hpp"

using namespace segforge::core;
using namespace segforge::core::interop;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using ::testing::Not;

TEST(OnnxImport, GroupedConvolutionIsAPlaceholderAndTheImportGoesOn) {
    OnnxBuild b;
    b.input("x", {1, 4, 8, 8});
    b.init("dw", {4, 1, 3, 3});
    auto& conv = b.node("Conv", "/dw/Conv", {"x", "dw"}, {"y"});
    setInt(conv, "group", 4);
    setInts(conv, "pads", {1, 1, 1, 1});
    b.declare("y", {1, 4, 8, 8});
    b.node("Relu", "/act/Relu", {"y"}, {"z"});
    b.node("Gemm", "/head/Gemm", {"z"}, {"g"});
    b.node("Gemm", "/head2/Gemm", {"z"}, {"g2"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(r.placeholders, 3);
    EXPECT_EQ(nodeOp(g, "dw"), ops::kOnnxNodeOp);
    EXPECT_EQ(std::get<std::string>(attr(g, "dw", "op_type")), "Conv");
    EXPECT_THAT(std::get<std::string>(attr(g, "dw", "reason")), HasSubstr("group=4"));
    EXPECT_EQ(std::get<std::string>(attr(g, "dw", "output_shapes")), "8,8,4");
    // The Relu after it is translated and typed with the declared shape.
    EXPECT_EQ(nodeOp(g, "act"), ops::kActivationOp);
    EXPECT_EQ(typeOf(g, "act"), "N×8×8×4");
    const std::string w = joined(r.warnings);
    EXPECT_THAT(w, HasSubstr("node '/dw/Conv' (Conv): grouped/depthwise convolution (group=4)"));
    // Two Gemms: one line naming both.
    EXPECT_THAT(w, HasSubstr("ONNX Gemm imported as an OnnxNode placeholder (unsupported-op) on 2 "
                             "nodes (head, head2)"));
    EXPECT_THAT(w, HasSubstr("initializer(s) feed placeholders and are dropped (dw)"));
    const CheckResult check = checkGraph(g, CheckOptions::withoutInputSizeSweep());
    EXPECT_THAT(codesOf(check), HasSubstr("unsupported-op"));
}

TEST(OnnxImport, ShapeGatherArithmeticChainFoldsIntoPad) {
    // What `F.pad(x, [dX // 2, dX - dX // 2, dY // 2, dY - dY // 2])` exports to,
    // with dY = skip.H − x.H (here 7 − 6 = 1).
    OnnxBuild b;
    b.input("x", {1, 4, 6, 6});
    b.input("skip", {1, 4, 7, 7});
    auto constant = [&](const std::string& out, Dims v) {
        auto& n = b.node("Constant", "/Constant_" + out, {}, {out});
        interop::OnnxAttribute a;
        a.name = "value";
        a.kind = interop::OnnxAttribute::Kind::Tensor;
        a.tensor = OnnxTensor{};
        a.tensor->type = OnnxElem::Int64;
        a.tensor->ints = v;
        a.tensor->dims = v.size() == 1 ? Dims{} : Dims{static_cast<std::int64_t>(v.size())};
        n.attributes.push_back(a);
    };
    b.node("Shape", "/Shape", {"skip"}, {"s1"});
    constant("two", {2});
    b.node("Gather", "/Gather", {"s1", "two"}, {"hs"});
    b.node("Shape", "/Shape_1", {"x"}, {"s2"});
    b.node("Gather", "/Gather_1", {"s2", "two"}, {"hx"});
    b.node("Sub", "/Sub", {"hs", "hx"}, {"d"});
    b.node("Div", "/Div", {"d", "two"}, {"half"});
    b.node("Sub", "/Sub_1", {"d", "half"}, {"rest"});
    constant("zero", {0, 0});
    auto& u1 = b.node("Unsqueeze", "/Unsqueeze", {"half"}, {"uh"});
    setInts(u1, "axes", {0});
    auto& u2 = b.node("Unsqueeze", "/Unsqueeze_1", {"rest"}, {"ur"});
    setInts(u2, "axes", {0});
    auto& cat = b.node("Concat", "/Concat", {"zero", "uh", "uh", "zero", "ur", "ur"}, {"pads"});
    setInt(cat, "axis", 0);
    b.node("Pad", "/Pad", {"x", "pads"}, {"xp"});
    auto& merge = b.node("Concat", "/up/Concat", {"skip", "xp"}, {"y"});
    setInt(merge, "axis", 1);
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    // Two inputs, the padding, the concatenation: nothing of the arithmetic.
    EXPECT_EQ(g.nodeCount(), 4u);
    EXPECT_EQ(nodeOp(g, "Pad"), ops::kZeroPadding2DOp);
    EXPECT_EQ(ints(g, "Pad", "padding"), (Dims{0, 1, 0, 1}));
    EXPECT_EQ(nodeOp(g, "up"), ops::kConcatenateOp);
    EXPECT_EQ(typeOf(g, "up"), "N×7×7×8");
}

TEST(OnnxImport, SliceCropsNegativePadCropsArithmeticWithScalars) {
    OnnxBuild b;
    b.input("x", {1, 2, 8, 8});
    b.ints("starts", {1, 2});
    b.ints("ends", {7, -1});
    b.ints("axes", {2, 3});
    b.node("Slice", "/crop/Slice", {"x", "starts", "ends", "axes"}, {"a"});
    b.ints("pads", {0, 0, -1, 0, 0, 0, 0, 1});
    b.node("Pad", "/p/Pad", {"a", "pads"}, {"c"});
    b.init("half", {}, {0.5f});
    b.node("Mul", "/m/Mul", {"c", "half"}, {"d"});
    b.node("Sub", "/s/Sub", {"half", "d"}, {"e"});
    b.node("Add", "/add/Add", {"d", "e"}, {"f"});
    b.ints("cstart", {0});
    b.ints("cend", {1});
    b.ints("caxes", {1});
    b.node("Slice", "/ch/Slice", {"f", "cstart", "cend", "caxes"}, {"g"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(ints(g, "crop", "cropping"), (Dims{1, 1, 2, 1}));
    EXPECT_EQ(typeOf(g, "crop"), "N×6×5×2");
    EXPECT_EQ(ints(g, "p", "padding"), (Dims{0, 0, 0, 1}));
    EXPECT_EQ(ints(g, "p_crop", "cropping"), (Dims{1, 0, 0, 0}));
    EXPECT_EQ(typeOf(g, "p_crop"), "N×5×6×2");
    EXPECT_EQ(nodeOp(g, "m"), ops::kRescaleOp);
    EXPECT_DOUBLE_EQ(std::get<double>(attr(g, "m", "scale")), 0.5);
    EXPECT_DOUBLE_EQ(std::get<double>(attr(g, "s", "scale")), -1.0);
    EXPECT_DOUBLE_EQ(std::get<double>(attr(g, "s", "offset")), 0.5);
    EXPECT_EQ(nodeOp(g, "add"), ops::kAddOp);
    EXPECT_EQ(nodeOp(g, "ch"), ops::kOnnxNodeOp);
}

TEST(OnnxImport, StateDictReplacesInitializersAndGraphInputParameters) {
    OnnxBuild b;
    b.input("x", {1, 1, 4, 4});
    b.input("c2.weight", {1, 1, 1, 1}); // export_params=False
    b.init("c1.weight", {1, 1, 1, 1}, {1.0f});
    b.init("c1.bias", {1}, {0.0f});
    b.node("Conv", "/c1/Conv", {"x", "c1.weight", "c1.bias"}, {"a"});
    b.node("Conv", "/c2/Conv", {"a", "c2.weight"}, {"c"});
    std::map<std::string, Tensor> sd;
    Tensor w1(Shape{1, 1, 1, 1}, DType::Float32);
    w1.f32()[0] = 7;
    sd["c1.weight"] = w1;
    sd["c1.bias"] = Tensor(Shape{2}, DType::Float32); // wrong shape
    Tensor w2(Shape{1, 1, 1, 1}, DType::Float32);
    w2.f32()[0] = 3;
    sd["c2.weight"] = w2;
    sd["fc.weight"] = Tensor(Shape{3}, DType::Float32);
    OnnxImportOptions options;
    options.stateDict = &sd;
    options.stateDictLabel = "sd.safetensors";
    OnnxImport r = importOk(b, options);
    EXPECT_EQ(r.weights.at("c1/kernel").f32()[0], 7.0f);
    EXPECT_EQ(r.weights.at("c2/kernel").f32()[0], 3.0f);
    EXPECT_EQ(r.stateDictMatched, 2u);
    EXPECT_EQ(r.stateDictUnused, (std::vector<std::string>{"fc.weight"}));
    EXPECT_THAT(
        joined(r.warnings),
        HasSubstr("sd.safetensors: tensor 'c1.bias' is (2) but the model's 'c1.bias' is (1)"));
    EXPECT_EQ(r.project->graph.nodeCount(), 3u); // the parameter input is no Input node

    // Without the state_dict, the graph-input parameter starts from the initialiser.
    OnnxImport bare = importOk(b);
    EXPECT_EQ(bare.weights.count("c2/kernel"), 0u);
    EXPECT_THAT(joined(bare.warnings), HasSubstr("export_params=False"));
}

// torch.onnx.export stores equal parameters once (fresh BatchNorms' 1s and
// 0s) and names the others through an Identity of that initializer.
TEST(OnnxImport, StateDictTensorsNamedByIdentityAliasesAreEachLayersOwn) {
    OnnxBuild b;
    b.input("x", {1, 2, 4, 4});
    b.init("bn1.weight", {2}, {1, 1});
    b.init("bn1.bias", {2}, {0, 0});
    b.init("bn1.running_mean", {2}, {0, 0});
    b.init("bn1.running_var", {2}, {1, 1});
    b.node("Identity", "Identity_0", {"bn1.weight"}, {"bn2.weight"});
    b.node("Identity", "Identity_1", {"bn1.bias"}, {"bn2.bias"});
    b.node("BatchNormalization", "/bn1/BatchNormalization",
           {"x", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"}, {"a"});
    b.node("BatchNormalization", "/bn2/BatchNormalization",
           {"a", "bn2.weight", "bn2.bias", "bn1.running_mean", "bn1.running_var"}, {"c"});
    std::map<std::string, Tensor> sd;
    auto vec = [](float a, float c) {
        Tensor t(Shape{2}, DType::Float32);
        t.f32()[0] = a;
        t.f32()[1] = c;
        return t;
    };
    sd["bn1.weight"] = vec(2, 3);
    sd["bn2.weight"] = vec(5, 7);
    sd["bn2.bias"] = vec(0.5f, 0.25f);
    OnnxImportOptions options;
    options.stateDict = &sd;
    options.stateDictLabel = "sd.safetensors";
    OnnxImport r = importOk(b, options);
    EXPECT_EQ(r.stateDictMatched, 3u);
    EXPECT_TRUE(r.stateDictUnused.empty());
    EXPECT_EQ(r.weights.at("bn1/gamma").f32()[1], 3.0f);
    EXPECT_EQ(r.weights.at("bn2/gamma").f32()[0], 5.0f);
    EXPECT_EQ(r.weights.at("bn2/gamma").f32()[1], 7.0f);
    EXPECT_EQ(r.weights.at("bn2/beta").f32()[0], 0.5f);
    EXPECT_EQ(r.weights.at("bn1/beta").f32()[0], 0.0f); // the file's own value
}

// An op SegForge lacks that keeps its input's shape (GELU exports as Erf)
// passes the shape on, so what follows it is still translated.
TEST(OnnxImport, AShapeKeepingUnsupportedOpPassesItsShapeOn) {
    OnnxBuild b;
    b.input("x", {1, 2, 6, 6});
    b.node("Erf", "/act/Erf", {"x"}, {"a"});
    b.init("two", {}, {2.0f});
    b.node("Pow", "/pow/Pow", {"a", "two"}, {"p"});
    b.node("Sub", "/sub/Sub", {"p", "x"}, {"s"});
    b.init("c.weight", {4, 2, 3, 3});
    auto& conv = b.node("Conv", "/c/Conv", {"s", "c.weight"}, {"y"});
    setInts(conv, "pads", {1, 1, 1, 1});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(r.placeholders, 3);
    EXPECT_EQ(std::get<std::string>(attr(g, "act", "output_shapes")), "6,6,2");
    EXPECT_EQ(std::get<std::string>(attr(g, "pow", "output_shapes")), "6,6,2");
    EXPECT_EQ(std::get<std::string>(attr(g, "sub", "output_shapes")), "6,6,2");
    EXPECT_EQ(nodeOp(g, "c"), ops::kConv2DOp);
    EXPECT_EQ(typeOf(g, "c"), "N×6×6×4");
    EXPECT_EQ(r.weights.count("c/kernel"), 1u);
    // Reported as what they are: no unconnected-input for the constant operand.
    const CheckResult check = checkGraph(g, CheckOptions::withoutInputSizeSweep());
    EXPECT_THAT(codesOf(check), HasSubstr("unsupported-op"));
    EXPECT_THAT(codesOf(check), Not(HasSubstr("unconnected-input")));
}

TEST(OnnxImport, NamesAreSanitisedAndUnique) {
    OnnxBuild b;
    b.input("input.1", {1, 1, 4, 4});
    b.node("Relu", "/enc1/block.0/Relu", {"input.1"}, {"a"});
    b.node("Relu", "/enc1/block.0/Relu_1", {"a"}, {"b"});
    b.node("Relu", "/enc1/block.0/Relu", {"b"}, {"c"});
    b.node("Relu", "", {"c"}, {"d"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "input_1"), ops::kInputOp);
    EXPECT_EQ(nodeOp(g, "enc1_block_0"), ops::kActivationOp);
    EXPECT_EQ(nodeOp(g, "enc1_block_0_relu_1"), ops::kActivationOp);
    EXPECT_EQ(nodeOp(g, "enc1_block_0_relu"), ops::kActivationOp);
    EXPECT_EQ(nodeOp(g, "Relu"), ops::kActivationOp);
}

TEST(OnnxImport, FreeSizesAreVariableAndBadInputsAreRefused) {
    OnnxBuild b;
    b.input("x", {-1, 3, -1, -1});
    b.node("Relu", "/r/Relu", {"x"}, {"y"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_TRUE(std::get<bool>(attr(g, "x", "variable_size")));
    EXPECT_THAT(joined(r.warnings), HasSubstr("note: the input's height or width is free"));

    OnnxBuild flat;
    flat.input("v", {1, 10});
    flat.node("Relu", "r", {"v"}, {"y"});
    OnnxImport bad = importOnnx(flat.f, "m.onnx");
    EXPECT_FALSE(bad.ok());
    EXPECT_THAT(joined(bad.errors), HasSubstr("m.onnx: graph input 'v' is (1, 10)"));

    OnnxBuild cut;
    cut.input("x", {1, 1, 4, 4});
    cut.node("Relu", "r", {"nowhere"}, {"y"});
    OnnxImport c = importOnnx(cut.f, "m.onnx");
    EXPECT_FALSE(c.ok());
    EXPECT_THAT(joined(c.errors),
                HasSubstr("node 'r' (Relu) reads a value no earlier node produces"));
}

TEST(OnnxImport, PyTorchPadListChainFoldsThroughReshapeSliceTranspose) {
    // torch.onnx.export of F.pad(x, [1, 2, 3, 0]) (left, right, top, bottom):
    // the list padded to 8 with ConstantOfShape, reshaped to (4, 2), rows
    // reversed by a Slice with step −1, transposed and flattened.
    OnnxBuild b(13);
    b.input("x", {1, 2, 5, 5});
    b.ints("four", {4});
    b.ints("list", {1, 2, 3, 0});
    b.ints("pairs", {-1, 2});
    b.ints("axis0", {0});
    b.ints("minus1", {-1});
    b.ints("to_start", {-9223372036854775807LL});
    b.node("ConstantOfShape", "/ConstantOfShape", {"four"}, {"zeros"});
    auto& cat = b.node("Concat", "/Concat", {"list", "zeros"}, {"eight"});
    setInt(cat, "axis", 0);
    b.node("Reshape", "/Reshape", {"eight", "pairs"}, {"m"});
    b.node("Slice", "/Slice", {"m", "minus1", "to_start", "axis0", "minus1"}, {"rev"});
    auto& tr = b.node("Transpose", "/Transpose", {"rev"}, {"t"});
    setInts(tr, "perm", {1, 0});
    b.node("Reshape", "/Reshape_1", {"t", "minus1"}, {"flat"});
    auto& cast = b.node("Cast", "/Cast", {"flat"}, {"pads"});
    setInt(cast, "to", 7);
    b.node("Pad", "/Pad", {"x", "pads", ""}, {"y"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(g.nodeCount(), 2u);
    EXPECT_EQ(ints(g, "Pad", "padding"), (Dims{3, 0, 1, 2}));
    EXPECT_EQ(typeOf(g, "Pad"), "N×8×8×2");
}

TEST(OnnxImport, Opset11SoftmaxBetweenTransposesIsAChannelSoftmax) {
    OnnxBuild b(11);
    b.input("x", {1, 3, 4, 4});
    auto& t1 = b.node("Transpose", "/Transpose", {"x"}, {"a"});
    setInts(t1, "perm", {0, 2, 3, 1});
    auto& sm = b.node("Softmax", "/Softmax", {"a"}, {"c"});
    setInt(sm, "axis", 3);
    auto& t2 = b.node("Transpose", "/Transpose_1", {"c"}, {"y"});
    setInts(t2, "perm", {0, 3, 1, 2});
    auto& odd = b.node("Transpose", "/Transpose_2", {"y"}, {"z"});
    setInts(odd, "perm", {0, 1, 3, 2});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(std::get<std::string>(attr(g, "Softmax", "activation")), "softmax");
    EXPECT_EQ(typeOf(g, "Softmax"), "N×4×4×3");
    EXPECT_EQ(nodeOp(g, "Transpose_2"), ops::kOnnxNodeOp);
    EXPECT_EQ(r.placeholders, 1);
    EXPECT_EQ(g.nodeCount(), 3u);
}
