// ONNX export: the wire-format writer byte for byte, and what the exporter
// refuses. That the model computes what the engine does is checked end to end
// in tests/interop (OpenCV DNN, onnx.checker).

#include "graph_builder.hpp"
#include "onnx/onnx_export.hpp"
#include "onnx/protobuf_writer.hpp"

#include <gmock/gmock.h>
#include <map>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

std::string bytes(std::initializer_list<int> values) {
    std::string s;
    for (int v : values)
        s += static_cast<char>(v);
    return s;
}

/// Input 8×8×3 → Conv2D(4, 3×3, same) → BatchNormalization.
Graph smallGraph() {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 3);
    NodeId conv = b.then("Conv2D", "conv", out(in),
                         {{"filters", std::int64_t{4}}, {"padding", std::string("same")}});
    b.then("BatchNormalization", "bn", out(conv));
    return b.graph;
}

/// Weights of smallGraph() (values do not matter here).
std::map<std::string, Tensor> smallWeights() {
    std::map<std::string, Tensor> w;
    w.emplace("conv/kernel", Tensor(Shape{3, 3, 3, 4}, DType::Float32));
    w.emplace("conv/bias", Tensor(Shape{4}, DType::Float32));
    for (const char* p : {"gamma", "beta", "moving_mean", "moving_variance"})
        w.emplace(std::string("bn/") + p, Tensor(Shape{4}, DType::Float32));
    return w;
}

WeightLookup lookupIn(const std::map<std::string, Tensor>& w) {
    return [&w](const std::string& name) -> const Tensor* {
        auto it = w.find(name);
        return it == w.end() ? nullptr : &it->second;
    };
}

} // namespace

TEST(ProtoWriter, EncodesTheWireFormat) {
    interop::ProtoWriter w;
    w.varint(1, 300); // tag (1 << 3 | 0), then 300 as 0xAC 0x02
    EXPECT_EQ(w.data(), bytes({0x08, 0xAC, 0x02}));

    interop::ProtoWriter neg;
    neg.varint(2, -1); // int64 -1: ten bytes of two's complement
    EXPECT_EQ(neg.data(),
              bytes({0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));

    interop::ProtoWriter f;
    f.float32(2, 1.0f); // tag (2 << 3 | 5), little-endian IEEE 754
    EXPECT_EQ(f.data(), bytes({0x15, 0x00, 0x00, 0x80, 0x3F}));

    interop::ProtoWriter inner;
    inner.bytes(1, "ab");
    interop::ProtoWriter outer;
    outer.message(16, inner); // field 16 needs a two-byte tag: (16 << 3 | 2) = 130
    EXPECT_EQ(outer.data(), bytes({0x82, 0x01, 0x04, 0x0A, 0x02, 'a', 'b'}));
}

TEST(OnnxExport, WritesAModelWithEveryLayerAndWeight) {
    const Graph g = smallGraph();
    const auto w = smallWeights();
    OnnxExport e = exportOnnx(g, "small", lookupIn(w));
    ASSERT_TRUE(e.ok()) << ::testing::PrintToString(e.errors);
    for (const char* s : {"Transpose", "Conv", "BatchNormalization", "conv/kernel",
                          "bn/moving_variance", "kernel_shape", "SegForge"})
        EXPECT_THAT(e.bytes, HasSubstr(s));
    // The initializers hold every weight: 3·3·3·4 + 4 + 4·4 floats at least.
    EXPECT_GT(e.bytes.size(), (108u + 4u + 16u) * 4u);
}

TEST(OnnxExport, NamesMissingOrMisshapenWeights) {
    const Graph g = smallGraph();
    auto w = smallWeights();
    w.erase("bn/moving_mean");
    w.erase("conv/kernel");
    w.emplace("conv/kernel", Tensor(Shape{3, 3, 3, 5}, DType::Float32));
    OnnxExport e = exportOnnx(g, "small", lookupIn(w));
    EXPECT_FALSE(e.ok());
    EXPECT_THAT(::testing::PrintToString(e.errors), HasSubstr("no weights for 'bn/moving_mean'"));
    EXPECT_THAT(::testing::PrintToString(e.errors),
                HasSubstr("'conv/kernel' have 135 values, the layer needs 108"));
    EXPECT_TRUE(e.bytes.empty());
}

TEST(OnnxExport, RefusesPlaceholders) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 3);
    b.then("KerasLayer", "dense", out(in),
           {{"class_name", std::string("Dense")}, {"num_inputs", std::int64_t{1}}});
    OnnxExport e = exportOnnx(b.graph, "m", [](const std::string&) { return nullptr; });
    EXPECT_FALSE(e.ok());
    EXPECT_THAT(::testing::PrintToString(e.errors),
                HasSubstr("placeholder for the Keras layer Dense"));
}
