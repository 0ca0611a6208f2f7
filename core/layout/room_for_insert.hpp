#pragma once

#include "graph/graph_edit.hpp"
#include "layout/graph_layout.hpp"

namespace segforge::core {

/// `fix` (a FixIt's script, or any script that adds nodes) with the nodes it
/// adds placed on their wire: right after their producer, the wire in
/// straight, and the nodes right of that spot on the rows it needs moved
/// right to make room — all in one script, so it applies (and undoes) as one
/// step. Nothing overlaps afterwards. A script that cannot be applied to
/// `before` comes back unchanged.
EditScript withRoomFor(const Graph& before, const EditScript& fix,
                       const LayoutSpacing& spacing = {});

} // namespace segforge::core
