#include "check/dataset_rules.hpp"

#include "check/checker.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <deque>

namespace segforge::core {
namespace {

std::string attrString(const Node& node, std::string_view name) {
    auto v = ops::resolvedAttr(node, name);
    return v && std::holds_alternative<std::string>(*v) ? std::get<std::string>(*v) : std::string();
}

std::int64_t attrInt(const Node& node, std::string_view name, std::int64_t fallback) {
    auto v = ops::resolvedAttr(node, name);
    return v && std::holds_alternative<std::int64_t>(*v) ? std::get<std::int64_t>(*v) : fallback;
}

std::string listNames(const std::vector<std::string>& names, std::size_t max = 5) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < max; ++i)
        out += strCat(i ? ", " : "", "'", names[i], "'");
    if (names.size() > max)
        out += strCat(" and ", names.size() - max, " more");
    return out;
}

std::string sizeText(int h, int w) {
    return strCat(h, "×", w);
}

/// mask-not-binary: a binary mask may have up to this share of pixels between
/// its two levels (antialiased edges), a ramp or a class-index mask has far more.
constexpr double kMaxBetweenShare = 0.05;

Diagnostic& add(CheckResult& r, Severity sev, std::string_view code, NodeId node, std::string port,
                std::string message) {
    r.diagnostics.push_back(
        {sev, std::string(code), node, std::move(port), std::move(message), {}});
    return r.diagnostics.back();
}

FixIt setAttr(const Node& node, const std::string& name, AttrValue value) {
    const std::string shown = std::holds_alternative<std::string>(value)
                                  ? "'" + std::get<std::string>(value) + "'"
                                  : attrToString(value);
    return {strCat("Set ", name, "=", shown, " on '", node.name, "'"),
            {SetAttributeEdit{node.id, name, std::move(value)}}};
}

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

std::string dataLabel(const Node& n) {
    return strCat("Dataset '", n.name, "'");
}

/// Severity and tail of a finding about files that training skips or stops at.
struct SkipPolicy {
    bool stop;
    Severity severity() const { return stop ? Severity::Error : Severity::Warning; }
    const char* tail(std::size_t files) const {
        if (files == 1)
            return stop ? ". on_error='stop' will stop training at it"
                        : ". It is skipped (on_error='skip')";
        return stop ? ". on_error='stop' will stop training at the first one"
                    : ". They are skipped (on_error='skip')";
    }
};

/// false when nothing else can be said: no pair at all, or none readable.
bool checkEmptyAndFiles(const Node& node, const DataProbe& p, CheckResult& r) {
    const bool noneReadable = p.pairCount > 0 && p.badPairs >= p.pairCount;
    if (!p.folderError.empty() && p.folderOptional) {
        // Same code and reason as the error training stops at: said first, here.
        add(r, Severity::Warning, codes::kDatasetEmpty, node.id, "",
            strCat(
                dataLabel(node), " has no data yet: ", p.folderError,
                ". Training refuses to start until it exists (set the node's 'images' and 'masks' "
                "folders, or give --data DIR); until then its wires follow its attributes"));
        return false;
    }
    if (!p.folderError.empty() || p.pairCount == 0 || noneReadable) {
        std::string why =
            !p.folderError.empty() ? p.folderError
            : noneReadable
                ? strCat("none of its ", p.pairCount, p.pairCount == 1 ? " pair" : " pairs",
                         " can be read — ",
                         !p.tooLarge.empty()
                             ? strCat(p.tooLarge.front().mask ? "mask " : "image ",
                                      p.tooLarge.front().name, ": ", p.tooLarge.front().reason)
                             : strCat("'", p.unreadable.front().name,
                                      "': ", p.unreadable.front().reason))
            : p.unpaired.empty()
                ? strCat("the folder holds no image files (png, jpg, tif, bmp)")
                : strCat("no image has a mask with the same file name (", p.unpaired.size(),
                         " unpaired files: ", listNames(p.unpaired, 3), ")");
        add(r, Severity::Error, codes::kDatasetEmpty, node.id, "",
            strCat(dataLabel(node), " has no image/mask pairs", noneReadable ? " to train on" : "",
                   ": ", why,
                   noneReadable
                       ? ""
                       : ". Images pair with masks by file name (x.png ↔ x.png or x_mask.png)"));
        return false;
    }
    if (!p.unpaired.empty()) {
        add(r, Severity::Warning, codes::kUnpairedFile, node.id, "",
            strCat(dataLabel(node), ": ", p.unpaired.size(),
                   p.unpaired.size() == 1 ? " file has" : " files have",
                   " no partner and will be ignored: ", listNames(p.unpaired), " (", p.pairCount,
                   " pairs are used)"));
    }
    const SkipPolicy policy{attrString(node, "on_error") == "stop"};
    if (!p.tooLarge.empty()) {
        // Named like the pipeline's own message, so check and train say the same.
        const OversizedFile& first = p.tooLarge.front();
        std::vector<std::string> others;
        for (std::size_t i = 1; i < p.tooLarge.size(); ++i)
            others.push_back(p.tooLarge[i].name);
        auto& d = add(r, policy.severity(), codes::kImageTooLarge, node.id, "",
                      strCat(first.mask ? "mask " : "image ", first.name, ": ", first.reason,
                             others.empty() ? std::string()
                                            : strCat(" (and ", others.size(),
                                                     " more: ", listNames(others), ")"),
                             policy.tail(p.tooLarge.size())));
        if (policy.stop)
            d.fixes.push_back(setAttr(node, "on_error", std::string("skip")));
    }
    if (!p.unreadable.empty()) {
        std::vector<std::string> names;
        for (const auto& u : p.unreadable)
            names.push_back(u.name);
        auto& d = add(r, policy.severity(), codes::kDataFileUnreadable, node.id, "",
                      strCat(dataLabel(node), ": ", p.unreadable.size(),
                             p.unreadable.size() == 1 ? " file cannot" : " files cannot",
                             " be read: ", listNames(names), " — '", p.unreadable.front().name,
                             "': ", p.unreadable.front().reason, policy.tail(p.unreadable.size())));
        if (policy.stop)
            d.fixes.push_back(setAttr(node, "on_error", std::string("skip")));
    }
    return true;
}

void checkSizes(const Node& node, const DataProbe& p, CheckResult& r) {
    const std::string policy = attrString(node, "size_policy");
    if (policy == "resize")
        return; // every image and mask is brought to height×width explicitly
    const auto& common = p.images;
    FixIt resize{strCat("Set size_policy='resize' with height×width ",
                        sizeText(common.height, common.width), " on '", node.name,
                        "' (masks use nearest-neighbour)"),
                 {SetAttributeEdit{node.id, "size_policy", AttrValue{std::string("resize")}},
                  SetAttributeEdit{node.id, "height", AttrValue{std::int64_t{common.height}}},
                  SetAttributeEdit{node.id, "width", AttrValue{std::int64_t{common.width}}}}};
    if (!p.sizeMismatches.empty()) {
        const PairSizeMismatch& m = p.sizeMismatches.front();
        auto& d = add(r, Severity::Error, codes::kImageSizeMismatch, node.id, "mask",
                      strCat(dataLabel(node), ": image '", m.stem, "' is ",
                             sizeText(m.imageHeight, m.imageWidth), " but its mask is ",
                             sizeText(m.maskHeight, m.maskWidth), " (", p.sizeMismatches.size(),
                             " of ", p.pairCount,
                             " pairs differ) — the mask must cover the image pixel for pixel. "
                             "TensorFlow: \"Incompatible shapes\""));
        d.fixes.push_back(resize);
        return;
    }
    if (policy == "exact" && common.sizes.size() > 1) {
        std::string sizes;
        int shown = 0;
        for (const auto& [hw, count] : common.sizes) {
            if (shown++ < 4)
                sizes +=
                    strCat(shown > 1 ? ", " : "", sizeText(hw.first, hw.second), " (", count, ")");
        }
        auto& d = add(r, Severity::Error, codes::kImageSizeMismatch, node.id, "image",
                      strCat(dataLabel(node), ": the images differ in size — ", sizes,
                             " — but a batch needs one size and size_policy is 'exact'"));
        d.fixes.push_back(resize);
    }
}

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

std::string typeText(const FileType& t) {
    return strCat(t.channels, "-channel ",
                  t.bitDepth == 32 ? "float" : std::to_string(t.bitDepth) + "-bit");
}

/// Decoded files of one side grouped by what must agree within a batch; a
/// second group is a batch the engine would refuse (or a file skipped).
void reportMixed(const Node& node, const std::map<FileType, FileGroup>& types, const char* side,
                 FileType (*key)(const FileType&), CheckResult& r) {
    std::map<FileType, FileGroup> groups;
    for (const auto& [type, group] : types) {
        FileGroup& g = groups[key(type)];
        if (g.count == 0)
            g.example = group.example;
        g.count += group.count;
    }
    if (groups.size() < 2)
        return;
    auto most = groups.begin();
    int total = 0;
    for (auto it = groups.begin(); it != groups.end(); ++it) {
        total += it->second.count;
        if (it->second.count > most->second.count)
            most = it;
    }
    auto odd = groups.begin() == most ? std::next(groups.begin()) : groups.begin();
    add(r, Severity::Error, codes::kMixedSampleTypes, node.id, side,
        strCat(side, " ", odd->second.example, ": ", typeText(odd->first), ", but ",
               most->second.count, " of the ", total, " ", side, "s read (e.g. ",
               most->second.example, ") are ", typeText(most->first), " (", groups.size(),
               " kinds in all) — one batch holds one kind; convert the odd files"));
}

FileType channelsAndDepth(const FileType& t) {
    return t;
}
FileType depthOnly(const FileType& t) {
    return {0, t.bitDepth == 32 ? 16 : t.bitDepth};
} // float indices become 16-bit
FileType greyOrColour(const FileType& t) {
    return {t.channels >= 3 ? 3 : 1, t.bitDepth};
}

void checkMixedTypes(const Node& node, const DataProbe& p, CheckResult& r) {
    // Images: the batch takes the first sample's channels and converts only
    // some others, and the engine takes one channel count: any mix can fail.
    reportMixed(node, p.images.types, "image", channelsAndDepth, r);
    const std::string mode = attrString(node, "mask_mode");
    if (mode == "as_stored")
        reportMixed(node, p.masks.types, "mask", channelsAndDepth, r);
    else if (mode == "class_index")
        reportMixed(node, p.masks.types, "mask", depthOnly, r);
    else if (mode == "palette")
        reportMixed(node, p.masks.types, "mask", greyOrColour, r);
    // binary: any channel count and depth become one 0/1 channel.
}

std::string percent(double share) {
    return strCat(formatNumber(std::round(share * 1000) / 10), "%");
}

void checkMaskFiles(const Node& node, const DataProbe& p, CheckResult& r) {
    const std::string mode = attrString(node, "mask_mode");
    if (mode == "binary" && p.multiLevelMaskCount > 0) {
        // A ramp, a photo or class indices has many pixels between the ends;
        // lossy compression leaves faint non-zero pixels that turn into foreground.
        const MultiLevelMask* worst = nullptr;
        const MultiLevelMask* noisy = nullptr;
        for (const MultiLevelMask& m : p.multiLevelMasks) {
            if (m.betweenShare > kMaxBetweenShare &&
                (!worst || m.betweenShare > worst->betweenShare))
                worst = &m;
            if (m.faintShare > 0 && (!noisy || m.faintShare > noisy->faintShare))
                noisy = &m;
        }
        const std::string count = strCat(" (", p.multiLevelMaskCount, " of ", p.decodedCount,
                                         " masks read hold more than two values)");
        if (worst) {
            add(r, Severity::Error, codes::kMaskNotBinary, node.id, "mask",
                strCat("mask ", worst->name, ": holds ", worst->distinct, " values from ",
                       worst->lo, " to ", worst->hi, " and ", percent(worst->betweenShare),
                       " of its pixels are near neither end — not a two-level mask, yet mask_mode "
                       "'binary' "
                       "makes every non-zero pixel foreground",
                       count));
        } else if (noisy) {
            add(r, Severity::Warning, codes::kMaskNotBinary, node.id, "mask",
                strCat("mask ", noisy->name, ": holds ", noisy->distinct, " values near ",
                       noisy->lo, " and ", noisy->hi, " (compression noise?); ",
                       percent(noisy->faintShare), " of its pixels are faint (1 to ",
                       (noisy->hi - noisy->lo) / 8,
                       ") and become foreground in mask_mode 'binary' — save masks "
                       "losslessly (PNG)",
                       count));
        }
    }
    if (p.paletteOverflowCount > 0) {
        const PaletteOverflow& o = p.paletteOverflows.front();
        add(r, Severity::Error, codes::kMaskPaletteIndex, node.id, "mask",
            strCat("mask ", o.name, ": palette indices up to ", o.maxIndex,
                   ", but its palette has ", o.paletteSize, " entries (", o.pixels,
                   o.pixels == 1 ? " pixel uses" : " pixels use", " an index past it); ",
                   p.paletteOverflowCount, p.paletteOverflowCount == 1 ? " mask" : " masks",
                   " like this — the file is damaged or was written with a cut palette"));
    }
    if (mode == "palette" && p.masks.channels >= 3) {
        if (p.tooManyColours) {
            add(r, Severity::Error, codes::kMaskColours, node.id, "mask",
                strCat(dataLabel(node),
                       ": mask_mode 'palette' numbers the masks' colours, but they hold more than ",
                       DataProbe::kMaxColours,
                       " (antialiased edges or a photo?) — palette masks need exact colours"));
        }
        for (const auto& [type, group] : p.masks.types) {
            if (type.channels >= 3 && type.bitDepth != 8) {
                add(r, Severity::Error, codes::kMaskColours, node.id, "mask",
                    strCat("mask ", group.example, ": ", typeText(type),
                           ", but mask_mode 'palette' reads 8-bit colours"));
                break;
            }
        }
    }
}

/// The types the Dataset's attributes declare: what Executor::compile builds
/// the network for, without the data.
std::vector<std::optional<TensorType>> declaredTypes(const Node& dataset) {
    Graph alone;
    Node copy = dataset;
    const NodeId id = alone.addNode(std::move(copy));
    CheckOptions options;
    options.diagnoseInputSize = false;
    options.requireLoss = false;
    const CheckResult r = checkGraph(alone, options);
    return {r.typeOf({id, "image"}), r.typeOf({id, "mask"})};
}

void checkDeclaredTypes(const Node& node, const DataProbe& p, CheckResult& r) {
    const auto data = datasetTypesFromProbe(node, p);
    const auto declared = declaredTypes(node);
    if (data.size() != 2 || !data[0] || !data[1] || !declared[0] || !declared[1])
        return;
    if (*data[0] == *declared[0] && *data[1] == *declared[1])
        return;
    const TensorType& image = *data[0];
    const TensorType& mask = *data[1];
    FixIt fix{"", {}};
    std::string settings;
    auto set = [&](const char* name, AttrValue v) {
        const std::string shown = std::holds_alternative<std::string>(v)
                                      ? "'" + std::get<std::string>(v) + "'"
                                      : attrToString(v);
        settings += strCat(settings.empty() ? "" : ", ", name, "=", shown);
        fix.edits.push_back(SetAttributeEdit{node.id, name, std::move(v)});
    };
    if (image.shape.rank() == 4 && declared[0]->shape.rank() == 4) {
        if (image.shape[1] != declared[0]->shape[1])
            set("height", AttrValue{std::int64_t{image.shape[1]}});
        if (image.shape[2] != declared[0]->shape[2])
            set("width", AttrValue{std::int64_t{image.shape[2]}});
        if (image.shape[3] != declared[0]->shape[3])
            set("channels", AttrValue{std::int64_t{image.shape[3]}});
    }
    if (image.dtype != declared[0]->dtype)
        set("image_dtype", AttrValue{std::string(dtypeName(image.dtype))});
    if (mask.shape.rank() == 4 && declared[1]->shape.rank() == 4 &&
        mask.shape[3] != declared[1]->shape[3])
        set("mask_channels", AttrValue{std::int64_t{mask.shape[3]}});
    if (mask.dtype != declared[1]->dtype)
        set("mask_dtype", AttrValue{std::string(dtypeName(mask.dtype))});
    auto& d = add(
        r, Severity::Error, codes::kDatasetTypeMismatch, node.id, "",
        strCat(dataLabel(node), ": the data gives images ", image.toString(), " and masks ",
               mask.toString(), ", but its attributes declare ", declared[0]->toString(), " and ",
               declared[1]->toString(),
               " — training, predict and export build the network from the attributes, so every "
               "batch would be refused"));
    if (!fix.edits.empty()) {
        fix.description = strCat("Set ", settings, " on '", node.name, "' (the data's types)");
        d.fixes.push_back(std::move(fix));
    }
}

} // namespace

std::vector<std::optional<TensorType>> datasetTypesFromProbe(const Node& dataset,
                                                             const DataProbe& probe) {
    if (probe.pairCount == 0 || probe.images.channels == 0 || probe.masks.channels == 0)
        return {};
    const bool exact = attrString(dataset, "size_policy") == "exact";
    const std::int64_t h =
        exact ? probe.images.height : attrInt(dataset, "height", probe.images.height);
    const std::int64_t w =
        exact ? probe.images.width : attrInt(dataset, "width", probe.images.width);
    TensorType image{Shape::image(h, w, probe.images.channels), probe.images.dtype()};
    if (probe.images.rangeKnown)
        image.range = probe.images.range;

    const std::string mode = attrString(dataset, "mask_mode");
    TensorType mask{Shape::image(h, w, probe.masks.channels), probe.masks.dtype()};
    if (probe.masks.rangeKnown)
        mask.range = probe.masks.range;
    if (mode == "binary") {
        mask =
            TensorType{Shape::image(h, w, 1), DType::UInt8, ValueKind::Unknown, ValueRange{0, 1}};
    } else if (mode == "class_index") {
        mask.shape = Shape::image(h, w, 1);
        if (mask.dtype == DType::Float32) // float class indices are rounded to 16-bit (mask_codec)
            mask.dtype = DType::UInt16;
        if (!probe.maskHistogram.empty())
            mask.range = ValueRange{static_cast<double>(probe.maskHistogram.begin()->first),
                                    static_cast<double>(probe.maskHistogram.rbegin()->first)};
    } else if (mode == "palette") {
        // Colour masks number their distinct colours; palette PNGs and grey
        // masks keep their stored indices (the largest is the top class).
        const double top = probe.masks.channels >= 3
                               ? static_cast<double>(probe.maskColours.size()) - 1
                           : probe.maskHistogram.empty()
                               ? 0.0
                               : static_cast<double>(probe.maskHistogram.rbegin()->first);
        mask = TensorType{Shape::image(h, w, 1), DType::UInt8, ValueKind::Unknown,
                          ValueRange{0, std::max(0.0, top)}};
    }
    return {image, mask};
}

void checkDatasets(const Graph& graph, const std::unordered_map<NodeId, DataProbe>& probes,
                   CheckResult& result, bool forTraining) {
    for (const auto& [id, probe] : probes) {
        const Node* node = graph.findNode(id);
        if (!node || !ops::traitsOf(*node).readsDataset)
            continue;
        if (!checkEmptyAndFiles(*node, probe, result))
            continue;
        checkSizes(*node, probe, result);
        checkMixedTypes(*node, probe, result);
        checkMaskChannels(graph, *node, probe, result);
        checkMaskValues(graph, *node, probe, result);
        checkMaskFiles(*node, probe, result);
        if (forTraining)
            checkDeclaredTypes(*node, probe, result);
    }
}

} // namespace segforge::core
