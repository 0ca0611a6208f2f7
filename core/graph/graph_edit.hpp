#pragma once

#include "graph/graph.hpp"

#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace segforge::core {

/// Primitive, invertible edits of a Graph. Every change the UI makes (and every
/// FixIt the checker proposes) is a list of these, so undo/redo is plain data
/// and testable without Qt.
struct AddNodeEdit {
    Node node; ///< node.id must be free in the target graph
};
struct RemoveNodeEdit {
    NodeId node = kNoNode;
};
struct ConnectEdit {
    Edge edge;
};
struct DisconnectEdit {
    Edge edge;
};
struct SetAttributeEdit {
    NodeId node = kNoNode;
    std::string name;
    std::optional<AttrValue> value; ///< nullopt resets to the schema default
};
struct SetOpEdit {
    NodeId node = kNoNode;
    std::string op;
};
struct MoveNodeEdit {
    NodeId node = kNoNode;
    Point position;
};
struct RenameNodeEdit {
    NodeId node = kNoNode;
    std::string name;
};

using GraphEdit = std::variant<AddNodeEdit, RemoveNodeEdit, ConnectEdit, DisconnectEdit,
                               SetAttributeEdit, SetOpEdit, MoveNodeEdit, RenameNodeEdit>;
using EditScript = std::vector<GraphEdit>;

struct EditOutcome {
    bool ok = false;
    std::string error;   ///< why the script could not be applied (graph left unchanged)
    EditScript inverse;  ///< applying this undoes the script
};

/// Applies the edits in order. Atomic: on failure the graph is restored and
/// `error` says which edit failed and why.
EditOutcome applyEdits(Graph& graph, const EditScript& script);

/// One-line description of an edit for logs and the CLI ("connect conv1.output → bn1.input").
std::string describeEdit(const Graph& graph, const GraphEdit& edit);

/// Script that splices `inserted` into `edge`: from → inserted.inPort, inserted.outPort → to.
/// `inserted.id` is taken from graph.nextNodeId() when unset and its name made unique.
EditScript insertNodeOnEdge(const Graph& graph, const Edge& edge, Node inserted,
                            const std::string& inPort, const std::string& outPort);

} // namespace segforge::core
