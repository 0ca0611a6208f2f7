#include "graph/graph_edit.hpp"

#include <algorithm>

namespace segforge::core {
namespace {

std::string nodeLabel(const Graph& g, NodeId id) {
    const Node* n = g.findNode(id);
    return n ? "'" + n->name + "'" : "#" + std::to_string(id);
}

std::string portLabel(const Graph& g, const PortRef& p) {
    const Node* n = g.findNode(p.node);
    return (n ? n->name : "#" + std::to_string(p.node)) + "." + p.port;
}

std::string groupLabel(const Graph& g, GroupId id) {
    const Group* group = g.findGroup(id);
    return group ? "group '" + group->name + "'" : "group #" + std::to_string(id);
}

/// Why `members` cannot become the members of group `id`, if they cannot: each
/// must exist and belong to no other group, so an inverse restores exactly.
std::optional<std::string> memberProblem(const Graph& g, GroupId id,
                                         const std::set<NodeId>& members) {
    for (NodeId node : members) {
        if (!g.hasNode(node))
            return "no node " + std::to_string(node);
        const GroupId owner = g.groupOf(node);
        if (owner != kNoGroup && owner != id)
            return nodeLabel(g, node) + " is already in " + groupLabel(g, owner);
    }
    return std::nullopt;
}

/// Applies one edit; on success appends its inverse (in undo order) to `inverse`.
std::optional<std::string> applyOne(Graph& g, const GraphEdit& edit, EditScript& inverse) {
    return std::visit(
        [&](const auto& e) -> std::optional<std::string> {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, AddNodeEdit>) {
                if (e.node.id == kNoNode || g.hasNode(e.node.id))
                    return "node id " + std::to_string(e.node.id) + " is not free";
                g.addNode(e.node);
                inverse.push_back(RemoveNodeEdit{e.node.id});
            } else if constexpr (std::is_same_v<T, RemoveNodeEdit>) {
                const Node* n = g.findNode(e.node);
                if (!n)
                    return "no node " + std::to_string(e.node);
                // Undo must restore the node first, then its edges and its group membership.
                EditScript restore{AddNodeEdit{*n}};
                for (const Edge& edge : g.edgesOf(e.node))
                    restore.push_back(ConnectEdit{edge});
                if (const GroupId owner = g.groupOf(e.node); owner != kNoGroup)
                    restore.push_back(SetGroupMembersEdit{owner, g.findGroup(owner)->members});
                g.removeNode(e.node);
                // `inverse` is replayed back to front, so push edges first.
                for (auto it = restore.rbegin(); it != restore.rend(); ++it)
                    inverse.push_back(*it);
            } else if constexpr (std::is_same_v<T, ConnectEdit>) {
                if (!g.hasNode(e.edge.from.node) || !g.hasNode(e.edge.to.node))
                    return "cannot connect " + portLabel(g, e.edge.from) + " to " +
                           portLabel(g, e.edge.to) + ": node missing";
                if (!g.connect(e.edge.from, e.edge.to))
                    return "edge " + portLabel(g, e.edge.from) + " → " + portLabel(g, e.edge.to) +
                           " already exists";
                inverse.push_back(DisconnectEdit{e.edge});
            } else if constexpr (std::is_same_v<T, DisconnectEdit>) {
                if (!g.disconnect(e.edge))
                    return "no edge " + portLabel(g, e.edge.from) + " → " + portLabel(g, e.edge.to);
                inverse.push_back(ConnectEdit{e.edge});
            } else if constexpr (std::is_same_v<T, SetAttributeEdit>) {
                Node* n = g.findNode(e.node);
                if (!n)
                    return "no node " + std::to_string(e.node);
                std::optional<AttrValue> old;
                if (auto it = n->attrs.find(e.name); it != n->attrs.end())
                    old = it->second;
                if (e.value)
                    n->attrs[e.name] = *e.value;
                else
                    n->attrs.erase(e.name);
                inverse.push_back(SetAttributeEdit{e.node, e.name, old});
            } else if constexpr (std::is_same_v<T, SetOpEdit>) {
                Node* n = g.findNode(e.node);
                if (!n)
                    return "no node " + std::to_string(e.node);
                inverse.push_back(SetOpEdit{e.node, n->op});
                n->op = e.op;
            } else if constexpr (std::is_same_v<T, MoveNodeEdit>) {
                Node* n = g.findNode(e.node);
                if (!n)
                    return "no node " + std::to_string(e.node);
                inverse.push_back(MoveNodeEdit{e.node, n->position});
                n->position = e.position;
            } else if constexpr (std::is_same_v<T, RenameNodeEdit>) {
                Node* n = g.findNode(e.node);
                if (!n)
                    return "no node " + std::to_string(e.node);
                inverse.push_back(RenameNodeEdit{e.node, n->name});
                n->name = e.name;
            } else if constexpr (std::is_same_v<T, AddGroupEdit>) {
                if (e.group.id == kNoGroup || g.findGroup(e.group.id))
                    return "group id " + std::to_string(e.group.id) + " is not free";
                if (auto problem = memberProblem(g, e.group.id, e.group.members))
                    return problem;
                g.addGroup(e.group);
                inverse.push_back(RemoveGroupEdit{e.group.id});
            } else if constexpr (std::is_same_v<T, RemoveGroupEdit>) {
                const Group* group = g.findGroup(e.group);
                if (!group)
                    return "no group " + std::to_string(e.group);
                inverse.push_back(AddGroupEdit{*group});
                g.removeGroup(e.group);
            } else if constexpr (std::is_same_v<T, RenameGroupEdit>) {
                Group* group = g.findGroup(e.group);
                if (!group)
                    return "no group " + std::to_string(e.group);
                inverse.push_back(RenameGroupEdit{e.group, group->name});
                group->name = e.name;
            } else if constexpr (std::is_same_v<T, SetGroupCollapsedEdit>) {
                Group* group = g.findGroup(e.group);
                if (!group)
                    return "no group " + std::to_string(e.group);
                inverse.push_back(SetGroupCollapsedEdit{e.group, group->collapsed});
                group->collapsed = e.collapsed;
            } else if constexpr (std::is_same_v<T, SetGroupMembersEdit>) {
                const Group* group = g.findGroup(e.group);
                if (!group)
                    return "no group " + std::to_string(e.group);
                if (auto problem = memberProblem(g, e.group, e.members))
                    return problem;
                inverse.push_back(SetGroupMembersEdit{e.group, group->members});
                g.setGroupMembers(e.group, e.members);
            }
            return std::nullopt;
        },
        edit);
}

} // namespace

EditOutcome applyEdits(Graph& graph, const EditScript& script) {
    EditOutcome outcome;
    EditScript undoLog; // inverses in application order
    for (std::size_t i = 0; i < script.size(); ++i) {
        std::string what = describeEdit(graph, script[i]);
        if (auto err = applyOne(graph, script[i], undoLog)) {
            // Roll back what was applied so the graph is unchanged.
            EditScript scratch;
            for (auto it = undoLog.rbegin(); it != undoLog.rend(); ++it)
                applyOne(graph, *it, scratch);
            outcome.error = "edit " + std::to_string(i + 1) + " (" + what + "): " + *err;
            return outcome;
        }
    }
    outcome.ok = true;
    outcome.inverse.assign(undoLog.rbegin(), undoLog.rend());
    return outcome;
}

bool isPresentationEdit(const GraphEdit& edit) {
    return std::holds_alternative<MoveNodeEdit>(edit) ||
           std::holds_alternative<AddGroupEdit>(edit) ||
           std::holds_alternative<RemoveGroupEdit>(edit) ||
           std::holds_alternative<RenameGroupEdit>(edit) ||
           std::holds_alternative<SetGroupCollapsedEdit>(edit) ||
           std::holds_alternative<SetGroupMembersEdit>(edit);
}

std::string describeEdit(const Graph& g, const GraphEdit& edit) {
    return std::visit(
        [&](const auto& e) -> std::string {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, AddNodeEdit>) {
                return "add " + e.node.op + " '" + e.node.name + "'";
            } else if constexpr (std::is_same_v<T, RemoveNodeEdit>) {
                return "remove " + nodeLabel(g, e.node);
            } else if constexpr (std::is_same_v<T, ConnectEdit>) {
                return "connect " + portLabel(g, e.edge.from) + " → " + portLabel(g, e.edge.to);
            } else if constexpr (std::is_same_v<T, DisconnectEdit>) {
                return "disconnect " + portLabel(g, e.edge.from) + " → " + portLabel(g, e.edge.to);
            } else if constexpr (std::is_same_v<T, SetAttributeEdit>) {
                return "set " + nodeLabel(g, e.node) + "." + e.name + " = " +
                       (e.value ? attrToString(*e.value) : std::string("default"));
            } else if constexpr (std::is_same_v<T, SetOpEdit>) {
                return "change " + nodeLabel(g, e.node) + " to " + e.op;
            } else if constexpr (std::is_same_v<T, MoveNodeEdit>) {
                return "move " + nodeLabel(g, e.node);
            } else if constexpr (std::is_same_v<T, RenameNodeEdit>) {
                return "rename " + nodeLabel(g, e.node) + " to '" + e.name + "'";
            } else if constexpr (std::is_same_v<T, AddGroupEdit>) {
                return "group " + std::to_string(e.group.members.size()) + " nodes as '" +
                       e.group.name + "'";
            } else if constexpr (std::is_same_v<T, RemoveGroupEdit>) {
                return "ungroup " + groupLabel(g, e.group);
            } else if constexpr (std::is_same_v<T, RenameGroupEdit>) {
                return "rename " + groupLabel(g, e.group) + " to '" + e.name + "'";
            } else if constexpr (std::is_same_v<T, SetGroupCollapsedEdit>) {
                return (e.collapsed ? "collapse " : "expand ") + groupLabel(g, e.group);
            } else {
                static_assert(std::is_same_v<T, SetGroupMembersEdit>);
                return "set the members of " + groupLabel(g, e.group) + " (" +
                       std::to_string(e.members.size()) + " nodes)";
            }
        },
        edit);
}

EditScript insertNodeOnEdge(const Graph& graph, const Edge& edge, Node inserted,
                            const std::string& inPort, const std::string& outPort) {
    if (inserted.id == kNoNode)
        inserted.id = graph.nextNodeId();
    inserted.name = graph.uniqueName(inserted.name.empty() ? inserted.op : inserted.name);
    // Place it midway between its neighbours so the canvas stays readable.
    const Node* a = graph.findNode(edge.from.node);
    const Node* b = graph.findNode(edge.to.node);
    if (a && b)
        inserted.position = {(a->position.x + b->position.x) / 2,
                             (a->position.y + b->position.y) / 2 + 40};
    NodeId id = inserted.id;
    return {DisconnectEdit{edge}, AddNodeEdit{std::move(inserted)},
            ConnectEdit{{edge.from, {id, inPort}}}, ConnectEdit{{{id, outPort}, edge.to}}};
}

} // namespace segforge::core
