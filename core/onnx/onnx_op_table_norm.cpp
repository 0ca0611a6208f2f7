// The ONNX translation table, instance and group normalisation: ONNX's
// InstanceNormalization and GroupNormalization (opset 18: scale and bias per
// group; opset 21: per channel), and the pattern torch.onnx.export (opset 13)
// writes for nn.GroupNorm — Reshape to N×groups×rest, InstanceNormalization
// with scale 1 and bias 0 per group, Reshape back (to Shape(x)), Mul by the
// C×1×1 weight, Add the C×1×1 bias — each one SegForge GroupNormalization.

#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <algorithm>

namespace segforge::core::interop {

std::string translateInstanceNormalization(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateGroupNormalization(OnnxImporter& im, const OnnxNodeDef& node);
std::string translateReshape(OnnxImporter& im, const OnnxNodeDef& node);

namespace {

using Dims = std::vector<std::int64_t>;

/// A per-channel parameter: values, or none when the file declares only its
/// dims (the layer keeps its initialiser).
using Channels = std::optional<std::vector<float>>;

bool isInitializer(const OnnxImporter& im, const std::string& name) {
    const auto& inits = im.file().graph.initializers;
    return std::any_of(inits.begin(), inits.end(),
                       [&](const OnnxTensor& t) { return t.name == name; });
}

/// A constant value by name, also one a later Constant node writes (the
/// pattern is translated at its first node, before those nodes are read).
const OnnxTensor* constantNamed(const OnnxImporter& im, const std::string& name) {
    if (const OnnxValueState* v = im.value(name))
        return v->constant;
    for (const OnnxNodeDef& n : im.file().graph.nodes)
        if (n.opType == "Constant" && n.outputs.size() == 1 && n.outputs[0] == name) {
            const OnnxAttribute* a = n.attribute("value");
            return a && a->tensor ? &*a->tensor : nullptr;
        }
    return nullptr;
}

/// The float values of a constant with `count` elements, else nullopt.
std::optional<std::vector<float>> floatValues(const OnnxTensor* t, std::int64_t count) {
    if (!t || !t->isFloat() || t->elementCount() != count ||
        t->floats.size() != static_cast<std::size_t>(count))
        return std::nullopt;
    return t->floats;
}

/// The node that writes `name`, nullptr when none does (an input, an initializer).
const OnnxNodeDef* producer(const OnnxImporter& im, const std::string& name) {
    for (const OnnxNodeDef& n : im.file().graph.nodes)
        if (std::find(n.outputs.begin(), n.outputs.end(), name) != n.outputs.end())
            return &n;
    return nullptr;
}

/// The one consumer of `value` when it has exactly one, of type `opType`, and is no graph output.
const OnnxNodeDef* soleConsumer(const OnnxImporter& im, const std::string& value,
                                const char* opType) {
    const auto users = im.consumers(value);
    return users.size() == 1 && users[0]->opType == opType && !im.isGraphOutput(value) ? users[0]
                                                                                       : nullptr;
}

/// Adds the GroupNormalization for `from` on `x` and binds `output` to it.
/// gamma/beta absent (nullopt) keep their initialisers; `affine` false (the
/// constants of an affine=False InstanceNorm) drops both parameters.
void addGroupNorm(OnnxImporter& im, const OnnxNodeDef& from, const OnnxValueState& x,
                  std::int64_t groups, double epsilon, const Channels& gamma, const Channels& beta,
                  bool affine, const std::string& output) {
    const NodeId id = im.addNode(
        ops::kGroupNormalizationOp, from, "",
        {{"groups", groups}, {"epsilon", epsilon}, {"center", affine}, {"scale", affine}},
        {*x.port});
    const std::int64_t c = x.shape[1];
    auto set = [&](const char* param, const Channels& v) {
        if (!affine || !v)
            return;
        Tensor t(Shape{c}, DType::Float32);
        std::copy(v->begin(), v->end(), t.f32());
        im.setWeight(id, param, std::move(t));
    };
    set("gamma", gamma);
    set("beta", beta);
    im.bind(output, {id, "output"}, x.shape);
}

/// Per-group values (opset 18's GroupNormalization, torch's InstanceNorm in
/// the pattern) repeated over each group's channels.
std::vector<float> perChannel(const std::vector<float>& perGroup, std::int64_t c) {
    const auto groups = static_cast<std::int64_t>(perGroup.size());
    std::vector<float> out(static_cast<std::size_t>(c));
    for (std::int64_t k = 0; k < c; ++k)
        out[static_cast<std::size_t>(k)] = perGroup[static_cast<std::size_t>(k / (c / groups))];
    return out;
}

/// Reads a scale or bias input of C (or `groups`) values; `why` when it is neither.
std::string channelInput(OnnxImporter& im, const OnnxNodeDef& node, std::size_t i, std::int64_t c,
                         std::int64_t groups, const char* what, Channels& out) {
    auto w = im.weightInput(node, i);
    const std::int64_t n = w && w->dims.size() == 1 ? w->dims[0] : -1;
    if (!w || (n != c && n != groups))
        return strCat("its ", what, " is not a constant vector of ", c, " (channels) or ", groups,
                      " (groups) values");
    if (!w->values)
        out.reset();
    else
        out = n == c ? *w->values : perChannel(*w->values, c);
    return "";
}

bool allEqual(const Channels& v, float value) {
    return v && std::all_of(v->begin(), v->end(), [&](float f) { return f == value; });
}

double readEpsilon(const OnnxNodeDef& node, std::string& why) {
    const double eps = onnxDecimal(node, "epsilon", 1e-5f);
    if (eps < 0 || eps > 1)
        why = strCat("its epsilon ", eps, " lies outside [0, 1]");
    return eps;
}

/// The C×1×1 (or 1×C×1×1, or C) constant operand of a Mul/Add after the
/// pattern, with the other operand `wire`; nullopt when it is not one.
std::optional<std::vector<float>> channelOperand(const OnnxImporter& im, const OnnxNodeDef& n,
                                                 const std::string& wire, std::int64_t c) {
    if (n.inputs.size() != 2 || n.outputs.empty())
        return std::nullopt;
    const std::string& other = n.inputs[0] == wire ? n.inputs[1] : n.inputs[0];
    if (other == wire || (n.inputs[0] != wire && n.inputs[1] != wire))
        return std::nullopt;
    const OnnxTensor* t = constantNamed(im, other);
    if (!t)
        return std::nullopt;
    Dims dims = t->dims;
    while (!dims.empty() && dims.front() == 1 && dims.size() > 3)
        dims.erase(dims.begin());
    if (dims != Dims{c, 1, 1} && dims != Dims{c})
        return std::nullopt;
    return floatValues(t, c);
}

} // namespace

std::string translateInstanceNormalization(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const std::int64_t c = x->shape[1];
    Channels gamma, beta;
    if (auto w = channelInput(im, node, 1, c, c, "scale", gamma); !w.empty())
        return w;
    if (auto w = channelInput(im, node, 2, c, c, "bias (B)", beta); !w.empty())
        return w;
    const double eps = readEpsilon(node, why);
    if (!why.empty())
        return why;
    // torch writes InstanceNorm2d(affine=False) with Constant ones and zeros:
    // a layer without parameters, as the PyTorch module has none.
    const bool constants = !isInitializer(im, node.inputs[1]) && !isInitializer(im, node.inputs[2]);
    const bool affine = !(constants && allEqual(gamma, 1.0f) && allEqual(beta, 0.0f));
    addGroupNorm(im, node, *x, c, eps, gamma, beta, affine, node.outputs.at(0));
    return "";
}

std::string translateGroupNormalization(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const std::int64_t c = x->shape[1];
    const std::int64_t groups = onnxInt(node, "num_groups", 0);
    if (groups < 1 || c % groups != 0)
        return strCat("num_groups = ", groups, " does not divide the ", c, " channels");
    Channels gamma, beta;
    if (auto w = channelInput(im, node, 1, c, groups, "scale", gamma); !w.empty())
        return w;
    if (auto w = channelInput(im, node, 2, c, groups, "bias", beta); !w.empty())
        return w;
    const double eps = readEpsilon(node, why);
    if (!why.empty())
        return why;
    addGroupNorm(im, node, *x, groups, eps, gamma, beta, true, node.outputs.at(0));
    return "";
}

/// A Reshape is read only as the first node of torch's nn.GroupNorm pattern.
std::string translateReshape(OnnxImporter& im, const OnnxNodeDef& node) {
    const char* notPattern = "a reshape of the tensor (SegForge keeps N×H×W×C; only the "
                             "Reshape → InstanceNormalization → Reshape that torch writes for "
                             "nn.GroupNorm is read)";
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const std::int64_t c = x->shape[1];
    const OnnxTensor* target = im.constantInput(node, 1);
    const Dims to = target ? onnxTensorInts(*target) : Dims{};
    if (to.size() != 3 || to[1] < 1 || c % to[1] != 0 || (to[0] != 0 && to[0] != x->shape[0]) ||
        (to[2] != -1 && to[2] != c / to[1] * x->shape[2] * x->shape[3]))
        return notPattern;
    const std::int64_t groups = to[1];
    const OnnxNodeDef* inorm = soleConsumer(im, node.outputs.at(0), "InstanceNormalization");
    if (!inorm || inorm->inputs.size() < 3 || inorm->outputs.empty())
        return notPattern;
    const OnnxNodeDef* back = soleConsumer(im, inorm->outputs[0], "Reshape");
    if (!back || back->inputs.size() < 2 || back->outputs.empty())
        return notPattern;
    // Back to the input's shape: Shape(x), or that shape folded to a constant.
    const OnnxNodeDef* shape = producer(im, back->inputs[1]);
    const bool shapeOfX = shape && shape->opType == "Shape" && shape->inputs.size() == 1 &&
                          shape->inputs[0] == node.inputs[0] && !shape->attribute("start") &&
                          !shape->attribute("end");
    if (!shapeOfX) {
        const OnnxTensor* s = constantNamed(im, back->inputs[1]);
        const Dims d = s ? onnxTensorInts(*s) : Dims{};
        if (d.size() != 4 || !std::equal(d.begin() + 1, d.end(), x->shape.begin() + 1))
            return notPattern;
    }
    auto groupScale = floatValues(constantNamed(im, inorm->inputs[1]), groups);
    auto groupBias = floatValues(constantNamed(im, inorm->inputs[2]), groups);
    if (!groupScale || !groupBias)
        return strCat("the InstanceNormalization of nn.GroupNorm's pattern has no constant scale "
                      "and bias of ",
                      groups, " values");
    const double eps = readEpsilon(*inorm, why);
    if (!why.empty())
        return why;
    // y = (x̂·s[g] + b[g])·w[c] + a[c] = x̂·(s[g]·w[c]) + (b[g]·w[c] + a[c])
    std::vector<float> gamma = perChannel(*groupScale, c), beta = perChannel(*groupBias, c);
    bool affine = false;
    std::string out = back->outputs[0];
    std::vector<const OnnxNodeDef*> taken{inorm, back};
    if (const OnnxNodeDef* mul = soleConsumer(im, out, "Mul")) {
        if (auto w = channelOperand(im, *mul, out, c)) {
            for (std::size_t k = 0; k < gamma.size(); ++k) {
                gamma[k] *= (*w)[k];
                beta[k] *= (*w)[k];
            }
            affine = true;
            out = mul->outputs[0];
            taken.push_back(mul);
        }
    }
    if (const OnnxNodeDef* add = soleConsumer(im, out, onnx_op::kAdd)) {
        if (auto a = channelOperand(im, *add, out, c)) {
            for (std::size_t k = 0; k < beta.size(); ++k)
                beta[k] += (*a)[k];
            affine = true;
            out = add->outputs[0];
            taken.push_back(add);
        }
    }
    affine = affine || !allEqual(gamma, 1.0f) || !allEqual(beta, 0.0f);
    addGroupNorm(im, *inorm, *x, groups, eps, gamma, beta, affine, out);
    for (const OnnxNodeDef* n : taken)
        im.absorb(*n);
    // Shape(x) computes nothing once the pattern is one node.
    if (shapeOfX && shape->index > node.index && im.consumers(shape->outputs[0]).size() == 1 &&
        !im.isGraphOutput(shape->outputs[0]))
        im.absorb(*shape);
    return "";
}

} // namespace segforge::core::interop
