#include "data/dataset_rules.hpp"

#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
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

std::string sizeText(int h, int w) { return strCat(h, "×", w); }

Diagnostic& add(CheckResult& r, Severity sev, std::string_view code, NodeId node, std::string port,
                std::string message) {
    r.diagnostics.push_back({sev, std::string(code), node, std::move(port), std::move(message), {}});
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
            if (to->op == "Cast" || to->op == "Rescale") {
                frontier.push_back({to->id, "output"});
                continue;
            }
            const OpSchema* s = OpRegistry::builtin().find(to->op);
            if (s && s->contract && e.to.port == "target")
                out.push_back({to, s, e});
        }
    }
    return out;
}

std::optional<TensorType> predictionType(const Graph& graph, const CheckResult& result, NodeId loss) {
    auto producer = graph.producerOf({loss, "prediction"});
    return producer ? result.typeOf(*producer) : std::nullopt;
}

/// The Conv2D that sets the prediction's channels, through an Activation.
const Node* predictionConv(const Graph& graph, NodeId loss) {
    auto p = graph.producerOf({loss, "prediction"});
    const Node* n = p ? graph.findNode(p->node) : nullptr;
    if (n && n->op == "Activation") {
        p = graph.producerOf({n->id, "input"});
        n = p ? graph.findNode(p->node) : nullptr;
    }
    return n && (n->op == "Conv2D" || n->op == "Conv2DTranspose") ? n : nullptr;
}

std::string dataLabel(const Node& n) { return strCat("Dataset '", n.name, "'"); }

void checkEmptyAndFiles(const Node& node, const DataProbe& p, CheckResult& r) {
    if (!p.folderError.empty() || p.pairCount == 0) {
        std::string why = !p.folderError.empty()
                              ? p.folderError
                              : p.unpaired.empty()
                                    ? strCat("the folder holds no image files (png, jpg, tif, bmp)")
                                    : strCat("no image has a mask with the same file name (", p.unpaired.size(),
                                             " unpaired files: ", listNames(p.unpaired, 3), ")");
        add(r, Severity::Error, codes::kDatasetEmpty, node.id, "",
            strCat(dataLabel(node), " has no image/mask pairs: ", why,
                   ". Images pair with masks by file name (x.png ↔ x.png or x_mask.png)"));
        return;
    }
    if (!p.unpaired.empty()) {
        add(r, Severity::Warning, codes::kUnpairedFile, node.id, "",
            strCat(dataLabel(node), ": ", p.unpaired.size(), p.unpaired.size() == 1 ? " file has" : " files have",
                   " no partner and will be ignored: ", listNames(p.unpaired), " (", p.pairCount,
                   " pairs are used)"));
    }
    if (!p.unreadable.empty()) {
        const bool stop = attrString(node, "on_error") == "stop";
        std::vector<std::string> names;
        for (const auto& u : p.unreadable)
            names.push_back(u.name);
        auto& d = add(r, stop ? Severity::Error : Severity::Warning, codes::kDataFileUnreadable, node.id, "",
                      strCat(dataLabel(node), ": ", p.unreadable.size(),
                             p.unreadable.size() == 1 ? " file cannot" : " files cannot", " be read: ",
                             listNames(names), " — '", p.unreadable.front().name, "': ",
                             p.unreadable.front().reason,
                             stop ? ". on_error='stop' will stop training at the first one"
                                  : ". They are skipped (on_error='skip')"));
        if (stop)
            d.fixes.push_back(setAttr(node, "on_error", std::string("skip")));
    }
}

void checkSizes(const Node& node, const DataProbe& p, CheckResult& r) {
    const std::string policy = attrString(node, "size_policy");
    if (policy == "resize")
        return; // every image and mask is brought to height×width explicitly
    const auto& common = p.images;
    FixIt resize{strCat("Set size_policy='resize' with height×width ", sizeText(common.height, common.width),
                        " on '", node.name, "' (masks use nearest-neighbour)"),
                 {SetAttributeEdit{node.id, "size_policy", AttrValue{std::string("resize")}},
                  SetAttributeEdit{node.id, "height", AttrValue{std::int64_t{common.height}}},
                  SetAttributeEdit{node.id, "width", AttrValue{std::int64_t{common.width}}}}};
    if (!p.sizeMismatches.empty()) {
        const PairSizeMismatch& m = p.sizeMismatches.front();
        auto& d = add(r, Severity::Error, codes::kImageSizeMismatch, node.id, "mask",
                      strCat(dataLabel(node), ": image '", m.stem, "' is ", sizeText(m.imageHeight, m.imageWidth),
                             " but its mask is ", sizeText(m.maskHeight, m.maskWidth), " (",
                             p.sizeMismatches.size(), " of ", p.pairCount,
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
                sizes += strCat(shown > 1 ? ", " : "", sizeText(hw.first, hw.second), " (", count, ")");
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
        const std::int64_t want = c.schema->contract->layout == TargetLayout::ClassIndex ? 1 : pred->shape.channels();
        if (want == p.masks.channels)
            continue;
        std::string content;
        FixIt fix;
        const bool twoValues = p.maskHistogram.size() <= 2;
        if (p.maskChannelsEqual) {
            content = "every pixel has equal channels (a grey mask saved as colour)";
            fix = setAttr(node, "mask_mode", std::string(twoValues && want == 1 && c.schema->contract->layout != TargetLayout::ClassIndex ? "binary" : "class_index"));
        } else {
            content = strCat(p.tooManyColours ? "more than 256" : std::to_string(p.maskColours.size()),
                             " distinct colours (a colour-coded mask)");
            fix = setAttr(node, "mask_mode", std::string("palette"));
        }
        auto& d = add(r, Severity::Error, codes::kMaskChannels, node.id, "mask",
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
            return strCat("Keras/TensorFlow fail later with \"Received a label value of ", formatNumber(v.hi),
                          " which is outside the valid range of [0, ",
                          layout == TargetLayout::ClassIndex ? pred->shape.channels() : 2, ")\"");
        }();
        if (layout == TargetLayout::ClassIndex) {
            const std::int64_t classes = pred->shape.channels();
            const std::int64_t ignore = c.schema->findAttr("ignore_class") ? attrInt(*c.node, "ignore_class", -1) : -1;
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
            auto& d = add(r, Severity::Error, codes::kMaskValueRange, c.node->id, "target",
                          strCat(where, " needs class indices in [0, ", classes, ") for its ", classes,
                                 "-class prediction, but the masks of '", node.name, "' hold ",
                                 p.maskValuesText(), bad.empty() ? "" : strCat(" — out of range: ", badText),
                                 ". ", quote));
            if (bad.size() == 1 && bad.front() == 255 && c.schema->findAttr("ignore_class"))
                d.fixes.push_back(setAttr(*c.node, "ignore_class", std::int64_t{255}));
            if (!bad.empty() && bad.back() < 256) {
                if (const Node* conv = predictionConv(graph, c.node->id))
                    d.fixes.push_back(setAttr(*conv, "filters", std::int64_t{bad.back() + 1}));
            }
            continue;
        }
        // Binary targets (BCE, Dice, …): every value must be in [0, 1].
        if (v.lo >= 0 && v.hi <= 1)
            continue;
        auto& d = add(r, Severity::Error, codes::kMaskValueRange, c.node->id, "target",
                      strCat(where, " needs target values in [0, 1], but the masks of '", node.name,
                             "' reach it as ", target->toString(), " with values up to ", formatNumber(v.hi),
                             " (stored values ", p.maskValuesText(), ", ",
                             formatNumber(100.0 * p.maskValueShare(p.maskHistogram.empty() ? 0 : p.maskHistogram.rbegin()->first)),
                             "% of pixels at the top value). The loss is then meaningless. ", quote));
        if (p.maskHistogram.size() <= 2)
            d.fixes.push_back(setAttr(node, "mask_mode", std::string("binary")));
    }
}

} // namespace

std::vector<std::optional<TensorType>> datasetTypesFromProbe(const Node& dataset, const DataProbe& probe) {
    if (probe.pairCount == 0 || probe.images.channels == 0 || probe.masks.channels == 0)
        return {};
    const bool exact = attrString(dataset, "size_policy") == "exact";
    const std::int64_t h = exact ? probe.images.height : attrInt(dataset, "height", probe.images.height);
    const std::int64_t w = exact ? probe.images.width : attrInt(dataset, "width", probe.images.width);
    TensorType image{Shape::image(h, w, probe.images.channels), probe.images.dtype()};
    if (probe.images.rangeKnown)
        image.range = probe.images.range;

    const std::string mode = attrString(dataset, "mask_mode");
    TensorType mask{Shape::image(h, w, probe.masks.channels), probe.masks.dtype()};
    if (probe.masks.rangeKnown)
        mask.range = probe.masks.range;
    if (mode == "binary") {
        mask = TensorType{Shape::image(h, w, 1), DType::UInt8, ValueKind::Unknown, ValueRange{0, 1}};
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
        const double top = probe.masks.channels >= 3 ? static_cast<double>(probe.maskColours.size()) - 1
                           : probe.maskHistogram.empty() ? 0.0
                                                         : static_cast<double>(probe.maskHistogram.rbegin()->first);
        mask = TensorType{Shape::image(h, w, 1), DType::UInt8, ValueKind::Unknown, ValueRange{0, std::max(0.0, top)}};
    }
    return {image, mask};
}

void checkDatasets(const Graph& graph, const std::unordered_map<NodeId, DataProbe>& probes,
                   CheckResult& result) {
    for (const auto& [id, probe] : probes) {
        const Node* node = graph.findNode(id);
        if (!node || node->op != "Dataset")
            continue;
        checkEmptyAndFiles(*node, probe, result);
        if (probe.pairCount == 0)
            continue;
        checkSizes(*node, probe, result);
        checkMaskChannels(graph, *node, probe, result);
        checkMaskValues(graph, *node, probe, result);
    }
}

} // namespace segforge::core
