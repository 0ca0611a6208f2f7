// WireRouter and placeWireLabels: routes never cross a node (grown by the
// margin) except their two port stubs; labels never cover a node or each other.

#include "layout/wire_router.hpp"

#include <gtest/gtest.h>
#include <random>

using namespace segforge::core;

namespace {

constexpr double kMargin = 12;

Rect grown(const Rect& r, double m) {
    return {r.x - m, r.y - m, r.width + 2 * m, r.height + 2 * m};
}

/// True when the axis-parallel segment a–b enters the inside of r.
bool crosses(const Rect& r, Point a, Point b) {
    const double x0 = std::min(a.x, b.x), x1 = std::max(a.x, b.x);
    const double y0 = std::min(a.y, b.y), y1 = std::max(a.y, b.y);
    if (a.y == b.y)
        return a.y > r.y && a.y < r.bottom() && x0 < r.right() && x1 > r.x;
    return a.x > r.x && a.x < r.right() && y0 < r.bottom() && y1 > r.y;
}

/// Checks the route's shape and that no part of it but the stubs enters a grown rect.
/// Returns a failure description, empty when fine.
std::string routeProblem(const WireRoute& route, Point from, Point to,
                         const std::vector<std::pair<NodeId, Rect>>& obstacles,
                         double tolerance = 1e-6) {
    if (route.size() < 2)
        return "fewer than two points";
    if (!(route.front() == from) || !(route.back() == to))
        return "does not start at the output port and end at the input port";
    for (std::size_t k = 1; k < route.size(); ++k)
        if (route[k].x != route[k - 1].x && route[k].y != route[k - 1].y)
            return "diagonal segment " + std::to_string(k);
    if (route[1].y != from.y || route[1].x < from.x + kMargin - tolerance)
        return "does not leave the output port rightwards";
    const Point& beforeLast = route[route.size() - 2];
    if (beforeLast.y != to.y || beforeLast.x > to.x - kMargin + tolerance)
        return "does not enter the input port from the left";
    std::vector<Point> inner(route.begin(), route.end());
    inner.front().x += kMargin; // the stubs inside the own nodes' margins are allowed
    inner.back().x -= kMargin;
    for (std::size_t k = 1; k < inner.size(); ++k)
        for (const auto& [id, r] : obstacles)
            if (crosses(grown(r, kMargin - tolerance), inner[k - 1], inner[k]))
                return "segment " + std::to_string(k) + " crosses node " + std::to_string(id);
    return {};
}

struct Scene {
    std::vector<std::pair<NodeId, Rect>> nodes;
    struct Wire {
        Point from, to;
        NodeId a, b;
    };
    std::vector<Wire> wires;
};

/// Columns of nodes with jittered heights and offsets, wires between random
/// nodes forward and backward (the hard ones go around whole columns).
Scene randomScene(int columns, int rows, int wires, unsigned seed) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> jitter(-30, 30);
    std::uniform_int_distribution<int> heightRows(1, 4);
    Scene s;
    NodeId id = 1;
    for (int c = 0; c < columns; ++c)
        for (int r = 0; r < rows; ++r) {
            const double h = 50 + 20.0 * heightRows(rng);
            s.nodes.push_back(
                {id++, Rect{c * 320.0 + jitter(rng), r * 200.0 + jitter(rng), 168, h}});
        }
    std::uniform_int_distribution<std::size_t> pick(0, s.nodes.size() - 1);
    while (static_cast<int>(s.wires.size()) < wires) {
        const auto& [a, ra] = s.nodes[pick(rng)];
        const auto& [b, rb] = s.nodes[pick(rng)];
        if (a == b)
            continue;
        s.wires.push_back({{ra.right(), ra.y + 55}, {rb.x, rb.y + 55}, a, b});
    }
    return s;
}

TEST(LayoutWireRouter, StraightWireBetweenNeighboursStaysStraight) {
    std::vector<std::pair<NodeId, Rect>> nodes{{1, {0, 0, 168, 90}}, {2, {400, 0, 168, 90}}};
    WireRouter router(nodes, kMargin);
    const WireRoute r = router.route({168, 55}, 1, {400, 55}, 2);
    ASSERT_EQ(r.size(), 2u);
    EXPECT_EQ(r[0], (Point{168, 55}));
    EXPECT_EQ(r[1], (Point{400, 55}));
}

TEST(LayoutWireRouter, GoesAroundANodeInTheWay) {
    std::vector<std::pair<NodeId, Rect>> nodes{
        {1, {0, 0, 168, 90}}, {2, {300, 0, 168, 90}}, {3, {600, 0, 168, 90}}};
    WireRouter router(nodes, kMargin);
    const Point from{168, 55}, to{600, 55};
    const WireRoute r = router.route(from, 1, to, 3);
    EXPECT_EQ(routeProblem(r, from, to, nodes), "");
    EXPECT_EQ(r.size(), 6u) << "one detour above or below the middle node: four bends";
}

TEST(LayoutWireRouter, JogsOnceBetweenColumns) {
    std::vector<std::pair<NodeId, Rect>> nodes{{1, {0, 0, 168, 90}}, {2, {400, 300, 168, 90}}};
    WireRouter router(nodes, kMargin);
    const Point from{168, 55}, to{400, 355};
    const WireRoute r = router.route(from, 1, to, 2);
    EXPECT_EQ(routeProblem(r, from, to, nodes), "");
    ASSERT_EQ(r.size(), 4u);
    EXPECT_DOUBLE_EQ(r[1].x, 284) << "the vertical jog in the middle of the gap";
}

TEST(LayoutWireRouter, BackwardWireLoopsAroundBothNodes) {
    std::vector<std::pair<NodeId, Rect>> nodes{{1, {400, 0, 168, 90}}, {2, {0, 0, 168, 90}}};
    WireRouter router(nodes, kMargin);
    const Point from{568, 55}, to{0, 55};
    const WireRoute r = router.route(from, 1, to, 2);
    EXPECT_EQ(routeProblem(r, from, to, nodes), "");
}

TEST(LayoutWireRouter, SameNodeFeedback) {
    std::vector<std::pair<NodeId, Rect>> nodes{{1, {0, 0, 168, 110}}};
    WireRouter router(nodes, kMargin);
    const Point from{168, 55}, to{0, 75};
    EXPECT_EQ(routeProblem(router.route(from, 1, to, 1), from, to, nodes), "");
}

TEST(LayoutWireRouter, RandomScenesNeverCrossANode) {
    for (unsigned seed = 1; seed <= 5; ++seed) {
        const Scene s = randomScene(8, 6, 120, seed);
        WireRouter router(s.nodes, kMargin);
        int checked = 0;
        for (const auto& w : s.wires) {
            // A port inside another node's margin has no free route (the fallback is allowed to
            // cross).
            bool blockedEnd = false;
            for (const auto& [id, r] : s.nodes) {
                const Rect g = grown(r, kMargin);
                const Point s0{w.from.x + kMargin, w.from.y}, t0{w.to.x - kMargin, w.to.y};
                if ((g.contains(s0) && id != w.a) || (g.contains(t0) && id != w.b))
                    blockedEnd = true;
            }
            if (blockedEnd)
                continue;
            ++checked;
            const WireRoute r = router.route(w.from, w.a, w.to, w.b);
            ASSERT_EQ(routeProblem(r, w.from, w.to, s.nodes), "")
                << "seed " << seed << " wire " << w.a << "→" << w.b << " " << [&] {
                       std::string t;
                       for (auto p : r)
                           t += "(" + std::to_string(p.x) + "," + std::to_string(p.y) + ") ";
                       return t;
                   }();
        }
        EXPECT_GT(checked, 60);
    }
}

TEST(LayoutWireLabels, CentredOnTheMiddleOfAStraightWire) {
    const std::vector<WireRoute> routes{{{168, 55}, {568, 55}}};
    const auto placed = placeWireLabels(routes, {{120, 16}}, {{0, 0, 168, 90}, {568, 0, 168, 90}});
    ASSERT_TRUE(placed[0]);
    EXPECT_DOUBLE_EQ(placed[0]->x, 368);
    EXPECT_DOUBLE_EQ(placed[0]->y, 55);
}

TEST(LayoutWireLabels, PrefersAHorizontalStretchAndAvoidsNodes) {
    // A wire that runs past a node: the middle of its long vertical stretch is
    // free, but labels read along horizontal stretches.
    const std::vector<WireRoute> routes{{{168, 55}, {300, 55}, {300, 655}, {600, 655}}};
    const std::vector<Rect> nodes{{0, 0, 168, 90}, {600, 600, 168, 90}, {330, 630, 168, 60}};
    const auto placed = placeWireLabels(routes, {{100, 16}}, nodes);
    ASSERT_TRUE(placed[0]);
    EXPECT_DOUBLE_EQ(placed[0]->y, 55) << "the only horizontal stretch free of nodes is the first";
}

TEST(LayoutWireLabels, NeverOverlapNodesOrEachOther) {
    for (unsigned seed = 1; seed <= 3; ++seed) {
        const Scene s = randomScene(8, 6, 150, seed);
        WireRouter router(s.nodes, kMargin);
        std::vector<WireRoute> routes;
        std::vector<Point> sizes;
        std::vector<Rect> rects;
        for (const auto& w : s.wires) {
            routes.push_back(router.route(w.from, w.a, w.to, w.b));
            sizes.push_back({90.0 + static_cast<double>(routes.size() % 5) * 10, 16});
        }
        for (const auto& [id, r] : s.nodes)
            rects.push_back(r);
        const auto placed = placeWireLabels(routes, sizes, rects);
        std::vector<Rect> labels;
        int count = 0;
        for (std::size_t i = 0; i < placed.size(); ++i) {
            if (!placed[i])
                continue;
            ++count;
            const Rect l{placed[i]->x - sizes[i].x / 2, placed[i]->y - sizes[i].y / 2, sizes[i].x,
                         sizes[i].y};
            // On its own wire.
            bool onWire = false;
            for (std::size_t k = 1; k < routes[i].size(); ++k) {
                const Point a = routes[i][k - 1], b = routes[i][k];
                if ((a.y == b.y && a.y == placed[i]->y && placed[i]->x >= std::min(a.x, b.x) &&
                     placed[i]->x <= std::max(a.x, b.x)) ||
                    (a.x == b.x && a.x == placed[i]->x && placed[i]->y >= std::min(a.y, b.y) &&
                     placed[i]->y <= std::max(a.y, b.y)))
                    onWire = true;
            }
            EXPECT_TRUE(onWire) << "label " << i;
            for (const Rect& n : rects)
                ASSERT_FALSE(l.intersects(n)) << "label " << i << " covers a node";
            for (const Rect& o : labels)
                ASSERT_FALSE(l.intersects(o)) << "label " << i << " covers another label";
            labels.push_back(l);
        }
        EXPECT_GT(count, 100) << "most wires find a place";
    }
}

} // namespace
