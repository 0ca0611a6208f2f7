#pragma once

#include "graph/graph.hpp"

#include <vector>

namespace segforge::core {

/// Where a group meets the rest of the graph: what a collapsed group shows as
/// its input and output ports.
struct GroupBoundary {
    /// Member input ports fed from outside the group, top to bottom on the canvas.
    std::vector<PortRef> inputs;
    /// Member output ports read outside the group, top to bottom on the canvas.
    std::vector<PortRef> outputs;
    /// Every edge that crosses the boundary, in either direction.
    std::vector<Edge> crossing;
};

/// The boundary of `group` in `graph`. Ports are ordered by their node's
/// position (y, then x), then by port name, so a collapsed group's ports line
/// up with the wires that reach them.
GroupBoundary groupBoundary(const Graph& graph, const Group& group);

} // namespace segforge::core
