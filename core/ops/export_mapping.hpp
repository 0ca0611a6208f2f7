#pragma once

// How an op leaves SegForge, as data in the op's own file: the PyTorch module
// that computes it, the ONNX node(s) that compute it and its nominal FLOPs.
// Exporters (core/export, core/onnx) and the FLOP count (core/engine) are loops
// over these records; an op that cannot be exported says why, in words.

#include "graph/attribute.hpp"
#include "graph/graph.hpp"
#include "tensor/tensor_type.hpp"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace segforge::core {

class Tensor;

/// What an exporter knows of one node: its resolved attributes (every schema
/// attribute, with its schema type) and the types around it.
struct InteropView {
    const Node& node;
    const AttrMap& attrs;
    std::vector<std::string> inputPorts;           ///< port names, in order
    std::vector<std::optional<TensorType>> inputs; ///< types arriving, parallel to inputPorts
    std::optional<TensorType> output;              ///< the type the node produces

    const std::string& name() const { return node.name; }
    std::int64_t getInt(const char* key) const { return std::get<std::int64_t>(attrs.at(key)); }
    double getFloat(const char* key) const { return std::get<double>(attrs.at(key)); }
    bool getBool(const char* key) const { return std::get<bool>(attrs.at(key)); }
    const std::string& getString(const char* key) const {
        return std::get<std::string>(attrs.at(key));
    }
    const std::vector<std::int64_t>& getList(const char* key) const {
        return std::get<std::vector<std::int64_t>>(attrs.at(key));
    }
    /// Shape of input i (which must be known).
    const Shape& inputShape(std::size_t i) const { return inputs.at(i)->shape; }
    /// Channels of input i if it is a known image, else 0.
    std::int64_t inputChannels(std::size_t i) const;
    /// An int-list attribute as a Python tuple, a string attribute as a Python string.
    std::string pyInts(const char* key) const;
    std::string pyText(const char* key) const;
};

/// Python literals: "1.0", "0.001", "float('inf')"; (a, b) / (a,); "quoted\"text"; True / False.
std::string pyFloat(double value);
std::string pyTuple(const std::vector<std::int64_t>& values);
std::string pythonString(const std::string& text);
inline std::string pyBool(bool value) {
    return value ? "True" : "False";
}

/// The module a PyTorch script constructs for the op in Net.__init__ (under the
/// layer's name); Net.forward calls it with the op's inputs in port order.
struct PyTorchMapping {
    /// The construction expression, e.g. `KerasConv2d(3, 16, (3, 3), …)`. It may
    /// use the helpers of resources/python/pytorch_modules.py.
    std::function<std::string(const InteropView&)> module;
    /// The expression reads the input's channels: the exporter refuses the layer
    /// while the input type is unknown.
    bool needsInputChannels = false;
    /// When `module` is empty: why the op is not a PyTorch module ("…, because …").
    std::string notExportable;
};

/// One ONNX node attribute: INT, FLOAT, STRING or INTS.
struct OnnxAttribute {
    std::string name;
    std::variant<std::int64_t, float, std::string, std::vector<std::int64_t>> value;
};

/// Where an op's ONNX mapping writes its nodes (implemented in core/onnx). Tensors
/// are NCHW inside the ONNX graph; the view's types are NHWC, as SegForge sees them.
class OnnxBuilder {
public:
    virtual ~OnnxBuilder() = default;
    /// The tensor of input i as it is (its dtype kept).
    virtual std::string input(std::size_t i) = 0;
    /// The float32 tensor of input i (integer data is cast, once).
    virtual std::string floatInput(std::size_t i) = 0;
    /// The tensor the op's last node must write: the layer's result.
    virtual std::string result() = 0;
    virtual void node(const std::string& op, const std::string& name,
                      const std::vector<std::string>& inputs,
                      const std::vector<std::string>& outputs,
                      const std::vector<OnnxAttribute>& attrs = {}) = 0;
    /// Constant tensors (initializers); they return `name`.
    virtual std::string floatConstant(const std::string& name,
                                      const std::vector<std::int64_t>& dims,
                                      std::vector<float> values) = 0;
    virtual std::string int64Constant(const std::string& name,
                                      const std::vector<std::int64_t>& values) = 0;
    /// The layer's parameter `param` (Keras layout, float32, `count` values);
    /// nullptr after reporting an error when it is missing or has another size.
    virtual const Tensor* weight(const std::string& param, std::int64_t count) = 0;
    /// The op cannot be written as it is configured.
    virtual void error(std::string message) = 0;
};

/// The ONNX node(s) that compute the op.
struct OnnxMapping {
    /// Writes the nodes through the builder; problems go to builder.error().
    std::function<void(const InteropView&, OnnxBuilder&)> write;
    /// The result has the input's dtype (crops, pads, dropout); else float32.
    bool keepsInputDType = false;
    /// When `write` is empty: why the op is not exported to ONNX ("…, because …").
    std::string notExportable;
};

/// Nominal forward FLOPs (2 per multiply-add) of one node for `batch` samples,
/// called only when the node's input and output types are known.
using FlopFn = std::function<double(const InteropView&, std::int64_t batch)>;

/// What the FLOP count (segforge-cli bench) counts for the op. The count is of the
/// multiply-adds that dominate a segmentation network: convolutions.
struct FlopCount {
    FlopFn forward;
    /// When `forward` is empty: the op is declared free (not counted), and why.
    std::string freeBecause;
};

/// Reasons that several ops give.
namespace export_reason {
inline constexpr char kSourcePyTorch[] =
    "an input is not a module, because Net.forward takes it as its argument";
inline constexpr char kSourceOnnx[] =
    "an input is not a node, because the exporter declares it as a graph input (NHWC, then a "
    "Transpose to NCHW)";
inline constexpr char kLossPyTorch[] =
    "a loss is not a module of the network, because the script computes it in make_loss() while "
    "training";
inline constexpr char kLossOnnx[] =
    "a loss is not exported to ONNX, because the ONNX model is the network alone, for inference";
inline constexpr char kMetricPyTorch[] =
    "a metric is not exported to PyTorch, because the script trains without metrics";
inline constexpr char kMetricOnnx[] =
    "a metric is not exported to ONNX, because the ONNX model is the network alone, for inference";
inline constexpr char kNoArithmetic[] = "it moves, copies or selects values: no arithmetic";
inline constexpr char kElementwise[] =
    "a few operations per value, negligible beside the convolutions' multiply-adds";
inline constexpr char kTrainingOnly[] =
    "losses and metrics are outside the forward network that the count describes";
} // namespace export_reason

// Helpers for the op files' mappings (shared by several ops).

/// TensorFlow's 'same' padding of one axis, (before, after): the odd pixel goes after.
std::pair<std::int64_t, std::int64_t> tfSamePads(std::int64_t in, std::int64_t kernel,
                                                 std::int64_t stride, std::int64_t dilation);
/// kh·kw·a·b multiply-adds of a convolution per pixel (`kernel` is (kh, kw)).
double convolutionKernelSize(const std::vector<std::int64_t>& kernel, std::int64_t a,
                             std::int64_t b);
/// batch·H·W of an image type; 0 when the type is unknown or not an image.
double imagePixels(const std::optional<TensorType>& type, std::int64_t batch);
/// NHWC axis (Keras, negative allowed) → NCHW axis.
std::int64_t nchwAxis(std::int64_t axis);
/// Emits a Keras activation ("linear", "relu", …) from `in` into `out`; an error if
/// ONNX has no such activation here.
void onnxActivation(OnnxBuilder& b, const std::string& nodeName, const std::string& kind,
                    double alpha, const std::string& in, const std::string& out);
/// The layer's Keras kernel `param` (kh, kw, a, b) as an ONNX initializer (b, a, kh, kw)
/// named "<layer>/<param>"; "" after an error.
std::string onnxKerasKernel(OnnxBuilder& b, const std::string& layer, std::int64_t kh,
                            std::int64_t kw, std::int64_t a, std::int64_t bDim,
                            const std::string& param = "kernel");
/// The ONNX node that converts `in` (integer data: a uint8 image) to float32 where an
/// op computes in float32: the Cast op's ONNX form (core/ops/cast.cpp).
void onnxCastToFloat(OnnxBuilder& b, const std::string& name, const std::string& in,
                     const std::string& out);
/// The layer's parameter `param` of `c` values as an initializer "<layer>/<param>"; "" after an
/// error.
std::string onnxVectorParam(OnnxBuilder& b, const std::string& layer, const std::string& param,
                            std::int64_t c);

} // namespace segforge::core
