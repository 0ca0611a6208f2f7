#include "check/mask_target_rules.hpp"

#include "check/data_rule_support.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <deque>

namespace segforge::core {

using namespace data_rules;

namespace {

/// A loss or metric fed (directly or through Cast/Rescale) by a Dataset's mask.
struct MaskConsumer {
    const Node* node;
    const OpSchema* schema;
    Edge target; ///< the edge arriving at its "target" port
};

std::vector<MaskConsumer> maskConsumers(const Graph& graph, NodeId dataset) {
    std::vector<MaskConsumer> out;
    std::deque<PortRef> frontier{{dataset, "mask"}};
    int guard = 0;
    while (!frontier.empty() && ++guard < 1000) {
        PortRef from = frontier.front();
        frontier.pop_front();
        for (const Edge& e : graph.edges()) {
            if (e.from != from)
                continue;
            const Node* to = graph.findNode(e.to.node);
            if (!to)
                continue;
            const OpSchema* s = OpRegistry::builtin().find(to->op);
            if (s && s->traits.convertsData) {
                frontier.push_back({to->id, "output"});
                continue;
            }
            if (s && s->contract && e.to.port == "target")
                out.push_back({to, s, e});
        }
    }
    return out;
}

std::optional<TensorType> predictionType(const Graph& graph, const CheckResult& result,
                                         NodeId loss) {
    auto producer = graph.producerOf({loss, "prediction"});
    return producer ? result.typeOf(*producer) : std::nullopt;
}

/// The convolution that sets the prediction's channels (its `filters`), through
/// an activation op.
const Node* predictionConv(const Graph& graph, NodeId loss) {
    auto p = graph.producerOf({loss, "prediction"});
    const Node* n = p ? graph.findNode(p->node) : nullptr;
    if (n && ops::traitsOf(*n).activation == ActivationUse::Only) {
        p = graph.producerOf({n->id, "input"});
        n = p ? graph.findNode(p->node) : nullptr;
    }
    return n && ops::traitsOf(*n).filtersSetChannels ? n : nullptr;
}

/// Class-index masks as the probe sees them: values 0..K−1 with K ≥ 3, dense
/// enough to be classes ({0, 1, 2, 3}, not a {0, 128, 255} trimap), possibly
/// with a void label 255 (or 65535) on top ({0, 1, 2, 3, 255}, as VOC).
struct ProbedClasses {
    std::int64_t classes = 0; ///< K; 0: not class indices
    std::int64_t ignore = -1; ///< the void label, -1 if none
};

ProbedClasses probedClasses(const Node& dataset, const DataProbe& p) {
    const std::string mode = attrString(dataset, "mask_mode");
    if (mode == "binary" || p.maskHistogram.empty() || p.maskHistogram.begin()->first < 0)
        return {};
    std::int64_t top = p.maskHistogram.rbegin()->first;
    auto distinct = static_cast<std::int64_t>(p.maskHistogram.size());
    std::int64_t ignore = -1;
    if ((top == 255 || top == 65535) && distinct >= 4) {
        ignore = top; // a void label above the classes
        top = std::next(p.maskHistogram.rbegin())->first;
        --distinct;
    }
    if (top < 2) // 0/1 masks are what a binary loss wants
        return {};
    if (mode == "class_index" || mode == "palette")
        return {top + 1, ignore};
    if (top > 4096 || distinct < 3 || distinct * 4 < top + 1)
        return {};
    return {top + 1, ignore};
}

/// mask_mode='binary' for two-level masks (0/255, 0/65535): non-zero → 1 at
/// the source. A mask wired straight into a float-only loss also needs a Cast.
FixIt binaryModeFix(const Graph& graph, const Node& dataset, const MaskConsumer& c,
                    const DataProbe& p) {
    FixIt fix = setAttr(dataset, "mask_mode", std::string("binary"));
    fix.rank = FixRank::Cause;
    fix.reason =
        strCat("the masks hold two levels, ", p.maskValuesText(), ": foreground and background");
    const auto& accepted = c.schema->contract->targetDTypes;
    if (c.target.from.node == dataset.id &&
        std::find(accepted.begin(), accepted.end(), DType::UInt8) == accepted.end()) {
        Node cast = ops::makeNode(ops::kCastOp, "cast", {{"dtype", std::string("float32")}});
        for (GraphEdit& e : insertNodeOnEdge(graph, c.target, std::move(cast), "input", "output"))
            fix.edits.push_back(std::move(e));
        fix.description += strCat(" and insert Cast(float32) before '", c.node->name, "'.target");
    }
    return fix;
}

} // namespace

void checkMaskChannels(const Graph& graph, const Node& node, const DataProbe& p, CheckResult& r) {
    if (attrString(node, "mask_mode") != "as_stored" || p.masks.channels <= 1)
        return;
    for (const MaskConsumer& c : maskConsumers(graph, node.id)) {
        auto pred = predictionType(graph, r, c.node->id);
        if (!pred || pred->shape.rank() != 4)
            continue;
        const std::int64_t want =
            c.schema->contract->layout == TargetLayout::ClassIndex ? 1 : pred->shape.channels();
        if (want == p.masks.channels)
            continue;
        std::string content;
        FixIt fix;
        const bool twoValues = p.maskHistogram.size() <= 2;
        if (p.maskChannelsEqual) {
            content = "every pixel has equal channels (a grey mask saved as colour)";
            fix = setAttr(node, "mask_mode",
                          std::string(twoValues && want == 1 &&
                                              c.schema->contract->layout != TargetLayout::ClassIndex
                                          ? "binary"
                                          : "class_index"));
        } else {
            content =
                strCat(p.tooManyColours ? "more than 256" : std::to_string(p.maskColours.size()),
                       " distinct colours (a colour-coded mask)");
            fix = setAttr(node, "mask_mode", std::string("palette"));
        }
        auto& d =
            add(r, Severity::Error, codes::kMaskChannels, node.id, "mask",
                strCat(dataLabel(node), ": the masks have ", p.masks.channels, " channels (",
                       sizeText(p.masks.height, p.masks.width), "×", p.masks.channels, "), but ",
                       c.node->op, " '", c.node->name, "' needs a ", want,
                       "-channel target for its ", pred->toString(), " prediction; ", content));
        if (!p.tooManyColours)
            d.fixes.push_back(std::move(fix));
        return;
    }
}

void checkMaskValues(const Graph& graph, const Node& node, const DataProbe& p, CheckResult& r) {
    for (const MaskConsumer& c : maskConsumers(graph, node.id)) {
        auto target = r.typeOf(c.target.from);
        auto pred = predictionType(graph, r, c.node->id);
        if (!target || !target->range || !pred || pred->shape.rank() != 4)
            continue;
        const ValueRange& v = *target->range;
        const TargetLayout layout = c.schema->contract->layout;
        const std::string where = strCat(c.node->op, " '", c.node->name, "'");
        const std::string quote = [&] {
            return strCat("Keras/TensorFlow fail later with \"Received a label value of ",
                          formatNumber(v.hi), " which is outside the valid range of [0, ",
                          layout == TargetLayout::ClassIndex ? pred->shape.channels() : 2, ")\"");
        }();
        if (layout == TargetLayout::ClassIndex) {
            const std::int64_t classes = pred->shape.channels();
            const std::int64_t ignore =
                c.schema->findAttr("ignore_class") ? attrInt(*c.node, "ignore_class", -1) : -1;
            if (attrString(node, "mask_mode") == "binary" && classes >= 2)
                continue; // non-zero → 1: the stored values no longer reach the loss
            std::vector<std::int64_t> bad;
            for (const auto& [value, count] : p.maskHistogram) {
                if ((value < 0 || value >= classes) && value != ignore)
                    bad.push_back(value);
            }
            // Histogram values are stored values; a Rescale on the way changes them.
            const bool rescaled = v.hi != p.masks.range.hi;
            if (bad.empty() && (!rescaled || (v.hi < static_cast<double>(classes) && v.lo >= 0)))
                continue;
            std::string badText;
            for (std::size_t i = 0; i < bad.size() && i < 6; ++i)
                badText += strCat(i ? ", " : "", bad[i]);
            auto& d =
                add(r, Severity::Error, codes::kMaskValueRange, c.node->id, "target",
                    strCat(where, " needs class indices in [0, ", classes, ") for its ", classes,
                           "-class prediction, but the masks of '", node.name, "' hold ",
                           p.maskValuesText(),
                           bad.empty() ? "" : strCat(" — out of range: ", badText), ". ", quote));
            const bool twoLevels = p.maskHistogram.size() == 2 &&
                                   p.maskHistogram.begin()->first == 0 && !bad.empty() &&
                                   attrString(node, "mask_mode") == "as_stored";
            if (twoLevels) {
                // 0/255 or 0/65535: background and foreground, not class 255 (or void).
                d.fixes.push_back(binaryModeFix(graph, node, c, p));
                continue;
            }
            if (bad.size() == 1 && bad.front() == 255 && c.schema->findAttr("ignore_class"))
                d.fixes.push_back(setAttr(*c.node, "ignore_class", std::int64_t{255}));
            if (!bad.empty() && bad.back() < 256) {
                if (const Node* conv = predictionConv(graph, c.node->id)) {
                    FixIt f = setAttr(*conv, "filters", std::int64_t{bad.back() + 1});
                    if (bad.back() + 1 > 2 * classes) {
                        f.rank = FixRank::Costly;
                        f.reason = strCat("a ", bad.back() + 1, "-class head for ",
                                          p.maskHistogram.size(), " stored values");
                    }
                    d.fixes.push_back(std::move(f));
                }
            }
            continue;
        }
        // Binary targets (BCE, Dice, …) fed class indices: the loss is what
        // does not fit the data, whatever conversion the mask passed on the way.
        if (const ProbedClasses found = probedClasses(node, p); found.classes > 0) {
            const std::int64_t classes = found.classes;
            const FixIt swap = ops::classIndexLossFix(graph, *c.node, classes, found.ignore);
            bool said = false;
            for (Diagnostic& d : r.diagnostics) {
                if (d.node != c.node->id)
                    continue;
                if (d.code == codes::kLossChannelMismatch || d.code == codes::kLossActivation ||
                    (d.code == codes::kDTypeMismatch && d.port == "target")) {
                    d.fixes = {swap};
                    said = said || d.code == codes::kLossChannelMismatch;
                }
            }
            if (said)
                continue;
            auto& d = add(r, Severity::Error, codes::kMaskValueRange, c.node->id, "target",
                          strCat(where, " reads per-channel values in [0, 1], but the masks of '",
                                 node.name, "' hold class indices ", p.maskValuesText(), " (",
                                 classes, " classes",
                                 found.ignore >= 0 ? strCat(" and the void label ", found.ignore)
                                                   : std::string(),
                                 "); they reach it as ", target->toString(), " with values ",
                                 formatNumber(v.lo), " to ", formatNumber(v.hi),
                                 v.hi <= 1 ? " — rescaled, so every class above 0 looks like faint "
                                             "foreground and the classes are lost"
                                           : " — the loss is then meaningless",
                                 ". A loss that reads class indices keeps them"));
            d.fixes.push_back(swap);
            continue;
        }
        // Binary targets (BCE, Dice, …): every value must be in [0, 1].
        const bool twoLevels = p.maskHistogram.size() <= 2 && !p.maskHistogram.empty() &&
                               p.maskHistogram.begin()->first >= 0 &&
                               attrString(node, "mask_mode") != "binary";
        if (!twoLevels) {
            // A ramp or photo: binary mode would make every non-zero pixel foreground.
            for (Diagnostic& d : r.diagnostics) {
                if (d.node != c.node->id || d.code != codes::kDTypeMismatch)
                    continue;
                std::erase_if(d.fixes, [&](const FixIt& f) {
                    return std::any_of(f.edits.begin(), f.edits.end(), [&](const GraphEdit& e) {
                        const auto* set = std::get_if<SetAttributeEdit>(&e);
                        return set && set->node == node.id && set->name == "mask_mode";
                    });
                });
            }
        }
        if (v.lo >= 0 && v.hi <= 1)
            continue;
        auto& d = add(
            r, Severity::Error, codes::kMaskValueRange, c.node->id, "target",
            strCat(where, " needs target values in [0, 1], but the masks of '", node.name,
                   "' reach it as ", target->toString(), " with values up to ", formatNumber(v.hi),
                   " (stored values ", p.maskValuesText(), ", ",
                   formatNumber(100.0 * p.maskValueShare(p.maskHistogram.empty()
                                                             ? 0
                                                             : p.maskHistogram.rbegin()->first)),
                   "% of pixels at the top value). The loss is then meaningless. ", quote));
        if (twoLevels)
            d.fixes.push_back(binaryModeFix(graph, node, c, p));
    }
}

} // namespace segforge::core
