#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <algorithm>

// Where the file's tensors enter and leave: graph inputs become Input nodes
// (NCHW as torch.onnx.export writes them, or NHWC read through a Transpose as
// SegForge's own ONNX export writes them), with the dtype the file declares;
// Cast and the Transpose back to NHWC before an output are what such a
// boundary adds.

namespace segforge::core::interop {

namespace {

const std::vector<std::int64_t> kToNchw{0, 3, 1, 2};
const std::vector<std::int64_t> kToNhwc{0, 2, 3, 1};

/// The SegForge dtype of an ONNX element type ("" when SegForge has none).
std::string segforgeDType(OnnxElem t) {
    switch (t) {
    case OnnxElem::Float:
    case OnnxElem::Float16:
    case OnnxElem::BFloat16:
    case OnnxElem::Double:
        return "float32";
    case OnnxElem::UInt8:
        return "uint8";
    case OnnxElem::UInt16:
        return "uint16";
    case OnnxElem::Int32:
        return "int32";
    case OnnxElem::Bool:
        return "bool";
    default:
        return "";
    }
}

} // namespace

std::string onnxShapeText(const std::vector<std::int64_t>& s) {
    std::string out = "(";
    for (std::size_t i = 0; i < s.size(); ++i)
        out += (i ? ", " : "") + (s[i] < 0 ? std::string("?") : std::to_string(s[i]));
    return out + ")";
}

bool isNhwcGraphInput(const OnnxImporter& im, const OnnxValue& in) {
    if (in.dims.size() != 4)
        return false;
    const std::vector<const OnnxNodeDef*> readers = im.consumers(in.name);
    return !readers.empty() && std::all_of(readers.begin(), readers.end(), [](const auto* n) {
        return n->opType == "Transpose" && onnxInts(*n, "perm", {}) == kToNchw;
    });
}

void OnnxImporter::addGraphInput(const OnnxValue& in) {
    const std::string dtype = segforgeDType(in.type);
    if (!in.hasShape || in.dims.size() != 4 || dtype.empty()) {
        m_log.error("",
                    strCat("graph input '", in.name, "' is ",
                           in.hasShape ? onnxShapeText(in.dims) : std::string("without a shape"),
                           " ", onnxElemName(in.type),
                           ": SegForge models take images N×C×H×W (rank 4) of float, uint8, "
                           "uint16, int32 or bool"));
        return;
    }
    const bool nhwc = isNhwcGraphInput(*this, in);
    const std::int64_t channels = nhwc ? in.dims[3] : in.dims[1];
    std::int64_t h = nhwc ? in.dims[1] : in.dims[2];
    std::int64_t w = nhwc ? in.dims[2] : in.dims[3];
    if (channels < 1) {
        m_log.error("", strCat("graph input '", in.name,
                               "' has no fixed channel count; SegForge needs it"));
        return;
    }
    const bool freeH = h < 1, freeW = w < 1;
    h = freeH ? kOnnxExampleSize : h;
    w = freeW ? kOnnxExampleSize : w;
    OnnxNodeDef pseudo;
    pseudo.name = in.name;
    pseudo.opType = "input";
    AttrMap attrs{{"height", h}, {"width", w}, {"channels", channels}};
    if (dtype != "float32")
        attrs["dtype"] = dtype;
    if (freeH || freeW)
        attrs["variable_size"] = true;
    const NodeId id = addNode(ops::kInputOp, pseudo, "", std::move(attrs), {});
    if (freeH || freeW)
        m_freeInputs.push_back(id);
    const std::vector<std::int64_t> nchw{in.dims[0], channels, h, w};
    if (!nhwc) {
        bind(in.name, {id, "output"}, nchw);
        return;
    }
    // The transposes to NCHW are where the network reads the input.
    bind(in.name, {id, "output"}, {});
    for (const OnnxNodeDef* t : consumers(in.name)) {
        bind(t->outputs.at(0), {id, "output"}, nchw);
        absorb(*t);
    }
}

std::optional<std::string> translateOutputToNhwc(OnnxImporter& im, const OnnxNodeDef& node) {
    if (node.inputs.empty() || node.outputs.size() != 1 || onnxInts(node, "perm", {}) != kToNhwc ||
        !im.isGraphOutput(node.outputs[0]) || !im.consumers(node.outputs[0]).empty())
        return std::nullopt;
    const OnnxValueState* x = im.value(node.inputs[0]);
    if (!x || !x->port)
        return std::nullopt;
    im.alias(node.outputs[0], node.inputs[0]);
    return std::string();
}

/// Cast of an image to a dtype SegForge has: its Cast op. (A Cast of
/// constants has been folded before the table is asked.)
std::string translateCast(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const auto to = static_cast<OnnxElem>(onnxInt(node, "to", 0));
    const std::string dtype = segforgeDType(to);
    if (dtype.empty())
        return strCat("a cast to ", onnxElemName(to), ", which SegForge has no dtype for");
    const NodeId id = im.addNode(ops::kCastOp, node, "", {{"dtype", dtype}}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, x->shape, x->nonNegative);
    return "";
}

} // namespace segforge::core::interop
