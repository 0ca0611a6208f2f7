#include "layout/wire_router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <queue>

namespace segforge::core {

namespace {

/// A bend costs as much as this much extra wire: a route with fewer bends wins
/// unless the detour it needs is long.
constexpr double kBendCost = 60;

struct Box {
    double left, top, right, bottom;
};

bool strictlyInside(const Box& b, double x, double y) {
    return x > b.left && x < b.right && y > b.top && y < b.bottom;
}

/// True when the axis-parallel segment a–b passes through the inside of `b`
/// (running along its border is allowed: the border is already `margin` away
/// from the node).
bool segmentHits(const Box& b, Point a, Point c) {
    if (a.y == c.y) {
        const double x0 = std::min(a.x, c.x), x1 = std::max(a.x, c.x);
        return a.y > b.top && a.y < b.bottom && x0 < b.right && x1 > b.left;
    }
    const double y0 = std::min(a.y, c.y), y1 = std::max(a.y, c.y);
    return a.x > b.left && a.x < b.right && y0 < b.bottom && y1 > b.top;
}

bool segmentFree(const std::vector<Box>& boxes, Point a, Point c) {
    for (const Box& b : boxes)
        if (segmentHits(b, a, c))
            return false;
    return true;
}

bool pathFree(const std::vector<Box>& boxes, const std::vector<Point>& pts) {
    for (std::size_t i = 1; i < pts.size(); ++i)
        if (!segmentFree(boxes, pts[i - 1], pts[i]))
            return false;
    return true;
}

/// Drops repeated points and the middle one of three collinear points.
WireRoute simplify(const std::vector<Point>& pts) {
    WireRoute out;
    for (const Point& p : pts) {
        if (!out.empty() && out.back() == p)
            continue;
        if (out.size() >= 2) {
            const Point& a = out[out.size() - 2];
            const Point& b = out.back();
            if ((a.x == b.x && b.x == p.x) || (a.y == b.y && b.y == p.y)) {
                out.back() = p;
                continue;
            }
        }
        out.push_back(p);
    }
    return out;
}

std::size_t indexOf(const std::vector<double>& sorted, double v) {
    return static_cast<std::size_t>(std::lower_bound(sorted.begin(), sorted.end(), v) -
                                    sorted.begin());
}

/// Shortest route (length + kBendCost per bend) from s to t on the sparse grid
/// spanned by the box borders and the two points, inside `region`. A grid edge
/// between neighbouring coordinates lies either wholly inside a box or not at
/// all, so blocking is marked per box over index ranges.
std::optional<std::vector<Point>> searchGrid(const std::vector<Box>& boxes, Point s, Point t,
                                             const Box& region) {
    std::vector<double> xs{s.x, t.x, region.left, region.right};
    std::vector<double> ys{s.y, t.y, region.top, region.bottom};
    for (const Box& b : boxes) {
        xs.push_back(b.left);
        xs.push_back(b.right);
        ys.push_back(b.top);
        ys.push_back(b.bottom);
    }
    auto clampSort = [](std::vector<double>& v, double lo, double hi) {
        for (double& d : v)
            d = std::clamp(d, lo, hi);
        std::sort(v.begin(), v.end());
        v.erase(std::unique(v.begin(), v.end()), v.end());
    };
    clampSort(xs, region.left, region.right);
    clampSort(ys, region.top, region.bottom);
    const std::size_t nx = xs.size(), ny = ys.size();
    if (nx * ny > 400000)
        return std::nullopt; // too large to be worth it: the caller falls back

    // blockedH[j*nx+i]: segment (i,j)–(i+1,j); blockedV[j*nx+i]: (i,j)–(i,j+1).
    std::vector<std::uint8_t> blockedH(nx * ny, 0), blockedV(nx * ny, 0);
    for (const Box& b : boxes) {
        const std::size_t a = indexOf(xs, std::max(b.left, region.left));
        const std::size_t e = indexOf(xs, std::min(b.right, region.right));
        const std::size_t c = indexOf(ys, std::max(b.top, region.top));
        const std::size_t d = indexOf(ys, std::min(b.bottom, region.bottom));
        // A box cut by the region's border also blocks the border line itself.
        const std::size_t jFirst = b.top < region.top ? c : c + 1;
        const std::size_t jEnd = b.bottom > region.bottom ? d + 1 : d;
        const std::size_t iFirst = b.left < region.left ? a : a + 1;
        const std::size_t iEnd = b.right > region.right ? e + 1 : e;
        for (std::size_t j = jFirst; j < jEnd; ++j)
            for (std::size_t i = a; i < e; ++i)
                blockedH[j * nx + i] = 1;
        for (std::size_t j = c; j < d; ++j)
            for (std::size_t i = iFirst; i < iEnd; ++i)
                blockedV[j * nx + i] = 1;
    }

    const std::size_t si = indexOf(xs, s.x), sj = indexOf(ys, s.y);
    const std::size_t ti = indexOf(xs, t.x), tj = indexOf(ys, t.y);
    // State: grid point × arrival direction (0 right, 1 left, 2 down, 3 up).
    const std::size_t states = nx * ny * 4;
    std::vector<double> cost(states, std::numeric_limits<double>::infinity());
    std::vector<std::uint32_t> parent(states, std::numeric_limits<std::uint32_t>::max());
    using Item = std::pair<double, std::uint32_t>;
    std::priority_queue<Item, std::vector<Item>, std::greater<>> open;
    auto heuristic = [&](std::size_t i, std::size_t j) {
        return std::abs(xs[i] - t.x) + std::abs(ys[j] - t.y);
    };
    // Leaving the output port rightwards: the first direction is "right".
    const auto start = static_cast<std::uint32_t>((sj * nx + si) * 4 + 0);
    cost[start] = 0;
    open.emplace(heuristic(si, sj), start);
    std::uint32_t goal = std::numeric_limits<std::uint32_t>::max();
    while (!open.empty()) {
        auto [f, state] = open.top();
        open.pop();
        const std::size_t dir = state % 4, cell = state / 4;
        const std::size_t i = cell % nx, j = cell / nx;
        const double g = cost[state];
        if (f > g + heuristic(i, j) + 1e-9)
            continue;
        if (i == ti && j == tj && dir == 0) {
            goal = state;
            break;
        }
        for (std::size_t nd = 0; nd < 4; ++nd) {
            // No U-turns: they only ever retrace a segment.
            if ((dir ^ 1) == nd)
                continue;
            std::size_t ni = i, nj = j;
            bool blocked = false;
            switch (nd) {
            case 0:
                blocked = i + 1 >= nx || blockedH[j * nx + i];
                ni = i + 1;
                break;
            case 1:
                blocked = i == 0 || blockedH[j * nx + i - 1];
                ni = i - 1;
                break;
            case 2:
                blocked = j + 1 >= ny || blockedV[j * nx + i];
                nj = j + 1;
                break;
            default:
                blocked = j == 0 || blockedV[(j - 1) * nx + i];
                nj = j - 1;
                break;
            }
            if (blocked)
                continue;
            const double step = std::abs(xs[ni] - xs[i]) + std::abs(ys[nj] - ys[j]);
            const double ng = g + step + (nd == dir ? 0 : kBendCost);
            const auto next = static_cast<std::uint32_t>((nj * nx + ni) * 4 + nd);
            if (ng + 1e-9 < cost[next]) {
                cost[next] = ng;
                parent[next] = state;
                open.emplace(ng + heuristic(ni, nj), next);
            }
        }
    }
    if (goal == std::numeric_limits<std::uint32_t>::max())
        return std::nullopt;
    std::vector<Point> pts;
    for (std::uint32_t st = goal; st != std::numeric_limits<std::uint32_t>::max();
         st = parent[st]) {
        const std::size_t cell = st / 4;
        pts.push_back({xs[cell % nx], ys[cell / nx]});
    }
    std::reverse(pts.begin(), pts.end());
    return pts;
}

} // namespace

WireRouter::WireRouter(std::vector<std::pair<NodeId, Rect>> obstacles, double margin)
    : m_obstacles(std::move(obstacles))
    , m_margin(margin) {}

WireRoute WireRouter::route(Point from, NodeId fromNode, Point to, NodeId toNode) const {
    (void)fromNode;
    (void)toNode;
    const double m = m_margin;
    // The stubs: the wire leaves the output port rightwards and enters the input
    // port from the left, through the margin around its own node.
    const Point s{from.x + m, from.y};
    const Point t{to.x - m, to.y};

    // Only boxes near the two ends matter for most wires; the search widens
    // when nothing free is found there.
    auto routeWithin = [&](const Box& region) -> std::optional<WireRoute> {
        std::vector<Box> boxes;
        for (const auto& [id, r] : m_obstacles) {
            const Box b{r.x - m, r.y - m, r.right() + m, r.bottom() + m};
            if (b.right > region.left && b.left < region.right && b.bottom > region.top &&
                b.top < region.bottom)
                boxes.push_back(b);
        }
        // An end inside some other node's margin has no free route at all.
        for (const Box& b : boxes)
            if (strictlyInside(b, s.x, s.y) || strictlyInside(b, t.x, t.y))
                return std::nullopt;

        // Fast path: straight, or one vertical jog between the two ends (the
        // jog as near the middle as the nodes allow).
        if (t.x >= s.x) {
            if (s.y == t.y && segmentFree(boxes, s, t))
                return WireRoute{from, to};
            std::vector<double> jogs{(s.x + t.x) / 2, s.x, t.x};
            for (const Box& b : boxes) {
                if (b.left >= s.x && b.left <= t.x)
                    jogs.push_back(b.left);
                if (b.right >= s.x && b.right <= t.x)
                    jogs.push_back(b.right);
            }
            const double mid = (s.x + t.x) / 2;
            std::sort(jogs.begin(), jogs.end(),
                      [mid](double a, double b) { return std::abs(a - mid) < std::abs(b - mid); });
            for (double x : jogs) {
                std::vector<Point> pts{s, {x, s.y}, {x, t.y}, t};
                if (pathFree(boxes, pts))
                    return simplify({from, s, {x, s.y}, {x, t.y}, t, to});
            }
        }
        if (auto pts = searchGrid(boxes, s, t, region)) {
            std::vector<Point> full{from};
            full.insert(full.end(), pts->begin(), pts->end());
            full.push_back(to);
            return simplify(full);
        }
        return std::nullopt;
    };

    auto around = [&](double pad) {
        return Box{std::min(s.x, t.x) - pad, std::min(s.y, t.y) - pad, std::max(s.x, t.x) + pad,
                   std::max(s.y, t.y) + pad};
    };
    const double base = 4 * m + 2 * node_metrics::kPortRow;
    for (double pad : {base, base * 4})
        if (auto r = routeWithin(around(pad)))
            return *r;
    // Last try: the whole canvas, one margin outside every node.
    Box world = around(base);
    for (const auto& [id, r] : m_obstacles) {
        world.left = std::min(world.left, r.x - 3 * m);
        world.top = std::min(world.top, r.y - 3 * m);
        world.right = std::max(world.right, r.right() + 3 * m);
        world.bottom = std::max(world.bottom, r.bottom() + 3 * m);
    }
    if (auto r = routeWithin(world))
        return *r;

    // No free route: the plain route, so the wire is at least drawn.
    if (t.x >= s.x) {
        const double x = (s.x + t.x) / 2;
        return simplify({from, {x, from.y}, {x, to.y}, to});
    }
    const double y = (from.y + to.y) / 2;
    return simplify({from, s, {s.x, y}, {t.x, y}, t, to});
}

} // namespace segforge::core
