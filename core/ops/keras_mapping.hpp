#pragma once

// How an op corresponds to Keras, as data in the op's own file. One table
// drives the importer (core/keras/keras_layer_map), the Keras JSON export
// (core/keras/keras_json_export) and the Keras Python script
// (core/export/keras_script_export): a correspondence exists once.

#include "ops/attr_spec.hpp"

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace segforge::core {

/// How a SegForge attribute value is written as a Keras config value, and read back.
enum class KerasValue {
    Int,
    Float,
    Bool,
    Pair,           ///< (h, w); a single int n in a config means (n, n)
    Quad,           ///< ((top, bottom), (left, right)); n and (h, w) are accepted on import
    Lowercase,      ///< a string, lowercased on import ("SAME" → "same")
    String,         ///< a string as it is
    Initializer,    ///< glorot_uniform, he_normal, zeros, ones ↔ a Keras initializer
    Activation,     ///< an activation name ↔ a name or a serialized function
    PoolStrides,    ///< SegForge's 0 (per axis) is Keras' None: the pool size
    ZeroIsNone,     ///< an int where SegForge's 0 is Keras' None (Dropout's seed)
    NegativeIsNone, ///< an int where a negative value is Keras' None (ignore_class)
};

/// One SegForge attribute and the Keras config key that holds it.
struct KerasAttr {
    std::string attr; ///< SegForge attribute
    std::string key;  ///< Keras config key / constructor keyword
    KerasValue value = KerasValue::Int;
    /// Keras' default when the key is absent or null; nullopt: the key is required.
    /// Pair and Quad defaults are one int for every axis.
    std::optional<AttrValue> kerasDefault{};
    /// Older names of the key that the importer also reads (Keras 2's "alpha").
    std::vector<std::string> oldKeys{};
    /// The script passes it positionally, without `key=`.
    bool positional = false;
};

/// A config entry with no SegForge attribute. The export writes `json`; the
/// importer reads the key and ignores it, warning with `ignoredWhy` when it
/// holds anything but null or `json` (a regularizer: the network is the same).
struct KerasFixed {
    std::string key;
    std::string json = "null"; ///< JSON text ("null", "1", "\"channels_last\"")
    std::string ignoredWhy{};  ///< "" = accepted whatever it holds
    bool written = true;       ///< false: only read (Keras 2's fused, LoRA keys, …)
    bool inScript = false;     ///< the script passes it too, before the attributes
};

/// The few correspondences that are not a key-for-key table; each is one named
/// function in the importer (core/keras/keras_layer_map.cpp).
enum class KerasHook {
    None,
    Convolution,           ///< groups ≠ 1 is a placeholder (grouped convolution)
    TransposedConvolution, ///< the same, and a set output_padding is a placeholder
    BatchNormAxis,         ///< axis -1, 3 or [3] are the channels; anything else is a placeholder
    ScalarRescale,         ///< a per-channel scale or offset is a placeholder
    ReLU,        ///< max_value / threshold are placeholders; negative_slope ≠ 0 is leaky_relu
    SoftmaxAxis, ///< softmax over another axis than the channels is a placeholder
    ActivationFunction, ///< an unknown function is a placeholder; leaky_relu gets kLeakyReluSlope
    KeepDims,           ///< keepdims absent or false (N×C) is read as N×1×1×C, with a warning
};

/// One Keras layer class (with its aliases) that an op is written as or read from.
struct KerasForm {
    /// The class written first, then the aliases accepted on import (Convolution2D).
    std::vector<std::string> classes;
    /// Config entries in the order written.
    std::vector<KerasAttr> attrs{};
    /// SegForge attributes this class implies (LeakyReLU: activation = leaky_relu).
    /// The export picks the first form whose implied attributes the node has.
    AttrMap implies{};
    std::vector<KerasFixed> fixed{};
    /// The layer has data_format: written as channels_last, required on import.
    bool channelsLast = false;
    /// Only read, never written (Softmax, ReLU: the export writes Activation).
    bool importOnly = false;
    /// An import warning: what differs from Keras (SpatialDropout2D drops channels).
    std::string importNote{};
    KerasHook hook = KerasHook::None;
};

/// A source written as a Keras Input / InputLayer.
struct KerasInput {
    std::string dtypeAttr;     ///< attribute holding the input dtype
    std::string batchAttr{};   ///< attribute holding a fixed batch size ("" = none)
    std::string exportNote{};  ///< export warning ("the data pipeline is not part of the model")
    bool importTarget = false; ///< InputLayer is imported as this op
};

/// A loss written as the `loss=` argument of compile() in the Keras script.
struct KerasLoss {
    std::string callable; ///< "keras.losses.BinaryCrossentropy", or a function of the script
    std::vector<KerasAttr> args{};
};

/// An op's whole correspondence with Keras. Exactly one of: forms (a layer),
/// input, loss, or `none` (the reason there is no Keras equivalent).
struct KerasMapping {
    std::vector<KerasForm> forms{};
    std::optional<KerasInput> input{};
    std::optional<KerasLoss> loss{};
    /// Weight names in Keras' get_weights() order, each with the bool
    /// attribute that must be true for it to exist ("" = always).
    std::vector<std::pair<std::string, std::string>> weights{};
    /// Attributes that make this op the identity: the importer writes Keras
    /// layers that keep the tensor as it is here (training-only augmentation,
    /// an identity Permute) as this op with them.
    std::optional<AttrMap> identity{};
    /// The Keras placeholder op (KerasLayer): unmapped layers become it.
    bool placeholder = false;
    /// "no Keras equivalent, because …" when nothing above applies.
    std::string none{};

    bool empty() const { return forms.empty() && !input && !loss && !placeholder && none.empty(); }
};

/// The form a node with these resolved attributes is written as: the first
/// one that is not import-only and whose implied attributes the node has;
/// nullptr if there is none.
const KerasForm* kerasExportForm(const KerasMapping& mapping, const AttrMap& attrs);

/// Keras' strides of a pooling (KerasValue::PoolStrides): each 0, SegForge's
/// "the pool size", replaced by the pool_size attribute. The JSON export and
/// the script both write this, so they agree.
std::vector<std::int64_t> kerasPoolStrides(const AttrMap& attrs, const std::string& stridesAttr);

/// The JSON text of a Keras 3 initializer object for one of SegForge's
/// initializer names (glorot_uniform → {"class_name": "GlorotUniform", …}).
std::string kerasInitializerJson(const std::string& name);
/// Keras initializer class for SegForge's names: glorot_uniform → GlorotUniform.
std::string kerasInitializerClassName(const std::string& name);
/// The fixed entries `a`, then `b` (a table built from parts).
std::vector<KerasFixed> operator+(std::vector<KerasFixed> a, const std::vector<KerasFixed>& b);
/// The attribute entries `a`, then `b`.
std::vector<KerasAttr> operator+(std::vector<KerasAttr> a, const std::vector<KerasAttr>& b);

/// A convolution's window, as every Keras convolution layer spells it: filters
/// (positional, required), kernel_size, strides, padding, dilation_rate
/// (ops/op_helpers convolutionWindowAttrs on SegForge's side).
std::vector<KerasAttr> kerasConvolutionWindow();

/// Keras' regularizer and constraint keys of a layer: written as null, and a
/// set one is ignored with a warning (training differs, the network does not).
std::vector<KerasFixed> kerasRegularizers(const std::vector<std::string>& keys);

/// Keras 3's LoRA keys of a convolution: only read (a set rank is ignored with a warning).
std::vector<KerasFixed> kerasLoraKeys();

} // namespace segforge::core
