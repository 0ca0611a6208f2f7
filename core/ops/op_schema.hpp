#pragma once

#include "graph/diagnostic.hpp"
#include "graph/graph.hpp"
#include "kernels/op_kernel.hpp"
#include "ops/attr_spec.hpp"
#include "ops/export_mapping.hpp"
#include "ops/keras_mapping.hpp"
#include "tensor/size_expr.hpp"
#include "tensor/tensor_type.hpp"

#include <array>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

struct OpSchema;

/// An input or output port and the dtypes it accepts (outputs: may produce).
struct PortSpec {
    std::string name{};
    std::vector<DType> accepts{};
    std::string description{};
};

enum class OpRole { Layer, Source, Loss, Metric };

/// How a loss or metric reads its target.
enum class TargetLayout {
    SameChannels, ///< target has the prediction's channels (binary masks, one per channel)
    OneHot,       ///< target has one channel per class, prediction is a distribution
    ClassIndex,   ///< target has one channel of class indices, prediction one channel per class
};

/// What a loss or metric requires of its two inputs, declared once and used by
/// the checker, the docs and the UI tooltips.
struct LossContract {
    std::vector<DType> targetDTypes{};
    TargetLayout layout = TargetLayout::SameChannels;
    ValueKind prediction = ValueKind::Probability; ///< unless the node has from_logits = true
    std::string targetValues{}; ///< "values in [0, 1]", "class indices in [0, C)"
};

/// How an op scales height and width by a factor.
enum class Resampling {
    None,      ///< no scaling by a factor (it may still crop or pad)
    Down,      ///< always divides the size (pooling)
    ByStrides, ///< scales the size by its `strides` attribute when that is not 1 (convolutions)
    Up,        ///< multiplies the size by its `size` attribute
};

/// How an op applies an activation function.
enum class ActivationUse {
    None,
    Fused, ///< its `activation` attribute is applied to the output of its main computation
    Only,  ///< the op is just its `activation` attribute applied to its input
};

/// Properties of an op that code elsewhere (checker rules and fixes, engine,
/// templates) asks about, declared by the op instead of tested by its name.
/// tests/core/op_registry_test.cpp checks each against what the op does.
struct OpTraits {
    Resampling resampling = Resampling::None;
    /// With padding='valid', a kernel_size above 1 trims the border (Conv2D): a
    /// prediction smaller than its target is fixed by padding='same' on it.
    bool validPaddingTrims = false;
    ActivationUse activation = ActivationUse::None;
    /// The output has `filters` channels.
    bool filtersSetChannels = false;
    /// Output `output` has the shape of input `input`, and the search for the
    /// layer that made a tensor (its activation, its channels) walks through it
    /// (Dropout, BatchNormalization, Cast).
    bool passThrough = false;
    /// Converts raw data (dtype or scale) on its way from the Dataset to a loss:
    /// the dataset's mask is followed through it (Cast, Rescale).
    bool convertsData = false;
    /// Normalises with statistics of the batch while training (batch size 1 is a problem).
    bool batchStatistics = false;
    /// A source the data pipeline feeds: outputs `image` and `mask` (Dataset).
    bool readsDataset = false;
    /// A metric that averages a per-class score under the class policy of
    /// kernels/mask_metrics.hpp (Dice, IoU): the plot's legend states the policy.
    bool averagesClasses = false;
    /// Stands for an imported layer SegForge cannot compute (KerasLayer,
    /// OnnxNode): its infer reports it, it has no kernels and is never exported.
    bool placeholder = false;
    /// Inputs may differ on an axis where one of them has size 1, which
    /// broadcasts (Add, Multiply: a squeeze-excitation gate of N×1×1×C times
    /// N×H×W×C). The size analysis then asks equal H and W only of inputs
    /// whose size is not the constant 1.
    bool broadcasts = false;
};

/// A trainable (or running-statistics) tensor owned by a node.
struct ParamSpec {
    std::string name{};
    std::vector<std::int64_t> shape{};
    std::string initializer{};
    bool trainable = true;
    std::int64_t count() const;
};

/// Everything an op's `infer` may look at, and the channel for its diagnostics.
/// Attributes are already validated, coerced and filled with defaults.
class InferContext {
public:
    InferContext(const Graph& graph, const Node& node, const OpSchema& schema, const AttrMap& attrs,
                 const std::vector<std::string>& inputNames,
                 const std::vector<std::optional<TensorType>>& inputs,
                 const std::vector<std::optional<Edge>>& inputEdges,
                 std::vector<Diagnostic>& diagnostics);

    const Graph& graph() const { return m_graph; }
    const Node& node() const { return m_node; }
    const OpSchema& schema() const { return m_schema; }

    int inputCount() const { return static_cast<int>(m_inputs.size()); }
    const std::string& inputName(int i) const { return m_inputNames[static_cast<std::size_t>(i)]; }
    /// Type arriving at input i; infer is only called when every input is known.
    const TensorType& input(int i) const { return *m_inputs[static_cast<std::size_t>(i)]; }
    /// Whether input i's type is known (only an op with inferWithUnknownInputs
    /// sees one that is not).
    bool inputKnown(int i) const {
        return i >= 0 && static_cast<std::size_t>(i) < m_inputs.size() &&
               m_inputs[static_cast<std::size_t>(i)].has_value();
    }
    /// The edge feeding input i (absent for unconnected optional inputs).
    const std::optional<Edge>& inputEdge(int i) const {
        return m_inputEdges[static_cast<std::size_t>(i)];
    }

    std::int64_t getInt(std::string_view name) const;
    double getFloat(std::string_view name) const;
    bool getBool(std::string_view name) const;
    const std::string& getString(std::string_view name) const;
    std::array<std::int64_t, 2> getPair(std::string_view name) const;
    const std::vector<std::int64_t>& getList(std::string_view name) const;

    /// "Conv2D 'enc1_conv1'"
    std::string label() const;
    /// "'enc1_conv1'.input" style name of a port on this node.
    std::string portLabel(const std::string& port) const;

    Diagnostic& report(Severity severity, std::string_view code, std::string port,
                       std::string message);
    Diagnostic& error(std::string_view code, std::string port, std::string message) {
        return report(Severity::Error, code, std::move(port), std::move(message));
    }
    Diagnostic& warning(std::string_view code, std::string port, std::string message) {
        return report(Severity::Warning, code, std::move(port), std::move(message));
    }

private:
    const AttrValue& attr(std::string_view name) const;

    const Graph& m_graph;
    const Node& m_node;
    const OpSchema& m_schema;
    const AttrMap& m_attrs;
    const std::vector<std::string>& m_inputNames;
    const std::vector<std::optional<TensorType>>& m_inputs;
    const std::vector<std::optional<Edge>>& m_inputEdges;
    std::vector<Diagnostic>& m_diagnostics;
};

/// Output types in output-port order; nullopt for an output that could not be
/// inferred (a diagnostic has been reported).
using InferResult = std::vector<std::optional<TensorType>>;
using InferFn = std::function<InferResult(InferContext&)>;
using ParamFn = std::function<std::vector<ParamSpec>(const InferContext&)>;
/// How an op's image output relates to its input's height or width (`axis` 0:
/// height, 1: width), as an exact expression under Keras semantics: `input` is
/// input 0's expression on that axis (sources ignore it and return their own
/// size: a constant, or a variable when the size is free). `attrs` are resolved
/// (validated, defaults filled). Every image input of one node must agree on
/// height and width (Concatenate, Add, a loss's prediction and target).
using SpatialFn = std::function<SizeExpr(const AttrMap& attrs, int axis, const SizeExpr& input)>;

/// The single description of an op. Palette, property editor, file format,
/// checker (and later engine and import/export) all read this.
struct OpSchema {
    std::string name;     ///< "Conv2D"
    std::string category; ///< palette group: "Input", "Convolution", …
    std::string description;
    OpRole role = OpRole::Layer;
    std::vector<PortSpec> inputs;
    std::vector<PortSpec> outputs;
    std::vector<AttrSpec> attrs;
    /// If set, the node has `num_inputs` copies of inputs[0], named a, b, c, ….
    bool variadicInputs = false;
    /// Run `infer` even when an input's type is unknown (upstream error). Only
    /// for ops whose infer never reads input types: a placeholder that must be
    /// reported wherever it stands, also behind another one.
    bool inferWithUnknownInputs = false;
    /// The outputs are copies, maxima or convex combinations of the inputs (Concatenate,
    /// MaxPool2D, UpSampling2D, Cropping2D, ZeroPadding2D): finite inputs give finite
    /// outputs, so the NaN/Inf guard, which has checked every input already, skips
    /// their outputs in the forward pass.
    bool keepsValuesFinite = false;
    /// What the backward kernel reads besides the output gradients, the parameters and
    /// its saved state: the inputs' data, the outputs' data (shapes are always there).
    /// The engine's lean memory plan lets go of a value once no backward reads it, so
    /// an op must not read what it declares false here; op_registry_test checks it.
    struct BackwardReads {
        bool inputs = true;
        bool outputs = true;
    } backwardReads{};
    /// When set, the reads depend on the (resolved) attributes and this answers
    /// instead of `backwardReads` (a convolution reads its output only for the
    /// derivative of a fused activation).
    std::function<BackwardReads(const AttrMap& resolved)> backwardReadsOf;
    /// `forward` is a cheap, pure function of the inputs (no parameters, no saved state,
    /// no randomness) that overwrites every output element: the lean memory plan drops
    /// such an output after the forward pass and computes it again for the backward
    /// steps that read it (Concatenate, UpSampling2D, Rescale, Cast, padding, cropping).
    bool recomputable = false;
    /// The backward kernel overwrites, instead of adding to, every element of an input
    /// gradient that KernelContext::inputGradFresh() marks; the lean memory plan then
    /// lends such a gradient without zeroing it first (op_registry's contract test
    /// checks that garbage there changes nothing).
    bool assignsFreshInputGrads = false;
    OpTraits traits{};
    std::optional<LossContract> contract;
    InferFn infer;
    /// The symbolic twin of `infer` for height and width; empty when the output
    /// is not an image (losses, metrics) or its size is unknown (a placeholder).
    SpatialFn spatial;
    ParamFn params; ///< may be empty (no parameters)
    /// Runtime kernels (core/kernels). Sources have no forward (the
    /// executor feeds them); an empty backward means no gradient flows
    /// through the op (sources, metrics).
    KernelFn forward;
    KernelFn backward;
    ExplainFn explainNonFinite; ///< optional: why an output became NaN/Inf
    /// How the op leaves SegForge (ops/export_mapping.hpp): its PyTorch module,
    /// its ONNX node(s), its FLOPs; each one, or why not.
    PyTorchMapping pytorch;
    OnnxMapping onnx;
    FlopCount flops;
    /// The op's Keras layer(s), input, loss, or why it has none (ops/keras_mapping.hpp).
    KerasMapping keras{};

    const AttrSpec* findAttr(std::string_view attrName) const;
    /// What the backward kernel of a node with these resolved attributes reads.
    BackwardReads backwardReadsFor(const AttrMap& resolved) const {
        return backwardReadsOf ? backwardReadsOf(resolved) : backwardReads;
    }
    /// Input port names of a concrete node (expands variadic inputs).
    std::vector<std::string> inputNames(const Node& node) const;
    bool hasInput(const Node& node, std::string_view port) const;
    bool hasOutput(std::string_view port) const;
    /// Dtypes accepted on a named input.
    const std::vector<DType>& acceptedDTypes(std::string_view port) const;
};

/// Maximum number of inputs of a variadic op (ports a … z).
inline constexpr int kMaxVariadicInputs = 26;

} // namespace segforge::core
