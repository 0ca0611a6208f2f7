#include "check/graph_rules.hpp"

#include "check/checker.hpp"
#include "check/valid_input_sizes.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/loss_common.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <unordered_set>

namespace segforge::core {
namespace {

std::string portName(const Graph& g, const PortRef& p) {
    const Node* n = g.findNode(p.node);
    return strCat("'", n ? n->name : "?", "'.", p.port);
}

bool isSource(const OpRegistry& registry, const Node& node) {
    const OpSchema* s = registry.find(node.op);
    return s && s->role == OpRole::Source;
}

bool hasConsumers(const Graph& graph, const PortRef& output) {
    return std::any_of(graph.edges().begin(), graph.edges().end(),
                       [&](const Edge& e) { return e.from == output; });
}

} // namespace

std::vector<FixIt> dtypeFixes(const Graph& graph, const Edge& edge, const TensorType& have,
                              DType want) {
    std::vector<FixIt> fixes;
    const std::string where =
        strCat(" between ", portName(graph, edge.from), " and ", portName(graph, edge.to));
    auto cast = [&](DType to) {
        Node n = ops::makeNode(ops::kCastOp, "cast", {{"dtype", std::string(dtypeName(to))}});
        return FixIt{strCat("Insert Cast(", dtypeName(to), ")", where),
                     insertNodeOnEdge(graph, edge, std::move(n), "input", "output")};
    };
    if (want != DType::Float32) {
        fixes.push_back(cast(want));
        return fixes;
    }
    // A mask reaching a loss's target: what the values are decides the repair.
    const Node* loss = graph.findNode(edge.to.node);
    const OpSchema* lossSchema = loss ? OpRegistry::builtin().find(loss->op) : nullptr;
    if (lossSchema && lossSchema->role == OpRole::Loss && lossSchema->contract &&
        edge.to.port == "target") {
        const TargetLayout layout = lossSchema->contract->layout;
        const ops::ClassIndexTarget indices = ops::classIndexTarget(graph, edge.from, have);
        if (indices.indices && layout != TargetLayout::ClassIndex) {
            // Class indices: neither a cast nor a rescale makes them per-channel values.
            fixes.push_back(ops::classIndexLossFix(graph, *loss, indices.classes));
            return fixes;
        }
        if (have.range && have.range->lo >= 0 && have.range->hi <= 1) {
            // 0/1 masks are already the values the loss wants: never rescale them.
            FixIt f = cast(DType::Float32);
            f.reason = "the mask already holds 0 and 1";
            fixes.push_back(std::move(f));
            return fixes;
        }
        const Node* dataset = ops::maskDatasetOf(graph, edge.from);
        auto mode = dataset ? ops::resolvedAttr(*dataset, "mask_mode") : std::nullopt;
        if (dataset && layout == TargetLayout::SameChannels && have.range &&
            (have.range->hi == 255 || have.range->hi == 65535) && mode &&
            std::get<std::string>(*mode) == "as_stored") {
            // 0/255 (0/65535) masks: binary mode makes them 0/1 at the source,
            // whatever later reads them (metrics, exported scripts).
            FixIt f = cast(DType::Float32);
            f.edits.insert(f.edits.begin(), SetAttributeEdit{dataset->id, "mask_mode",
                                                             AttrValue{std::string("binary")}});
            f.description = strCat("Set mask_mode='binary' on '", dataset->name,
                                   "' (non-zero → 1) and insert Cast(float32)", where);
            f.rank = FixRank::Cause;
            f.reason =
                strCat("masks of 0 and ", formatNumber(have.range->hi), " are binary foreground");
            fixes.push_back(std::move(f));
            // Rescaling gives the same 0/1 here, but only on this wire.
            const double hi = have.range->hi;
            FixIt rescale{
                strCat("Insert Rescale(scale=1/", formatNumber(hi), ")", where, " (0/",
                       formatNumber(hi), " → 0/1 float32)"),
                insertNodeOnEdge(graph, edge,
                                 ops::makeNode(ops::kRescaleOp, "rescale", {{"scale", 1.0 / hi}}),
                                 "input", "output"),
                FixRank::Mechanical,
                "only this wire sees 0/1; the Dataset still gives 0/" + formatNumber(hi)};
            fixes.push_back(std::move(rescale));
            return fixes;
        }
    }
    // Unsigned pixels (u8, u16) are scaled by their type's maximum.
    const double typeMax = unsignedMax(have.dtype);
    const std::string maxText = typeMax == 255.0 ? "255" : "65535";
    Node rescaleNode =
        ops::makeNode(ops::kRescaleOp, "rescale", {{"scale", typeMax > 0 ? 1.0 / typeMax : 1.0}});
    FixIt rescale{strCat("Insert Rescale(scale=1/", maxText, ")", where, " (0..", maxText,
                         " → 0..1 float32)"),
                  insertNodeOnEdge(graph, edge, std::move(rescaleNode), "input", "output")};
    // 8-bit data is almost always 0..255 pixels or 0/255 masks, 16-bit data
    // 0..65535 pixels: scale it. Integer masks (class indices, 0/1) keep their
    // values: cast them.
    const bool pixels = (have.dtype == DType::UInt8 && (!have.range || have.range->hi > 1)) ||
                        (have.dtype == DType::UInt16 && (!have.range || have.range->hi > 255));
    if (pixels) {
        fixes.push_back(std::move(rescale));
        fixes.push_back(cast(DType::Float32));
    } else {
        fixes.push_back(cast(DType::Float32));
        if (typeMax > 0)
            fixes.push_back(std::move(rescale));
    }
    return fixes;
}

void reportUnconnectedInputs(const Graph& graph, CheckResult& result,
                             const std::vector<PendingInput>& pending) {
    for (const PendingInput& p : pending) {
        const Node& node = *graph.findNode(p.node);
        const OpSchema* schema = OpRegistry::builtin().find(node.op);
        // A placeholder is reported as one (unsupported-layer, unsupported-op);
        // an input it reads from constants of the file has no wire to name.
        if (schema && schema->traits.placeholder)
            continue;
        Diagnostic d{Severity::Error,
                     std::string(codes::kUnconnectedInput),
                     p.node,
                     p.port,
                     strCat(node.op, " '", node.name, "': input '", p.port,
                            "' is not connected; every input needs exactly one producer"),
                     {}};
        // Suggest producers that would not create a cycle, best first: a matching
        // dtype, an output nobody consumes yet, a mask for a target, and recency.
        const auto downstream = graph.downstreamOf(p.node);
        struct Candidate {
            PortRef port;
            TensorType type;
            int score;
        };
        std::vector<Candidate> candidates;
        std::size_t rank = 0;
        for (NodeId id : result.order) {
            ++rank;
            if (downstream.count(id))
                continue;
            const auto& nc = result.nodes[id];
            for (std::size_t k = 0; k < nc.outputNames.size(); ++k) {
                if (!nc.outputs[k] || nc.outputs[k]->shape.rank() == 0)
                    continue;
                PortRef out{id, nc.outputNames[k]};
                int score = static_cast<int>(rank);
                const auto& ok = schema ? schema->acceptedDTypes(p.port) : std::vector<DType>{};
                if (std::find(ok.begin(), ok.end(), nc.outputs[k]->dtype) != ok.end())
                    score += 10000;
                if (!hasConsumers(graph, out))
                    score += 5000;
                if ((p.port == "target") == (out.port == "mask"))
                    score += 20000;
                candidates.push_back({out, *nc.outputs[k], score});
            }
        }
        std::stable_sort(candidates.begin(), candidates.end(),
                         [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
        for (std::size_t i = 0; i < candidates.size() && i < 3; ++i) {
            const Candidate& c = candidates[i];
            d.fixes.push_back({strCat("Connect ", portName(graph, c.port), " (", c.type.toString(),
                                      ") to '", node.name, "'.", p.port),
                               {ConnectEdit{{c.port, {p.node, p.port}}}}});
        }
        result.diagnostics.push_back(std::move(d));
    }
}

void checkHasLoss(const Graph& graph, const OpRegistry& registry, CheckResult& result) {
    if (graph.nodeCount() == 0)
        return;
    for (const auto& [id, node] : graph.nodes()) {
        const OpSchema* s = registry.find(node.op);
        if (s && s->role == OpRole::Loss)
            return;
    }
    Diagnostic d{Severity::Error,
                 std::string(codes::kNoLoss),
                 kNoNode,
                 "",
                 "the graph has no loss node, so it cannot be trained; connect the network's "
                 "output and the target mask to a loss (e.g. BCEDice)",
                 {}};
    // The prediction is the last image-shaped float32 output nobody consumes.
    std::optional<PortRef> prediction;
    std::optional<TensorType> predType;
    for (auto it = result.order.rbegin(); it != result.order.rend() && !prediction; ++it) {
        const Node& node = *graph.findNode(*it);
        const OpSchema* s = registry.find(node.op);
        if (!s || s->role != OpRole::Layer)
            continue;
        const auto& nc = result.nodes[*it];
        for (std::size_t k = 0; k < nc.outputNames.size(); ++k) {
            PortRef out{*it, nc.outputNames[k]};
            if (nc.outputs[k] && nc.outputs[k]->shape.rank() == 4 &&
                nc.outputs[k]->dtype == DType::Float32 && !hasConsumers(graph, out)) {
                prediction = out;
                predType = nc.outputs[k];
                break;
            }
        }
    }
    if (prediction) {
        const Node& pn = *graph.findNode(prediction->node);
        const bool binary = predType->shape.channels() == 1;
        Node loss = ops::makeNode(binary ? ops::kBCEDiceOp : ops::kSparseCategoricalCrossentropyOp,
                                  graph.uniqueName("loss"));
        loss.id = graph.nextNodeId();
        loss.position = {pn.position.x + 240, pn.position.y};
        EditScript edits{AddNodeEdit{loss}, ConnectEdit{{*prediction, {loss.id, "prediction"}}}};
        for (const auto& [id, node] : graph.nodes()) {
            const OpSchema* s = registry.find(node.op);
            if (s && s->traits.readsDataset) {
                edits.push_back(ConnectEdit{{{id, "mask"}, {loss.id, "target"}}});
                break;
            }
        }
        d.fixes.push_back({strCat("Add a ", loss.op, " loss on ", portName(graph, *prediction)),
                           std::move(edits)});
    }
    result.diagnostics.push_back(std::move(d));
}

void checkBatchNormBatchSize(const Graph& graph, CheckResult& result) {
    // For each node, the first upstream source that feeds batches of one.
    std::unordered_map<NodeId, NodeId> singleBatchSource;
    std::unordered_map<NodeId, std::vector<NodeId>> successors;
    bool anyBatchNorm = false;
    for (const auto& [id, node] : graph.nodes())
        anyBatchNorm = anyBatchNorm || ops::traitsOf(node).batchStatistics;
    if (!anyBatchNorm)
        return;
    for (const Edge& e : graph.edges())
        successors[e.from.node].push_back(e.to.node);
    for (NodeId id : result.order) {
        const Node& node = *graph.findNode(id);
        if (isSource(OpRegistry::builtin(), node)) {
            auto batch = ops::resolvedAttr(node, "batch_size");
            if (batch && std::get<std::int64_t>(*batch) == 1)
                singleBatchSource.emplace(id, id);
        }
        auto it = singleBatchSource.find(id);
        if (it == singleBatchSource.end())
            continue;
        const NodeId src = it->second;
        for (NodeId next : successors[id])
            singleBatchSource.emplace(next, src);
        if (!ops::traitsOf(node).batchStatistics)
            continue;
        // A 1×1 map with batch 1 is one value per channel: batchnorm-single-value says it.
        if (auto in = graph.producerOf({id, "input"})) {
            auto t = result.typeOf(*in);
            if (t && t->shape.rank() == 4 && t->shape.height() == 1 && t->shape.width() == 1)
                continue;
        }
        const Node& source = *graph.findNode(src);
        Diagnostic d{Severity::Warning,
                     std::string(codes::kBatchNormSmallBatch),
                     id,
                     "input",
                     strCat(node.op, " '", node.name, "' is trained with batch size 1 ('",
                            source.name,
                            "'.batch_size): its statistics come from a single image, "
                            "are noisy, and differ from the moving averages used at "
                            "inference, so validation results suffer. Use a batch of 8 "
                            "or more"),
                     {}};
        d.fixes.push_back(
            {strCat("Set batch_size=8 on '", source.name, "'"),
             {SetAttributeEdit{source.id, "batch_size", AttrValue{std::int64_t{8}}}}});
        result.diagnostics.push_back(std::move(d));
    }
}

void diagnoseInputSize(const Graph& graph, const OpRegistry& registry, CheckResult& result) {
    const Diagnostic* symptom = nullptr;
    for (const auto& d : result.diagnostics) {
        if (isSizeDependentCode(d.code)) {
            symptom = &d;
            break;
        }
    }
    if (!symptom)
        return;
    // Derived from the constraints the checker collected: exact, no sweep, no cap.
    const InputSizeReport report = validInputSizes(graph, result, registry);
    if (!report.applicable || (report.height.currentWorks && report.width.currentWorks) ||
        report.height.sizes.empty() || report.width.sizes.empty())
        return;

    const Node& source = *graph.findNode(report.sources.front());
    const Node* where = graph.findNode(symptom->node);
    const DimensionReport& h = report.height;
    const DimensionReport& w = report.width;
    auto choices = [](const DimensionReport& dim) {
        if (dim.currentWorks || dim.below == 0 || dim.above == 0 || dim.below == dim.above)
            return std::to_string(dim.nearest);
        return strCat(dim.below, " or ", dim.above);
    };
    Diagnostic d{Severity::Error,
                 std::string(codes::kInputSizeIndivisible),
                 source.id,
                 "",
                 strCat("input size ", h.current, "×", w.current, " of '", source.name,
                        "' does not survive the network's poolings and strides: the sizes no "
                        "longer agree at '",
                        where ? where->name : "?", "' (", symptom->code,
                        "). Heights that work: ", h.rule, "; widths that work: ", w.rule,
                        " (nearest: ", choices(h), " × ", choices(w), ")"),
                 {}};
    // The nearest size first, then the nearest below and above on every axis
    // that fails (a smaller input trains faster, a larger one keeps detail).
    std::vector<std::pair<std::int64_t, std::int64_t>> sizes{{h.nearest, w.nearest}};
    auto offer = [&sizes](std::int64_t height, std::int64_t width) {
        if (height > 0 && width > 0 &&
            std::find(sizes.begin(), sizes.end(), std::pair{height, width}) == sizes.end())
            sizes.emplace_back(height, width);
    };
    offer(h.currentWorks ? h.current : h.below, w.currentWorks ? w.current : w.below);
    offer(h.currentWorks ? h.current : h.above, w.currentWorks ? w.current : w.above);
    for (std::size_t i = 0; i < sizes.size(); ++i) {
        const auto [height, width] = sizes[i];
        FixIt fix{strCat("Set the input size to ", height, "×", width), {}};
        fix.rank = FixRank::Cause;
        const bool smaller = height * width < h.current * w.current;
        fix.reason = strCat("the cause is the input size: the network's poolings and strides "
                            "cannot carry ",
                            h.current, "×", w.current, "; ", height, "×", width, " is the ",
                            i == 0 ? "nearest" : (smaller ? "nearest smaller" : "nearest larger"),
                            " size that works");
        for (NodeId id : report.sources) {
            fix.edits.push_back(SetAttributeEdit{id, "height", AttrValue{height}});
            fix.edits.push_back(SetAttributeEdit{id, "width", AttrValue{width}});
        }
        if (i == 0) {
            // The nearest size is also offered where the symptom shows (the
            // Concatenate, the loss): there it undoes the cause. On the collapse
            // itself the layer's own repair (padding='same') stays first: the
            // input size is the alternative there.
            for (auto& other : result.diagnostics) {
                if (!isSizeDependentCode(other.code))
                    continue;
                FixIt here = fix;
                if (other.code == codes::kSpatialCollapse)
                    here.rank = FixRank::Direct;
                other.fixes.push_back(std::move(here));
            }
        }
        d.fixes.push_back(std::move(fix));
    }
    result.diagnostics.push_back(std::move(d));
}

} // namespace segforge::core
