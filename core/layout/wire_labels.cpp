// placeWireLabels (declared in wire_router.hpp beside the routes it labels).

#include "layout/wire_router.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <unordered_map>

namespace segforge::core {

namespace {

/// Room kept between a label and the nodes and labels around it.
constexpr double kClearance = 2;
/// A vertical stretch is used only when no horizontal one is free: labels read
/// along horizontal wires.
constexpr double kVerticalPenalty = 100000;

/// Rectangles bucketed on a coarse grid, so a query looks at its neighbours
/// only (a few hundred nodes times dozens of candidate spots per label).
class RectIndex {
public:
    void insert(const Rect& r) {
        const auto id = static_cast<std::uint32_t>(m_rects.size());
        m_rects.push_back(r);
        forCells(r, [&](std::int64_t key) { m_cells[key].push_back(id); });
    }
    bool hits(const Rect& r) {
        ++m_stamp;
        bool hit = false;
        forCells(r, [&](std::int64_t key) {
            if (hit)
                return;
            auto it = m_cells.find(key);
            if (it == m_cells.end())
                return;
            for (std::uint32_t id : it->second) {
                if (m_seen.size() <= id)
                    m_seen.resize(m_rects.size(), 0);
                if (m_seen[id] == m_stamp)
                    continue;
                m_seen[id] = m_stamp;
                if (m_rects[id].intersects(r)) {
                    hit = true;
                    return;
                }
            }
        });
        return hit;
    }

private:
    static constexpr double kCell = 160;
    template <class F> void forCells(const Rect& r, F&& f) {
        const auto x0 = static_cast<std::int64_t>(std::floor(r.x / kCell));
        const auto x1 = static_cast<std::int64_t>(std::floor(r.right() / kCell));
        const auto y0 = static_cast<std::int64_t>(std::floor(r.y / kCell));
        const auto y1 = static_cast<std::int64_t>(std::floor(r.bottom() / kCell));
        for (std::int64_t y = y0; y <= y1; ++y)
            for (std::int64_t x = x0; x <= x1; ++x)
                f((y << 32) ^ (x & 0xffffffff));
    }
    std::vector<Rect> m_rects;
    std::unordered_map<std::int64_t, std::vector<std::uint32_t>> m_cells;
    std::vector<std::uint32_t> m_seen;
    std::uint32_t m_stamp = 0;
};

struct Candidate {
    double score;
    Point centre;
};

Rect labelRect(Point centre, Point size, double grow) {
    return {centre.x - size.x / 2 - grow, centre.y - size.y / 2 - grow, size.x + 2 * grow,
            size.y + 2 * grow};
}

/// Spots along `route` where the label fits on one straight stretch, best first:
/// horizontal before vertical, then nearest the middle of the wire.
/// `fitOnly`: only where the stretch is at least as long as the label.
std::vector<Candidate> candidatesOn(const WireRoute& route, Point size, bool fitOnly) {
    std::vector<Candidate> out;
    double total = 0;
    for (std::size_t k = 1; k < route.size(); ++k)
        total += std::abs(route[k].x - route[k - 1].x) + std::abs(route[k].y - route[k - 1].y);
    const double middle = total / 2;
    double arc = 0;
    for (std::size_t k = 1; k < route.size(); ++k) {
        const Point a = route[k - 1], b = route[k];
        const bool horizontal = a.y == b.y;
        const double len = std::abs(b.x - a.x) + std::abs(b.y - a.y);
        const double need = horizontal ? size.x : size.y;
        const double lo = horizontal ? std::min(a.x, b.x) : std::min(a.y, b.y);
        const double hi = horizontal ? std::max(a.x, b.x) : std::max(a.y, b.y);
        const bool forward = horizontal ? b.x >= a.x : b.y >= a.y;
        if (len < 1e-9 || (fitOnly && len < need)) {
            arc += len;
            continue;
        }
        // Centre range on the stretch; a stretch shorter than the label gets its middle.
        double cLo = lo + need / 2, cHi = hi - need / 2;
        if (cLo > cHi)
            cLo = cHi = (lo + hi) / 2;
        // Where on this stretch the wire's middle falls (clamped to the stretch).
        const double along = std::clamp(middle - arc, 0.0, len);
        const double want = std::clamp(forward ? lo + along : hi - along, cLo, cHi);
        const double step = std::max(need / 2, 8.0);
        auto add = [&](double c) {
            const double arcAt = arc + (forward ? c - lo : hi - c);
            const Point centre = horizontal ? Point{c, a.y} : Point{a.x, c};
            out.push_back({std::abs(arcAt - middle) + (horizontal ? 0 : kVerticalPenalty), centre});
        };
        add(want);
        for (int n = 1; n <= 24; ++n) {
            const double up = want + n * step, down = want - n * step;
            const bool upOk = up <= cHi, downOk = down >= cLo;
            if (!upOk && !downOk)
                break;
            if (upOk)
                add(up);
            if (downOk)
                add(down);
        }
        if (cHi > want)
            add(cHi);
        if (cLo < want)
            add(cLo);
        arc += len;
    }
    std::stable_sort(out.begin(), out.end(),
                     [](const Candidate& x, const Candidate& y) { return x.score < y.score; });
    return out;
}

} // namespace

std::vector<std::optional<Point>> placeWireLabels(const std::vector<WireRoute>& routes,
                                                  const std::vector<Point>& labelSizes,
                                                  const std::vector<Rect>& nodes) {
    std::vector<std::optional<Point>> placed(routes.size());
    RectIndex nodeIndex;
    for (const Rect& r : nodes)
        nodeIndex.insert(r);
    RectIndex labelIndex;
    for (std::size_t i = 0; i < routes.size(); ++i) {
        if (routes[i].size() < 2 || i >= labelSizes.size())
            continue;
        const Point size = labelSizes[i];
        for (bool fitOnly : {true, false}) {
            for (const Candidate& c : candidatesOn(routes[i], size, fitOnly)) {
                const Rect r = labelRect(c.centre, size, kClearance);
                if (nodeIndex.hits(r) || labelIndex.hits(r))
                    continue;
                placed[i] = c.centre;
                labelIndex.insert(labelRect(c.centre, size, 0));
                break;
            }
            if (placed[i])
                break;
        }
    }
    return placed;
}

} // namespace segforge::core
