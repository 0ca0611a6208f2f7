// SegForge → ONNX → SegForge: the ONNX file SegForge writes (NHWC at its
// boundary, a Transpose after the input and before the output, a uint8 input
// cast and rescaled) imports back into the same network, and with the same
// weights it computes the same output.

#include "engine/executor.hpp"
#include "engine/weights.hpp"
#include "graph_builder.hpp"
#include "onnx/onnx_export.hpp"
#include "onnx/onnx_import.hpp"
#include "ops/builtin_ops.hpp"

#include <cmath>
#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

/// The node nothing reads: the network's output.
const Node& sink(const Graph& g) {
    for (const auto& [id, n] : g.nodes())
        if (g.edgesFrom({id, "output"}).empty())
            return n;
    throw std::runtime_error("no sink");
}

} // namespace

TEST(OnnxRoundTrip, SegForgesOwnExportImportsBackAndComputesTheSame) {
    GraphBuilder b;
    const NodeId in = b.input(12, 10, 3, "uint8", "image");
    const NodeId cast =
        b.then(ops::kCastOp, "to_float", out(in), {{"dtype", std::string("float32")}});
    const NodeId scale =
        b.then(ops::kRescaleOp, "scale", out(cast), {{"scale", 1.0 / 255}, {"offset", -0.5}});
    const NodeId c1 = b.then(ops::kConv2DOp, "enc_conv", out(scale),
                             {{"filters", std::int64_t{4}},
                              {"padding", std::string("same")},
                              {"activation", std::string("relu")}});
    const NodeId pool = b.then(ops::kMaxPool2DOp, "pool", out(c1));
    const NodeId up = b.then(ops::kConv2DTransposeOp, "up", out(pool),
                             {{"filters", std::int64_t{4}},
                              {"kernel_size", std::vector<std::int64_t>{2, 2}},
                              {"strides", std::vector<std::int64_t>{2, 2}},
                              {"padding", std::string("same")}});
    const NodeId cat = b.add(ops::kConcatenateOp, "skip", {{"num_inputs", std::int64_t{2}}});
    b.wire(out(c1), {cat, "a"});
    b.wire(out(up), {cat, "b"});
    b.then(ops::kConv2DOp, "head", out(cat),
           {{"filters", std::int64_t{1}},
            {"kernel_size", std::vector<std::int64_t>{1, 1}},
            {"activation", std::string("sigmoid")}});
    const Graph& original = b.graph;

    std::string error;
    auto first = Executor::compileWithoutLoss(original, error);
    ASSERT_TRUE(first) << error;
    first->initializeParameters(11);
    std::map<std::string, Tensor> weights;
    for (const Parameter& p : first->parameters())
        weights[p.name] = p.value;
    OnnxExport exported = exportOnnx(original, "net", [&](const std::string& name) {
        auto it = weights.find(name);
        return it == weights.end() ? nullptr : &it->second;
    });
    ASSERT_TRUE(exported.ok());

    std::string readError;
    auto file = interop::readOnnx(exported.bytes, "net.onnx", readError);
    ASSERT_TRUE(file) << readError;
    OnnxImport imported = importOnnx(*file, "net.onnx");
    ASSERT_TRUE(imported.ok());
    EXPECT_EQ(imported.placeholders, 0);
    const Graph& g = imported.project->graph;
    // The boundary needs no node: an NHWC uint8 Input, no Transpose placeholder.
    const Node& input = node(g, "image");
    EXPECT_EQ(input.op, ops::kInputOp);
    EXPECT_EQ(std::get<std::string>(attr(g, "image", "dtype")), "uint8");
    EXPECT_EQ(std::get<std::int64_t>(attr(g, "image", "height")), 12);
    EXPECT_EQ(std::get<std::int64_t>(attr(g, "image", "width")), 10);
    EXPECT_EQ(std::get<std::int64_t>(attr(g, "image", "channels")), 3);
    const CheckResult check = checkGraph(g, CheckOptions::withoutInputSizeSweep());
    EXPECT_EQ(check.count(Severity::Error), 1u); // no-loss: ONNX holds no loss
    EXPECT_EQ(check.typeOf({sink(g).id, "output"})->toString(), "N×12×10×1 f32");

    auto second = Executor::compileWithoutLoss(g, error);
    ASSERT_TRUE(second) << error;
    second->initializeParameters(99); // other values: the loaded ones must replace them
    const WeightsMatch match = loadMatchingWeights(*second, imported.weights);
    EXPECT_TRUE(match.complete()) << describeWeightsMatch(match);

    Tensor pixels(Shape{2, 12, 10, 3}, DType::UInt8);
    for (std::int64_t i = 0; i < pixels.numel(); ++i)
        pixels.u8()[i] = static_cast<std::uint8_t>((i * 37) % 256);
    first->feedInput("image", pixels);
    first->beginStep(false);
    first->run();
    second->feedInput("image", pixels);
    second->beginStep(false);
    second->run();
    const Tensor* want = first->output(node(original, "head").id, "output");
    const Tensor* got = second->output(sink(g).id, "output");
    ASSERT_NE(want, nullptr);
    ASSERT_NE(got, nullptr);
    ASSERT_EQ(got->shape(), want->shape());
    double worst = 0;
    for (std::int64_t i = 0; i < got->numel(); ++i)
        worst = std::max(worst, static_cast<double>(std::abs(got->f32()[i] - want->f32()[i])));
    EXPECT_LT(worst, 1e-6);
}
