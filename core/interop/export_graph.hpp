#pragma once

// What every exporter needs from a graph: the layers in dependency order with
// their resolved attributes and inferred types, where each input comes from
// (pass-through nodes such as Cast followed to their source), and which
// tensors are the model's outputs. Losses and metrics are not part of the
// exported network; the Dataset node becomes the model's image input.

#include "check/check_result.hpp"
#include "graph/graph.hpp"
#include "ops/op_schema.hpp"

#include <string>
#include <vector>

namespace segforge::core::interop {

struct ExportLayer {
    const Node* node = nullptr;
    const OpSchema* schema = nullptr;
    AttrMap attrs;                            ///< every schema attribute, resolved
    std::vector<std::string> inputs;          ///< producer layer names, in port order
    std::optional<TensorType> output;         ///< inferred type of "output" (or Dataset "image")
    bool isInput() const { return schema->role == OpRole::Source; }
};

struct ExportGraph {
    std::vector<ExportLayer> layers;   ///< dependency order, sources first
    std::vector<std::string> outputs;  ///< layers whose tensor leaves the network
    /// The loss the graph trains with (op name, e.g. "BCEDice"), and its attributes.
    std::string lossOp;
    AttrMap lossAttrs;
    std::vector<std::string> errors;   ///< the graph cannot be exported as it is
    std::vector<std::string> warnings; ///< exported, with these differences
};

/// Collects the network part of `graph`. A graph with a cycle, a KerasLayer
/// placeholder or an attribute that does not resolve gives errors.
ExportGraph collectExportGraph(const Graph& graph);

/// Keras initializer class for our names: glorot_uniform → GlorotUniform.
std::string kerasInitializerClass(const std::string& name);

/// Python identifier made from a layer name ("enc1/conv" → "enc1_conv").
std::string pythonIdentifier(const std::string& name);

/// Python literal of a string (double-quoted, escaped).
std::string pythonString(const std::string& text);

} // namespace segforge::core::interop
