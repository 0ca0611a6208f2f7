#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <unordered_map>

// The ONNX translation table: one function per ONNX op type, keyed by the op
// type — one ONNX op, one place. Each translator reads its node's attributes
// and inputs (NCHW), creates the SegForge nodes (NHWC) with their weights in
// SegForge's layouts, binds the node's outputs with their NCHW shapes, and
// returns "" — or the reason it cannot, which leaves the node an OnnxNode
// placeholder. This file: convolutions, normalisation, activations and the
// ops that compute nothing; onnx_op_table_resample.cpp: pooling, resizing,
// padding, slicing and merges.

namespace segforge::core::interop {

// onnx_op_table_resample.cpp
std::string translateMaxPool(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateAveragePool(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateResize(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateConcat(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateArithmetic(OnnxImporter& im, const OnnxNodeDef& node);
std::string translatePad(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateSlice(OnnxImporter& im, const OnnxNodeDef& node);
// onnx_op_table_norm.cpp
std::string translateInstanceNormalization(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateGroupNormalization(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateReshape(OnnxImporter& im, const OnnxNodeDef& node);
// onnx_graph_boundary.cpp
std::string translateCast(OnnxImporter& im, const OnnxNodeDef& node);

namespace {

using Dims = std::vector<std::int64_t>;

/// The one consumer of `value` when it has exactly one and is no graph output.
const OnnxNodeDef* onlyConsumer(const OnnxImporter& im, const std::string& value,
                                const char* opType) {
    const auto users = im.consumers(value);
    return users.size() == 1 && users[0]->opType == opType && !im.isGraphOutput(value) ? users[0]
                                                                                       : nullptr;
}

std::vector<std::int64_t> pair(const std::int64_t v[2]) {
    return {v[0], v[1]};
}

/// The optional bias input: nullopt when absent; `bad` when present but not a constant vector.
std::optional<OnnxWeight> biasInput(OnnxImporter& im, const OnnxNodeDef& node, std::size_t i,
                                    std::int64_t n, bool& bad) {
    bad = false;
    if (i >= node.inputs.size() || node.inputs[i].empty())
        return std::nullopt;
    auto b = im.weightInput(node, i);
    bad = !b || b->dims != Dims{n};
    return bad ? std::nullopt : b;
}

std::string translateConv(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    auto w = im.weightInput(node, 1);
    if (!w || w->dims.size() != 4)
        return "its weight is not a constant 4-D tensor";
    const std::int64_t group = onnxInt(node, "group", 1);
    if (group != 1)
        return strCat("grouped/depthwise convolution (group=", group, ") has no SegForge op");
    if (w->dims[1] != x->shape[1])
        return strCat("its weight takes ", w->dims[1], " input channels, the input has ",
                      x->shape[1]);
    OnnxWindow win;
    why = readOnnxWindow(node, x->shape, {w->dims[2], w->dims[3]}, win);
    if (!why.empty())
        return why;
    const bool strided = win.strides[0] > 1 || win.strides[1] > 1;
    if (strided && (win.dilations[0] > 1 || win.dilations[1] > 1))
        return "strides together with dilation (SegForge's Conv2D, as Keras', takes one or the "
               "other)";
    bool badBias = false;
    auto bias = biasInput(im, node, 2, w->dims[0], badBias);
    if (badBias)
        return "its bias is not a constant vector of one value per filter";
    PortRef port = *x->port;
    Dims shape = x->shape;
    const bool anyPad = std::any_of(win.pads, win.pads + 4, [](std::int64_t p) { return p != 0; });
    std::string padding = "valid";
    if (win.sameUpper || (anyPad && !strided && onnxPadsAreSame(win))) {
        padding = "same";
    } else if (anyPad) {
        onnxPadBefore(im, node, win.pads, port, shape);
        std::fill(win.pads, win.pads + 4, 0);
    }
    Dims out{shape[0], w->dims[0], 0, 0};
    for (int a = 0; a < 2; ++a) {
        const std::int64_t dk = (win.kernel[a] - 1) * win.dilations[a] + 1;
        const std::int64_t padded = shape[2 + a] + win.pads[2 * a] + win.pads[2 * a + 1];
        out[2 + a] = (padded - dk) / win.strides[a] + 1;
        if (padded < dk)
            return strCat("its window (", dk, ") is larger than the padded input (", padded, ")");
    }
    AttrMap attrs{{"filters", w->dims[0]},
                  {"kernel_size", pair(win.kernel)},
                  {"strides", pair(win.strides)},
                  {"padding", padding},
                  {"dilation_rate", pair(win.dilations)},
                  {"use_bias", bias.has_value()}};
    // A Relu, Sigmoid or Tanh that alone reads the convolution becomes its
    // activation (one Conv2D, as a Keras model writes it).
    const OnnxNodeDef* act = nullptr;
    const char* fused = nullptr;
    for (const auto& [onnxOp, name] :
         {std::pair{"Relu", "relu"}, std::pair{"Sigmoid", "sigmoid"}, std::pair{"Tanh", "tanh"}}) {
        if ((act = onlyConsumer(im, node.outputs.at(0), onnxOp)) && !act->outputs.empty()) {
            fused = name;
            attrs["activation"] = std::string(name);
            break;
        }
    }
    const NodeId id = im.addNode(ops::kConv2DOp, node, "", std::move(attrs), {port});
    if (w->values)
        im.setWeight(id, "kernel", onnxKernelToSegForge(*w));
    if (bias && bias->values)
        im.setWeight(id, "bias", onnxVectorToSegForge(*bias));
    if (fused) {
        im.absorb(*act);
        im.bind(act->outputs[0], {id, "output"}, out, std::string(fused) != "tanh");
    } else {
        im.bind(node.outputs.at(0), {id, "output"}, out);
    }
    return "";
}

std::string translateConvTranspose(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    auto w = im.weightInput(node, 1);
    if (!w || w->dims.size() != 4)
        return "its weight is not a constant 4-D tensor";
    if (const std::int64_t group = onnxInt(node, "group", 1); group != 1)
        return strCat("grouped transposed convolution (group=", group, ") has no SegForge op");
    if (w->dims[0] != x->shape[1])
        return strCat("its weight takes ", w->dims[0], " input channels, the input has ",
                      x->shape[1]);
    const Dims k = onnxInts(node, "kernel_shape", {w->dims[2], w->dims[3]});
    const Dims s = onnxInts(node, "strides", {1, 1});
    const Dims d = onnxInts(node, "dilations", {1, 1});
    Dims pads = onnxInts(node, "pads", {0, 0, 0, 0});
    const Dims op = onnxInts(node, "output_padding", {0, 0});
    const Dims outputShape = onnxInts(node, "output_shape", {});
    const std::string autoPad = onnxString(node, "auto_pad", "NOTSET");
    if (k.size() != 2 || s.size() != 2 || d.size() != 2 || pads.size() != 4 || op.size() != 2 ||
        k != Dims{w->dims[2], w->dims[3]})
        return "its kernel_shape, strides, dilations, pads or output_padding are not 2-D";
    if (!outputShape.empty() && outputShape.size() < 2)
        return "its output_shape does not give a height and a width";
    bool badBias = false;
    auto bias = biasInput(im, node, 2, w->dims[1], badBias);
    if (badBias)
        return "its bias is not a constant vector of one value per filter";
    std::int64_t pt[2], pb[2], outLen[2], sameOff[2], validLen[2];
    bool same = true;
    for (int a = 0; a < 2; ++a) {
        const std::int64_t in = x->shape[2 + a];
        if (s[a] < 1 || d[a] < 1 || k[a] < 1 || op[a] < 0)
            return "its strides, dilations or kernel are not positive";
        const std::int64_t limits[] = {s[a],
                                       d[a],
                                       k[a],
                                       op[a],
                                       pads[static_cast<std::size_t>(a)],
                                       pads[static_cast<std::size_t>(a) + 2]};
        if (std::any_of(std::begin(limits), std::end(limits),
                        [](std::int64_t v) { return v > kMaxOnnxWindow || v < 0; }))
            return strCat("its kernel, strides, dilations or pads are negative or exceed ",
                          kMaxOnnxWindow);
        const std::int64_t dk = (k[a] - 1) * d[a] + 1;
        const std::int64_t full = (in - 1) * s[a] + dk;
        pt[a] = pads[static_cast<std::size_t>(a)];
        pb[a] = pads[static_cast<std::size_t>(a) + 2];
        const bool autoSame = autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER";
        if (!outputShape.empty() || autoSame) {
            // ONNX: pads follow from the wanted output (auto_pad SAME: input × stride).
            const std::int64_t want = autoSame && outputShape.empty()
                                          ? in * s[a]
                                          : outputShape.at(outputShape.size() - 2 + a);
            if (want < 1 || want > kMaxOnnxWindow * 64)
                return strCat("its output_shape (", want, ") is not a usable size");
            const std::int64_t total = full + op[a] - want;
            if (total < 0)
                return strCat("its output_shape (", want, ") is larger than the full output");
            const bool upper = autoPad == "SAME_UPPER";
            pt[a] = upper ? total / 2 : total - total / 2;
            pb[a] = total - pt[a];
        }
        outLen[a] = full - pt[a] - pb[a] + op[a];
        if (outLen[a] < 1 || pt[a] < 0 || pb[a] < 0)
            return "its pads leave no output";
        sameOff[a] = full >= in * s[a] ? (full - in * s[a]) / 2 : 0;
        validLen[a] = in * s[a] + std::max<std::int64_t>(dk - s[a], 0);
        same = same && outLen[a] == in * s[a] && pt[a] == sameOff[a];
        if (validLen[a] - pt[a] - outLen[a] < 0)
            return strCat("its output_padding adds ", outLen[a] + pt[a] - validLen[a],
                          " row(s)/column(s) beyond the full transposed convolution (only the "
                          "bias there), which SegForge's Conv2DTranspose does not produce");
    }
    AttrMap attrs{{"filters", w->dims[1]}, {"kernel_size", k},
                  {"strides", s},          {"padding", std::string(same ? "same" : "valid")},
                  {"dilation_rate", d},    {"use_bias", bias.has_value()}};
    const NodeId id = im.addNode(ops::kConv2DTransposeOp, node, "", std::move(attrs), {*x->port});
    if (w->values)
        im.setWeight(id, "kernel", onnxKernelToSegForge(*w));
    if (bias && bias->values)
        im.setWeight(id, "bias", onnxVectorToSegForge(*bias));
    PortRef port{id, "output"};
    const Dims crop{pt[0], validLen[0] - pt[0] - outLen[0], pt[1], validLen[1] - pt[1] - outLen[1]};
    if (!same && std::any_of(crop.begin(), crop.end(), [](std::int64_t c) { return c > 0; })) {
        const NodeId c =
            im.addNode(ops::kCropping2DOp, node, "_crop", {{"cropping", crop}}, {port});
        port = {c, "output"};
    }
    im.bind(node.outputs.at(0), port, {x->shape[0], w->dims[1], outLen[0], outLen[1]});
    return "";
}

std::string translateBatchNormalization(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    if (node.outputs.size() > 1 && std::any_of(node.outputs.begin() + 1, node.outputs.end(),
                                               [](const std::string& o) { return !o.empty(); }))
        return "it is in training mode (running statistics as outputs)";
    const std::int64_t c = x->shape[1];
    const char* params[] = {"gamma", "beta", "moving_mean", "moving_variance"};
    std::vector<OnnxWeight> weights;
    for (std::size_t i = 1; i <= 4; ++i) {
        auto p = im.weightInput(node, i);
        if (!p || p->dims != Dims{c})
            return strCat("its ", params[i - 1], " is not a constant vector of ", c, " values");
        weights.push_back(*p);
    }
    const double epsilon = onnxDecimal(node, "epsilon", 1e-5f);
    const double momentum = onnxDecimal(node, "momentum", 0.9f);
    if (epsilon < 0 || epsilon > 1 || momentum < 0 || momentum > 1)
        return "its epsilon or momentum lies outside [0, 1]";
    const NodeId id = im.addNode(ops::kBatchNormalizationOp, node, "",
                                 {{"epsilon", epsilon}, {"momentum", momentum}}, {*x->port});
    for (std::size_t i = 0; i < 4; ++i)
        if (weights[i].values)
            im.setWeight(id, params[i], onnxVectorToSegForge(weights[i]));
    im.bind(node.outputs.at(0), {id, "output"}, x->shape);
    return "";
}

std::string activation(OnnxImporter& im, const OnnxNodeDef& node, const char* fn,
                       bool nonNegative) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const NodeId id =
        im.addNode(ops::kActivationOp, node, "", {{"activation", std::string(fn)}}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, x->shape, nonNegative);
    return "";
}

std::string translateRelu(OnnxImporter& im, const OnnxNodeDef& node) {
    return activation(im, node, "relu", true);
}

std::string translateSigmoid(OnnxImporter& im, const OnnxNodeDef& node) {
    return activation(im, node, "sigmoid", true);
}

std::string translateTanh(OnnxImporter& im, const OnnxNodeDef& node) {
    return activation(im, node, "tanh", false);
}

std::string translateLeakyRelu(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const NodeId id = im.addNode(ops::kLeakyReLUOp, node, "",
                                 {{"alpha", onnxDecimal(node, "alpha", 0.01f)}}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, x->shape);
    return "";
}

std::string translateGlobalAveragePool(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const NodeId id = im.addNode(ops::kGlobalAvgPool2DOp, node, "", {}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, {x->shape[0], x->shape[1], 1, 1}, x->nonNegative);
    return "";
}

std::string translateSoftmax(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const bool opset13 = im.file().opset >= 13;
    std::int64_t axis = onnxInt(node, "axis", opset13 ? -1 : 1);
    if (axis < 0)
        axis += 4;
    // Before opset 13 the input is flattened to 2-D at the axis: axis 1 is a
    // softmax over C·H·W, the channels' only when H = W = 1.
    const bool channels = axis == 1 && (opset13 || (x->shape[2] == 1 && x->shape[3] == 1));
    if (!channels)
        return strCat("a softmax over axis ", axis,
                      opset13 ? "" : " (before opset 13: over every axis from it on, flattened)",
                      " — SegForge's softmax runs over the channels (axis 1)");
    return activation(im, node, "softmax", true);
}

/// Before opset 13, torch.onnx.export writes softmax(dim=1) as a Transpose
/// that puts the channels last, a Softmax over the last axis and the inverse
/// Transpose: the three are one channel softmax. Any other transpose moves the channels out of
/// place.
std::string translateTranspose(OnnxImporter& im, const OnnxNodeDef& node) {
    if (auto done = translateOutputToNhwc(im, node))
        return *done;
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const Dims perm = onnxInts(node, "perm", {3, 2, 1, 0});
    // The channels go last (PyTorch writes (0, 3, 2, 1) or (0, 2, 3, 1)); the
    // transpose after the softmax undoes it.
    Dims inverse(4, -1);
    for (std::size_t i = 0; i < perm.size() && perm.size() == 4; ++i)
        if (perm[i] >= 0 && perm[i] < 4)
            inverse[static_cast<std::size_t>(perm[i])] = static_cast<std::int64_t>(i);
    const bool channelsLast = perm.size() == 4 && perm[0] == 0 && perm[3] == 1 &&
                              std::count(inverse.begin(), inverse.end(), -1) == 0;
    const OnnxNodeDef* softmax =
        channelsLast ? onlyConsumer(im, node.outputs.at(0), "Softmax") : nullptr;
    const OnnxNodeDef* back = softmax && !softmax->outputs.empty()
                                  ? onlyConsumer(im, softmax->outputs[0], "Transpose")
                                  : nullptr;
    const std::int64_t axis =
        softmax ? onnxInt(*softmax, "axis", im.file().opset >= 13 ? -1 : 1) : 0;
    if (!back || (axis != 3 && axis != -1) || onnxInts(*back, "perm", {}) != inverse)
        return "a transpose of the tensor's axes (SegForge keeps N×H×W×C)";
    const NodeId id = im.addNode(ops::kActivationOp, *softmax, "",
                                 {{"activation", std::string("softmax")}}, {*x->port});
    im.bind(back->outputs.at(0), {id, "output"}, x->shape, true);
    im.absorb(*softmax);
    im.absorb(*back);
    return "";
}

/// Identity, and Dropout as torch.onnx.export writes it in eval mode: no node.
std::string translatePassThrough(OnnxImporter& im, const OnnxNodeDef& node) {
    if (node.inputs.empty() || node.outputs.empty() || !im.value(node.inputs[0]))
        return "it has no input";
    if (node.opType == onnx_op::kDropout && node.outputs.size() > 1 && !node.outputs[1].empty())
        return "its mask output is used";
    im.alias(node.outputs[0], node.inputs[0]);
    return "";
}

} // namespace

OnnxOpTranslator onnxOpTranslator(const std::string& opType) {
    static const std::unordered_map<std::string, OnnxOpTranslator> table{
        {"Conv", translateConv},
        {"ConvTranspose", translateConvTranspose},
        {onnx_op::kBatchNormalization, translateBatchNormalization},
        {"InstanceNormalization", translateInstanceNormalization},
        {onnx_op::kGroupNormalization, translateGroupNormalization},
        {"Reshape", translateReshape},
        {"Relu", translateRelu},
        {"Sigmoid", translateSigmoid},
        {"Tanh", translateTanh},
        {"LeakyRelu", translateLeakyRelu},
        {"Softmax", translateSoftmax},
        {"Transpose", translateTranspose},
        {onnx_op::kCast, translateCast},
        {"Identity", translatePassThrough},
        {onnx_op::kDropout, translatePassThrough},
        {"GlobalAveragePool", translateGlobalAveragePool},
        {"MaxPool", translateMaxPool},
        {"AveragePool", translateAveragePool},
        {"Resize", translateResize},
        {"Upsample", translateResize},
        {"Concat", translateConcat},
        {onnx_op::kAdd, translateArithmetic},
        {"Sub", translateArithmetic},
        {"Mul", translateArithmetic},
        {"Div", translateArithmetic},
        {"Pad", translatePad},
        {"Slice", translateSlice},
    };
    auto it = table.find(opType);
    return it == table.end() ? nullptr : it->second;
}

// --- shared helpers -----------------------------------------------------------

Tensor onnxKernelToSegForge(const OnnxWeight& w) {
    const std::int64_t b = w.dims[0], a = w.dims[1], kh = w.dims[2], kw = w.dims[3];
    Tensor t(Shape{kh, kw, a, b}, DType::Float32);
    const std::vector<float>& src = *w.values;
    float* dst = t.f32();
    for (std::int64_t o = 0; o < b; ++o)
        for (std::int64_t i = 0; i < a; ++i)
            for (std::int64_t y = 0; y < kh; ++y)
                for (std::int64_t x = 0; x < kw; ++x)
                    dst[((y * kw + x) * a + i) * b + o] =
                        src[static_cast<std::size_t>(((o * a + i) * kh + y) * kw + x)];
    return t;
}

Tensor onnxVectorToSegForge(const OnnxWeight& w) {
    Tensor t(Shape{w.dims[0]}, DType::Float32);
    std::copy(w.values->begin(), w.values->end(), t.f32());
    return t;
}

std::string readOnnxWindow(const OnnxNodeDef& node, const std::vector<std::int64_t>& in,
                           const std::vector<std::int64_t>& kernel, OnnxWindow& w) {
    const Dims k = onnxInts(node, "kernel_shape", kernel);
    const Dims s = onnxInts(node, "strides", {1, 1});
    const Dims d = onnxInts(node, "dilations", {1, 1});
    const Dims p = onnxInts(node, "pads", {0, 0, 0, 0});
    if (k.size() != 2 || s.size() != 2 || d.size() != 2 || p.size() != 4)
        return "its window is not 2-D (kernel_shape, strides, dilations, pads)";
    for (int a = 0; a < 2; ++a) {
        const auto i = static_cast<std::size_t>(a);
        if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + 2] < 0)
            return "its kernel, strides or dilations are not positive, or a pad is negative";
        if (k[i] > kMaxOnnxWindow || s[i] > kMaxOnnxWindow || d[i] > kMaxOnnxWindow ||
            p[i] > kMaxOnnxWindow || p[i + 2] > kMaxOnnxWindow)
            return strCat("its kernel, strides, dilations or pads exceed ", kMaxOnnxWindow);
        w.kernel[a] = k[i];
        w.strides[a] = s[i];
        w.dilations[a] = d[i];
        w.pads[2 * a] = p[i];         // ONNX: begins (top, left), then ends
        w.pads[2 * a + 1] = p[i + 2]; // (bottom, right)
    }
    const std::string autoPad = onnxString(node, "auto_pad", "NOTSET");
    if (autoPad == "VALID") {
        std::fill(w.pads, w.pads + 4, 0);
    } else if (autoPad == "SAME_UPPER" || autoPad == "SAME_LOWER") {
        for (int a = 0; a < 2; ++a) {
            const std::int64_t len = in[2 + static_cast<std::size_t>(a)];
            const std::int64_t dk = (w.kernel[a] - 1) * w.dilations[a] + 1;
            const std::int64_t out = (len + w.strides[a] - 1) / w.strides[a];
            const std::int64_t total =
                std::max<std::int64_t>((out - 1) * w.strides[a] + dk - len, 0);
            const std::int64_t small = total / 2;
            w.pads[2 * a] = autoPad == "SAME_UPPER" ? small : total - small;
            w.pads[2 * a + 1] = total - w.pads[2 * a];
        }
        w.sameUpper = autoPad == "SAME_UPPER";
    } else if (autoPad != "NOTSET") {
        return "its auto_pad '" + autoPad + "' is not one ONNX defines";
    }
    return "";
}

bool onnxPadsAreSame(const OnnxWindow& w) {
    for (int a = 0; a < 2; ++a) {
        const std::int64_t total = (w.kernel[a] - 1) * w.dilations[a];
        if (w.strides[a] != 1 || w.pads[2 * a] != total / 2 ||
            w.pads[2 * a + 1] != total - total / 2)
            return false;
    }
    return true;
}

void onnxPadBefore(OnnxImporter& im, const OnnxNodeDef& node, const std::int64_t pads[4],
                   PortRef& port, std::vector<std::int64_t>& shape) {
    if (std::all_of(pads, pads + 4, [](std::int64_t p) { return p == 0; }))
        return;
    const NodeId id = im.addNode(ops::kZeroPadding2DOp, node, "_pad",
                                 {{"padding", Dims{pads[0], pads[1], pads[2], pads[3]}}}, {port});
    port = {id, "output"};
    shape = {shape[0], shape[1], shape[2] + pads[0] + pads[1], shape[3] + pads[2] + pads[3]};
}

} // namespace segforge::core::interop
