#include "graph/auto_layout.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>

namespace segforge::core {

EditScript autoLayout(const Graph& graph, double columnSpacing, double rowSpacing) {
    // Nodes on a cycle have no topological order; place them after the rest.
    std::vector<NodeId> order = graph.topologicalOrder().value_or(std::vector<NodeId>{});
    if (order.empty()) {
        for (const auto& [id, n] : graph.nodes())
            order.push_back(id);
    }
    std::unordered_map<NodeId, std::vector<NodeId>> preds;
    for (const Edge& e : graph.edges())
        preds[e.to.node].push_back(e.from.node);

    std::unordered_map<NodeId, int> layer;
    for (NodeId id : order) {
        int l = 0;
        for (NodeId p : preds[id]) {
            auto it = layer.find(p);
            if (it != layer.end())
                l = std::max(l, it->second + 1);
        }
        layer[id] = l;
    }
    std::map<int, std::vector<NodeId>> columns;
    for (NodeId id : order)
        columns[layer[id]].push_back(id);

    std::unordered_map<NodeId, double> row;
    EditScript moves;
    for (auto& [l, ids] : columns) {
        // Barycentre of producers; sources keep their relative order.
        std::vector<std::pair<double, NodeId>> keyed;
        for (std::size_t i = 0; i < ids.size(); ++i) {
            double sum = 0;
            int count = 0;
            for (NodeId p : preds[ids[i]]) {
                if (auto it = row.find(p); it != row.end()) {
                    sum += it->second;
                    ++count;
                }
            }
            keyed.emplace_back(count ? sum / count : static_cast<double>(i), ids[i]);
        }
        std::stable_sort(keyed.begin(), keyed.end());
        double next = -1e9;
        for (auto& [want, id] : keyed) {
            const double r = std::max(std::round(want), next + 1);
            row[id] = r;
            next = r;
            const Node* n = graph.findNode(id);
            const Point p{l * columnSpacing, r * rowSpacing};
            if (n && !(n->position == p))
                moves.push_back(MoveNodeEdit{id, p});
        }
    }
    return moves;
}

} // namespace segforge::core
