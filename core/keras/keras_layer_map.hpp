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
    /// The layer's class has a kernel_regularizer setting.
    bool regularizable = false;
    /// Its kernel_regularizer when it is a pure L2 penalty l2·Σw²: the factor,
    /// and the kind of the warning that says it is ignored (the importer drops
    /// that warning when it maps the factor to weight decay).
    std::optional<double> kernelL2;
    std::string kernelL2Warning;
};

/// The factor of a pure L2 regularizer ("l2", L2(l2=…), L1L2 with l1 = 0); nullopt otherwise.
std::optional<double> pureL2Factor(const nlohmann::json& regularizer);

/// Maps one layer. `config` is the layer's "config" object at `configPath`;
/// `numInputs` the number of tensors it receives. `channelsFirst`: the model is
/// converted from channels_first, so data_format must say so and axes are
/// rewritten for channels_last. Throws KerasFormatError for a malformed config
/// (wrong types, missing required fields, a data_format the model does not use).
KerasLayerMapping mapKerasLayer(const std::string& className, const std::string& name,
                                const nlohmann::json& config, const std::string& configPath,
                                int numInputs, ImportLog& log, bool channelsFirst = false);

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
