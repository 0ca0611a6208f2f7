#pragma once

// The importer behind importOnnx(), private to core/onnx. One OnnxImporter
// turns one OnnxFile into a graph; its parts live in one file each: the driver
// (graph inputs, the node loop, placeholders, weights, layout: onnx_import.cpp),
// the constant evaluator that folds shape-only chains (onnx_fold.cpp), and the
// translation table, one function per ONNX op type — one ONNX op, one place
// (onnx_op_table.cpp for convolutions, normalisation and activations,
// onnx_op_table_resample.cpp for pooling, resizing, padding, slicing and merges).

#include "graph/graph.hpp"
#include "onnx/onnx_import.hpp"
#include "util/import_log.hpp"

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace segforge::core::interop {

/// The size an input's free (symbolic) height or width is given while the
/// graph is translated; the Input node keeps variable_size.
inline constexpr std::int64_t kOnnxExampleSize = 128;
/// Window sizes, strides, dilations and pads beyond this are refused (no
/// image is that large; it keeps the size arithmetic far from overflow).
inline constexpr std::int64_t kMaxOnnxWindow = 1 << 20;
/// Constants the evaluator folds hold at most this many elements.
inline constexpr std::int64_t kMaxFoldElements = 4096;

/// What a name in the ONNX graph stands for while it is translated: a wire of
/// the SegForge graph (with its NCHW shape, -1 where unknown, empty when even
/// the rank is), or a constant tensor (an initializer, a Constant, a folded value).
struct OnnxValueState {
    std::optional<PortRef> port;
    std::vector<std::int64_t> shape;
    const OnnxTensor* constant = nullptr;
    /// Known to be ≥ 0 (after Relu, Sigmoid, a ReLU-activated layer): zero
    /// padding then equals MaxPool's −∞ padding.
    bool nonNegative = false;
};

/// A weight as the translation reads it: the initializer's (or the
/// state_dict's) values, or only the dims a graph input declares
/// (export_params=False without a state_dict: the layer keeps its initialiser).
struct OnnxWeight {
    std::vector<std::int64_t> dims;
    const std::vector<float>* values = nullptr;
};

class OnnxImporter {
public:
    OnnxImporter(const OnnxFile& file, const std::string& label, const OnnxImportOptions& options);
    OnnxImport run();

    // --- for the translation table --------------------------------------
    const OnnxFile& file() const { return m_file; }
    ImportLog& log() { return m_log; }
    /// The state of a value name (nullptr when nothing produced it).
    const OnnxValueState* value(const std::string& name) const;
    /// A constant input (nullptr when it is a wire, absent or omitted).
    const OnnxTensor* constantInput(const OnnxNodeDef& node, std::size_t i) const;
    /// A weight input: values (or declared dims); nullopt when neither is known.
    std::optional<OnnxWeight> weightInput(const OnnxNodeDef& node, std::size_t i);
    /// Input i as a wire with a known rank-4 shape; nullptr (and `why`) otherwise.
    const OnnxValueState* imageInput(const OnnxNodeDef& node, std::size_t i,
                                     std::string& why) const;

    /// Adds a node named after the ONNX node (plus `suffix`), fed by `inputs`
    /// on the op's input ports in order. Returns its id.
    NodeId addNode(const char* op, const OnnxNodeDef& from, const std::string& suffix,
                   AttrMap attrs, const std::vector<PortRef>& inputs);
    /// Binds an ONNX output name to a wire with its NCHW shape.
    void bind(const std::string& name, PortRef port, std::vector<std::int64_t> shape,
              bool nonNegative = false);
    /// Binds an ONNX output name to what another name stands for (Identity).
    void alias(const std::string& name, const std::string& to);
    /// Stores a folded constant under `name` (element count already checked).
    void bindConstant(const std::string& name, OnnxTensor tensor);
    /// A parameter of a created node, in SegForge's layout.
    void setWeight(NodeId node, const std::string& param, Tensor value);
    /// The nodes that read a value (and the graph outputs: `isGraphOutput`).
    std::vector<const OnnxNodeDef*> consumers(const std::string& name) const;
    bool isGraphOutput(const std::string& name) const;
    /// A later node translated together with the current one: the loop skips it.
    void absorb(const OnnxNodeDef& node) { m_absorbed.insert(node.index); }
    const std::string& nodeName(NodeId id) const;

private:
    void indexInputs();
    void addGraphInput(const OnnxValue& in);
    /// Folds a node whose inputs are all constant; true when it did.
    bool fold(const OnnxNodeDef& node);
    void placeholder(const OnnxNodeDef& node, const std::string& reason);
    void translate(const OnnxNodeDef& node);
    void verifyShapes();
    /// The name a node made from `node` (plus `suffix`) wants (onnx_import_names.cpp).
    std::string baseName(const OnnxNodeDef& node, const std::string& suffix) const;

    const OnnxFile& m_file;
    const OnnxImportOptions& m_options;
    ImportLog m_log;
    Graph m_graph;
    std::map<std::string, OnnxValueState> m_values;
    std::map<std::string, const OnnxTensor*> m_tensors; ///< initializers and constants by name
    std::deque<OnnxTensor> m_owned;                     ///< folded and state_dict tensors
    std::map<std::string, std::vector<std::int64_t>> m_declared;     ///< value_info dims (NCHW)
    std::map<std::string, std::vector<std::int64_t>> m_weightInputs; ///< inputs without values
    std::map<std::string, OnnxElem> m_declaredType;
    std::vector<NodeId> m_freeInputs;
    std::map<std::string, Tensor> m_weights;
    std::set<std::string> m_initializers;
    std::map<std::string, std::vector<std::size_t>> m_consumers; ///< value → node positions
    std::set<std::size_t> m_absorbed;
    std::vector<std::string> m_placeholderInits;
    int m_placeholders = 0;
    std::size_t m_stateDictMatched = 0;
    std::vector<std::string> m_unusedStateDict;
};

/// Where a graph's layout meets SegForge's: an NHWC graph input read through a
/// Transpose to NCHW (as SegForge's own ONNX export writes it) and the
/// Transpose back to NHWC before a graph output need no node.
bool isNhwcGraphInput(const OnnxImporter& im, const OnnxValue& in);
/// "(1, 3, ?, ?)": dims for messages, '?' where unknown.
std::string onnxShapeText(const std::vector<std::int64_t>& dims);
/// A Transpose (0, 2, 3, 1) whose result is only a graph output: "" (done, no
/// node), or nullopt when `node` is not one.
std::optional<std::string> translateOutputToNhwc(OnnxImporter& im, const OnnxNodeDef& node);

/// One ONNX op's translation: "" when done, else why it stays a placeholder.
using OnnxOpTranslator = std::string (*)(OnnxImporter&, const OnnxNodeDef&);
/// The translator of an op type of the default domain, nullptr when none.
OnnxOpTranslator onnxOpTranslator(const std::string& opType);

/// Evaluates `node` over constant inputs: the outputs, or nullopt when the op
/// is not foldable (or a result would exceed kMaxFoldElements).
std::optional<std::vector<OnnxTensor>> foldOnnxNode(const OnnxImporter& im,
                                                    const OnnxNodeDef& node);

// Attribute readers with ONNX defaults.
std::int64_t onnxInt(const OnnxNodeDef& node, const char* name, std::int64_t def);
float onnxFloat(const OnnxNodeDef& node, const char* name, float def);
/// A float attribute as the decimal it was written as (0.01f → 0.01, not
/// 0.009999999776): the shortest decimal that reads back as the same float.
double onnxDecimal(const OnnxNodeDef& node, const char* name, float def);
std::string onnxString(const OnnxNodeDef& node, const char* name, const std::string& def);
std::vector<std::int64_t> onnxInts(const OnnxNodeDef& node, const char* name,
                                   std::vector<std::int64_t> def);
/// The values of a constant as int64 (floats truncated).
std::vector<std::int64_t> onnxTensorInts(const OnnxTensor& t);
std::vector<double> onnxTensorDoubles(const OnnxTensor& t);

} // namespace segforge::core::interop

namespace segforge::core::interop {

// Shared by the translation table's files.

/// An ONNX kernel (B, A, kh, kw) as SegForge's (kh, kw, A, B): Conv's OIHW
/// becomes HWIO, ConvTranspose's IOHW (in, out, kh, kw) becomes (kh, kw, out, in).
Tensor onnxKernelToSegForge(const OnnxWeight& w);
/// A 1-D parameter (bias, BatchNorm statistics).
Tensor onnxVectorToSegForge(const OnnxWeight& w);

/// A sliding window (Conv, pooling) with its explicit pads (top, bottom,
/// left, right), auto_pad resolved against the input size.
struct OnnxWindow {
    std::int64_t kernel[2] = {1, 1};
    std::int64_t strides[2] = {1, 1};
    std::int64_t dilations[2] = {1, 1};
    std::int64_t pads[4] = {0, 0, 0, 0}; ///< top, bottom, left, right
    bool sameUpper = false;              ///< auto_pad SAME_UPPER: TF's 'same' at any stride
};
/// Reads kernel_shape (else `kernel`), strides, dilations, pads, auto_pad.
/// Returns why not when the window is not 2-D or is malformed.
std::string readOnnxWindow(const OnnxNodeDef& node, const std::vector<std::int64_t>& inNchw,
                           const std::vector<std::int64_t>& kernel, OnnxWindow& w);
/// Keras 'same' padding with stride 1 puts (dk−1)/2 on top/left and the rest after.
bool onnxPadsAreSame(const OnnxWindow& w);
/// Inserts ZeroPadding2D when any of the window's pads is non-zero; the
/// padded wire and its NCHW shape are returned through `port`/`shape`.
void onnxPadBefore(OnnxImporter& im, const OnnxNodeDef& node, const std::int64_t pads[4],
                   PortRef& port, std::vector<std::int64_t>& shape);

} // namespace segforge::core::interop
