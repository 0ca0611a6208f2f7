#pragma once

// Where a Keras layer's inputs come from. Keras 2 writes each call of a layer
// as a list of [layer_name, node_index, tensor_index, kwargs]; Keras 3 as
// {"args": [...], "kwargs": {...}} with {"class_name": "__keras_tensor__",
// "config": {"keras_history": [layer_name, node_index, tensor_index]}} inside.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace segforge::core::interop {

/// Output `tensor` of call `node` of layer `layer`; `path` is where the reference was written.
struct KerasTensorRef {
    std::string layer;
    std::int64_t node = 0;
    std::int64_t tensor = 0;
    std::string path;
};

/// The tensors each call of a layer received, in order. Throws KerasFormatError.
std::vector<std::vector<KerasTensorRef>> parseInboundNodes(const nlohmann::json& inbound,
                                                           const std::string& path);

/// A model's input_layers / output_layers: [[name, node, tensor], …] or one
/// [name, node, tensor] (Keras 3 with a single input). Throws KerasFormatError.
std::vector<KerasTensorRef> parseLayerRefs(const nlohmann::json& refs, const std::string& path);

} // namespace segforge::core::interop
