#pragma once

#include "check/check_result.hpp"
#include "graph/graph_edit.hpp"
#include "layout/node_geometry.hpp"

#include <map>

namespace segforge::core {

/// Room between nodes. The horizontal gap holds a wire's type label
/// ("N×128×128×16 f32"), so a wire between neighbours shows its type.
struct LayoutSpacing {
    double columnGap = 132; ///< between a node's right edge and the next column
    double rowGap = 40;     ///< between nodes stacked in one column
    double levelGap = 30;   ///< around the pooling/upsampling nodes between two levels
};

/// Positions of every node (top-left corners), and how they were found.
struct GraphLayout {
    std::map<NodeId, Point> positions;
    bool uShaped = false; ///< laid out as a U (else layered left to right)
};

/// Lays the graph out. A U-shaped network (its inferred resolution goes down
/// and back up) gets the picture of the U-Net paper: one row per resolution
/// level, the encoder descending on the left, the bottleneck at the bottom,
/// the decoder climbing on the right, every skip connection a horizontal wire
/// at its level, the nodes that change resolution between the rows, sources at
/// the top left and losses and metrics at the top right. Anything else gets a
/// layered layout (longest-path columns, crossings reduced by barycentre
/// sweeps). No two node rectangles overlap.
GraphLayout computeLayout(const Graph& graph, const CheckResult& check,
                          const LayoutSpacing& spacing = {});

/// Moves that bring the graph's nodes to `positions` (nodes already there are left out).
EditScript movesTo(const Graph& graph, const std::map<NodeId, Point>& positions);

/// The check the layouts read: every edge's type, without the input-size
/// sweep's explanations or the missing-loss error.
CheckResult checkTypesForLayout(const Graph& graph);

/// The layout as moves of the nodes that are not there yet (one undoable script).
EditScript layoutGraph(const Graph& graph, const CheckResult& check,
                       const LayoutSpacing& spacing = {});
/// Same, checking the graph first (the types decide the levels).
EditScript layoutGraph(const Graph& graph);

/// Layered left-to-right layout of any graph (also what a non-U graph gets).
std::map<NodeId, Point> layeredLayout(const Graph& graph, const std::vector<NodeId>& order,
                                      const LayoutSpacing& spacing = {});

} // namespace segforge::core
