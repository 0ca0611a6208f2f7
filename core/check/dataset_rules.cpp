#include "check/dataset_rules.hpp"

#include "check/checker.hpp"
#include "check/data_rule_support.hpp"
#include "check/mask_target_rules.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <map>

namespace segforge::core {

using namespace data_rules;

namespace {

std::string listNames(const std::vector<std::string>& names, std::size_t max = 5) {
    std::string out;
    for (std::size_t i = 0; i < names.size() && i < max; ++i)
        out += strCat(i ? ", " : "", "'", names[i], "'");
    if (names.size() > max)
        out += strCat(" and ", names.size() - max, " more");
    return out;
}

/// mask-not-binary: a binary mask may have up to this share of pixels between
/// its two levels (antialiased edges), a ramp or a class-index mask has far more.
constexpr double kMaxBetweenShare = 0.05;

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
