#pragma once

// Shared vocabulary for the op definitions: dtype sets, output-size formulas
// with Keras semantics, and builders for the fixes ops propose.

#include "ops/op_schema.hpp"

#include <optional>
#include <string>
#include <vector>

namespace segforge::core::ops {

inline const std::vector<DType> kFloatOnly{DType::Float32};
inline const std::vector<DType> kAnyDType{DType::UInt8, DType::UInt16, DType::Int32, DType::Float32,
                                          DType::Bool};

/// Activation names accepted by Conv2D/Conv2DTranspose/Activation.
const std::vector<std::string>& activationChoices();
/// Value kind and range an activation produces (sigmoid → probabilities, …).
void applyActivationHint(TensorType& type, const std::string& activation);

/// Keras conv_utils.conv_output_length. May return ≤ 0 (the checker reports the collapse).
std::int64_t convOutputLength(std::int64_t input, std::int64_t kernel, std::int64_t stride,
                              std::int64_t dilation, bool samePadding);
/// Keras conv_utils.deconv_output_length without output_padding.
std::int64_t deconvOutputLength(std::int64_t input, std::int64_t kernel, std::int64_t stride,
                                std::int64_t dilation, bool samePadding);

/// The symbolic twins of convOutputLength and deconvOutputLength: the same
/// formulas on a SizeExpr, so each exists once per concept. Where the concrete
/// length is ≤ 0 (a collapse) the expression is ≤ 0 too.
SizeExpr convOutputSize(const SizeExpr& input, std::int64_t kernel, std::int64_t stride,
                        std::int64_t dilation, bool samePadding);
SizeExpr deconvOutputSize(const SizeExpr& input, std::int64_t kernel, std::int64_t stride,
                          std::int64_t dilation, bool samePadding);

/// An attribute of a resolved AttrMap (SpatialFn's `attrs`).
const std::vector<std::int64_t>& attrList(const AttrMap& attrs, std::string_view name);
const std::string& attrString(const AttrMap& attrs, std::string_view name);
/// The backward reads of a convolution with a fused `activation`: its input, and its
/// output only when the activation is not linear (the derivative comes from it).
OpSchema::BackwardReads convolutionBackwardReads(const AttrMap& attrs);

/// OpSchema::spatial of an op whose output has input 0's height and width
/// (activations, normalisation, merges, casts).
SizeExpr sameSpatial(const AttrMap& attrs, int axis, const SizeExpr& input);
/// OpSchema::spatial of a source with `height`/`width` and `variable_size`
/// attributes (Input, Dataset): the variable "H"/"W" when the size is free.
SizeExpr sourceSpatial(const AttrMap& attrs, int axis, const SizeExpr& input);
/// The `variable_size` attribute of a source (Input, Dataset).
AttrSpec variableSizeAttr();

/// Reports rank-mismatch unless input i is rank-4 NHWC. Returns false on error.
bool requireImage(InferContext& ctx, int i);

/// The attributes of a convolution's sliding window, in Keras' order: filters,
/// kernel_size (described as `kernelWhat`), strides, padding, dilation_rate.
std::vector<AttrSpec> convolutionWindowAttrs(const char* kernelWhat);
/// The output of a convolution whose window slides over input 0 (Conv2D,
/// SeparableConv2D): Keras' output length per axis, `filters` channels and the
/// activation's value range; nullopt after reporting a non-image input or strides
/// together with dilation (which Keras refuses, as the error says, with a fix).
std::optional<TensorType> inferConvolution(InferContext& ctx);
/// inferConvolution's symbolic twin for height (axis 0) or width (axis 1).
SizeExpr convolutionSpatial(const AttrMap& attrs, int axis, const SizeExpr& input);

/// A node value ready to be inserted by a FixIt.
Node makeNode(std::string op, std::string name, AttrMap attrs = {});

/// The edits that turn `node` into an `op` node on the same wires: the op
/// changes and the attributes `op` does not have are dropped (the others,
/// epsilon, from_logits…, are kept).
EditScript changeOpEdits(const Node& node, const char* op);

/// FixIt inserting `node` (ports input/output) on the edge feeding input i.
FixIt insertOnInputFix(const InferContext& ctx, int i, Node node, std::string description);

/// The node feeding input i, walking back through pass-through ops
/// (OpTraits::passThrough: Dropout, BatchNormalization, Cast) when `skipPassThrough`.
const Node* producerOfInput(const InferContext& ctx, int i, bool skipPassThrough = false);

/// A fix that crops or pads away more than this share of a tensor's pixels
/// changes what the network computes: it ranks FixRank::Costly.
inline constexpr double kCostlyPixelShare = 0.25;

/// Fixes for two spatial sizes that disagree: upsampling the smaller when it is
/// an exact fraction, cropping the larger / padding the smaller when off by a few.
/// `small` and `large` are input indices in ctx. They patch the symptom
/// (FixRank::Mechanical), or change the network's meaning (FixRank::Costly:
/// resampling by more than 2, cropping or padding more than kCostlyPixelShare).
std::vector<FixIt> spatialMatchFixes(const InferContext& ctx, int small, int large);

/// "height and width", "height", "width", "channels" — which NHWC dims differ.
std::string describeDifferingDims(const Shape& a, const Shape& b, int ignoreAxis);

} // namespace segforge::core::ops

namespace segforge::core::ops {

/// The traits of a node's op (all false for an unknown op).
const OpTraits& traitsOf(const Node& node);

/// A node's attribute as the schema reads it (stored value coerced, else the
/// default). nullopt if the op or attribute is unknown or the value invalid.
std::optional<AttrValue> resolvedAttr(const Node& node, std::string_view name);

/// Convolutions upstream of `start` (inclusive) that shrink the image: ops
/// whose padding 'valid' trims (OpTraits::validPaddingTrims, Conv2D) with a
/// kernel larger than 1.
std::vector<const Node*> shrinkingConvolutionsUpstream(const Graph& graph, NodeId start);

} // namespace segforge::core::ops
