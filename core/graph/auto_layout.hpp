#pragma once

#include "graph/graph_edit.hpp"

namespace segforge::core {

/// Layered left-to-right layout: each node's column is its longest distance
/// from a source; within a column nodes are ordered by the average row of
/// their producers (barycentre), so a chain stays on one line and skip
/// connections arc above it. Returns the moves as an EditScript.
EditScript autoLayout(const Graph& graph, double columnSpacing = 300, double rowSpacing = 170);

} // namespace segforge::core
