#include "check/causal_fixes.hpp"

#include "check/fix_verification.hpp"
#include "check/size_lineage.hpp"
#include "check/valid_input_sizes.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <deque>
#include <map>
#include <set>
#include <tuple>

namespace segforge::core {
namespace {

/// Rewire candidates offered per finding: the nearest few.
constexpr std::size_t kMaxRewires = 3;
/// Rewires offered together with a cause fix that resizes the other input.
constexpr std::size_t kMaxCombinedRewires = 2;

std::string hw(const Shape& s) {
    return strCat(s.height(), "×", s.width());
}
std::string hwc(const Shape& s) {
    return strCat(s.height(), "×", s.width(), "×", s.channels());
}
bool sameSize(const Shape& a, const Shape& b) {
    return a.height() == b.height() && a.width() == b.width();
}
double area(const Shape& s) {
    return static_cast<double>(s.height()) * static_cast<double>(s.width());
}

std::string nameList(const std::vector<const Node*>& nodes) {
    std::string out;
    for (std::size_t i = 0; i < nodes.size(); ++i)
        out += strCat(i == 0 ? "" : ", ", "'", nodes[i]->name, "'");
    return out;
}

/// "cuts 1 row", "adds 2 rows and 2 columns": what a layer does to the size.
std::string sizeChange(const Shape& in, const Shape& out) {
    const std::int64_t dh = out.height() - in.height();
    const std::int64_t dw = out.width() - in.width();
    auto part = [](std::int64_t d, const char* what, bool verb) -> std::string {
        if (d == 0)
            return {};
        const std::int64_t n = d < 0 ? -d : d;
        return strCat(verb ? (d < 0 ? "cuts " : "adds ") : "", n, " ", what, n == 1 ? "" : "s");
    };
    const std::string rows = part(dh, "row", true);
    const std::string cols = part(dw, "column", rows.empty() || (dh < 0) != (dw < 0));
    return rows.empty() ? cols : (cols.empty() ? rows : rows + " and " + cols);
}

/// The edits of a script as text, sorted: two fixes with the same key are one.
std::vector<std::string> editKey(const Graph& graph, const EditScript& edits) {
    std::vector<std::string> key;
    for (const GraphEdit& e : edits)
        key.push_back(describeEdit(graph, e));
    std::sort(key.begin(), key.end());
    return key;
}

/// Finds the fixes for one mismatch; holds what the steps share.
struct CausalSearch {
    const Graph& graph;
    const Adjacency& adj;
    const CheckResult& result;
    const OpRegistry& registry;
    const Mismatch& m;

    const OpSchema* schemaOf(const Node& n) const { return registry.find(n.op); }

    std::optional<Shape> outputShape(NodeId id) const {
        const Node* n = graph.findNode(id);
        const OpSchema* s = n ? schemaOf(*n) : nullptr;
        if (!s || s->outputs.empty())
            return std::nullopt;
        auto t = result.typeOf({id, s->outputs.front().name});
        if (!t || t->shape.rank() != 4)
            return std::nullopt;
        return t->shape;
    }

    /// A layer that only crops or pads: no resampling, no weights, one image
    /// in and out with the same channels and another height or width.
    bool onlyResizesBorder(const Node& n, Shape* in, Shape* out) const {
        const OpSchema* s = schemaOf(n);
        if (!s || s->traits.resampling != Resampling::None || s->traits.validPaddingTrims ||
            s->outputs.size() != 1 || !result.paramsOf(n.id).empty())
            return false;
        const auto& inputs = adj.into(n.id);
        if (inputs.size() != 1 || adj.from(n.id).empty())
            return false;
        auto inType = result.typeOf(inputs.front().from);
        auto outShape = outputShape(n.id);
        if (!inType || inType->shape.rank() != 4 || !outShape)
            return false;
        if (sameSize(inType->shape, *outShape) || inType->shape.channels() != outShape->channels())
            return false;
        *in = inType->shape;
        *out = *outShape;
        return true;
    }

    /// Removing the node: its producer feeds its consumers directly.
    void removal(const Node& n, const Shape& in, const Shape& out, const Operand& self,
                 const Operand& other, std::vector<FixIt>& fixes) const {
        FixIt fix;
        fix.rank = FixRank::Cause;
        const Edge feed = adj.into(n.id).front();
        fix.edits.push_back(RemoveNodeEdit{n.id});
        for (const Edge& e : adj.from(n.id))
            fix.edits.push_back(ConnectEdit{Edge{feed.from, e.to}});
        fix.description = strCat("Remove ", n.op, " '", n.name, "'");
        const bool cuts = area(out) < area(in);
        fix.reason = strCat("it ", sizeChange(in, out), " on the way to input '", self.port,
                            "', which input '", other.port, "' ('", other.producer->name, "', ",
                            hw(other.shape), ") ", cuts ? "keeps" : "does not have");
        fixes.push_back(std::move(fix));
    }

    /// Changing the node's crop (or pad) amounts so that its branch arrives
    /// with the other operand's size, where the amounts stay non-negative.
    void correction(const Node& n, const Shape& in, const Shape& out, const Operand& self,
                    const Operand& other, std::vector<FixIt>& fixes) const {
        const OpSchema* s = schemaOf(n);
        std::string attr;
        std::vector<std::int64_t> amounts;
        for (const AttrSpec& spec : s->attrs) {
            auto v = ops::resolvedAttr(n, spec.name);
            const auto* list = v ? std::get_if<std::vector<std::int64_t>>(&*v) : nullptr;
            if (!list || list->size() != 4)
                continue;
            if (!attr.empty())
                return; // two candidates: which one sizes the output is unclear
            attr = spec.name;
            amounts = *list;
        }
        if (attr.empty())
            return;
        const std::int64_t effect[2] = {out.height() - in.height(), out.width() - in.width()};
        const std::int64_t need[2] = {other.shape.height() - self.shape.height(),
                                      other.shape.width() - self.shape.width()};
        int sign = 0; // -1: the amounts are removed (crop), +1: added (pad)
        for (int a = 0; a < 2; ++a) {
            const std::int64_t sum = amounts[2 * a] + amounts[2 * a + 1];
            if (sum == 0)
                continue;
            const int axisSign = effect[a] == -sum ? -1 : (effect[a] == sum ? 1 : 0);
            if (axisSign == 0 || (sign != 0 && axisSign != sign))
                return;
            sign = axisSign;
        }
        if (sign == 0)
            return;
        std::vector<std::int64_t> fixed = amounts;
        for (int a = 0; a < 2; ++a) {
            const std::int64_t sum = amounts[2 * a] + amounts[2 * a + 1];
            const std::int64_t wanted = sign * (effect[a] + need[a]);
            if (wanted < 0)
                return;
            auto& first = fixed[static_cast<std::size_t>(2 * a)];
            auto& second = fixed[static_cast<std::size_t>(2 * a + 1)];
            if (first == second) { // symmetric stays symmetric (the extra pixel at the end)
                first = wanted / 2;
                second = wanted - wanted / 2;
                continue;
            }
            second += wanted - sum;
            if (second < 0) {
                first += second;
                second = 0;
            }
        }
        if (fixed == amounts ||
            std::all_of(fixed.begin(), fixed.end(), [](std::int64_t v) { return v == 0; }))
            return; // unchanged, or the same as removing it
        FixIt fix;
        fix.rank = FixRank::Cause;
        fix.edits.push_back(SetAttributeEdit{n.id, attr, AttrValue{fixed}});
        fix.description =
            strCat("Set ", attr, " of ", n.op, " '", n.name, "' to ", attrToString(fixed));
        fix.reason = strCat("it ", sizeChange(in, out), " on the way to input '", self.port,
                            "', which then is ", hw(self.shape), " where input '", other.port,
                            "' is ", hw(other.shape));
        fixes.push_back(std::move(fix));
    }

    void borderLayerFixes(std::vector<FixIt>& fixes) const {
        for (const auto* side : {&m.x, &m.y}) {
            const Operand& other = side == &m.x ? m.y : m.x;
            for (NodeId id : side->branch) {
                const Node& n = *graph.findNode(id);
                Shape in, out;
                if (!onlyResizesBorder(n, &in, &out))
                    continue;
                removal(n, in, out, *side, other, fixes);
                correction(n, in, out, *side, other, fixes);
            }
        }
    }

    /// Layers that resample by a stride of 3 or more: no U-Net level does that,
    /// but a Keras 1 `Conv2D(64, 3, 3)` (a 3×3 kernel) read by Keras 2 does
    /// (kernel 3, strides 3).
    std::vector<const Node*> oddStrides(const std::set<NodeId>& among) const {
        std::vector<const Node*> found;
        for (NodeId id : among) {
            const Node& n = *graph.findNode(id);
            const OpSchema* s = schemaOf(n);
            if (!s || s->traits.resampling != Resampling::ByStrides)
                continue;
            auto strides = ops::resolvedAttr(n, "strides");
            const auto* st = strides ? std::get_if<std::vector<std::int64_t>>(&*strides) : nullptr;
            if (st && std::any_of(st->begin(), st->end(), [](std::int64_t v) { return v >= 3; }))
                found.push_back(&n);
        }
        return found;
    }

    void strideFixes(std::vector<FixIt>& fixes) const {
        std::set<NodeId> all = m.x.ancestors;
        all.insert(m.y.ancestors.begin(), m.y.ancestors.end());
        std::set<NodeId> branches = m.x.branch;
        branches.insert(m.y.branch.begin(), m.y.branch.end());
        std::vector<std::vector<const Node*>> sets{oddStrides(all)};
        if (auto onBranches = oddStrides(branches);
            !onBranches.empty() && onBranches.size() != sets.front().size())
            sets.push_back(std::move(onBranches));
        for (const auto& nodes : sets) {
            if (nodes.empty())
                continue;
            FixIt fix;
            fix.rank = FixRank::Cause;
            for (const Node* n : nodes)
                fix.edits.push_back(
                    SetAttributeEdit{n->id, "strides", AttrValue{std::vector<std::int64_t>{1, 1}}});
            fix.description = strCat("Set strides back to 1 on ", nameList(nodes));
            fix.reason = strCat(nodes.size() == 1 ? "its stride of 3 or more shrinks"
                                                  : "their strides of 3 or more shrink",
                                " the image on the way to '", m.node->name, "' (", hw(m.x.shape),
                                " and ", hw(m.y.shape),
                                "); a Keras 1 Conv2D(64, 3, 3) meant a 3×3 kernel, Keras 2 reads "
                                "the second 3 as strides");
            fixes.push_back(std::move(fix));
        }
    }

    /// With padding='valid' the layer changes the size where 'same' would keep
    /// it (or scale it by exactly its strides): a convolution with a kernel
    /// above 1 trims, a transposed one with a kernel above its strides grows.
    bool validPaddingResizes(const Node& n) const {
        const OpSchema* s = schemaOf(n);
        if (!s || !s->findAttr("padding"))
            return false;
        auto padding = ops::resolvedAttr(n, "padding");
        const auto* p = padding ? std::get_if<std::string>(&*padding) : nullptr;
        if (!p || *p != "valid")
            return false;
        auto list = [&](std::string_view name) {
            auto v = ops::resolvedAttr(n, name);
            const auto* l = v ? std::get_if<std::vector<std::int64_t>>(&*v) : nullptr;
            return l && l->size() == 2 ? *l : std::vector<std::int64_t>{1, 1};
        };
        const auto kernel = list("kernel_size");
        if (s->traits.validPaddingTrims)
            return kernel[0] > 1 || kernel[1] > 1;
        if (s->traits.resampling != Resampling::ByStrides)
            return false;
        const auto strides = list("strides");
        const auto dilation = list("dilation_rate");
        for (std::size_t a = 0; a < 2; ++a) {
            if (kernel[a] + (kernel[a] - 1) * (dilation[a] - 1) > strides[a])
                return true;
        }
        return false;
    }

    std::vector<const Node*> validPadding(const std::set<NodeId>& among) const {
        std::vector<const Node*> found;
        for (NodeId id : among) {
            const Node& n = *graph.findNode(id);
            if (validPaddingResizes(n))
                found.push_back(&n);
        }
        return found;
    }

    void paddingFixes(std::vector<FixIt>& fixes) const {
        std::set<NodeId> both = m.x.branch;
        both.insert(m.y.branch.begin(), m.y.branch.end());
        std::set<NodeId> all = m.x.ancestors;
        all.insert(m.y.ancestors.begin(), m.y.ancestors.end());
        std::vector<std::pair<std::vector<const Node*>, std::string>> sets;
        for (const auto* side : {&m.y, &m.x}) {
            sets.push_back({validPadding(side->branch), strCat("on the way to input '", side->port,
                                                               "' (", hw(side->shape), ")")});
        }
        sets.push_back({validPadding(both), "on both inputs' way"});
        sets.push_back({validPadding(all), "upstream"});
        std::set<std::vector<NodeId>> seen;
        for (const auto& [nodes, where] : sets) {
            std::vector<NodeId> ids;
            for (const Node* n : nodes)
                ids.push_back(n->id);
            if (nodes.empty() || !seen.insert(ids).second)
                continue;
            FixIt fix;
            fix.rank = FixRank::Cause;
            for (const Node* n : nodes)
                fix.edits.push_back(
                    SetAttributeEdit{n->id, "padding", AttrValue{std::string("same")}});
            fix.description = strCat("Set padding='same' on ", nameList(nodes));
            fix.reason =
                strCat("with padding='valid' ", nodes.size() == 1 ? "it changes" : "they change",
                       " the size ", where, "; '", m.node->name, "' receives ", hw(m.x.shape),
                       " and ", hw(m.y.shape));
            fixes.push_back(std::move(fix));
        }
        paddingWithoutBorderLayers(validPadding(all), all, fixes);
    }

    /// padding='same' on every layer upstream that 'valid' resizes makes the
    /// crops (or pads) that matched the skips to the trimmed decoder stale (the
    /// original U-Net's): they go with it, in one fix.
    void paddingWithoutBorderLayers(const std::vector<const Node*>& valid,
                                    const std::set<NodeId>& among,
                                    std::vector<FixIt>& fixes) const {
        if (valid.empty())
            return;
        std::vector<const Node*> border;
        std::set<NodeId> removed;
        for (NodeId id : among) {
            const Node& n = *graph.findNode(id);
            Shape in, out;
            if (onlyResizesBorder(n, &in, &out)) {
                border.push_back(&n);
                removed.insert(id);
            }
        }
        if (border.empty())
            return;
        FixIt fix;
        fix.rank = FixRank::Cause;
        for (const Node* n : valid)
            fix.edits.push_back(SetAttributeEdit{n->id, "padding", AttrValue{std::string("same")}});
        std::string names;
        for (const Node* n : border) {
            // The first producer that stays (border layers may follow each other).
            PortRef feed = adj.into(n->id).front().from;
            while (removed.count(feed.node) && adj.into(feed.node).size() == 1)
                feed = adj.into(feed.node).front().from;
            fix.edits.push_back(RemoveNodeEdit{n->id});
            for (const Edge& e : adj.from(n->id)) {
                if (!removed.count(e.to.node))
                    fix.edits.push_back(ConnectEdit{Edge{feed, e.to}});
            }
            names += strCat(names.empty() ? "" : ", ", n->op, " '", n->name, "'");
        }
        fix.description = strCat("Set padding='same' on ", nameList(valid), ", and remove ", names);
        fix.reason =
            strCat("with padding='valid' they trim the image, and the ",
                   border.size() == 1 ? "layer that crops or pads" : "layers that crop or pad",
                   " only made up for it; '", m.node->name, "' receives ", hw(m.x.shape), " and ",
                   hw(m.y.shape));
        fixes.push_back(std::move(fix));
    }

    /// Undirected hops from `start`, for "nearest level first".
    std::map<NodeId, int> distancesFrom(NodeId start) const {
        std::map<NodeId, int> dist{{start, 0}};
        std::deque<NodeId> queue{start};
        while (!queue.empty()) {
            const NodeId id = queue.front();
            queue.pop_front();
            auto visit = [&](NodeId next) {
                if (dist.emplace(next, dist[id] + 1).second)
                    queue.push_back(next);
            };
            for (const Edge& e : adj.into(id))
                visit(e.from.node);
            for (const Edge& e : adj.from(id))
                visit(e.to.node);
        }
        return dist;
    }

    /// A skip (an input whose producer the other input also depends on) wired
    /// from another upstream node that has the other input's height and width.
    /// `prefix` (a cause fix) is applied first when not empty.
    void rewireFixes(bool sameChannels, const FixIt* prefix, std::size_t cap,
                     std::vector<FixIt>& fixes) const {
        for (const auto* skip : {&m.x, &m.y}) {
            const Operand& other = skip == &m.x ? m.y : m.x;
            if (!other.ancestors.count(skip->producer->id))
                continue;
            std::set<NodeId> upstream = m.x.ancestors;
            upstream.insert(m.y.ancestors.begin(), m.y.ancestors.end());
            const auto dist = distancesFrom(skip->producer->id);
            struct Candidate {
                bool tap;
                int distance;
                PortRef port;
                Shape shape;
            };
            std::vector<Candidate> found;
            for (NodeId id : upstream) {
                if (id == skip->producer->id || id == other.producer->id)
                    continue;
                const Node& n = *graph.findNode(id);
                const OpSchema* s = schemaOf(n);
                if (!s)
                    continue;
                for (const PortSpec& o : s->outputs) {
                    auto t = result.typeOf({id, o.name});
                    if (!t || t->shape.rank() != 4 || !sameSize(t->shape, other.shape) ||
                        t->dtype != DType::Float32 ||
                        (sameChannels && t->shape.channels() != other.shape.channels()))
                        continue;
                    // The last node of a level: a consumer makes the image smaller.
                    bool tap = false;
                    for (const Edge& e : adj.from(id)) {
                        auto next = outputShape(e.to.node);
                        tap =
                            tap || (e.from.port == o.name && next && area(*next) < area(t->shape));
                    }
                    auto d = dist.find(id);
                    found.push_back(
                        {tap, d == dist.end() ? 1 << 20 : d->second, {id, o.name}, t->shape});
                }
            }
            std::stable_sort(found.begin(), found.end(),
                             [](const Candidate& a, const Candidate& b) {
                                 return std::tie(b.tap, a.distance) < std::tie(a.tap, b.distance);
                             });
            if (found.size() > cap)
                found.resize(cap);
            for (const Candidate& c : found) {
                const Node& n = *graph.findNode(c.port.node);
                FixIt fix;
                fix.rank = FixRank::Rewire;
                if (prefix)
                    fix.edits = prefix->edits;
                fix.edits.push_back(DisconnectEdit{skip->edge});
                fix.edits.push_back(ConnectEdit{Edge{c.port, skip->edge.to}});
                fix.description = strCat("Wire input '", skip->port, "' from '", n.name, "' (",
                                         n.op, ", ", hwc(c.shape), ") instead of '",
                                         skip->producer->name, "' (", hwc(skip->shape), ")");
                if (prefix) {
                    std::string then = prefix->description;
                    if (!then.empty())
                        then[0] =
                            static_cast<char>(std::tolower(static_cast<unsigned char>(then[0])));
                    fix.description += ", and " + then;
                }
                fix.reason =
                    strCat("'", n.name, "' is ", c.tap ? "the last node of a level" : "a node",
                           " upstream with the size input '", other.port, "' has (",
                           hw(other.shape), "): the skip looks wired to the wrong level");
                fixes.push_back(std::move(fix));
            }
        }
    }
};

/// The factor a resampling layer scales by on both axes (its `size`, or its
/// `strides` falling back to its `pool_size`), nullopt when the axes differ.
std::optional<std::int64_t> resamplingFactor(const Node& n, Resampling kind) {
    auto pair = [&n](std::string_view name) -> std::optional<std::int64_t> {
        auto v = ops::resolvedAttr(n, name);
        const auto* list = v ? std::get_if<std::vector<std::int64_t>>(&*v) : nullptr;
        if (!list || list->size() != 2 || (*list)[0] != (*list)[1])
            return std::nullopt;
        return (*list)[0];
    };
    if (kind == Resampling::Up)
        return pair("size");
    auto strides = pair("strides");
    return strides && *strides > 0 ? strides : pair("pool_size");
}

/// An encoder whose poolings divide by another factor than its decoder's
/// upsamplings multiply by (pool_size=3 against UpSampling2D(2)): no input
/// size makes the levels meet. Offered as the cause of a collapse or a size
/// mismatch when every upsampling shares one factor u, there are as many
/// poolings as upsamplings, and some poolings use another factor: set those
/// to u.
std::optional<FixIt> resamplingFactorFix(const Graph& graph, const CheckOptions& options,
                                         const OpRegistry& registry) {
    std::vector<const Node*> downs;
    std::vector<std::int64_t> downFactors;
    std::optional<std::int64_t> up;
    std::size_t ups = 0;
    for (const auto& [id, n] : graph.nodes()) {
        const Resampling kind = ops::traitsOf(n).resampling;
        if (kind != Resampling::Up && kind != Resampling::Down)
            continue;
        auto factor = resamplingFactor(n, kind);
        if (!factor)
            return std::nullopt;
        if (kind == Resampling::Down) {
            downs.push_back(&n);
            downFactors.push_back(*factor);
            continue;
        }
        if (up && *up != *factor)
            return std::nullopt;
        up = factor;
        ++ups;
    }
    if (!up || *up < 2 || ups != downs.size())
        return std::nullopt;
    FixIt fix;
    std::vector<const Node*> changed;
    std::int64_t other = 0;
    for (std::size_t i = 0; i < downs.size(); ++i) {
        if (downFactors[i] == *up)
            continue;
        changed.push_back(downs[i]);
        other = downFactors[i];
        const std::vector<std::int64_t> size{*up, *up};
        fix.edits.push_back(SetAttributeEdit{downs[i]->id, "pool_size", AttrValue{size}});
        fix.edits.push_back(SetAttributeEdit{downs[i]->id, "strides", std::nullopt});
    }
    if (changed.empty())
        return std::nullopt;
    std::string names;
    for (std::size_t i = 0; i < changed.size(); ++i)
        names += strCat(i ? ", '" : "'", changed[i]->name, "'");
    fix.description = strCat("Set pool_size=", *up, " on ", names);
    // With the levels meeting again, the input size must survive the new
    // poolings too: the nearest size that does comes with the fix.
    Graph copy = graph;
    if (!applyEdits(copy, fix.edits).ok)
        return std::nullopt;
    const InputSizeReport sizes =
        validInputSizes(copy, checkGraph(copy, recheckOptions(options), registry), registry);
    if (sizes.applicable && !(sizes.height.currentWorks && sizes.width.currentWorks)) {
        if (sizes.height.nearest <= 0 || sizes.width.nearest <= 0)
            return std::nullopt;
        for (NodeId id : sizes.sources) {
            fix.edits.push_back(SetAttributeEdit{id, "height", AttrValue{sizes.height.nearest}});
            fix.edits.push_back(SetAttributeEdit{id, "width", AttrValue{sizes.width.nearest}});
        }
        fix.description +=
            strCat(", and the input size to ", sizes.height.nearest, "×", sizes.width.nearest);
    }
    fix.rank = FixRank::Cause;
    fix.reason = strCat("the decoder upsamples by ", *up, " at each of its ", ups, " levels, but ",
                        changed.size() == 1 ? "this pooling divides" : "these poolings divide",
                        " by ", other, ": the levels can never meet");
    return fix;
}

bool isSizeMismatch(std::string_view code) {
    return code == codes::kConcatShapeMismatch || code == codes::kElementwiseShapeMismatch ||
           code == codes::kLossShapeMismatch;
}

/// The op's own fixes that carry no rank: an inserted node patches the
/// symptom (costly when it crops or pads a large share of a tensor), a change
/// of attributes upstream undoes a cause.
void rankOwnFixes(const Mismatch& m, std::vector<FixIt>& fixes) {
    for (FixIt& fix : fixes) {
        if (fix.rank != FixRank::Direct)
            continue;
        const bool inserts = std::any_of(fix.edits.begin(), fix.edits.end(), [](const auto& e) {
            return std::holds_alternative<AddNodeEdit>(e);
        });
        if (!inserts) {
            fix.rank = FixRank::Cause;
            if (fix.reason.empty())
                fix.reason = strCat("'", m.node->name, "' receives ", hw(m.x.shape), " and ",
                                    hw(m.y.shape), "; this undoes what changed the size");
            continue;
        }
        fix.rank = FixRank::Mechanical;
        const Operand* patched = nullptr;
        for (const GraphEdit& e : fix.edits) {
            if (const auto* c = std::get_if<ConnectEdit>(&e); c && c->edge.to.node == m.node->id)
                patched = c->edge.to.port == m.x.port ? &m.x : &m.y;
        }
        const Operand& other = patched == &m.x ? m.y : m.x;
        if (!patched || sameSize(patched->shape, other.shape))
            continue;
        const double small = std::min(area(patched->shape), area(other.shape));
        const double large = std::max(area(patched->shape), area(other.shape));
        const double share = 1.0 - small / large;
        if (share <= ops::kCostlyPixelShare)
            continue;
        const int percent = static_cast<int>(std::lround(100 * share));
        fix.rank = FixRank::Costly;
        fix.reason = area(patched->shape) > area(other.shape)
                         ? strCat("crops away ", percent, " % of '", patched->producer->name, "'")
                         : strCat(percent, " % of '", patched->producer->name, "' padded to ",
                                  hw(other.shape), " would be zeros");
    }
}

} // namespace

void addCausalFixes(const Graph& graph, const CheckOptions& options, const OpRegistry& registry,
                    CheckResult& result) {
    std::optional<Adjacency> adj;
    std::optional<std::optional<FixIt>> factorFix; // computed once, when needed
    for (Diagnostic& d : result.diagnostics) {
        if (d.code == codes::kSpatialCollapse || isSizeMismatch(d.code)) {
            if (!factorFix)
                factorFix = resamplingFactorFix(graph, options, registry);
            if (*factorFix)
                d.fixes.insert(d.fixes.begin(), **factorFix);
        }
        if (!isSizeMismatch(d.code) || d.node == kNoNode)
            continue;
        const Node* node = graph.findNode(d.node);
        const OpSchema* schema = node ? registry.find(node->op) : nullptr;
        if (!schema)
            continue;
        const std::vector<std::string> ports = schema->inputNames(*node);
        if (ports.size() < 2)
            continue;
        const std::string other = d.port == ports[0] ? ports[1] : ports[0];
        if (!adj)
            adj.emplace(graph);
        auto m = mismatchAt(graph, *adj, result, d.node, d.port, other);
        if (!m || sameSize(m->x.shape, m->y.shape))
            continue;
        const CausalSearch search{graph, *adj, result, registry, *m};
        std::vector<FixIt> causes;
        search.borderLayerFixes(causes);
        search.strideFixes(causes);
        search.paddingFixes(causes);

        std::vector<FixIt> rewires;
        const bool merge = d.code != codes::kLossShapeMismatch;
        const bool sameChannels = d.code == codes::kElementwiseShapeMismatch;
        if (merge) {
            search.rewireFixes(sameChannels, nullptr, kMaxRewires, rewires);
            // A cause fix that resizes the other input but not to the skip's
            // size: the skip may come from the wrong level as well.
            std::size_t combined = 0;
            const CheckOptions recheck = recheckOptions(options);
            for (const FixIt& cause : causes) {
                if (combined >= kMaxCombinedRewires)
                    break;
                Graph copy = graph;
                if (!applyEdits(copy, cause.edits).ok || !copy.hasNode(d.node))
                    continue;
                const CheckResult after = checkGraph(copy, recheck, registry);
                const Adjacency copyAdj(copy);
                auto m2 = mismatchAt(copy, copyAdj, after, d.node, d.port, other);
                if (!m2 || sameSize(m2->x.shape, m2->y.shape) ||
                    (sameSize(m2->x.shape, m->x.shape) && sameSize(m2->y.shape, m->y.shape)))
                    continue;
                const CausalSearch then{copy, copyAdj, after, registry, *m2};
                const std::size_t before = rewires.size();
                then.rewireFixes(sameChannels, &cause, kMaxCombinedRewires - combined, rewires);
                combined += rewires.size() - before;
            }
        }

        rankOwnFixes(*m, d.fixes);
        std::set<std::vector<std::string>> known;
        for (const FixIt& f : d.fixes)
            known.insert(editKey(graph, f.edits));
        std::vector<FixIt> all;
        for (auto* list : {&causes, &rewires}) {
            for (FixIt& f : *list) {
                if (known.insert(editKey(graph, f.edits)).second)
                    all.push_back(std::move(f));
            }
        }
        for (FixIt& f : d.fixes)
            all.push_back(std::move(f));
        d.fixes = std::move(all);
    }
}

} // namespace segforge::core
