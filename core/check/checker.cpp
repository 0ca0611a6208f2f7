#include "check/checker.hpp"

#include "check/causal_fixes.hpp"
#include "check/dataset_rules.hpp"
#include "check/fix_verification.hpp"
#include "check/graph_rules.hpp"
#include "check/training_rules.hpp"
#include "check/valid_input_sizes.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_ports.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <exception>
#include <unordered_set>

namespace segforge::core {
namespace {

std::string nodeRef(const Node& n) {
    return strCat(n.op, " '", n.name, "'");
}

/// One run of the checker over one graph: its state (schemas, resolved attributes,
/// incoming edges) and the steps that share it without globals.
struct GraphChecker {
    const Graph& graph;
    const OpRegistry& registry;
    CheckResult& result;
    std::unordered_map<NodeId, const OpSchema*> schemas;
    std::unordered_map<NodeId, AttrMap> attrs; ///< resolved, for nodes with valid attributes
    std::unordered_map<NodeId, std::vector<const Edge*>> incoming;
    std::vector<PendingInput> unconnected;
    const std::unordered_map<NodeId, DataProbe>* probes = nullptr;

    Diagnostic& add(Severity sev, std::string_view code, NodeId node, std::string port,
                    std::string message) {
        result.diagnostics.push_back(
            {sev, std::string(code), node, std::move(port), std::move(message), {}});
        return result.diagnostics.back();
    }

    void indexEdges() {
        for (const Edge& e : graph.edges()) {
            const Node* from = graph.findNode(e.from.node);
            const Node* to = graph.findNode(e.to.node);
            if (!from || !to) {
                auto& d =
                    add(Severity::Error, codes::kDanglingEdge,
                        from ? from->id : (to ? to->id : kNoNode), from ? e.from.port : e.to.port,
                        strCat("an edge refers to node #", from ? e.to.node : e.from.node,
                               ", which does not exist"));
                d.fixes.push_back({"Remove the dangling edge", {DisconnectEdit{e}}});
                continue;
            }
            const OpSchema* fs = registry.find(from->op);
            const OpSchema* ts = registry.find(to->op);
            if (fs && !hasOutputPort(*fs, *from, e.from.port)) {
                auto& d = add(Severity::Error, codes::kDanglingEdge, from->id, e.from.port,
                              strCat(nodeRef(*from), " has no output port '", e.from.port, "'"));
                d.fixes.push_back({"Remove the edge", {DisconnectEdit{e}}});
                continue;
            }
            if (ts && !ts->hasInput(*to, e.to.port)) {
                auto& d = add(Severity::Error, codes::kDanglingEdge, to->id, e.to.port,
                              strCat(nodeRef(*to), " has no input port '", e.to.port, "'"));
                d.fixes.push_back({"Remove the edge", {DisconnectEdit{e}}});
                continue;
            }
            incoming[e.to.node].push_back(&e);
        }
    }

    void validateNodes() {
        std::unordered_map<std::string, NodeId> names;
        for (const auto& [id, node] : graph.nodes()) {
            if (auto [it, fresh] = names.emplace(node.name, id); !fresh) {
                auto& d = add(Severity::Warning, codes::kDuplicateName, id, "",
                              strCat("two nodes are named '", node.name,
                                     "'; names must be unique to export the model"));
                d.fixes.push_back({"Rename to '" + graph.uniqueName(node.name) + "'",
                                   {RenameNodeEdit{id, graph.uniqueName(node.name)}}});
            }
            const OpSchema* schema = registry.find(node.op);
            if (!schema) {
                std::string guess = registry.suggest(node.op);
                auto& d = add(Severity::Error, codes::kBadAttribute, id, "",
                              strCat("node '", node.name, "' has unknown op '", node.op, "'",
                                     guess.empty() ? "" : " — did you mean " + guess + "?"));
                if (!guess.empty())
                    d.fixes.push_back({"Change op to " + guess, {SetOpEdit{id, guess}}});
                continue;
            }
            schemas[id] = schema;
            AttrMap resolved;
            bool ok = true;
            for (const auto& [key, value] : node.attrs) {
                if (schema->findAttr(key))
                    continue;
                ok = false;
                std::string guess;
                std::size_t best = 3;
                for (const auto& spec : schema->attrs) {
                    if (std::size_t dist = editDistance(key, spec.name); dist < best) {
                        best = dist;
                        guess = spec.name;
                    }
                }
                auto& d = add(Severity::Error, codes::kBadAttribute, id, "",
                              strCat(nodeRef(node), " has no attribute '", key, "'",
                                     guess.empty() ? "" : " — did you mean '" + guess + "'?"));
                EditScript rename{SetAttributeEdit{id, key, std::nullopt}};
                if (!guess.empty() && !node.attrs.count(guess)) {
                    rename.push_back(SetAttributeEdit{id, guess, value});
                    d.fixes.push_back(
                        {"Rename attribute '" + key + "' to '" + guess + "'", rename});
                }
                d.fixes.push_back(
                    {"Remove attribute '" + key + "'", {SetAttributeEdit{id, key, std::nullopt}}});
            }
            for (const auto& spec : schema->attrs) {
                auto it = node.attrs.find(spec.name);
                const AttrValue& raw = it == node.attrs.end() ? spec.defaultValue : it->second;
                std::string why;
                if (auto v = coerceAttribute(spec, raw, &why)) {
                    resolved.emplace(spec.name, std::move(*v));
                    continue;
                }
                ok = false;
                auto& d = add(Severity::Error, codes::kBadAttribute, id, "",
                              strCat(nodeRef(node), ": attribute '", spec.name, "': ", why));
                d.fixes.push_back({strCat("Reset '", spec.name, "' to its default ",
                                          attrToString(spec.defaultValue)),
                                   {SetAttributeEdit{id, spec.name, std::nullopt}}});
            }
            if (ok)
                attrs.emplace(id, std::move(resolved));
        }
    }

    /// Kahn's algorithm over the valid edges; leftovers are on (or behind) a cycle.
    void order() {
        std::unordered_map<NodeId, int> indegree;
        std::unordered_map<NodeId, std::vector<NodeId>> next;
        for (const auto& [id, node] : graph.nodes())
            indegree[id] = 0;
        for (const auto& [id, edges] : incoming) {
            for (const Edge* e : edges) {
                next[e->from.node].push_back(id);
                ++indegree[id];
            }
        }
        std::vector<NodeId> ready;
        for (const auto& [id, node] : graph.nodes()) {
            if (indegree[id] == 0)
                ready.push_back(id);
        }
        std::make_heap(ready.begin(), ready.end(), std::greater<>());
        while (!ready.empty()) {
            std::pop_heap(ready.begin(), ready.end(), std::greater<>());
            NodeId id = ready.back();
            ready.pop_back();
            result.order.push_back(id);
            for (NodeId n : next[id]) {
                if (--indegree[n] == 0) {
                    ready.push_back(n);
                    std::push_heap(ready.begin(), ready.end(), std::greater<>());
                }
            }
        }
        if (result.order.size() == graph.nodeCount())
            return;
        std::vector<NodeId> cycle = graph.findCycle();
        if (cycle.empty())
            return;
        std::string path;
        for (NodeId id : cycle)
            path += "'" + graph.findNode(id)->name + "' → ";
        path += "'" + graph.findNode(cycle.front())->name + "'";
        auto& d =
            add(Severity::Error, codes::kGraphCycle, cycle.front(), "",
                strCat("the graph has a cycle: ", path,
                       ". A tensor cannot depend on itself; the nodes on the cycle get no type"));
        // Break the cycle at the edge that closes it.
        for (const Edge& e : graph.edges()) {
            if (e.from.node == cycle.back() && e.to.node == cycle.front()) {
                d.fixes.push_back(
                    {strCat("Disconnect '", graph.findNode(e.from.node)->name, "'.", e.from.port,
                            " → '", graph.findNode(e.to.node)->name, "'.", e.to.port),
                     {DisconnectEdit{e}}});
                break;
            }
        }
    }

    void checkDType(const Node& node, const OpSchema& schema, const std::string& port,
                    const TensorType& t, const Edge& edge) {
        const auto& accepted = schema.acceptedDTypes(port);
        if (accepted.empty() ||
            std::find(accepted.begin(), accepted.end(), t.dtype) != accepted.end())
            return;
        std::string wanted;
        for (std::size_t i = 0; i < accepted.size(); ++i)
            wanted += strCat(i ? " or " : "", dtypeName(accepted[i]));
        const Node* producer = graph.findNode(edge.from.node);
        auto& d = add(Severity::Error, codes::kDTypeMismatch, node.id, port,
                      strCat(nodeRef(node), " needs ", wanted, " on input '", port, "', but '",
                             producer->name, "'.", edge.from.port, " delivers ", t.toString(), " (",
                             dtypeName(t.dtype),
                             "). SegForge never casts implicitly. TensorFlow: \"Value passed to "
                             "parameter has DataType ",
                             dtypeName(t.dtype), " not in list of allowed values\""));
        d.fixes = dtypeFixes(graph, edge, t, accepted.front());
    }

    void visit(NodeId id) {
        const Node& node = *graph.findNode(id);
        NodeCheck& nc = result.nodes[id];
        auto sit = schemas.find(id);
        if (sit == schemas.end())
            return;
        const OpSchema& schema = *sit->second;
        nc.outputNames = outputNames(schema, node);
        nc.outputs.assign(nc.outputNames.size(), std::nullopt);
        auto ait = attrs.find(id);
        if (ait == attrs.end())
            return;

        const std::vector<std::string> inputNames = schema.inputNames(node);
        std::vector<std::optional<TensorType>> inputs(inputNames.size());
        std::vector<std::optional<Edge>> inputEdges(inputNames.size());
        bool known = true;
        const auto& edgesIn = incoming[id];
        for (std::size_t i = 0; i < inputNames.size(); ++i) {
            std::vector<const Edge*> feeding;
            for (const Edge* e : edgesIn) {
                if (e->to.port == inputNames[i])
                    feeding.push_back(e);
            }
            if (feeding.empty()) {
                unconnected.push_back({id, inputNames[i]});
                known = false;
                continue;
            }
            if (feeding.size() > 1) {
                auto& d =
                    add(Severity::Error, codes::kMultipleProducers, id, inputNames[i],
                        strCat(nodeRef(node), ": input '", inputNames[i], "' has ", feeding.size(),
                               " producers; an input takes exactly one "
                               "(use Concatenate or Add to merge tensors)"));
                EditScript keepFirst;
                for (std::size_t k = 1; k < feeding.size(); ++k)
                    keepFirst.push_back(DisconnectEdit{*feeding[k]});
                d.fixes.push_back(
                    {strCat("Keep only '", graph.findNode(feeding[0]->from.node)->name, "'.",
                            feeding[0]->from.port),
                     std::move(keepFirst)});
            }
            inputEdges[i] = *feeding.front();
            inputs[i] = result.typeOf(feeding.front()->from);
            if (!inputs[i]) {
                known = false;
                continue;
            }
            checkDType(node, schema, inputNames[i], *inputs[i], *feeding.front());
        }
        visitSpatial(node, schema, ait->second, inputEdges);
        if ((!known && !schema.inferWithUnknownInputs) || !schema.infer)
            return;

        InferContext ctx(graph, node, schema, ait->second, inputNames, inputs, inputEdges,
                         result.diagnostics);
        InferResult out;
        try {
            out = schema.infer(ctx);
        } catch (const std::exception& ex) { // a schema bug must not take the editor down
            add(Severity::Error, codes::kBadAttribute, id, "",
                strCat(nodeRef(node), ": internal error while inferring types: ", ex.what()));
            return;
        }
        out.resize(nc.outputNames.size());
        for (std::size_t k = 0; k < out.size(); ++k) {
            if (out[k] && collapses(*out[k])) {
                reportCollapse(node, schema, inputs, *out[k]);
                out[k].reset();
            }
        }
        nc.outputs = std::move(out);
        for (std::size_t k = 0; k < nc.outputs.size() && k < nc.spatial.size(); ++k) {
            if (nc.outputs[k] && !nc.outputs[k]->shape.isImage())
                nc.spatial[k].reset();
        }
        if (probes && schema.traits.readsDataset) {
            if (auto it = probes->find(id); it != probes->end()) {
                if (auto probed = datasetTypesFromProbe(node, it->second); !probed.empty())
                    nc.outputs = std::move(probed);
            }
        }
        if (schema.params) {
            bool all = std::all_of(nc.outputs.begin(), nc.outputs.end(),
                                   [](const auto& t) { return t.has_value(); });
            if (all)
                nc.params = schema.params(ctx);
        }
    }

    /// The symbolic twin of infer: height and width of the node's image outputs
    /// as expressions of the (free) input size, and the constraints the node
    /// puts on them. Runs whether or not the concrete infer can: the derivation
    /// of the sizes that work needs the whole graph.
    void visitSpatial(const Node& node, const OpSchema& schema, const AttrMap& nodeAttrs,
                      const std::vector<std::optional<Edge>>& inputEdges) {
        NodeCheck& nc = result.nodes[node.id];
        nc.spatial.assign(schema.outputs.size(), std::nullopt);
        std::vector<std::array<SizeExpr, 2>> images;  ///< of every image input
        std::optional<std::array<SizeExpr, 2>> first; ///< of input 0
        for (std::size_t i = 0; i < inputEdges.size(); ++i) {
            if (!inputEdges[i])
                continue;
            if (auto sp = result.spatialOf(inputEdges[i]->from)) {
                images.push_back(*sp);
                if (i == 0)
                    first = *sp;
            }
        }
        // A broadcasting op (Add, Multiply) takes its size on each axis from an
        // input that is not the constant 1 there (a squeeze-excitation gate).
        const auto isOne = [](const SizeExpr& e) { return e.constantValue() == 1; };
        if (schema.traits.broadcasts && first) {
            for (std::size_t a = 0; a < 2; ++a) {
                for (const auto& img : images) {
                    if (isOne((*first)[a]) && img[a].isKnown() && !isOne(img[a]))
                        (*first)[a] = img[a];
                }
            }
        }
        std::optional<std::array<SizeExpr, 2>> out;
        if (schema.spatial) {
            try {
                if (schema.role == OpRole::Source) {
                    // Always free here; variable_size only decides what labels show.
                    AttrMap freeAttrs = nodeAttrs;
                    if (auto it = freeAttrs.find("variable_size"); it != freeAttrs.end()) {
                        result.freeSize = result.freeSize || std::get<bool>(it->second);
                        it->second = true;
                    }
                    out = {schema.spatial(freeAttrs, 0, {}), schema.spatial(freeAttrs, 1, {})};
                } else if (first) {
                    out = {schema.spatial(nodeAttrs, 0, (*first)[0]),
                           schema.spatial(nodeAttrs, 1, (*first)[1])};
                }
            } catch (const std::exception&) { // a schema bug leaves the size unknown
                out.reset();
            }
        }
        if (out) {
            for (auto& sp : nc.spatial)
                sp = out;
            for (int axis = 0; axis < 2; ++axis) {
                const SizeExpr& e = (*out)[static_cast<std::size_t>(axis)];
                if (e.isKnown())
                    result.sizeConstraints.push_back(
                        {SizeConstraint::Kind::AtLeastOne, axis, node.id, e, {}});
            }
        }
        if (images.size() < 2)
            return;
        for (int axis = 0; axis < 2; ++axis) {
            const auto a = static_cast<std::size_t>(axis);
            // An image output whose size on this axis is unknown joins along it
            // (Concatenate on axis 1 or 2): its inputs need not agree there.
            if (schema.spatial && out && !(*out)[a].isKnown())
                continue;
            if (schema.traits.broadcasts) {
                // Inputs of size 1 broadcast; the others must agree.
                const SizeExpr* ref = nullptr;
                for (const auto& img : images) {
                    if (!img[a].isKnown() || isOne(img[a]))
                        continue;
                    if (ref)
                        result.sizeConstraints.push_back(
                            {SizeConstraint::Kind::Equal, axis, node.id, *ref, img[a]});
                    else
                        ref = &img[a];
                }
                continue;
            }
            for (std::size_t i = 1; i < images.size(); ++i) {
                if (images[0][a].isKnown() && images[i][a].isKnown())
                    result.sizeConstraints.push_back(
                        {SizeConstraint::Kind::Equal, axis, node.id, images[0][a], images[i][a]});
            }
        }
    }

    static bool collapses(const TensorType& t) {
        // Axis 0 is the (symbolic) batch; every other axis must stay positive.
        const auto& dims = t.shape.dims();
        return std::any_of(dims.begin() + (dims.empty() ? 0 : 1), dims.end(),
                           [](std::int64_t d) { return d <= 0; });
    }

    void reportCollapse(const Node& node, const OpSchema& schema,
                        const std::vector<std::optional<TensorType>>& inputs,
                        const TensorType& out) {
        std::string from =
            inputs.empty() || !inputs[0] ? std::string("its input") : inputs[0]->toString();
        auto& d = add(Severity::Error, codes::kSpatialCollapse, node.id, "",
                      strCat(nodeRef(node), " turns ", from, " into ", out.toString(),
                             ": the image is too small for this layer and the spatial size "
                             "collapses to zero or below"));
        const AttrMap& a = attrs.at(node.id);
        auto padding = a.find("padding");
        if (padding != a.end() && schema.findAttr("padding") &&
            std::get<std::string>(padding->second) == "valid") {
            d.fixes.push_back(
                {"Set padding='same' on '" + node.name + "'",
                 {SetAttributeEdit{node.id, "padding", AttrValue{std::string("same")}}},
                 FixRank::Cause,
                 "with padding='valid' its window trims more than the image holds"});
        }
    }
};

} // namespace

CheckResult checkGraph(const Graph& graph, const CheckOptions& options,
                       const OpRegistry& registry) {
    CheckResult result;
    GraphChecker checker{
        graph, registry, result, {},
        {},    {},       {},     options.dataProbes.empty() ? nullptr : &options.dataProbes};
    checker.indexEdges();
    checker.validateNodes();
    checker.order();
    for (NodeId id : result.order)
        checker.visit(id);
    if (result.freeSize) {
        for (int axis = 0; axis < 2; ++axis)
            result.freeSizes[static_cast<std::size_t>(axis)] =
                deriveSizeSet(result.sizeConstraints, axis);
    }

    reportUnconnectedInputs(graph, result, checker.unconnected);
    checkHasLoss(graph, registry, result);
    if (!options.requireLoss) {
        for (Diagnostic& d : result.diagnostics) {
            if (d.code == codes::kNoLoss)
                d.severity = Severity::Warning;
        }
    }
    checkBatchNormBatchSize(graph, result);
    if (!options.dataProbes.empty())
        checkDatasets(graph, options.dataProbes, result, options.forTraining);
    checkTrainingRules(graph, options, result);
    if (options.diagnoseInputSize)
        diagnoseInputSize(graph, registry, result);

    // Stable order for tools and tests: by node in dependency order, then as found.
    std::unordered_map<NodeId, std::size_t> rank;
    for (std::size_t i = 0; i < result.order.size(); ++i)
        rank[result.order[i]] = i + 1;
    std::stable_sort(result.diagnostics.begin(), result.diagnostics.end(),
                     [&rank](const Diagnostic& a, const Diagnostic& b) {
                         auto ra = rank.find(a.node);
                         auto rb = rank.find(b.node);
                         return (ra == rank.end() ? 0 : ra->second) <
                                (rb == rank.end() ? 0 : rb->second);
                     });

    // Fixes: traced to their cause, each verified on a copy, best rank first.
    if (options.verifyFixes) {
        addCausalFixes(graph, options, registry, result);
        verifyAndRankFixes(graph, options, registry, result);
    } else {
        orderFixesByRank(result);
    }
    return result;
}

} // namespace segforge::core
