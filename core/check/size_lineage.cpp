#include "check/size_lineage.hpp"

#include <deque>

namespace segforge::core {

Adjacency::Adjacency(const Graph& graph) {
    for (const Edge& e : graph.edges()) {
        in[e.to.node].push_back(e);
        out[e.from.node].push_back(e);
    }
}

const std::vector<Edge>& Adjacency::into(NodeId id) const {
    static const std::vector<Edge> none;
    auto it = in.find(id);
    return it == in.end() ? none : it->second;
}

const std::vector<Edge>& Adjacency::from(NodeId id) const {
    static const std::vector<Edge> none;
    auto it = out.find(id);
    return it == out.end() ? none : it->second;
}

std::set<NodeId> ancestorsOf(const Adjacency& adj, NodeId start) {
    std::set<NodeId> seen{start};
    std::deque<NodeId> queue{start};
    while (!queue.empty()) {
        const NodeId id = queue.front();
        queue.pop_front();
        for (const Edge& e : adj.into(id)) {
            if (seen.insert(e.from.node).second)
                queue.push_back(e.from.node);
        }
    }
    return seen;
}

std::optional<Operand> operandOf(const Graph& graph, const CheckResult& result, NodeId node,
                                 const std::string& port) {
    const auto edges = graph.edgesInto({node, port});
    if (edges.size() != 1)
        return std::nullopt;
    auto type = result.typeOf(edges.front().from);
    if (!type || type->shape.rank() != 4)
        return std::nullopt;
    return Operand{port, edges.front(), type->shape, graph.findNode(edges.front().from.node), {},
                   {}};
}

std::optional<Mismatch> mismatchAt(const Graph& graph, const Adjacency& adj,
                                   const CheckResult& result, NodeId node, const std::string& portX,
                                   const std::string& portY) {
    Mismatch m;
    m.node = graph.findNode(node);
    auto x = operandOf(graph, result, node, portX);
    auto y = operandOf(graph, result, node, portY);
    if (!m.node || !x || !y)
        return std::nullopt;
    m.x = std::move(*x);
    m.y = std::move(*y);
    m.x.ancestors = ancestorsOf(adj, m.x.producer->id);
    m.y.ancestors = ancestorsOf(adj, m.y.producer->id);
    for (NodeId id : m.x.ancestors) {
        if (!m.y.ancestors.count(id))
            m.x.branch.insert(id);
    }
    for (NodeId id : m.y.ancestors) {
        if (!m.x.ancestors.count(id))
            m.y.branch.insert(id);
    }
    return m;
}

} // namespace segforge::core
