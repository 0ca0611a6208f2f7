// The ONNX reader (suite ReadOnnx: not "Onnx…", which scripts/sanitize.sh leaves out
// for needing Python; these must run under ASan). Valid models (written with the project's own
// OnnxModel writer, or field by field with ProtoWriter) come back with their values; hostile bytes
// — not ONNX, truncated, absurd sizes, paths out of the folder — are refused with a message naming
// the file and the place, never a crash.

#include "onnx/onnx_model.hpp"
#include "onnx/onnx_reader.hpp"
#include "onnx/protobuf_writer.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <unistd.h>

using namespace segforge::core::interop;
namespace fs = std::filesystem;

namespace {

// onnx.proto field numbers used to write hostile models by hand.
constexpr int kModelIr = 1, kModelProducer = 2, kModelGraph = 7, kModelOpset = 8;
constexpr int kGraphNode = 1, kGraphName = 2, kGraphInitializer = 5, kGraphInput = 11;
constexpr int kNodeInput = 1, kNodeOutput = 2, kNodeName = 3, kNodeOpType = 4, kNodeAttr = 5;
constexpr int kAttrName = 1, kAttrT = 5, kAttrG = 6, kAttrType = 20;
constexpr int kTensorDims = 1, kTensorType = 2, kTensorFloatData = 4, kTensorInt32Data = 5,
              kTensorInt64Data = 7, kTensorName = 8, kTensorRaw = 9, kTensorExternal = 13,
              kTensorLocation = 14;

std::string rawOf(const void* data, std::size_t bytes) {
    return std::string(static_cast<const char*>(data), bytes);
}

ProtoWriter tensorHead(const std::string& name, OnnxElem type,
                       const std::vector<std::int64_t>& dims) {
    ProtoWriter t;
    for (std::int64_t d : dims)
        t.varint(kTensorDims, d);
    t.varint(kTensorType, static_cast<int>(type));
    t.bytes(kTensorName, name);
    return t;
}

std::string rawTensor(const std::string& name, OnnxElem type, const std::vector<std::int64_t>& dims,
                      const std::string& raw) {
    ProtoWriter t = tensorHead(name, type, dims);
    t.bytes(kTensorRaw, raw);
    return t.data();
}

/// A model around a graph's serialized fields, opset 13 of the default domain.
std::string modelAround(const std::string& graphFields, int opset = 13,
                        const std::string& domain = "") {
    ProtoWriter op;
    op.bytes(1, domain);
    op.varint(2, opset);
    ProtoWriter m;
    m.varint(kModelIr, 7);
    m.bytes(kModelProducer, "test");
    m.bytes(kModelGraph, graphFields);
    m.message(kModelOpset, op);
    return m.data();
}

std::string graphWithInitializer(const std::string& tensor) {
    ProtoWriter g;
    g.bytes(kGraphName, "g");
    g.bytes(kGraphInitializer, tensor);
    return g.data();
}

std::optional<OnnxFile> read(const std::string& bytes, std::string& error,
                             const OnnxReadLimits& limits = {},
                             const std::optional<fs::path>& dir = {}) {
    return readOnnx(bytes, "model.onnx", error, limits, dir);
}

/// Refused, with a message that starts with the file and contains `part`.
void expectRefused(const std::string& bytes, const std::string& part,
                   const OnnxReadLimits& limits = {}, const std::optional<fs::path>& dir = {}) {
    std::string error;
    const auto file = read(bytes, error, limits, dir);
    EXPECT_FALSE(file.has_value());
    EXPECT_EQ(error.rfind("model.onnx: ", 0), 0u) << error;
    EXPECT_NE(error.find(part), std::string::npos) << "message: " << error;
}

std::string sampleModel() {
    OnnxModel m("net");
    m.addInput({"x", OnnxType::Float, {-1, 1, 4, 4}});
    std::vector<float> w(2 * 1 * 3 * 3);
    for (std::size_t i = 0; i < w.size(); ++i)
        w[i] = 0.5f * static_cast<float>(i) - 2.0f;
    m.addFloatInitializer("conv.weight", {2, 1, 3, 3}, w);
    m.addFloatInitializer("conv.bias", {2}, {0.25f, -0.75f});
    m.addInt64Initializer("shape", {2}, {3, -4});
    m.addNode("Conv", "conv0", {"x", "conv.weight", "conv.bias"}, {"y"},
              {{"kernel_shape", std::vector<std::int64_t>{3, 3}},
               {"group", std::int64_t{1}},
               {"alpha", 0.125f},
               {"auto_pad", std::string("NOTSET")}});
    m.addNode("Relu", "", {"y"}, {"z"});
    m.addOutput({"z", OnnxType::Float, {-1, 2, 2, 2}});
    return m.serialize("1.2.3");
}

struct TempFolder {
    fs::path path =
        fs::temp_directory_path() / ("segforge_onnx_reader_" + std::to_string(::getpid()) + "_" +
                                     std::to_string(std::random_device{}()));
    TempFolder() { fs::create_directories(path); }
    ~TempFolder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
    void write(const std::string& name, const std::string& bytes) const {
        std::ofstream(path / name, std::ios::binary) << bytes;
    }
};

} // namespace

TEST(ReadOnnx, ReadsWhatTheWriterWrote) {
    std::string error;
    const auto file = read(sampleModel(), error);
    ASSERT_TRUE(file) << error;
    EXPECT_EQ(file->irVersion, 7);
    EXPECT_EQ(file->opset, 13);
    EXPECT_EQ(file->producerName, "SegForge");
    EXPECT_EQ(file->producerVersion, "1.2.3");
    EXPECT_EQ(file->graph.name, "net");

    ASSERT_EQ(file->graph.nodes.size(), 2u);
    const OnnxNodeDef& conv = file->graph.nodes[0];
    EXPECT_EQ(conv.name, "conv0");
    EXPECT_EQ(conv.opType, "Conv");
    EXPECT_EQ(conv.domain, "");
    EXPECT_EQ(conv.inputs, (std::vector<std::string>{"x", "conv.weight", "conv.bias"}));
    EXPECT_EQ(conv.outputs, (std::vector<std::string>{"y"}));
    ASSERT_NE(conv.attribute("kernel_shape"), nullptr);
    EXPECT_EQ(conv.attribute("kernel_shape")->kind, OnnxAttribute::Kind::Ints);
    EXPECT_EQ(conv.attribute("kernel_shape")->ints, (std::vector<std::int64_t>{3, 3}));
    EXPECT_EQ(conv.attribute("group")->kind, OnnxAttribute::Kind::Int);
    EXPECT_EQ(conv.attribute("group")->i, 1);
    EXPECT_EQ(conv.attribute("alpha")->kind, OnnxAttribute::Kind::Float);
    EXPECT_FLOAT_EQ(conv.attribute("alpha")->f, 0.125f);
    EXPECT_EQ(conv.attribute("auto_pad")->kind, OnnxAttribute::Kind::String);
    EXPECT_EQ(conv.attribute("auto_pad")->s, "NOTSET");
    EXPECT_EQ(conv.attribute("pads"), nullptr);
    // A node without a name is named after its op and position.
    EXPECT_EQ(file->graph.nodes[1].name, "Relu_1");
    EXPECT_EQ(file->graph.nodes[1].index, 1u);

    ASSERT_EQ(file->graph.initializers.size(), 3u);
    const OnnxTensor& w = file->graph.initializers[0];
    EXPECT_EQ(w.name, "conv.weight");
    EXPECT_EQ(w.type, OnnxElem::Float);
    EXPECT_EQ(w.dims, (std::vector<std::int64_t>{2, 1, 3, 3}));
    EXPECT_EQ(w.elementCount(), 18);
    ASSERT_EQ(w.floats.size(), 18u);
    EXPECT_TRUE(w.isFloat());
    for (std::size_t i = 0; i < w.floats.size(); ++i)
        EXPECT_FLOAT_EQ(w.floats[i], 0.5f * static_cast<float>(i) - 2.0f);
    EXPECT_EQ(file->graph.initializers[1].floats, (std::vector<float>{0.25f, -0.75f}));
    const OnnxTensor& shape = file->graph.initializers[2];
    EXPECT_EQ(shape.type, OnnxElem::Int64);
    EXPECT_FALSE(shape.isFloat());
    EXPECT_EQ(shape.ints, (std::vector<std::int64_t>{3, -4}));

    ASSERT_EQ(file->graph.inputs.size(), 1u);
    const OnnxValue& x = file->graph.inputs[0];
    EXPECT_EQ(x.name, "x");
    EXPECT_EQ(x.type, OnnxElem::Float);
    EXPECT_TRUE(x.hasShape);
    EXPECT_EQ(x.dims, (std::vector<std::int64_t>{-1, 1, 4, 4}));
    EXPECT_EQ(x.dimNames, (std::vector<std::string>{"N", "", "", ""}));
    ASSERT_EQ(file->graph.outputs.size(), 1u);
    EXPECT_EQ(file->graph.outputs[0].dims, (std::vector<std::int64_t>{-1, 2, 2, 2}));
    EXPECT_TRUE(looksLikeOnnx(sampleModel()));
}

TEST(ReadOnnx, ReadsTypedDataFieldsAndConvertsElementTypes) {
    ProtoWriter g;
    g.bytes(kGraphName, "g");
    // float_data (the form without raw_data).
    ProtoWriter f = tensorHead("f", OnnxElem::Float, {3});
    for (float v : {1.5f, -2.0f, 3.25f})
        f.float32(kTensorFloatData, v);
    g.message(kGraphInitializer, f);
    // FLOAT16 as raw_data: 1, -2, 0.5, the smallest subnormal 2^-24, +inf.
    const std::uint16_t halves[] = {0x3C00, 0xC000, 0x3800, 0x0001, 0x7C00};
    g.bytes(kGraphInitializer, rawTensor("h", OnnxElem::Float16, {5}, rawOf(halves, 10)));
    // BFLOAT16 bit patterns in int32_data: 1.0 = 0x3F80, -3.0 = 0xC040.
    ProtoWriter b = tensorHead("b", OnnxElem::BFloat16, {2});
    b.varint(kTensorInt32Data, 0x3F80);
    b.varint(kTensorInt32Data, 0xC040);
    g.message(kGraphInitializer, b);
    // DOUBLE as raw_data, one beyond float's range (saturates to inf).
    const double doubles[] = {0.1, -1e300};
    g.bytes(kGraphInitializer, rawTensor("d", OnnxElem::Double, {2}, rawOf(doubles, 16)));
    // Integer types: INT8, UINT8, BOOL and INT32 raw; INT64 in int64_data; INT32 in int32_data.
    const std::int8_t i8[] = {-128, 5};
    g.bytes(kGraphInitializer, rawTensor("i8", OnnxElem::Int8, {2}, rawOf(i8, 2)));
    const std::uint8_t u8[] = {255, 0, 7};
    g.bytes(kGraphInitializer, rawTensor("u8", OnnxElem::UInt8, {3}, rawOf(u8, 3)));
    g.bytes(kGraphInitializer, rawTensor("bool", OnnxElem::Bool, {3}, rawOf(u8, 3)));
    ProtoWriter l = tensorHead("i64", OnnxElem::Int64, {2, 1});
    l.varint(kTensorInt64Data, -9);
    l.varint(kTensorInt64Data, 1ll << 40);
    g.message(kGraphInitializer, l);
    ProtoWriter i32 = tensorHead("i32", OnnxElem::Int32, {});
    i32.varint(kTensorInt32Data, -77);
    g.message(kGraphInitializer, i32);
    // An empty tensor (a zero dim) holds no values and needs none.
    g.bytes(kGraphInitializer, rawTensor("empty", OnnxElem::Float, {0, 4}, ""));

    std::string error;
    const auto file = read(modelAround(g.data()), error);
    ASSERT_TRUE(file) << error;
    const auto& t = file->graph.initializers;
    ASSERT_EQ(t.size(), 10u);
    EXPECT_EQ(t[0].floats, (std::vector<float>{1.5f, -2.0f, 3.25f}));
    EXPECT_EQ(t[1].type, OnnxElem::Float16);
    ASSERT_EQ(t[1].floats.size(), 5u);
    EXPECT_EQ(t[1].floats[0], 1.0f);
    EXPECT_EQ(t[1].floats[1], -2.0f);
    EXPECT_EQ(t[1].floats[2], 0.5f);
    EXPECT_EQ(t[1].floats[3], std::ldexp(1.0f, -24));
    EXPECT_TRUE(std::isinf(t[1].floats[4]) && t[1].floats[4] > 0);
    EXPECT_TRUE(t[1].ints.empty());
    EXPECT_EQ(t[2].floats, (std::vector<float>{1.0f, -3.0f}));
    ASSERT_EQ(t[3].floats.size(), 2u);
    EXPECT_FLOAT_EQ(t[3].floats[0], 0.1f);
    EXPECT_TRUE(std::isinf(t[3].floats[1]) && t[3].floats[1] < 0);
    EXPECT_EQ(t[4].ints, (std::vector<std::int64_t>{-128, 5}));
    EXPECT_EQ(t[5].ints, (std::vector<std::int64_t>{255, 0, 7}));
    EXPECT_EQ(t[6].ints, (std::vector<std::int64_t>{1, 0, 1}));
    EXPECT_EQ(t[7].ints, (std::vector<std::int64_t>{-9, 1ll << 40}));
    EXPECT_EQ(t[8].ints, (std::vector<std::int64_t>{-77}));
    EXPECT_EQ(t[8].elementCount(), 1);
    EXPECT_EQ(t[9].elementCount(), 0);
    EXPECT_TRUE(t[9].floats.empty() && t[9].ints.empty());
    EXPECT_EQ(onnxElemName(OnnxElem::BFloat16), "BFLOAT16");
    EXPECT_EQ(onnxElemName(OnnxElem::Int64), "INT64");
}

TEST(ReadOnnx, TensorAttributesAndSubgraphsOfNodes) {
    ProtoWriter value = tensorHead("", OnnxElem::Int64, {2});
    value.varint(kTensorInt64Data, 1);
    value.varint(kTensorInt64Data, -1);
    ProtoWriter tensorAttr;
    tensorAttr.bytes(kAttrName, "value");
    tensorAttr.message(kAttrT, value);
    tensorAttr.varint(kAttrType, 4); // TENSOR
    ProtoWriter body;
    body.bytes(kGraphName, "then");
    ProtoWriter graphAttr;
    graphAttr.bytes(kAttrName, "then_branch");
    graphAttr.message(kAttrG, body);
    graphAttr.varint(kAttrType, 5); // GRAPH

    ProtoWriter constant;
    constant.bytes(kNodeOutput, "c");
    constant.bytes(kNodeOpType, "Constant");
    constant.message(kNodeAttr, tensorAttr);
    ProtoWriter iff;
    iff.bytes(kNodeInput, "cond");
    iff.bytes(kNodeOutput, "r");
    iff.bytes(kNodeName, "branch");
    iff.bytes(kNodeOpType, "If");
    iff.message(kNodeAttr, graphAttr);
    ProtoWriter g;
    g.message(kGraphNode, constant);
    g.message(kGraphNode, iff);

    std::string error;
    const auto file = read(modelAround(g.data(), 11, "ai.onnx"), error);
    ASSERT_TRUE(file) << error;
    EXPECT_EQ(file->opset, 11);
    ASSERT_EQ(file->graph.nodes.size(), 2u);
    EXPECT_EQ(file->graph.nodes[0].name, "Constant_0");
    const OnnxAttribute* v = file->graph.nodes[0].attribute("value");
    ASSERT_NE(v, nullptr);
    EXPECT_EQ(v->kind, OnnxAttribute::Kind::Tensor);
    ASSERT_TRUE(v->tensor);
    EXPECT_EQ(v->tensor->dims, (std::vector<std::int64_t>{2}));
    EXPECT_EQ(v->tensor->ints, (std::vector<std::int64_t>{1, -1}));
    const OnnxAttribute* then = file->graph.nodes[1].attribute("then_branch");
    ASSERT_NE(then, nullptr);
    EXPECT_EQ(then->kind, OnnxAttribute::Kind::Other);

    // A broken tensor inside an attribute is located at its node and attribute.
    ProtoWriter badValue = tensorHead("", OnnxElem::Float, {4});
    badValue.bytes(kTensorRaw, "abc");
    ProtoWriter badAttr;
    badAttr.bytes(kAttrName, "value");
    badAttr.message(kAttrT, badValue);
    badAttr.varint(kAttrType, 4);
    ProtoWriter badNode;
    badNode.bytes(kNodeName, "k");
    badNode.bytes(kNodeOpType, "Constant");
    badNode.message(kNodeAttr, badAttr);
    ProtoWriter g2;
    g2.message(kGraphNode, badNode);
    expectRefused(modelAround(g2.data()),
                  "graph.node 'k' (#0, 'Constant') attribute 'value': raw_data holds 3 bytes");
}

TEST(ReadOnnx, RefusesWhatIsNotOnnx) {
    expectRefused("", "empty file");
    expectRefused("{\"class_name\": \"Functional\", \"config\": {}}", "JSON");
    expectRefused(std::string("PK\x03\x04\x14\x00\x00\x00", 8) + std::string(40, 'z'),
                  "zip archive");
    expectRefused(std::string("\x89HDF\r\n\x1a\n\0\0\0", 11), "HDF5");
    expectRefused("hello, world: this is text", "not an ONNX model");
    EXPECT_FALSE(looksLikeOnnx("{\"a\": 1}"));
    EXPECT_FALSE(looksLikeOnnx("PK\x03\x04"));
    EXPECT_FALSE(looksLikeOnnx("\x89HDF\r\n"));
    EXPECT_FALSE(looksLikeOnnx("hello"));
    EXPECT_FALSE(looksLikeOnnx(""));

    // Random bytes: refused (or, by rare luck, a valid empty-ish model), never a crash.
    std::mt19937 rng(17);
    for (int trial = 0; trial < 300; ++trial) {
        std::string bytes(1 + rng() % 300, '\0');
        for (char& c : bytes)
            c = static_cast<char>(rng());
        std::string error;
        const auto file = read(bytes, error);
        if (!file) {
            EXPECT_EQ(error.rfind("model.onnx: ", 0), 0u) << error;
        }
    }

    // Protobuf that is not a model: no graph, no opset.
    ProtoWriter noGraph;
    noGraph.varint(kModelIr, 7);
    expectRefused(noGraph.data(), "no graph");
    ProtoWriter noOpset;
    noOpset.varint(kModelIr, 7);
    noOpset.bytes(kModelGraph, "");
    expectRefused(noOpset.data(), "opset_import names no version of the default domain");
}

TEST(ReadOnnx, EveryTruncationIsRefusedOrValid) {
    const std::string bytes = sampleModel();
    EXPECT_TRUE(looksLikeOnnx(bytes.substr(0, 3)));
    int refused = 0;
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        std::string error;
        const auto file = read(bytes.substr(0, n), error);
        if (file) {
            EXPECT_TRUE(error.empty());
            EXPECT_GT(file->irVersion, 0);
            EXPECT_GT(file->opset, 0);
        } else {
            ++refused;
            EXPECT_EQ(error.rfind("model.onnx: ", 0), 0u) << n << ": " << error;
        }
    }
    EXPECT_GT(refused, static_cast<int>(bytes.size()) - 5);
    // A cut inside the graph says so.
    std::string error;
    EXPECT_FALSE(read(bytes.substr(0, bytes.size() / 2), error));
    EXPECT_NE(error.find("truncated ONNX model: field 7"), std::string::npos) << error;
}

TEST(ReadOnnx, RefusesAbsurdDeclarationsBeforeAllocating) {
    // 2^40 elements declared, no data: refused by the per-tensor limit.
    expectRefused(modelAround(graphWithInitializer(
                      rawTensor("huge", OnnxElem::Float, {1 << 20, 1 << 20}, ""))),
                  "graph.initializer 'huge' (#0): dims 1048576×1048576 declare more than "
                  "1073741824 elements");
    // Dims whose product overflows int64.
    expectRefused(modelAround(graphWithInitializer(
                      rawTensor("wrap", OnnxElem::Float, {1ll << 31, 1ll << 31, 1ll << 31}, ""))),
                  "declare more than");
    expectRefused(modelAround(graphWithInitializer(rawTensor("neg", OnnxElem::Float, {4, -3}, ""))),
                  "graph.initializer 'neg' (#0): dims[1] is -3, negative");
    expectRefused(
        modelAround(graphWithInitializer(rawTensor("enc1.0.weight", OnnxElem::Float, {16, 3, 3, 3},
                                                   "0123456789" + std::string(30, 'x')))),
        "model.onnx: graph.initializer 'enc1.0.weight' (#0): raw_data holds 40 bytes, "
        "dims 16×3×3×3 (FLOAT) need 432 element(s) of 4 bytes = 1728");
    expectRefused(modelAround(graphWithInitializer(
                      rawTensor("r9", OnnxElem::Float, {1, 1, 1, 1, 1, 1, 1, 1, 1}, "abcd"))),
                  "graph.initializer 'r9' (#0): rank 9, more than the 8 dimensions allowed");
    ProtoWriter few = tensorHead("few", OnnxElem::Float, {3});
    few.float32(kTensorFloatData, 1.0f);
    expectRefused(modelAround(graphWithInitializer(few.data())),
                  "graph.initializer 'few' (#0): float_data holds 1 value(s), dims 3 (FLOAT) "
                  "need 3");
    ProtoWriter noData = tensorHead("nodata", OnnxElem::Int64, {2});
    expectRefused(modelAround(graphWithInitializer(noData.data())), "int64_data holds 0 value(s)");
    expectRefused(modelAround(graphWithInitializer(rawTensor("s", OnnxElem::String, {1}, "x"))),
                  "STRING tensors are not supported");
    expectRefused(modelAround(graphWithInitializer(rawTensor("u", OnnxElem(14), {1}, "x"))),
                  "data_type 14 is not an element type");

    // Two initializers of one name; an initializer without a name.
    ProtoWriter twice;
    twice.bytes(kGraphInitializer, rawTensor("w", OnnxElem::Float, {1}, "abcd"));
    twice.bytes(kGraphInitializer, rawTensor("w", OnnxElem::Float, {1}, "abcd"));
    expectRefused(modelAround(twice.data()),
                  "graph.initializer 'w' (#1): a second initializer of that name");
    expectRefused(modelAround(graphWithInitializer(rawTensor("", OnnxElem::Float, {1}, "abcd"))),
                  "graph.initializer #0 has no name");

    // The total over all tensors.
    OnnxReadLimits small;
    small.maxTotalElements = 5;
    ProtoWriter three;
    for (const char* name : {"a", "b"})
        three.bytes(kGraphInitializer, rawTensor(name, OnnxElem::Float, {3}, std::string(12, 0)));
    expectRefused(modelAround(three.data()),
                  "graph.initializer 'b' (#1): with this tensor's 3 elements the tensors hold "
                  "more than 5",
                  small);

    // A node without op_type; too many nodes; a file over the size limit.
    ProtoWriter anonymous;
    anonymous.bytes(kNodeName, "mystery");
    ProtoWriter g;
    g.message(kGraphNode, anonymous);
    expectRefused(modelAround(g.data()), "graph.node #0 'mystery' has no op_type");
    ProtoWriter relu;
    relu.bytes(kNodeOpType, "Relu");
    ProtoWriter many;
    for (int i = 0; i < 4; ++i)
        many.message(kGraphNode, relu);
    OnnxReadLimits fewNodes;
    fewNodes.maxNodes = 3;
    expectRefused(modelAround(many.data()), "graph holds 4 nodes, more than the limit of 3",
                  fewNodes);
    OnnxReadLimits tiny;
    tiny.maxFileBytes = 10;
    expectRefused(sampleModel(), "more than the 10", tiny);

    // A graph input of rank 9 and a negative dim_value.
    auto inputWithDims = [](const std::vector<std::int64_t>& dims) {
        ProtoWriter shape;
        for (std::int64_t d : dims) {
            ProtoWriter dim;
            dim.varint(1, d);
            shape.message(1, dim);
        }
        ProtoWriter tensorType;
        tensorType.varint(1, 1);
        tensorType.message(2, shape);
        ProtoWriter type;
        type.message(1, tensorType);
        ProtoWriter v;
        v.bytes(1, "x");
        v.message(2, type);
        ProtoWriter graph;
        graph.message(kGraphInput, v);
        return modelAround(graph.data());
    };
    expectRefused(inputWithDims({1, 1, 1, 1, 1, 1, 1, 1, 1}), "graph.input #0 'x': rank 9");
    expectRefused(inputWithDims({1, -5}), "graph.input #0 'x': dim 1 is -5, negative");
}

TEST(ReadOnnx, DeepNestingIsRefusedNotACrash) {
    // If inside If inside If …: far past protobuf's recursion limit.
    std::string graph;
    for (int level = 0; level < 2000; ++level) {
        ProtoWriter attr;
        attr.bytes(kAttrName, "then_branch");
        attr.bytes(kAttrG, graph);
        attr.varint(kAttrType, 5);
        ProtoWriter node;
        node.bytes(kNodeOpType, "If");
        node.message(kNodeAttr, attr);
        ProtoWriter g;
        g.message(kGraphNode, node);
        graph = g.data();
    }
    expectRefused(modelAround(graph), "nested too deeply");
}

TEST(ReadOnnx, ExternalDataStaysInTheModelsFolder) {
    TempFolder folder;
    const float values[] = {1.0f, 2.0f, 3.0f, -4.0f};
    folder.write("weights.bin", "HEAD" + rawOf(values, sizeof values));
    auto external = [](const std::vector<std::pair<std::string, std::string>>& entries) {
        ProtoWriter t = tensorHead("w", OnnxElem::Float, {2, 2});
        for (const auto& [key, value] : entries) {
            ProtoWriter kv;
            kv.bytes(1, key);
            kv.bytes(2, value);
            t.message(kTensorExternal, kv);
        }
        t.varint(kTensorLocation, 1); // EXTERNAL
        return modelAround(graphWithInitializer(t.data()));
    };

    const std::string good =
        external({{"location", "weights.bin"}, {"offset", "4"}, {"length", "16"}});
    std::string error;
    const auto file = read(good, error, {}, folder.path);
    ASSERT_TRUE(file) << error;
    EXPECT_EQ(file->graph.initializers[0].floats, (std::vector<float>{1.0f, 2.0f, 3.0f, -4.0f}));

    // readOnnxFile reads external data beside the file.
    folder.write("model.onnx", good);
    const auto fromFile = readOnnxFile(folder.path / "model.onnx", error);
    ASSERT_TRUE(fromFile) << error;
    EXPECT_EQ(fromFile->graph.initializers[0].floats[3], -4.0f);
    EXPECT_FALSE(readOnnxFile(folder.path / "absent.onnx", error));
    EXPECT_NE(error.find("absent.onnx: no such file"), std::string::npos) << error;

    expectRefused(good, "graph.initializer 'w' (#0): stored as external data in 'weights.bin'");
    expectRefused(external({{"location", "../weights.bin"}}),
                  "external data location '../weights.bin' is not a plain file name", {},
                  folder.path);
    expectRefused(external({{"location", "/etc/passwd"}}), "is not a plain file name", {},
                  folder.path);
    expectRefused(external({{"location", ".."}}), "is not a plain file name", {}, folder.path);
    expectRefused(external({{"location", "missing.bin"}}),
                  "external data file 'missing.bin' is missing", {}, folder.path);
    expectRefused(external({{"location", "weights.bin"}, {"offset", "4000"}}),
                  "external data offset 4000 lies past the end of 'weights.bin' (20 bytes)", {},
                  folder.path);
    expectRefused(external({{"location", "weights.bin"}, {"offset", "8"}, {"length", "16"}}),
                  "external data range 8+16 runs past the end", {}, folder.path);
    expectRefused(external({{"location", "weights.bin"}, {"offset", "-1"}}),
                  "external_data offset '-1' is not a byte count", {}, folder.path);
    expectRefused(external({{"location", "weights.bin"}}),
                  "external data holds 20 bytes, dims 2×2 (FLOAT) need 16", {}, folder.path);
    expectRefused(external({{"offset", "0"}}), "without a \"location\"", {}, folder.path);
}

TEST(ReadOnnx, SniffsByContent) {
    EXPECT_TRUE(looksLikeOnnx(sampleModel()));
    // Fields in another order: the graph first, then ir_version.
    ProtoWriter m;
    m.bytes(kModelGraph, "");
    m.varint(kModelIr, 8);
    EXPECT_TRUE(looksLikeOnnx(m.data()));
    // A tag of a field ModelProto does not have, or with the wrong wire type.
    ProtoWriter other;
    other.varint(9, 1);
    EXPECT_FALSE(looksLikeOnnx(other.data()));
    ProtoWriter wrongWire;
    wrongWire.bytes(kModelIr, "x");
    EXPECT_FALSE(looksLikeOnnx(wrongWire.data()));
}

TEST(ReadOnnx, StringsComeBackAsValidUtf8) {
    // Found by fuzzing the importer: a Resize mode "neare\xff\xfe" was quoted into a
    // warning as it was. The reader hands over names and string attributes as UTF-8.
    ProtoWriter mode;
    mode.bytes(kAttrName, "mode");
    mode.bytes(4, "neare\xff\xfe");
    mode.varint(kAttrType, 3); // STRING
    ProtoWriter names;
    names.bytes(kAttrName, "names");
    names.bytes(9, "ok");
    names.bytes(9, "\xc3(");
    names.varint(kAttrType, 8); // STRINGS
    ProtoWriter node;
    node.bytes(kNodeInput, "in\x80put");
    node.bytes(kNodeOutput, "out");
    node.bytes(kNodeOpType, "Resize");
    node.message(kNodeAttr, mode);
    node.message(kNodeAttr, names);
    ProtoWriter g;
    g.message(kGraphNode, node);
    std::string error;
    const auto file = read(modelAround(g.data()), error);
    ASSERT_TRUE(file) << error;
    const OnnxNodeDef& n = file->graph.nodes[0];
    EXPECT_EQ(n.attribute("mode")->s, "neare\xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(n.attribute("names")->strings, (std::vector<std::string>{"ok", "\xEF\xBF\xBD("}));
    EXPECT_EQ(n.inputs[0], "in\xEF\xBF\xBDput");
}
