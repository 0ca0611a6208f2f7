#pragma once

// Our graph → an ONNX model (opset 13) of the inference network, with the
// weights as initializers. SegForge is NHWC and ONNX's convolutions are NCHW:
// the model keeps NHWC at its boundary (inputs and outputs as in SegForge,
// batch symbolic "N") and transposes once after each input and once before
// each output. Losses, metrics and Dataset targets are left out; Dropout is
// an Identity; BatchNormalization uses its moving statistics.

#include "graph/graph.hpp"
#include "tensor/tensor.hpp"

#include <functional>
#include <string>
#include <vector>

namespace segforge::core {

struct OnnxExport {
    std::string bytes;                 ///< the serialized onnx.ModelProto, valid only when ok()
    std::vector<std::string> errors;   ///< why the graph cannot be exported
    std::vector<std::string> warnings; ///< what the ONNX model does differently
    bool ok() const { return errors.empty(); }
};

/// A parameter by its safetensors name "<layer>/<param>", in Keras layout; nullptr if missing.
using WeightLookup = std::function<const Tensor*(const std::string& name)>;

OnnxExport exportOnnx(const Graph& graph, const std::string& modelName,
                      const WeightLookup& weights);

} // namespace segforge::core
