#pragma once

// One Keras layer → one SegForge node, with Keras semantics: Keras' own
// defaults where a field is absent, attributes stored only where they differ
// from the schema default (so an imported project stays small), and anything
// without an equivalent turned into a KerasLayer placeholder, never dropped.

#include "graph/graph.hpp"
#include "keras/keras_config.hpp"
#include "ops/op_schema.hpp"

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core::interop {

struct KerasLayerMapping {
    Node node; ///< op, name and non-default attributes; no id, no position
    /// For a Reshape to rank 3: the target (height, width, channels), -1 allowed.
    /// The importer keeps the node when, after inference, it changes nothing.
    std::optional<std::vector<std::int64_t>> reshapeTarget;
};

/// Maps one layer. `config` is the layer's "config" object at `configPath`;
/// `numInputs` the number of tensors it receives. Throws KerasFormatError for
/// a malformed config (wrong types, missing required fields, channels_first).
KerasLayerMapping mapKerasLayer(const std::string& className, const std::string& name,
                                const nlohmann::json& config, const std::string& configPath,
                                int numInputs, ImportLog& log);

/// A KerasLayer placeholder node for a layer SegForge cannot map.
Node kerasPlaceholder(const std::string& className, const std::string& name,
                      const std::string& reason, int numInputs);

/// Sets `key` on `node` unless it equals the schema default (after coercion).
void setNonDefaultAttr(Node& node, const std::string& key, AttrValue value);

/// The op an InputLayer becomes (the one whose Keras table is the import target).
const OpSchema& kerasInputOp();
/// The op that Keras layers keeping the tensor as it is become (with its
/// KerasMapping::identity attributes): a linear Activation.
const OpSchema& kerasIdentityOp();
/// A KerasLayer placeholder node.
bool isKerasPlaceholder(const Node& node);

/// Functional, Model and Sequential: configs that hold layers of their own.
bool isKerasModelClass(const std::string& className);

} // namespace segforge::core::interop
