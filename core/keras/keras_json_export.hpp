#pragma once

// Our graph → the JSON Keras 3 writes for `model.to_json()` of a functional
// model, so that `keras.models.model_from_json(text)` rebuilds the network
// (and SegForge's own importer reads it back to the same graph).

#include "graph/graph.hpp"

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace segforge::core {

struct KerasJsonExport {
    nlohmann::ordered_json model;      ///< valid only when errors is empty
    std::vector<std::string> errors;   ///< why the graph cannot be exported
    std::vector<std::string> warnings; ///< what the Keras model does differently
    bool ok() const { return errors.empty(); }
};

/// Exports the network part of `graph` (losses and metrics live in compile()).
KerasJsonExport exportKerasJson(const Graph& graph, const std::string& modelName);

} // namespace segforge::core
