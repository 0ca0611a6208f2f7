#pragma once

#include "check/check_result.hpp"
#include "graph/graph_edit.hpp"

namespace segforge::core {

/// One group per resolution level of a U-shaped network, found from the
/// structure (the levels the checker infers, as the U layout reads them),
/// never from node names: enc1…encN hold the nodes the encoder runs at each
/// level with the node that takes it down a level, bottleneck the deepest
/// level, decN…dec1 the node that brings the decoder up to a level with the
/// nodes that run there. What the U-Net template creates by construction, for
/// imported and hand-built networks, so a large one can be read collapsed.
/// Empty when the graph is not a U, is shallower than two levels, or already
/// has groups (the user's grouping is never replaced).
EditScript levelGroupsScript(const Graph& graph, const CheckResult& check);
/// Same, checking the graph first.
EditScript levelGroupsScript(const Graph& graph);

} // namespace segforge::core
