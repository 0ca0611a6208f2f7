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

/// Creates a group. group.id must be free; every member must exist and be in no
/// other group (so the inverse, RemoveGroupEdit, restores exactly).
struct AddGroupEdit {
    Group group;
};
/// Removes a group; its nodes stay where they are.
struct RemoveGroupEdit {
    GroupId group = kNoGroup;
};
struct RenameGroupEdit {
    GroupId group = kNoGroup;
    std::string name;
};
/// Collapsing changes only how the canvas draws the group; it is an edit so that
/// it is saved and undone like any other.
struct SetGroupCollapsedEdit {
    GroupId group = kNoGroup;
    bool collapsed = false;
};
/// Replaces a group's members; each must exist and be in no other group.
struct SetGroupMembersEdit {
    GroupId group = kNoGroup;
    std::set<NodeId> members;
};

using GraphEdit =
    std::variant<AddNodeEdit, RemoveNodeEdit, ConnectEdit, DisconnectEdit, SetAttributeEdit,
                 SetOpEdit, MoveNodeEdit, RenameNodeEdit, AddGroupEdit, RemoveGroupEdit,
                 RenameGroupEdit, SetGroupCollapsedEdit, SetGroupMembersEdit>;
using EditScript = std::vector<GraphEdit>;

struct EditOutcome {
    bool ok = false;
    std::string error;  ///< why the script could not be applied (graph left unchanged)
    EditScript inverse; ///< applying this undoes the script
};

/// Applies the edits in order. Atomic: on failure the graph is restored and
/// `error` says which edit failed and why.
EditOutcome applyEdits(Graph& graph, const EditScript& script);

/// True for edits that change only how the network is shown (moving nodes,
/// every group edit), never what it computes: allowed while training runs.
bool isPresentationEdit(const GraphEdit& edit);

/// One-line description of an edit for logs and the CLI ("connect conv1.output → bn1.input").
std::string describeEdit(const Graph& graph, const GraphEdit& edit);

/// Script that splices `inserted` into `edge`: from → inserted.inPort, inserted.outPort → to.
/// `inserted.id` is taken from graph.nextNodeId() when unset and its name made unique.
EditScript insertNodeOnEdge(const Graph& graph, const Edge& edge, Node inserted,
                            const std::string& inPort, const std::string& outPort);

} // namespace segforge::core
