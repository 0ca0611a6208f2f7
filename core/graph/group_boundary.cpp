#include "graph/group_boundary.hpp"

#include <algorithm>
#include <tuple>

namespace segforge::core {

namespace {

void sortByPlace(const Graph& graph, std::vector<PortRef>& ports) {
    const auto key = [&](const PortRef& p) {
        const Node* n = graph.findNode(p.node);
        const Point at = n ? n->position : Point{};
        return std::tuple(at.y, at.x, p.node, p.port);
    };
    std::sort(ports.begin(), ports.end(),
              [&](const PortRef& a, const PortRef& b) { return key(a) < key(b); });
    ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
}

} // namespace

GroupBoundary groupBoundary(const Graph& graph, const Group& group) {
    GroupBoundary out;
    for (const Edge& e : graph.edges()) {
        const bool fromInside = group.members.count(e.from.node) != 0;
        const bool toInside = group.members.count(e.to.node) != 0;
        if (fromInside == toInside)
            continue;
        out.crossing.push_back(e);
        if (toInside)
            out.inputs.push_back(e.to);
        else
            out.outputs.push_back(e.from);
    }
    sortByPlace(graph, out.inputs);
    sortByPlace(graph, out.outputs);
    return out;
}

} // namespace segforge::core
