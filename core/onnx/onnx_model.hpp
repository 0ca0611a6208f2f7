#pragma once

// An ONNX model being written: nodes, initializers, graph inputs and outputs,
// serialized as an onnx.ModelProto with the wire-format writer. Knows the
// message layout of onnx.proto, nothing about SegForge's layers.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

namespace segforge::core::interop {

/// onnx.TensorProto.DataType values.
enum class OnnxType : int { Float = 1, UInt8 = 2, UInt16 = 4, Int32 = 6, Int64 = 7, Bool = 9 };

/// One node attribute: INT, FLOAT, STRING or INTS.
struct OnnxAttr {
    std::string name;
    std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>> value;
};

/// A graph input or output: its name, element type and dims (-1: the batch, symbolic "N").
struct OnnxValueInfo {
    std::string name;
    OnnxType type = OnnxType::Float;
    std::vector<std::int64_t> dims;
};

class OnnxModel {
public:
    static constexpr std::int64_t kIrVersion = 7; ///< the IR version that goes with opset 13
    static constexpr std::int64_t kOpset = 13;

    explicit OnnxModel(std::string graphName)
        : m_graphName(std::move(graphName)) {}

    void addNode(const std::string& op, const std::string& name,
                 const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                 const std::vector<OnnxAttr>& attrs = {});
    void addFloatInitializer(const std::string& name, const std::vector<std::int64_t>& dims,
                             const std::vector<float>& values);
    void addInt64Initializer(const std::string& name, const std::vector<std::int64_t>& dims,
                             const std::vector<std::int64_t>& values);
    void addInput(OnnxValueInfo info) { m_inputs.push_back(std::move(info)); }
    void addOutput(OnnxValueInfo info) { m_outputs.push_back(std::move(info)); }
    void setDocString(std::string doc) { m_doc = std::move(doc); }

    /// The serialized onnx.ModelProto.
    std::string serialize(const std::string& producerVersion) const;

private:
    std::string m_graphName, m_doc;
    std::vector<std::string> m_nodes;        ///< serialized NodeProtos
    std::vector<std::string> m_initializers; ///< serialized TensorProtos
    std::vector<OnnxValueInfo> m_inputs, m_outputs;
};

} // namespace segforge::core::interop
