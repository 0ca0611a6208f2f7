#include "layout/resolution_levels.hpp"

#include "ops/op_registry.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_set>

namespace segforge::core {

namespace {

OpRole roleOf(const Node& node) {
    const OpSchema* schema = OpRegistry::builtin().find(node.op);
    return schema ? schema->role : OpRole::Layer;
}

/// Height of the first spatial output of a node, if the checker knows it.
std::optional<std::int64_t> outputHeight(const CheckResult& check, NodeId id) {
    auto it = check.nodes.find(id);
    if (it == check.nodes.end())
        return std::nullopt;
    for (const auto& t : it->second.outputs)
        if (t && t->shape.isImage() && t->shape.height() > 0)
            return t->shape.height();
    return std::nullopt;
}

/// Every node once, producers first; nodes on a cycle follow in id order.
std::vector<NodeId> layoutOrder(const Graph& graph) {
    if (auto order = graph.topologicalOrder())
        return *order;
    // Kahn's algorithm as far as it goes, then the rest.
    std::unordered_map<NodeId, int> indegree;
    for (const auto& [id, n] : graph.nodes())
        indegree[id] = 0;
    for (const Edge& e : graph.edges())
        ++indegree[e.to.node];
    std::vector<NodeId> order;
    std::vector<NodeId> ready;
    for (const auto& [id, d] : indegree)
        if (d == 0)
            ready.push_back(id);
    std::sort(ready.begin(), ready.end(), std::greater<>());
    std::unordered_set<NodeId> placed;
    while (!ready.empty()) {
        NodeId id = ready.back();
        ready.pop_back();
        order.push_back(id);
        placed.insert(id);
        for (const Edge& e : graph.edges())
            if (e.from.node == id && --indegree[e.to.node] == 0)
                ready.push_back(e.to.node);
    }
    for (const auto& [id, n] : graph.nodes())
        if (!placed.count(id))
            order.push_back(id);
    return order;
}

} // namespace

int ResolutionLevels::outLevel(NodeId id) const {
    auto it = out.find(id);
    return it == out.end() ? 0 : it->second;
}

int ResolutionLevels::inLevel(NodeId id) const {
    auto it = in.find(id);
    return it == in.end() ? outLevel(id) : it->second;
}

ResolutionLevels resolutionLevels(const Graph& graph, const CheckResult& check) {
    ResolutionLevels levels;
    levels.order = layoutOrder(graph);

    // The network input's size: the largest image a source produces (else the
    // largest image anywhere, for a graph without a source).
    std::int64_t reference = 0;
    for (const auto& [id, node] : graph.nodes())
        if (roleOf(node) == OpRole::Source)
            reference = std::max(reference, outputHeight(check, id).value_or(0));
    if (reference == 0)
        for (const auto& [id, node] : graph.nodes())
            reference = std::max(reference, outputHeight(check, id).value_or(0));

    std::unordered_map<NodeId, std::vector<NodeId>> producers;
    for (const Edge& e : graph.edges())
        producers[e.to.node].push_back(e.from.node);

    for (NodeId id : levels.order) {
        std::optional<int> in;
        for (NodeId p : producers[id])
            if (auto it = levels.out.find(p); it != levels.out.end())
                in = std::max(in.value_or(it->second), it->second);
        std::optional<int> out;
        if (auto h = outputHeight(check, id); h && reference > 0)
            out = static_cast<int>(
                std::lround(std::log2(static_cast<double>(reference) / static_cast<double>(*h))));
        const int o = out.value_or(in.value_or(0));
        levels.out[id] = o;
        levels.in[id] = in.value_or(o);
    }
    return levels;
}

std::optional<std::unordered_map<NodeId, UPart>> classifyUShape(const Graph& graph,
                                                                const ResolutionLevels& levels) {
    std::unordered_map<NodeId, UPart> part;
    std::vector<NodeId> body;
    for (NodeId id : levels.order) {
        const Node* node = graph.findNode(id);
        const OpRole role = roleOf(*node);
        if (role == OpRole::Source)
            part[id] = UPart::Source;
        else if (role == OpRole::Loss || role == OpRole::Metric)
            part[id] = UPart::Head;
        else
            body.push_back(id);
    }
    int deepest = 0;
    for (NodeId id : body)
        deepest = std::max(deepest, levels.outLevel(id));
    if (deepest < 1)
        return std::nullopt;

    std::unordered_map<NodeId, std::vector<NodeId>> producers, consumers;
    for (const Edge& e : graph.edges()) {
        producers[e.to.node].push_back(e.from.node);
        consumers[e.from.node].push_back(e.to.node);
    }
    auto reach = [&](std::unordered_map<NodeId, std::vector<NodeId>>& next,
                     const std::vector<NodeId>& from) {
        std::unordered_set<NodeId> seen;
        std::vector<NodeId> stack(from);
        while (!stack.empty()) {
            NodeId id = stack.back();
            stack.pop_back();
            for (NodeId n : next[id])
                if (seen.insert(n).second)
                    stack.push_back(n);
        }
        return seen;
    };
    std::vector<NodeId> bottom;
    for (NodeId id : body)
        if (levels.outLevel(id) == deepest)
            bottom.push_back(id);
    const auto upstream = reach(producers, bottom);
    const auto downstream = reach(consumers, bottom);

    bool hasEncoder = false, hasDecoder = false;
    for (NodeId id : body) {
        if (levels.outLevel(id) == deepest) {
            part[id] = UPart::Bottleneck;
        } else if (downstream.count(id)) {
            part[id] = UPart::Decoder;
            hasDecoder = hasDecoder || levels.outLevel(id) < deepest;
        } else if (upstream.count(id)) {
            part[id] = UPart::Encoder;
            hasEncoder = true;
        } else {
            part[id] = UPart::Side;
        }
    }
    if (!hasEncoder || !hasDecoder)
        return std::nullopt;
    return part;
}

} // namespace segforge::core
