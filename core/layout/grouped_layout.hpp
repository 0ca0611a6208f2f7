#pragma once

#include "layout/graph_layout.hpp"

#include <map>

namespace segforge::core {

/// Lays out a graph whose groups may be collapsed. Without collapsed groups it
/// is computeLayout(). With them, a U-shaped network becomes the block picture
/// of the U-Net paper: one row per resolution level, every collapsed group one
/// box, the encoder's blocks stacked down a column on the left, the bottleneck
/// at the bottom, the decoder's blocks stacked up a column on the right, so a
/// skip connection crosses from a block to the block of its level and the
/// whole network fits a laptop screen at a readable zoom. The members of a
/// collapsed group all sit at its box's corner (they are hidden; expanding the
/// group lays the graph out again). Anything not a U keeps computeLayout()'s
/// positions, each collapsed group's members gathered at their top-left corner.
GraphLayout computeGroupedLayout(const Graph& graph, const CheckResult& check,
                                 const LayoutSpacing& spacing = {});

/// The grouped layout as moves of the nodes that are not there yet.
EditScript groupedLayoutScript(const Graph& graph, const CheckResult& check,
                               const LayoutSpacing& spacing = {});

/// Collapses or expands groups (group id → collapsed) and lays the result out,
/// as one script: what the Collapse and Expand commands apply as one undoable
/// step. Groups already in the asked state are left out; empty when nothing changes.
EditScript setGroupsCollapsedScript(const Graph& graph, const std::map<GroupId, bool>& collapsed);

/// The zoom at which the whole graph (node boxes, collapsed groups as their
/// boxes) fits a viewport of `width`×`height` screen pixels, capped at 1.
double fitZoom(const Graph& graph, double width, double height);

} // namespace segforge::core
