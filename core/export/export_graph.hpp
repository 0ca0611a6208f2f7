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
    AttrMap attrs;                    ///< every schema attribute, resolved
    std::vector<std::string> inputs;  ///< producer layer names, in port order
    std::optional<TensorType> output; ///< inferred type of "output" (or Dataset "image")
    bool isInput() const { return schema->role == OpRole::Source; }
};

struct ExportGraph {
    std::vector<ExportLayer> layers;  ///< dependency order, sources first
    std::vector<std::string> outputs; ///< layers whose tensor leaves the network
    /// The loss the graph trains with (op name, e.g. "BCEDice"), and its attributes.
    std::string lossOp;
    AttrMap lossAttrs;
    std::vector<std::string> errors;   ///< the graph cannot be exported as it is
    std::vector<std::string> warnings; ///< exported, with these differences
};

/// Collects the network part of `graph`. A graph with a cycle, a KerasLayer
/// placeholder or an attribute that does not resolve gives errors.
ExportGraph collectExportGraph(const Graph& graph);

/// The same, with its errors and warnings appended to an exporter's result
/// (anything with `errors` and `warnings`), which is not ok() if it cannot be exported.
template <typename Result> ExportGraph collectExportGraph(const Graph& graph, Result& result) {
    ExportGraph g = collectExportGraph(graph);
    result.errors.insert(result.errors.end(), g.errors.begin(), g.errors.end());
    result.warnings.insert(result.warnings.end(), g.warnings.begin(), g.warnings.end());
    return g;
}

/// Typed reads of an ExportLayer's resolved attributes (every schema attribute is
/// present there, with its schema type).
inline std::int64_t attrInt(const AttrMap& a, const char* key) {
    return std::get<std::int64_t>(a.at(key));
}
inline double attrFloat(const AttrMap& a, const char* key) {
    return std::get<double>(a.at(key));
}
inline bool attrBool(const AttrMap& a, const char* key) {
    return std::get<bool>(a.at(key));
}
inline const std::string& attrText(const AttrMap& a, const char* key) {
    return std::get<std::string>(a.at(key));
}
inline const std::vector<std::int64_t>& attrInts(const AttrMap& a, const char* key) {
    return std::get<std::vector<std::int64_t>>(a.at(key));
}

/// Why a layer cannot be written as a Keras layer, for the Keras exporters:
/// "UpSampling2D 'up' has no Keras layer", and when the op has Keras forms that
/// this node's attributes rule out (KerasForm::implies), which values Keras has
/// and which the node has.
std::string noKerasLayerError(const ExportLayer& layer);

/// Python identifier made from a layer name ("enc1/conv" → "enc1_conv").
std::string pythonIdentifier(const std::string& name);

/// Python literal of a string (double-quoted, escaped; ops/export_mapping.hpp).
using core::pythonString;

} // namespace segforge::core::interop
