// layeredLayout (declared in graph_layout.hpp): the layout of any graph that
// is not a U.

#include "layout/graph_layout.hpp"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace segforge::core {

namespace {

/// One step of a wire between neighbouring columns. A wire that skips columns
/// (a residual shortcut) is a chain of these through lane points, one per
/// column it crosses, ordered and spaced like small nodes: the shortcut then
/// gets its own straight lane beside the nodes it passes instead of running
/// through them.
struct Link {
    NodeId from, to;
    double fromY, toY; ///< port offsets from the tops of the two ends
};

constexpr double kLaneHeight = node_metrics::kPortRow;

} // namespace

std::map<NodeId, Point> layeredLayout(const Graph& graph, const std::vector<NodeId>& order,
                                      const LayoutSpacing& spacing) {
    std::unordered_map<NodeId, std::size_t> rank;
    std::unordered_map<NodeId, NodeGeometry> geometry;
    for (std::size_t i = 0; i < order.size(); ++i) {
        rank[order[i]] = i;
        geometry[order[i]] = nodeGeometry(*graph.findNode(order[i]));
    }
    // Edges against the order (on a cycle) are left out of the layering.
    std::vector<const Edge*> forward;
    for (const Edge& e : graph.edges())
        if (rank.count(e.from.node) && rank.count(e.to.node) && rank[e.from.node] < rank[e.to.node])
            forward.push_back(&e);

    // Longest-path columns.
    std::unordered_map<NodeId, std::vector<const Edge*>> producers;
    for (const Edge* e : forward)
        producers[e->to.node].push_back(e);
    std::unordered_map<NodeId, int> column;
    int columns = 0;
    for (NodeId id : order) {
        int c = 0;
        for (const Edge* e : producers[id])
            c = std::max(c, column[e->from.node] + 1);
        column[id] = c;
        columns = std::max(columns, c + 1);
    }
    std::vector<std::vector<NodeId>> layers(static_cast<std::size_t>(columns));
    for (NodeId id : order)
        layers[static_cast<std::size_t>(column[id])].push_back(id);

    // Links, with lane points (negative ids) for wires that skip columns.
    std::unordered_map<NodeId, std::vector<Link>> into, outOf;
    auto link = [&](const Link& l) {
        into[l.to].push_back(l);
        outOf[l.from].push_back(l);
    };
    NodeId nextLane = -1;
    for (const Edge* e : forward) {
        const double fromY = geometry[e->from.node].outputOffset(e->from.port).value_or(Point{}).y;
        const double toY = geometry[e->to.node].inputOffset(e->to.port).value_or(Point{}).y;
        NodeId prev = e->from.node;
        double prevY = fromY;
        for (int c = column[e->from.node] + 1; c < column[e->to.node]; ++c) {
            const NodeId lane = nextLane--;
            layers[static_cast<std::size_t>(c)].push_back(lane);
            link({prev, lane, prevY, kLaneHeight / 2});
            prev = lane;
            prevY = kLaneHeight / 2;
        }
        link({prev, e->to.node, prevY, toY});
    }
    auto heightOf = [&](NodeId id) { return id < 0 ? kLaneHeight : geometry[id].height; };

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
            for (const Link& l : byProducers ? into[id] : outOf[id]) {
                sum += index[byProducers ? l.from : l.to];
                ++n;
            }
            keyed.emplace_back(n ? sum / n : index[id], id);
        }
        std::stable_sort(keyed.begin(), keyed.end(),
                         [](const auto& a, const auto& b) { return a.first < b.first; });
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

    // y: each node (and lane point) level with the highest wire that feeds it,
    // so a chain is one straight line and its shortcuts run in lanes beside
    // it; pushed down just enough to clear what is above it in its column.
    std::unordered_map<NodeId, double> y;
    std::map<NodeId, Point> pos;
    const double pitch = node_metrics::kWidth + spacing.columnGap;
    for (std::size_t c = 0; c < layers.size(); ++c) {
        double nextFree = 0;
        bool first = true;
        for (NodeId id : layers[c]) {
            std::optional<double> want;
            for (const Link& l : into[id]) {
                const double w = y[l.from] + l.fromY - l.toY;
                want = std::min(want.value_or(w), w);
            }
            double top = want.value_or(nextFree);
            if (!first)
                top = std::max(top, nextFree);
            top = std::round(top);
            y[id] = top;
            nextFree = top + heightOf(id) + spacing.rowGap;
            first = false;
            if (id > 0)
                pos[id] = {static_cast<double>(c) * pitch, top};
        }
    }
    return pos;
}

} // namespace segforge::core
