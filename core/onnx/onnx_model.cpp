#include "onnx/onnx_model.hpp"

#include "onnx/protobuf_writer.hpp"

#include <cstring>

namespace segforge::core::interop {

namespace {

// Field numbers of onnx.proto (onnx/onnx.proto, stable since IR version 3).
namespace model {
constexpr int kIrVersion = 1, kProducerName = 2, kProducerVersion = 3, kDocString = 6, kGraph = 7,
              kOpsetImport = 8;
}
namespace opset {
constexpr int kDomain = 1, kVersion = 2;
}
namespace graph {
constexpr int kNode = 1, kName = 2, kInitializer = 5, kDocString = 10, kInput = 11, kOutput = 12;
}
namespace node {
constexpr int kInput = 1, kOutput = 2, kName = 3, kOpType = 4, kAttribute = 5;
}
namespace attribute {
constexpr int kName = 1, kF = 2, kI = 3, kS = 4, kInts = 8, kType = 20;
constexpr int kFloat = 1, kInt = 2, kString = 3, kInts_ = 7; // AttributeType
} // namespace attribute
namespace tensor {
constexpr int kDims = 1, kDataType = 2, kName = 8, kRawData = 9;
}
namespace valueinfo {
constexpr int kName = 1, kType = 2;
}
namespace type {
constexpr int kTensorType = 1;              // TypeProto.tensor_type
constexpr int kElemType = 1, kShape = 2;    // TypeProto.Tensor
constexpr int kDim = 1;                     // TensorShapeProto.dim
constexpr int kDimValue = 1, kDimParam = 2; // Dimension
} // namespace type

std::string serializeValueInfo(const OnnxValueInfo& info) {
    ProtoWriter shape;
    for (std::int64_t d : info.dims) {
        ProtoWriter dim;
        if (d < 0)
            dim.bytes(type::kDimParam, "N");
        else
            dim.varint(type::kDimValue, d);
        shape.message(type::kDim, dim);
    }
    ProtoWriter tensorType;
    tensorType.varint(type::kElemType, static_cast<int>(info.type));
    tensorType.message(type::kShape, shape);
    ProtoWriter typeProto;
    typeProto.message(type::kTensorType, tensorType);
    ProtoWriter v;
    v.bytes(valueinfo::kName, info.name);
    v.message(valueinfo::kType, typeProto);
    return v.data();
}

std::string serializeTensor(const std::string& name, OnnxType dataType,
                            const std::vector<std::int64_t>& dims, const void* data,
                            std::size_t bytes) {
    ProtoWriter t;
    for (std::int64_t d : dims)
        t.varint(tensor::kDims, d);
    t.varint(tensor::kDataType, static_cast<int>(dataType));
    t.bytes(tensor::kName, name);
    // raw_data is little-endian, as the host (checked by ProtoWriter).
    t.bytes(tensor::kRawData, std::string_view(static_cast<const char*>(data), bytes));
    return t.data();
}

} // namespace

void OnnxModel::addNode(const std::string& op, const std::string& name,
                        const std::vector<std::string>& inputs,
                        const std::vector<std::string>& outputs,
                        const std::vector<OnnxAttr>& attrs) {
    ProtoWriter n;
    for (const auto& in : inputs)
        n.bytes(node::kInput, in);
    for (const auto& out : outputs)
        n.bytes(node::kOutput, out);
    n.bytes(node::kName, name);
    n.bytes(node::kOpType, op);
    for (const OnnxAttr& a : attrs) {
        ProtoWriter w;
        w.bytes(attribute::kName, a.name);
        if (auto* i = std::get_if<std::int64_t>(&a.value)) {
            w.varint(attribute::kI, *i);
            w.varint(attribute::kType, attribute::kInt);
        } else if (auto* f = std::get_if<float>(&a.value)) {
            w.float32(attribute::kF, *f);
            w.varint(attribute::kType, attribute::kFloat);
        } else if (auto* s = std::get_if<std::string>(&a.value)) {
            w.bytes(attribute::kS, *s);
            w.varint(attribute::kType, attribute::kString);
        } else {
            for (std::int64_t v : std::get<std::vector<std::int64_t>>(a.value))
                w.varint(attribute::kInts, v);
            w.varint(attribute::kType, attribute::kInts_);
        }
        n.message(node::kAttribute, w);
    }
    m_nodes.push_back(n.data());
}

void OnnxModel::addFloatInitializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                    const std::vector<float>& values) {
    m_initializers.push_back(
        serializeTensor(name, OnnxType::Float, dims, values.data(), values.size() * sizeof(float)));
}

void OnnxModel::addInt64Initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                                    const std::vector<std::int64_t>& values) {
    m_initializers.push_back(serializeTensor(name, OnnxType::Int64, dims, values.data(),
                                             values.size() * sizeof(std::int64_t)));
}

std::string OnnxModel::serialize(const std::string& producerVersion) const {
    ProtoWriter g;
    for (const auto& n : m_nodes)
        g.bytes(graph::kNode, n);
    g.bytes(graph::kName, m_graphName);
    for (const auto& t : m_initializers)
        g.bytes(graph::kInitializer, t);
    if (!m_doc.empty())
        g.bytes(graph::kDocString, m_doc);
    for (const auto& in : m_inputs)
        g.bytes(graph::kInput, serializeValueInfo(in));
    for (const auto& out : m_outputs)
        g.bytes(graph::kOutput, serializeValueInfo(out));

    ProtoWriter opsetId;
    opsetId.bytes(opset::kDomain, "");
    opsetId.varint(opset::kVersion, kOpset);

    ProtoWriter m;
    m.varint(model::kIrVersion, kIrVersion);
    m.bytes(model::kProducerName, "SegForge");
    m.bytes(model::kProducerVersion, producerVersion);
    if (!m_doc.empty())
        m.bytes(model::kDocString, m_doc);
    m.message(model::kGraph, g);
    m.message(model::kOpsetImport, opsetId);
    return m.data();
}

} // namespace segforge::core::interop
