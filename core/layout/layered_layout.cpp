// layeredLayout (declared in graph_layout.hpp): the layout of any graph that
// is not a U.

#include "layout/graph_layout.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace segforge::core {

std::map<NodeId, Point> layeredLayout(const Graph& graph, const std::vector<NodeId>& order,
                                      const LayoutSpacing& spacing) {
    std::unordered_map<NodeId, std::size_t> rank;
    for (std::size_t i = 0; i < order.size(); ++i)
        rank[order[i]] = i;
    // Edges against the order (on a cycle) are left out of the layering.
    std::vector<const Edge*> forward;
    for (const Edge& e : graph.edges())
        if (rank.count(e.from.node) && rank.count(e.to.node) && rank[e.from.node] < rank[e.to.node])
            forward.push_back(&e);
    std::unordered_map<NodeId, std::vector<const Edge*>> into, outOf;
    for (const Edge* e : forward) {
        into[e->to.node].push_back(e);
        outOf[e->from.node].push_back(e);
    }

    // Longest-path columns.
    std::unordered_map<NodeId, int> column;
    int columns = 0;
    for (NodeId id : order) {
        int c = 0;
        for (const Edge* e : into[id])
            c = std::max(c, column[e->from.node] + 1);
        column[id] = c;
        columns = std::max(columns, c + 1);
    }
    std::vector<std::vector<NodeId>> layers(static_cast<std::size_t>(columns));
    for (NodeId id : order)
        layers[static_cast<std::size_t>(column[id])].push_back(id);

    // Barycentre sweeps: order each column by the mean index of its neighbours
    // in the columns already ordered, down then up, a few times.
    std::unordered_map<NodeId, double> index;
    auto reindex = [&](const std::vector<NodeId>& layer) {
        for (std::size_t i = 0; i < layer.size(); ++i)
            index[layer[i]] = static_cast<double>(i);
    };
    for (const auto& layer : layers)
        reindex(layer);
    auto sweep = [&](std::vector<NodeId>& layer, bool byProducers) {
        std::vector<std::pair<double, NodeId>> keyed;
        for (NodeId id : layer) {
            double sum = 0;
            int n = 0;
            for (const Edge* e : byProducers ? into[id] : outOf[id]) {
                sum += index[byProducers ? e->from.node : e->to.node];
                ++n;
            }
            keyed.emplace_back(n ? sum / n : index[id], id);
        }
        std::stable_sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
        for (std::size_t i = 0; i < layer.size(); ++i)
            layer[i] = keyed[i].second;
        reindex(layer);
    };
    for (int pass = 0; pass < 4; ++pass) {
        for (std::size_t c = 1; c < layers.size(); ++c)
            sweep(layers[c], true);
        for (std::size_t c = layers.size(); c-- > 1;)
            sweep(layers[c - 1], false);
    }

    // y: each node where its producers' wires arrive straight (mean over its
    // inputs), pushed down just enough to clear the node above it.
    std::map<NodeId, Point> pos;
    std::unordered_map<NodeId, NodeGeometry> geometry;
    for (NodeId id : order)
        geometry[id] = nodeGeometry(*graph.findNode(id));
    const double pitch = node_metrics::kWidth + spacing.columnGap;
    for (std::size_t c = 0; c < layers.size(); ++c) {
        double nextFree = 0;
        bool first = true;
        for (NodeId id : layers[c]) {
            const NodeGeometry& g = geometry[id];
            double sum = 0;
            int n = 0;
            for (const Edge* e : into[id]) {
                const auto from = geometry[e->from.node].outputOffset(e->from.port);
                const auto to = g.inputOffset(e->to.port);
                if (!from || !to)
                    continue;
                sum += pos[e->from.node].y + from->y - to->y;
                ++n;
            }
            double y = n ? sum / n : nextFree;
            if (!first)
                y = std::max(y, nextFree);
            y = std::round(y);
            pos[id] = {static_cast<double>(c) * pitch, y};
            nextFree = y + g.height + spacing.rowGap;
            first = false;
        }
    }
    return pos;
}

} // namespace segforge::core
