#pragma once

#include "graph/graph_edit.hpp"

#include <map>
#include <vector>

namespace segforge::core {

/// The edits behind the editor's commands, as pure functions of the graph:
/// each returns the EditScript that one user action applies as one undoable
/// step, so what an action does is testable without Qt (QtNodes' weakness,
/// commands that read the scene, avoided).

/// Wire `from` into `to`, replacing whatever fed `to`. Empty when `from`
/// already feeds `to` (nothing to do).
EditScript connectReplacing(const Graph& graph, const PortRef& from, const PortRef& to);

/// Delete `nodes` (with every wire touching them and every group they leave
/// empty) and the wires in `wires`. Wires of a deleted node are not listed
/// twice; unknown ids are skipped.
EditScript removeSelection(const Graph& graph, const std::vector<NodeId>& nodes,
                           const std::vector<Edge>& wires);

/// The nodes `ids` and the wires among them, as a graph of their own (the
/// clipboard's content). Ids, names, attributes and positions are kept.
Graph extractSubgraph(const Graph& graph, const std::vector<NodeId>& ids);

/// What pasting `clip` into `graph` adds: every node with a fresh id and a
/// name unique in `graph`, moved so the clip's top-left node corner lands on
/// `origin`, and the clip's wires between the copies.
struct PasteScript {
    EditScript edits;
    std::map<NodeId, NodeId> ids; ///< clip id → id in `graph` after the paste
};
PasteScript pasteSubgraph(const Graph& graph, const Graph& clip, Point origin);

} // namespace segforge::core
