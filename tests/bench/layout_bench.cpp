// How fast are wire routing and label placement? The canvas routes every wire
// after each edit; the budget for a 300-node graph is well under 30 ms.

#include "check/checker.hpp"
#include "layout/graph_layout.hpp"
#include "layout/wire_router.hpp"

#include <benchmark/benchmark.h>
#include <random>

using namespace segforge::core;

namespace {

struct Wire {
    Point from, to;
    NodeId a, b;
};

struct Scene {
    std::vector<std::pair<NodeId, Rect>> nodes;
    std::vector<Wire> wires;
};

/// 300 nodes in 20 columns of 15; each node feeds one or two nodes of the next
/// column, and one wire in ten skips ahead several columns (a U-Net's skips
/// when the layout is not a U) or runs backwards.
Scene layeredScene() {
    std::mt19937 rng(7);
    constexpr int kColumns = 20, kRows = 15;
    Scene s;
    NodeId id = 1;
    for (int c = 0; c < kColumns; ++c)
        for (int r = 0; r < kRows; ++r)
            s.nodes.push_back({id++, Rect{c * 340.0, r * 160.0 + (c % 2) * 40.0, 168, 90}});
    auto nodeAt = [&](int c, int r) -> const std::pair<NodeId, Rect>& {
        return s.nodes[static_cast<std::size_t>(c * kRows + r)];
    };
    std::uniform_int_distribution<int> row(0, kRows - 1), skip(2, 8), coin(0, 9);
    for (int c = 0; c + 1 < kColumns; ++c)
        for (int r = 0; r < kRows; ++r) {
            const int fanOut = coin(rng) < 3 ? 2 : 1;
            for (int k = 0; k < fanOut; ++k) {
                int c2 = c + 1;
                if (coin(rng) == 0)
                    c2 = std::min(kColumns - 1, c + skip(rng));
                else if (coin(rng) == 0)
                    c2 = std::max(0, c - 2);
                const auto& [a, ra] = nodeAt(c, r);
                const auto& [b, rb] = nodeAt(c2, std::clamp(r + row(rng) % 3 - 1, 0, kRows - 1));
                if (a != b)
                    s.wires.push_back({{ra.right(), ra.y + 55}, {rb.x, rb.y + 55}, a, b});
            }
        }
    return s;
}

void BM_RouteAllWires300(benchmark::State& state) {
    const Scene s = layeredScene();
    for (auto _ : state) {
        WireRouter router(s.nodes);
        std::size_t points = 0;
        for (const Wire& w : s.wires)
            points += router.route(w.from, w.a, w.to, w.b).size();
        benchmark::DoNotOptimize(points);
    }
    state.counters["nodes"] = static_cast<double>(s.nodes.size());
    state.counters["wires"] = static_cast<double>(s.wires.size());
}
BENCHMARK(BM_RouteAllWires300)->Unit(benchmark::kMillisecond);

void BM_PlaceLabels300(benchmark::State& state) {
    const Scene s = layeredScene();
    WireRouter router(s.nodes);
    std::vector<WireRoute> routes;
    std::vector<Point> sizes;
    std::vector<Rect> rects;
    for (const Wire& w : s.wires) {
        routes.push_back(router.route(w.from, w.a, w.to, w.b));
        sizes.push_back({120, 16});
    }
    for (const auto& [id, r] : s.nodes)
        rects.push_back(r);
    std::size_t placed = 0;
    for (auto _ : state) {
        auto labels = placeWireLabels(routes, sizes, rects);
        placed = static_cast<std::size_t>(
            std::count_if(labels.begin(), labels.end(), [](auto& l) { return l.has_value(); }));
        benchmark::DoNotOptimize(labels);
    }
    state.counters["wires"] = static_cast<double>(routes.size());
    state.counters["placed"] = static_cast<double>(placed);
}
BENCHMARK(BM_PlaceLabels300)->Unit(benchmark::kMillisecond);

} // namespace

namespace {

/// A depth-5 U-Net whose blocks are `convs` × (Conv2D, BatchNorm, ReLU): about
/// 310 nodes at convs = 9.
segforge::core::Graph wideUNet(int convs) {
    using namespace segforge::core;
    Graph g;
    PortRef x{g.addNode("Input", "in",
                        {{"height", std::int64_t{256}},
                         {"width", std::int64_t{256}},
                         {"channels", std::int64_t{3}}}),
              "output"};
    auto next = [&](const std::string& op, AttrMap attrs) {
        NodeId id = g.addNode(op, g.uniqueName(op), std::move(attrs));
        g.connect(x, {id, "input"});
        x = {id, "output"};
    };
    auto block = [&] {
        for (int i = 0; i < convs; ++i) {
            next("Conv2D", {{"filters", std::int64_t{8}}, {"padding", std::string("same")}});
            next("BatchNormalization", {});
            next("Activation", {{"activation", std::string("relu")}});
        }
    };
    std::vector<PortRef> skips;
    for (int level = 0; level < 5; ++level) {
        block();
        skips.push_back(x);
        next("MaxPool2D", {});
    }
    block();
    for (int level = 4; level >= 0; --level) {
        next("Conv2DTranspose", {{"filters", std::int64_t{8}},
                                 {"kernel_size", std::int64_t{2}},
                                 {"strides", std::int64_t{2}},
                                 {"padding", std::string("same")}});
        NodeId concat = g.addNode("Concatenate", g.uniqueName("concat"));
        g.connect(skips[static_cast<std::size_t>(level)], {concat, "a"});
        g.connect(x, {concat, "b"});
        x = {concat, "output"};
        block();
    }
    return g;
}

void BM_LayoutUNet300(benchmark::State& state) {
    using namespace segforge::core;
    const Graph g = wideUNet(9);
    CheckOptions o;
    o.diagnoseInputSize = false;
    o.requireLoss = false;
    const CheckResult check = checkGraph(g, o);
    bool u = false;
    for (auto _ : state) {
        const GraphLayout layout = computeLayout(g, check);
        u = layout.uShaped;
        benchmark::DoNotOptimize(layout);
    }
    state.counters["nodes"] = static_cast<double>(g.nodeCount());
    state.counters["u"] = u;
}
BENCHMARK(BM_LayoutUNet300)->Unit(benchmark::kMillisecond);

/// What Ctrl+L costs from scratch: check, then layout.
void BM_CheckAndLayoutUNet300(benchmark::State& state) {
    const segforge::core::Graph g = wideUNet(9);
    for (auto _ : state)
        benchmark::DoNotOptimize(segforge::core::layoutGraph(g));
    state.counters["nodes"] = static_cast<double>(g.nodeCount());
}
BENCHMARK(BM_CheckAndLayoutUNet300)->Unit(benchmark::kMillisecond);

/// The layered layout of the same nodes (a graph that is not a U).
void BM_LayeredLayout300(benchmark::State& state) {
    using namespace segforge::core;
    const Graph g = wideUNet(9);
    const std::vector<NodeId> order = *g.topologicalOrder();
    for (auto _ : state)
        benchmark::DoNotOptimize(layeredLayout(g, order));
}
BENCHMARK(BM_LayeredLayout300)->Unit(benchmark::kMillisecond);

} // namespace

namespace {

/// Every wire of the laid-out 310-node U, as the canvas routes them.
void BM_RouteLaidOutUNet300(benchmark::State& state) {
    using namespace segforge::core;
    Graph g = wideUNet(9);
    (void)applyEdits(g, layoutGraph(g));
    std::vector<std::pair<NodeId, Rect>> obstacles;
    for (const auto& [id, n] : g.nodes())
        obstacles.emplace_back(id, nodeGeometry(n).rectAt(n.position));
    struct End {
        Point from, to;
        NodeId a, b;
    };
    std::vector<End> wires;
    for (const Edge& e : g.edges()) {
        const Node& a = *g.findNode(e.from.node);
        const Node& b = *g.findNode(e.to.node);
        const Point oa = *nodeGeometry(a).outputOffset(e.from.port),
                    ob = *nodeGeometry(b).inputOffset(e.to.port);
        wires.push_back({{a.position.x + oa.x, a.position.y + oa.y},
                         {b.position.x + ob.x, b.position.y + ob.y},
                         a.id,
                         b.id});
    }
    for (auto _ : state) {
        WireRouter router(obstacles);
        std::size_t points = 0;
        for (const End& w : wires)
            points += router.route(w.from, w.a, w.to, w.b).size();
        benchmark::DoNotOptimize(points);
    }
    state.counters["wires"] = static_cast<double>(wires.size());
}
BENCHMARK(BM_RouteLaidOutUNet300)->Unit(benchmark::kMillisecond);

} // namespace
