#include "scene/wire_layout.hpp"

#include "layout/wire_router.hpp"
#include "scene/edge_item.hpp"
#include "scene/group_item.hpp"
#include "scene/node_item.hpp"

#include <QGraphicsScene>
#include <algorithm>
#include <cmath>
#include <functional>

namespace segforge::ui {

namespace {

/// The boxes wires go around: visible nodes, and collapsed groups standing in
/// for their hidden members. Groups get ids no node has (negative).
struct Obstacles {
    std::vector<std::pair<core::NodeId, core::Rect>> boxes;
    std::vector<core::Rect> rects;
};

core::Rect toRect(const QRectF& r) {
    return {r.x(), r.y(), r.width(), r.height()};
}

Obstacles collectObstacles(QGraphicsScene* scene) {
    Obstacles out;
    core::NodeId groupId = -1;
    for (QGraphicsItem* item : scene->items(Qt::AscendingOrder)) {
        if (!item->isVisible())
            continue;
        if (item->type() == NodeItem::Type) {
            auto* node = static_cast<NodeItem*>(item);
            out.boxes.emplace_back(node->nodeId(), toRect(node->sceneBodyRect()));
        } else if (item->type() == GroupItem::Type &&
                   static_cast<GroupItem*>(item)->isCollapsed()) {
            out.boxes.emplace_back(groupId--, toRect(item->sceneBoundingRect()));
        }
    }
    for (const auto& [id, r] : out.boxes)
        out.rects.push_back(r);
    // Labels also keep off expanded groups' title bars (wires may cross them).
    for (QGraphicsItem* item : scene->items(Qt::AscendingOrder)) {
        if (item->isVisible() && item->type() == GroupItem::Type &&
            !static_cast<GroupItem*>(item)->isCollapsed())
            out.rects.push_back(toRect(static_cast<GroupItem*>(item)->sceneTitleRect()));
    }
    return out;
}

std::vector<EdgeItem*> visibleWires(QGraphicsScene* scene) {
    std::vector<EdgeItem*> out;
    for (QGraphicsItem* item : scene->items(Qt::AscendingOrder)) {
        if (item->type() == EdgeItem::Type && item->isVisible())
            out.push_back(static_cast<EdgeItem*>(item));
    }
    // Stable order: label placement is first come, first served.
    std::sort(out.begin(), out.end(),
              [](EdgeItem* a, EdgeItem* b) { return a->edge() < b->edge(); });
    return out;
}

/// The box a port sits on: a port is on its box's left or right edge.
core::NodeId ownerOf(const Obstacles& o, QPointF port) {
    for (const auto& [id, r] : o.boxes) {
        if (port.y() >= r.y && port.y() <= r.bottom() && port.x() >= r.x - 1 &&
            port.x() <= r.right() + 1)
            return id;
    }
    return core::kNoNode;
}

/// The stretch of a route nearest its input, up to `length` long: a label
/// sits near the input it feeds, where a view centred on that node finds it.
core::WireRoute tailOf(const core::WireRoute& route, double length) {
    if (route.size() < 2)
        return route;
    core::WireRoute out{route.back()};
    for (std::size_t i = route.size() - 1; i > 0; --i) {
        const core::Point a = route[i - 1], b = route[i];
        const double d = std::hypot(b.x - a.x, b.y - a.y);
        if (d >= length) {
            const double t = length / d;
            out.push_back({b.x + (a.x - b.x) * t, b.y + (a.y - b.y) * t});
            break;
        }
        out.push_back(a);
        length -= d;
    }
    return core::WireRoute(out.rbegin(), out.rend());
}

void hashIn(std::size_t& h, double v) {
    h ^= std::hash<double>{}(v) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
}

void routeAndPlace(const Obstacles& o, const std::vector<EdgeItem*>& wires) {
    const core::WireRouter router(o.boxes);
    std::vector<core::WireRoute> routes;
    std::vector<core::Point> sizes;
    routes.reserve(wires.size());
    for (EdgeItem* e : wires) {
        const QPointF a = e->fromPos(), b = e->toPos();
        routes.push_back(
            router.route({a.x(), a.y()}, ownerOf(o, a), {b.x(), b.y()}, ownerOf(o, b)));
        const QSizeF size = e->labelSize();
        sizes.push_back({size.width(), size.height()});
    }
    // Labels near their inputs first; a wire with no room there gets the best
    // place on its whole route, around the labels already placed.
    std::vector<core::WireRoute> tails;
    tails.reserve(routes.size());
    for (std::size_t i = 0; i < routes.size(); ++i)
        tails.push_back(tailOf(routes[i], std::max(360.0, 3 * sizes[i].x)));
    auto labels = core::placeWireLabels(tails, sizes, o.rects);
    std::vector<core::WireRoute> rest(routes.size());
    std::vector<core::Rect> taken = o.rects;
    bool missing = false;
    for (std::size_t i = 0; i < routes.size(); ++i) {
        if (labels[i])
            taken.push_back({labels[i]->x - sizes[i].x / 2 - 2, labels[i]->y - sizes[i].y / 2 - 2,
                             sizes[i].x + 4, sizes[i].y + 4});
        else
            rest[i] = routes[i], missing = true;
    }
    if (missing) {
        const auto more = core::placeWireLabels(rest, sizes, taken);
        for (std::size_t i = 0; i < routes.size(); ++i)
            if (!labels[i])
                labels[i] = more[i];
    }
    for (std::size_t i = 0; i < wires.size(); ++i) {
        QPolygonF route;
        for (const core::Point& p : routes[i])
            route << QPointF(p.x, p.y);
        std::optional<QPointF> label;
        if (labels[i])
            label = QPointF(labels[i]->x, labels[i]->y);
        wires[i]->setRoute(route, label);
    }
}

} // namespace

bool WireLayout::update(QGraphicsScene* scene) {
    const Obstacles o = collectObstacles(scene);
    const std::vector<EdgeItem*> wires = visibleWires(scene);
    std::size_t h = o.boxes.size() * 31 + wires.size();
    for (const auto& [id, r] : o.boxes) {
        hashIn(h, static_cast<double>(id));
        hashIn(h, r.x);
        hashIn(h, r.y);
        hashIn(h, r.width);
        hashIn(h, r.height);
    }
    bool unrouted = false;
    for (EdgeItem* e : wires) {
        hashIn(h, e->fromPos().x());
        hashIn(h, e->fromPos().y());
        hashIn(h, e->toPos().x());
        hashIn(h, e->toPos().y());
        hashIn(h, e->labelSize().width());
        unrouted = unrouted || !e->isRouted();
    }
    if (h == m_signature && !unrouted)
        return false;
    m_signature = h;
    routeAndPlace(o, wires);
    return true;
}

void WireLayout::wiresMoved(QGraphicsScene* scene, const std::vector<EdgeItem*>& wires) {
    routeAndPlace(collectObstacles(scene), wires);
    m_signature = 0; // the other labels may now sit under the moved node: place all again next time
}

} // namespace segforge::ui
