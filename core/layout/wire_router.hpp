#pragma once

#include "layout/node_geometry.hpp"

#include <utility>
#include <vector>

namespace segforge::core {

/// A wire as routed: an orthogonal polyline from an output port to an input
/// port (first point = the output port, last = the input port). The canvas
/// draws it with rounded corners.
using WireRoute = std::vector<Point>;

/// Routes wires around node rectangles: no segment of a route crosses a node's
/// rectangle (grown by the margin), its own two nodes included, except the
/// short stubs that leave the output port rightwards and enter the input port
/// from the left.
class WireRouter {
public:
    explicit WireRouter(std::vector<std::pair<NodeId, Rect>> obstacles, double margin = 12);

    /// The route from `from` (an output port on the right edge of `fromNode`)
    /// to `to` (an input port on the left edge of `toNode`). Prefers few bends
    /// and short length; falls back to the direct three-segment route when no
    /// free route exists (a port inside another node).
    WireRoute route(Point from, NodeId fromNode, Point to, NodeId toNode) const;

private:
    std::vector<std::pair<NodeId, Rect>> m_obstacles;
    double m_margin;
};

/// Where each wire's label goes: its centre, on a stretch of the wire that no
/// node rectangle and no other label covers. `labelSizes[i]` is the label's
/// width and height for `routes[i]`. nullopt: no visible place for it.
std::vector<std::optional<Point>> placeWireLabels(const std::vector<WireRoute>& routes,
                                                  const std::vector<Point>& labelSizes,
                                                  const std::vector<Rect>& nodes);

} // namespace segforge::core
