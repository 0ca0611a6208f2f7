#include "layout/room_for_insert.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace segforge::core {

namespace {

bool yOverlap(const Rect& a, const Rect& b, double gap) {
    return a.y < b.bottom() + gap && b.y < a.bottom() + gap;
}

} // namespace

EditScript withRoomFor(const Graph& before, const EditScript& fix, const LayoutSpacing& spacing) {
    Graph after = before;
    if (!applyEdits(after, fix).ok)
        return fix;
    std::vector<std::size_t> adds;
    for (std::size_t i = 0; i < fix.size(); ++i)
        if (const auto* add = std::get_if<AddNodeEdit>(&fix[i]); add && after.hasNode(add->node.id))
            adds.push_back(i);
    if (adds.empty())
        return fix;

    EditScript out = fix;
    // Where every node stands now: the existing ones, then each added one once placed.
    std::unordered_map<NodeId, Point> pos;
    std::unordered_map<NodeId, NodeGeometry> geometry;
    for (const auto& [id, n] : after.nodes()) {
        geometry[id] = nodeGeometry(n);
        if (before.hasNode(id))
            pos[id] = n.position;
    }
    auto rectOf = [&](NodeId id) { return geometry[id].rectAt(pos[id]); };
    const double pitch = node_metrics::kWidth + spacing.columnGap;
    std::map<NodeId, Point>
        moved; // existing nodes → their new place (in id order: a stable script)

    for (std::size_t index : adds) {
        auto& add = std::get<AddNodeEdit>(out[index]);
        const NodeId id = add.node.id;
        const NodeGeometry& g = geometry[id];
        // On the wire: after a placed producer, in line with its port; else
        // before a placed consumer; else where the script put it.
        Point at = add.node.position;
        NodeId anchor = kNoNode;
        for (const Edge& e : after.edgesOf(id)) {
            if (e.to.node == id && pos.count(e.from.node)) {
                const Point p = pos[e.from.node];
                const double portY =
                    p.y + geometry[e.from.node].outputOffset(e.from.port).value_or(Point{}).y;
                at = {p.x + pitch,
                      std::round(portY - g.inputOffset(e.to.port).value_or(Point{}).y)};
                anchor = e.from.node;
                break;
            }
        }
        if (anchor == kNoNode) {
            for (const Edge& e : after.edgesOf(id)) {
                if (e.from.node == id && pos.count(e.to.node)) {
                    const Point c = pos[e.to.node];
                    const double portY =
                        c.y + geometry[e.to.node].inputOffset(e.to.port).value_or(Point{}).y;
                    at = {c.x - pitch,
                          std::round(portY - g.outputOffset(e.from.port).value_or(Point{}).y)};
                    anchor = e.to.node;
                    break;
                }
            }
        }
        // A node there that is not downstream of the new one (a sibling branch
        // of the same producer) stays: the new node goes below it instead.
        const std::unordered_set<NodeId> downstream = after.downstreamOf(id);
        for (int tries = 0; tries < 64; ++tries) {
            const Rect r = g.rectAt(at);
            const Rect around{r.x - spacing.columnGap / 2, r.y - spacing.rowGap / 2,
                              r.width + spacing.columnGap, r.height + spacing.rowGap};
            std::optional<double> below;
            for (const auto& [other, p] : pos)
                if (other != id && !downstream.count(other) && around.intersects(rectOf(other)))
                    below = std::max(below.value_or(0.0), rectOf(other).bottom() + spacing.rowGap);
            if (!below)
                break;
            at.y = *below;
        }
        const Rect placed = g.rectAt(at);
        // The cut: everything right of the producer (or from the consumer on).
        const double cut =
            anchor == kNoNode ? at.x - 1 : (pos[anchor].x < at.x ? pos[anchor].x : at.x - 1);

        // What moves: the nodes downstream of the new one (so the rest of a U
        // keeps its shape) and the rows it meets, right of the cut; and,
        // transitively, whatever stands beside those (a tall node spans two rows).
        std::vector<NodeId> shift;
        std::unordered_set<NodeId> inShift;
        std::vector<Rect> band{placed};
        for (NodeId other : downstream) {
            if (other == id || !pos.count(other) || pos[other].x <= cut)
                continue;
            shift.push_back(other);
            inShift.insert(other);
            band.push_back(rectOf(other));
        }
        for (bool grew = true; grew;) {
            grew = false;
            for (const auto& [other, p] : pos) {
                if (other == id || inShift.count(other) || p.x <= cut)
                    continue;
                const Rect r = rectOf(other);
                for (const Rect& b : band)
                    if (yOverlap(r, b, spacing.rowGap / 2)) {
                        shift.push_back(other);
                        inShift.insert(other);
                        band.push_back(r);
                        grew = true;
                        break;
                    }
            }
        }
        // As far as the nodes in the new node's way need; the rest keep step.
        double dx = 0;
        for (NodeId other : shift)
            if (yOverlap(rectOf(other), placed, spacing.rowGap / 2))
                dx = std::max(dx, placed.right() + spacing.columnGap - pos[other].x);
        if (dx > 0)
            for (NodeId other : shift) {
                pos[other].x += dx;
                moved[other] = pos[other];
            }
        // Still on something (a node left of the cut reaching over it): go below everything there.
        for (int tries = 0; tries < 64; ++tries) {
            const Rect r = g.rectAt(at);
            bool clear = true;
            for (const auto& [other, p] : pos) {
                if (other == id)
                    continue;
                const Rect o = rectOf(other);
                if (r.intersects(Rect{o.x - 1, o.y - 1, o.width + 2, o.height + 2})) {
                    at.y = o.bottom() + spacing.rowGap;
                    clear = false;
                    break;
                }
            }
            if (clear)
                break;
        }
        add.node.position = at;
        pos[id] = at;
    }
    for (const auto& [id, p] : moved)
        out.push_back(MoveNodeEdit{id, p});
    return out;
}

} // namespace segforge::core
