// ONNX import, one op at a time: the nodes, attributes and weight layouts each
// ONNX op's translation creates, checked against PyTorch's size formulas
// through the checker's types (tests/core/onnx_build.hpp builds the files).

#include "onnx_build.hpp"

using namespace segforge::core;
using namespace segforge::core::interop;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

TEST(OnnxImport, ConvKernelOihwBecomesHwioAtTheRightIndices) {
    OnnxBuild b;
    b.input("x", {1, 3, 8, 8});
    b.init("enc.weight", {2, 3, 3, 3}); // O, I, kh, kw: value = ((o·3 + i)·3 + y)·3 + x
    b.init("enc.bias", {2}, {0.5f, -0.5f});
    auto& conv = b.node("Conv", "/enc/conv/Conv", {"x", "enc.weight", "enc.bias"}, {"y"});
    setInts(conv, "kernel_shape", {3, 3});
    setInts(conv, "pads", {1, 1, 1, 1});
    setInts(conv, "strides", {1, 1});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "enc_conv"), ops::kConv2DOp);
    EXPECT_EQ(std::get<std::string>(attr(g, "enc_conv", "padding")), "same");
    EXPECT_EQ(std::get<std::int64_t>(attr(g, "enc_conv", "filters")), 2);
    EXPECT_EQ(ints(g, "enc_conv", "kernel_size"), (Dims{3, 3}));
    EXPECT_EQ(typeOf(g, "enc_conv"), "N×8×8×2");
    const Tensor& k = r.weights.at("enc_conv/kernel");
    ASSERT_EQ(k.shape(), (Shape{3, 3, 3, 2}));
    for (int o = 0; o < 2; ++o)
        for (int i = 0; i < 3; ++i)
            for (int y = 0; y < 3; ++y)
                for (int x = 0; x < 3; ++x)
                    EXPECT_EQ(k.f32()[((y * 3 + x) * 3 + i) * 2 + o],
                              static_cast<float>(((o * 3 + i) * 3 + y) * 3 + x));
    EXPECT_EQ(r.weights.at("enc_conv/bias").f32()[1], -0.5f);
    EXPECT_EQ(nodeOp(g, "x"), ops::kInputOp);
    EXPECT_EQ(std::get<std::int64_t>(attr(g, "x", "channels")), 3);
}

TEST(OnnxImport, SymmetricPadsOnAStridedConvBecomeZeroPaddingAndValid) {
    OnnxBuild b;
    b.input("x", {1, 3, 9, 9});
    b.init("w", {4, 3, 3, 3});
    auto& conv = b.node("Conv", "/down/Conv", {"x", "w"}, {"y"});
    setInts(conv, "pads", {1, 1, 1, 1});
    setInts(conv, "strides", {2, 2});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "down_pad"), ops::kZeroPadding2DOp);
    EXPECT_EQ(ints(g, "down_pad", "padding"), (Dims{1, 1, 1, 1}));
    EXPECT_EQ(std::get<std::string>(attr(g, "down", "padding")), "valid");
    EXPECT_FALSE(std::get<bool>(attr(g, "down", "use_bias")));
    // PyTorch: ⌊(9 + 2 − 3) / 2⌋ + 1 = 5.
    EXPECT_EQ(typeOf(g, "down"), "N×5×5×4");
}

TEST(OnnxImport, AsymmetricPadsAndAutoPad) {
    OnnxBuild b;
    b.input("x", {1, 1, 8, 8});
    b.init("w", {1, 1, 2, 2});
    auto& c1 = b.node("Conv", "c1", {"x", "w"}, {"a"});
    setInts(c1, "pads", {0, 1, 1, 0}); // top 0, left 1, bottom 1, right 0
    auto& c2 = b.node("Conv", "c2", {"a", "w"}, {"b"});
    setString(c2, "auto_pad", "SAME_UPPER");
    setInts(c2, "strides", {2, 2});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(ints(g, "c1_pad", "padding"), (Dims{0, 1, 1, 0}));
    EXPECT_EQ(typeOf(g, "c1"), "N×8×8×1");
    EXPECT_EQ(std::get<std::string>(attr(g, "c2", "padding")), "same");
    EXPECT_EQ(typeOf(g, "c2"), "N×4×4×1");
}

TEST(OnnxImport, ConvTransposeIohwAndPyTorchPaddingCrops) {
    struct Case {
        std::int64_t k, s, p, op;
        const char* padding;
        Dims crop; // empty: no Cropping2D
        std::int64_t out;
    };
    // in = 4; PyTorch: (4 − 1)·s − 2p + k + op.
    const Case cases[] = {
        {3, 2, 1, 1, "valid", {1, 0, 1, 0}, 8}, // valid length 9, rows 1..8
        {4, 2, 1, 0, "same", {}, 8},            // full 10, 'same' crops 1 on top: as PyTorch
        {2, 2, 0, 0, "same", {}, 8},
        {3, 1, 1, 0, "same", {}, 4},
        {3, 2, 0, 0, "valid", {}, 9},
        {3, 2, 1, 0, "valid", {1, 1, 1, 1}, 7},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(::testing::Message()
                     << "k" << c.k << " s" << c.s << " p" << c.p << " op" << c.op);
        OnnxBuild b;
        b.input("x", {1, 2, 4, 4});
        b.init("up.weight", {2, 3, c.k, c.k}); // in, out, kh, kw
        b.init("up.bias", {3});
        auto& n =
            b.node("ConvTranspose", "/up/ConvTranspose", {"x", "up.weight", "up.bias"}, {"y"});
        setInts(n, "strides", {c.s, c.s});
        setInts(n, "pads", {c.p, c.p, c.p, c.p});
        if (c.op)
            setInts(n, "output_padding", {c.op, c.op});
        OnnxImport r = importOk(b);
        const Graph& g = r.project->graph;
        EXPECT_EQ(nodeOp(g, "up"), ops::kConv2DTransposeOp);
        EXPECT_EQ(std::get<std::string>(attr(g, "up", "padding")), c.padding);
        const std::string last = c.crop.empty() ? "up" : "up_crop";
        if (!c.crop.empty())
            EXPECT_EQ(ints(g, "up_crop", "cropping"), c.crop);
        else
            EXPECT_EQ(g.findNodeByName("up_crop"), nullptr);
        EXPECT_EQ(typeOf(g, last), strCat("N×", c.out, "×", c.out, "×3"));
        // (in, out, kh, kw) → (kh, kw, out, in).
        const Tensor& k = r.weights.at("up/kernel");
        ASSERT_EQ(k.shape(), (Shape{c.k, c.k, 3, 2}));
        const std::int64_t i = 1, o = 2, y = c.k - 1, x = 0;
        EXPECT_EQ(k.f32()[((y * c.k + x) * 3 + o) * 2 + i],
                  static_cast<float>(((i * 3 + o) * c.k + y) * c.k + x));
    }
}

TEST(OnnxImport, ConvTransposeOutputPaddingBeyondTheFrameIsAPlaceholder) {
    OnnxBuild b;
    b.input("x", {1, 2, 4, 4});
    b.init("w", {2, 3, 2, 2});
    auto& n = b.node("ConvTranspose", "/up/ConvTranspose", {"x", "w"}, {"y"});
    setInts(n, "strides", {3, 3});
    setInts(n, "output_padding", {2, 2});
    OnnxImport r = importOk(b);
    EXPECT_EQ(r.placeholders, 1);
    EXPECT_THAT(std::get<std::string>(attr(r.project->graph, "up", "reason")),
                HasSubstr("output_padding"));
}

TEST(OnnxImport, BatchNormalizationParametersEpsilonMomentum) {
    OnnxBuild b;
    b.input("x", {1, 2, 4, 4});
    b.init("bn.weight", {2}, {1.5f, 2.5f});
    b.init("bn.bias", {2}, {0.1f, 0.2f});
    b.init("bn.running_mean", {2}, {3, 4});
    b.init("bn.running_var", {2}, {5, 6});
    auto& n = b.node("BatchNormalization", "/bn/BatchNormalization",
                     {"x", "bn.weight", "bn.bias", "bn.running_mean", "bn.running_var"}, {"y"});
    setFloat(n, "epsilon", 1e-5f);
    setFloat(n, "momentum", 0.9f);
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(nodeOp(g, "bn"), ops::kBatchNormalizationOp);
    EXPECT_NEAR(std::get<double>(attr(g, "bn", "epsilon")), 1e-5, 1e-9);
    EXPECT_NEAR(std::get<double>(attr(g, "bn", "momentum")), 0.9, 1e-6);
    EXPECT_EQ(r.weights.at("bn/gamma").f32()[1], 2.5f);
    EXPECT_EQ(r.weights.at("bn/beta").f32()[0], 0.1f);
    EXPECT_EQ(r.weights.at("bn/moving_mean").f32()[1], 4.0f);
    EXPECT_EQ(r.weights.at("bn/moving_variance").f32()[0], 5.0f);
}

TEST(OnnxImport, ActivationsAndLeakyRelu) {
    OnnxBuild b;
    b.input("x", {1, 3, 4, 4});
    b.node("Sigmoid", "/s/Sigmoid", {"x"}, {"a"});
    auto& lr = b.node("LeakyRelu", "/l/LeakyRelu", {"a"}, {"c"});
    setFloat(lr, "alpha", 0.1f);
    auto& sm = b.node("Softmax", "/sm/Softmax", {"c"}, {"d"});
    setInt(sm, "axis", 1);
    auto& bad = b.node("Softmax", "/sw/Softmax", {"d"}, {"e"});
    setInt(bad, "axis", 3);
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(std::get<std::string>(attr(g, "s", "activation")), "sigmoid");
    EXPECT_EQ(nodeOp(g, "l"), ops::kLeakyReLUOp);
    // The decimal the file's float was written as, not 0.10000000149.
    EXPECT_EQ(std::get<double>(attr(g, "l", "alpha")), 0.1);
    EXPECT_EQ(std::get<std::string>(attr(g, "sm", "activation")), "softmax");
    EXPECT_EQ(nodeOp(g, "sw"), ops::kOnnxNodeOp);
}

TEST(OnnxImport, PoolingPadsCeilModeAndTheNegativeInputCaveat) {
    OnnxBuild b;
    b.input("x", {1, 2, 5, 5});
    auto& p1 = b.node("MaxPool", "/p1/MaxPool", {"x"}, {"a"});
    setInts(p1, "kernel_shape", {2, 2});
    setInts(p1, "strides", {2, 2});
    setInt(p1, "ceil_mode", 1);
    b.node("Relu", "/r/Relu", {"a"}, {"b"});
    auto& p2 = b.node("MaxPool", "/p2/MaxPool", {"b"}, {"c"});
    setInts(p2, "kernel_shape", {3, 3});
    setInts(p2, "strides", {2, 2});
    setInts(p2, "pads", {1, 1, 1, 1});
    auto& p3 = b.node("AveragePool", "/p3/AveragePool", {"c"}, {"d"});
    setInts(p3, "kernel_shape", {2, 2});
    b.node("GlobalAveragePool", "/gap/GlobalAveragePool", {"d"}, {"e"});
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    // ceil_mode: ⌈(5 − 2)/2⌉ + 1 = 3 → one extra row and column at the end.
    EXPECT_EQ(ints(g, "p1_pad", "padding"), (Dims{0, 1, 0, 1}));
    EXPECT_EQ(typeOf(g, "p1"), "N×3×3×2");
    EXPECT_EQ(ints(g, "p2_pad", "padding"), (Dims{1, 1, 1, 1}));
    EXPECT_EQ(typeOf(g, "p2"), "N×2×2×2");
    EXPECT_EQ(nodeOp(g, "p3"), ops::kAvgPool2DOp);
    EXPECT_EQ(typeOf(g, "p3"), "N×1×1×2");
    EXPECT_EQ(nodeOp(g, "gap"), ops::kGlobalAvgPool2DOp);
    // p1's input is not known to be non-negative: its padding is approximate.
    const std::string w = joined(r.warnings);
    EXPECT_THAT(w, HasSubstr("node '/p1/MaxPool' (MaxPool)"));
    EXPECT_THAT(w, ::testing::Not(HasSubstr("'/p2/MaxPool'")));
}

TEST(OnnxImport, ResizeFromScalesAndFromSizes) {
    OnnxBuild b(13);
    b.input("x", {1, 2, 4, 4});
    b.init("scales", {4}, {1, 1, 2, 2});
    b.ints("sizes", {1, 2, 24, 16});
    b.init("empty", {0}, {});
    auto& r1 = b.node("Resize", "/u1/Resize", {"x", "", "scales"}, {"a"});
    setString(r1, "mode", "nearest");
    setString(r1, "coordinate_transformation_mode", "asymmetric");
    setString(r1, "nearest_mode", "floor");
    auto& r2 = b.node("Resize", "/u2/Resize", {"a", "", "empty", "sizes"}, {"c"});
    setString(r2, "mode", "linear");
    setString(r2, "coordinate_transformation_mode", "pytorch_half_pixel");
    auto& r3 = b.node("Resize", "/u3/Resize", {"c", "", "scales"}, {"d"});
    setString(r3, "mode", "linear");
    setString(r3, "coordinate_transformation_mode", "align_corners");
    auto& r4 = b.node("Resize", "/u4/Resize", {"d", "", "scales"}, {"e"});
    setString(r4, "mode", "nearest");
    setString(r4, "coordinate_transformation_mode", "align_corners");
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(ints(g, "u1", "size"), (Dims{2, 2}));
    EXPECT_EQ(std::get<std::string>(attr(g, "u1", "interpolation")), "nearest");
    EXPECT_EQ(ints(g, "u2", "size"), (Dims{3, 2}));
    EXPECT_EQ(std::get<std::string>(attr(g, "u2", "interpolation")), "bilinear");
    EXPECT_EQ(typeOf(g, "u2"), "N×24×16×2");
    EXPECT_TRUE(std::get<bool>(attr(g, "u3", "align_corners")));
    EXPECT_EQ(nodeOp(g, "u4"), ops::kOnnxNodeOp);
}

TEST(OnnxImport, ConvTransposeOutputShapeAndAutoPad) {
    OnnxBuild b;
    b.input("x", {1, 2, 4, 4});
    b.init("w", {2, 2, 3, 3});
    // output_shape 8: total padding 9 − 8 = 1, the larger half at the start (ONNX).
    auto& t1 = b.node("ConvTranspose", "t1", {"x", "w"}, {"a"});
    setInts(t1, "strides", {2, 2});
    setInts(t1, "output_shape", {8, 8});
    // SAME_UPPER: input × stride, the smaller half at the start — Keras' 'same'.
    auto& t2 = b.node("ConvTranspose", "t2", {"a", "w"}, {"c"});
    setInts(t2, "strides", {2, 2});
    setString(t2, "auto_pad", "SAME_UPPER");
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(ints(g, "t1_crop", "cropping"), (Dims{1, 0, 1, 0}));
    EXPECT_EQ(typeOf(g, "t1_crop"), "N×8×8×2");
    EXPECT_EQ(std::get<std::string>(attr(g, "t2", "padding")), "same");
    EXPECT_EQ(typeOf(g, "t2"), "N×16×16×2");
}

TEST(OnnxImport, AnActivationThatAloneReadsAConvolutionIsFusedIntoIt) {
    OnnxBuild b;
    b.input("x", {1, 1, 6, 6});
    b.init("w", {2, 1, 3, 3});
    setInts(b.node("Conv", "/c1/Conv", {"x", "w"}, {"a"}), "pads", {1, 1, 1, 1});
    b.node("Relu", "/c1/Relu", {"a"}, {"r"});
    // Relu is non-negative: the pooling's zero padding is exact, no warning.
    auto& pool = b.node("MaxPool", "/pool/MaxPool", {"r"}, {"p"});
    setInts(pool, "kernel_shape", {3, 3});
    setInts(pool, "strides", {2, 2});
    setInts(pool, "pads", {1, 1, 1, 1});
    b.init("w2", {2, 2, 1, 1});
    b.node("Conv", "/c2/Conv", {"p", "w2"}, {"c"});
    b.node("Sigmoid", "/c2/Sigmoid", {"c"}, {"s"});
    b.node("Add", "/add/Add", {"c", "s"}, {"y"}); // c is read twice: not fused
    OnnxImport r = importOk(b);
    const Graph& g = r.project->graph;
    EXPECT_EQ(std::get<std::string>(attr(g, "c1", "activation")), "relu");
    EXPECT_EQ(g.findNodeByName("c1_Relu"), nullptr);
    EXPECT_EQ(nodeOp(g, "pool_pad"), ops::kZeroPadding2DOp);
    EXPECT_THAT(joined(r.warnings), ::testing::Not(HasSubstr("MaxPool")));
    EXPECT_EQ(std::get<std::string>(attr(g, "c2", "activation")), "linear");
    EXPECT_EQ(nodeOp(g, "c2_sigmoid"), ops::kActivationOp);
    EXPECT_EQ(typeOf(g, "add"), "N×3×3×2");
    EXPECT_EQ(g.nodeCount(), 7u); // x, c1, pool_pad, pool, c2, c2_sigmoid, add
}
