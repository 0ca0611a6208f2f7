#include "ops/op_helpers.hpp"

#include "ops/builtin_ops.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <cmath>
#include <deque>
#include <set>

namespace segforge::core::ops {

const std::vector<std::string>& activationChoices() {
    static const std::vector<std::string> choices{"linear",  "relu",    "leaky_relu",
                                                  "sigmoid", "softmax", "tanh"};
    return choices;
}

void applyActivationHint(TensorType& type, const std::string& activation) {
    type.kind = ValueKind::Unknown;
    type.range.reset();
    if (activation == "sigmoid") {
        type.kind = ValueKind::Probability;
        type.range = ValueRange{0, 1};
    } else if (activation == "softmax") {
        type.kind = ValueKind::Distribution;
        type.range = ValueRange{0, 1};
    } else if (activation == "tanh") {
        type.range = ValueRange{-1, 1};
    } else if (activation == "relu") {
        type.range = ValueRange{0, HUGE_VAL};
    }
}

std::int64_t convOutputLength(std::int64_t input, std::int64_t kernel, std::int64_t stride,
                              std::int64_t dilation, bool samePadding) {
    const std::int64_t dilated = kernel + (kernel - 1) * (dilation - 1);
    std::int64_t out = samePadding ? input : input - dilated + 1;
    if (out <= 0)
        return out;
    return (out + stride - 1) / stride;
}

std::int64_t deconvOutputLength(std::int64_t input, std::int64_t kernel, std::int64_t stride,
                                std::int64_t dilation, bool samePadding) {
    const std::int64_t dilated = kernel + (kernel - 1) * (dilation - 1);
    if (samePadding)
        return input * stride;
    return input * stride + std::max<std::int64_t>(dilated - stride, 0);
}

SizeExpr convOutputSize(const SizeExpr& input, std::int64_t kernel, std::int64_t stride,
                        std::int64_t dilation, bool samePadding) {
    const std::int64_t dilated = kernel + (kernel - 1) * (dilation - 1);
    // ⌈out/stride⌉ of an out ≤ 0 stays ≤ 0: a collapse stays one.
    return (samePadding ? input : input.plus(1 - dilated)).ceilDiv(stride);
}

SizeExpr deconvOutputSize(const SizeExpr& input, std::int64_t kernel, std::int64_t stride,
                          std::int64_t dilation, bool samePadding) {
    const std::int64_t dilated = kernel + (kernel - 1) * (dilation - 1);
    if (samePadding)
        return input.times(stride);
    return input.times(stride).plus(std::max<std::int64_t>(dilated - stride, 0));
}

const std::vector<std::int64_t>& attrList(const AttrMap& attrs, std::string_view name) {
    return std::get<std::vector<std::int64_t>>(attrs.at(std::string(name)));
}

const std::string& attrString(const AttrMap& attrs, std::string_view name) {
    return std::get<std::string>(attrs.at(std::string(name)));
}

OpSchema::BackwardReads convolutionBackwardReads(const AttrMap& attrs) {
    return {.inputs = true, .outputs = attrString(attrs, "activation") != "linear"};
}

SizeExpr sameSpatial(const AttrMap&, int, const SizeExpr& input) {
    return input;
}

SizeExpr sourceSpatial(const AttrMap& attrs, int axis, const SizeExpr&) {
    auto free = attrs.find("variable_size");
    if (free != attrs.end() && std::get<bool>(free->second))
        return SizeExpr::variable(axis == 0 ? "H" : "W");
    return SizeExpr::constant(std::get<std::int64_t>(attrs.at(axis == 0 ? "height" : "width")));
}

AttrSpec variableSizeAttr() {
    return boolAttr("variable_size", false,
                    "height and width are free (Keras None): wires show H and W, the checker "
                    "derives every size that works; height/width stay the example size used to "
                    "train and to show numbers");
}

bool requireImage(InferContext& ctx, int i) {
    const TensorType& t = ctx.input(i);
    if (t.shape.rank() == 4)
        return true;
    ctx.error(codes::kRankMismatch, ctx.inputName(i),
              strCat(ctx.label(), " needs an image tensor N×H×W×C on input '", ctx.inputName(i),
                     "', but receives ", t.toString(), " (rank ", t.shape.rank(), ")"));
    return false;
}

std::vector<AttrSpec> convolutionWindowAttrs(const char* kernelWhat) {
    return {
        intAttr("filters", 32, 1, 65536, "output channels"),
        pairAttr("kernel_size", 3, 1, 63, kernelWhat),
        pairAttr("strides", 1, 1, 64, "step (height, width)"),
        enumAttr("padding", "valid", {"valid", "same"},
                 "'valid': no padding, output shrinks; 'same': output = ceil(input / stride)"),
        pairAttr("dilation_rate", 1, 1, 64, "spacing between kernel taps"),
    };
}

std::optional<TensorType> inferConvolution(InferContext& ctx) {
    if (!requireImage(ctx, 0))
        return std::nullopt;
    const auto k = ctx.getPair("kernel_size");
    const auto st = ctx.getPair("strides");
    const auto d = ctx.getPair("dilation_rate");
    if ((st[0] > 1 || st[1] > 1) && (d[0] > 1 || d[1] > 1)) {
        auto& diag =
            ctx.error(codes::kBadAttribute, "strides",
                      strCat(ctx.label(), ": strides ", attrToString(std::vector{st[0], st[1]}),
                             " together with dilation_rate ", attrToString(std::vector{d[0], d[1]}),
                             " is not supported (Keras raises the same error)"));
        diag.fixes.push_back(
            {"Set strides to 1", {SetAttributeEdit{ctx.node().id, "strides", std::nullopt}}});
        return std::nullopt;
    }
    const bool same = ctx.getString("padding") == "same";
    const Shape& in = ctx.input(0).shape;
    TensorType out{Shape::image(convOutputLength(in.height(), k[0], st[0], d[0], same),
                                convOutputLength(in.width(), k[1], st[1], d[1], same),
                                ctx.getInt("filters")),
                   DType::Float32};
    applyActivationHint(out, ctx.getString("activation"));
    return out;
}

SizeExpr convolutionSpatial(const AttrMap& attrs, int axis, const SizeExpr& input) {
    const auto a = static_cast<std::size_t>(axis);
    return convOutputSize(input, attrList(attrs, "kernel_size").at(a),
                          attrList(attrs, "strides").at(a), attrList(attrs, "dilation_rate").at(a),
                          attrString(attrs, "padding") == "same");
}

Node makeNode(std::string op, std::string name, AttrMap attrs) {
    Node n;
    n.op = std::move(op);
    n.name = std::move(name);
    n.attrs = std::move(attrs);
    return n;
}

EditScript changeOpEdits(const Node& node, const char* op) {
    EditScript edits{SetOpEdit{node.id, op}};
    const OpSchema* target = OpRegistry::builtin().find(op);
    for (const auto& [key, value] : node.attrs) {
        if (!target || !target->findAttr(key))
            edits.push_back(SetAttributeEdit{node.id, key, std::nullopt});
    }
    return edits;
}

FixIt insertOnInputFix(const InferContext& ctx, int i, Node node, std::string description) {
    FixIt fix;
    fix.description = std::move(description);
    if (const auto& edge = ctx.inputEdge(i))
        fix.edits = insertNodeOnEdge(ctx.graph(), *edge, std::move(node), "input", "output");
    return fix;
}

const Node* producerOfInput(const InferContext& ctx, int i, bool skipPassThrough) {
    const auto& edge = ctx.inputEdge(i);
    if (!edge)
        return nullptr;
    const Node* node = ctx.graph().findNode(edge->from.node);
    int guard = 0;
    while (skipPassThrough && node && guard++ < 64 && traitsOf(*node).passThrough) {
        auto up = ctx.graph().producerOf({node->id, "input"});
        if (!up)
            break;
        node = ctx.graph().findNode(up->node);
    }
    return node;
}

std::string describeDifferingDims(const Shape& a, const Shape& b, int ignoreAxis) {
    static const char* names[] = {"batch", "height", "width", "channels"};
    std::vector<std::string> differing;
    for (int axis = 1; axis < std::min(a.rank(), b.rank()) && axis < 4; ++axis) {
        if (axis != ignoreAxis && a[axis] != b[axis])
            differing.emplace_back(names[axis]);
    }
    std::string out;
    for (std::size_t k = 0; k < differing.size(); ++k)
        out += (k == 0 ? "" : (k + 1 == differing.size() ? " and " : ", ")) + differing[k];
    return out;
}

namespace {

/// The share of the larger tensor's pixels that matching it to the smaller one
/// crops away (or, padding the smaller, fills with zeros).
double pixelShareLost(const Shape& small, const Shape& large) {
    const double s = static_cast<double>(small.height()) * static_cast<double>(small.width());
    const double l = static_cast<double>(large.height()) * static_cast<double>(large.width());
    return l > 0 ? 1.0 - s / l : 0.0;
}

std::string producerName(const InferContext& ctx, int i) {
    const Node* n = producerOfInput(ctx, i);
    return n ? n->name : ctx.inputName(i);
}

} // namespace

std::vector<FixIt> spatialMatchFixes(const InferContext& ctx, int small, int large) {
    std::vector<FixIt> fixes;
    const Shape& s = ctx.input(small).shape;
    const Shape& l = ctx.input(large).shape;
    const std::int64_t dh = l.height() - s.height();
    const std::int64_t dw = l.width() - s.width();
    if (dh < 0 || dw < 0 || (dh == 0 && dw == 0))
        return fixes;
    const std::string smallPort = ctx.inputName(small);
    const std::string largePort = ctx.inputName(large);

    // An exact integer factor: the decoder forgot to upsample (or upsampled too
    // little). Beyond a factor of 2 it jumps levels: the skip is likely wrong.
    if (s.height() > 0 && s.width() > 0 && l.height() % s.height() == 0 &&
        l.width() % s.width() == 0) {
        const std::int64_t fh = l.height() / s.height();
        const std::int64_t fw = l.width() / s.width();
        if (fh > 1 || fw > 1) {
            const std::int64_t factor = std::max(fh, fw);
            const FixRank rank = factor > 2 ? FixRank::Costly : FixRank::Mechanical;
            const std::string reason = factor > 2
                                           ? strCat("resamples '", producerName(ctx, small), "' ×",
                                                    factor, ", across more than one level")
                                           : strCat("patches the size where the tensors meet");
            std::vector<std::int64_t> size{fh, fw};
            FixIt up = insertOnInputFix(
                ctx, small, makeNode(kUpSampling2DOp, "upsample", {{"size", size}}),
                strCat("Insert UpSampling2D(size=",
                       fh == fw ? std::to_string(fh) : strCat("(", fh, ", ", fw, ")"),
                       ") on input '", smallPort, "' (", s.height(), "×", s.width(), " → ",
                       l.height(), "×", l.width(), ")"));
            up.rank = rank;
            up.reason = reason;
            fixes.push_back(std::move(up));
            FixIt upconv =
                insertOnInputFix(ctx, small,
                                 makeNode(kConv2DTransposeOp, "upconv",
                                          {{"filters", s.channels()},
                                           {"kernel_size", size},
                                           {"strides", size},
                                           {"padding", std::string("same")}}),
                                 strCat("Insert Conv2DTranspose(", s.channels(), ", kernel ", fh,
                                        ", strides ", fh, ") on input '", smallPort, "'"));
            upconv.rank = rank;
            upconv.reason = reason;
            fixes.push_back(std::move(upconv));
            return fixes;
        }
    }

    // Off by a few pixels (typically valid convolutions or an odd size that a
    // pooling floored): crop the larger one, as the original U-Net does. Off
    // by much more, either loses or invents most of a tensor.
    const double lost = pixelShareLost(s, l);
    const bool costly = lost > kCostlyPixelShare;
    const long percent = std::lround(100 * lost);
    const std::vector<std::int64_t> crop{dh / 2, dh - dh / 2, dw / 2, dw - dw / 2};
    FixIt cropFix = insertOnInputFix(
        ctx, large, makeNode(kCropping2DOp, "crop", {{"cropping", crop}}),
        strCat("Insert Cropping2D(", attrToString(crop), ") on input '", largePort, "' (",
               l.height(), "×", l.width(), " → ", s.height(), "×", s.width(), ")"));
    cropFix.rank = costly ? FixRank::Costly : FixRank::Mechanical;
    cropFix.reason = strCat("crops away ", percent, " % of '", producerName(ctx, large), "'");
    fixes.push_back(std::move(cropFix));
    FixIt padFix = insertOnInputFix(
        ctx, small, makeNode(kZeroPadding2DOp, "pad", {{"padding", crop}}),
        strCat("Insert ZeroPadding2D(", attrToString(crop), ") on input '", smallPort, "' (",
               s.height(), "×", s.width(), " → ", l.height(), "×", l.width(), ")"));
    padFix.rank = costly ? FixRank::Costly : FixRank::Mechanical;
    padFix.reason = strCat(percent, " % of '", producerName(ctx, small), "' padded to ", l.height(),
                           "×", l.width(), " would be zeros");
    fixes.push_back(std::move(padFix));
    return fixes;
}

const OpTraits& traitsOf(const Node& node) {
    static const OpTraits none{};
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    return schema ? schema->traits : none;
}

std::optional<AttrValue> resolvedAttr(const Node& node, std::string_view name) {
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    if (!schema)
        return std::nullopt;
    const AttrSpec* spec = schema->findAttr(name);
    if (!spec)
        return std::nullopt;
    auto it = node.attrs.find(name);
    return coerceAttribute(*spec, it == node.attrs.end() ? spec->defaultValue : it->second);
}

std::vector<const Node*> shrinkingConvolutionsUpstream(const Graph& graph, NodeId start) {
    std::vector<const Node*> found;
    std::set<NodeId> seen{start};
    std::deque<NodeId> queue{start};
    while (!queue.empty()) {
        NodeId id = queue.front();
        queue.pop_front();
        const Node* node = graph.findNode(id);
        if (!node)
            continue;
        if (traitsOf(*node).validPaddingTrims) {
            auto padding = resolvedAttr(*node, "padding");
            auto kernel = resolvedAttr(*node, "kernel_size");
            if (padding && kernel && std::get<std::string>(*padding) == "valid") {
                const auto& k = std::get<std::vector<std::int64_t>>(*kernel);
                if (k[0] > 1 || k[1] > 1)
                    found.push_back(node);
            }
        }
        for (const Edge& e : graph.edges()) {
            if (e.to.node == id && seen.insert(e.from.node).second)
                queue.push_back(e.from.node);
        }
    }
    std::sort(found.begin(), found.end(),
              [](const Node* a, const Node* b) { return a->id < b->id; });
    return found;
}

} // namespace segforge::core::ops
