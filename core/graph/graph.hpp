#pragma once

#include "graph/attribute.hpp"
#include "graph/group.hpp"
#include "graph/node_id.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

namespace segforge::core {

/// A named port on a node. Edges name ports, never indices.
struct PortRef {
    NodeId node = kNoNode;
    std::string port;
    friend auto operator<=>(const PortRef&, const PortRef&) = default;
};

/// A directed connection from an output port to an input port.
struct Edge {
    PortRef from;
    PortRef to;
    friend auto operator<=>(const Edge&, const Edge&) = default;
};

struct Point {
    double x = 0;
    double y = 0;
    friend bool operator==(const Point&, const Point&) = default;
};

struct Node {
    NodeId id = kNoNode;
    std::string op;   ///< schema name, e.g. "Conv2D"
    std::string name; ///< user-facing, unique in the graph, e.g. "enc1_conv1"
    AttrMap attrs;    ///< explicitly set attributes only
    Point position;   ///< canvas position, saved so a project re-opens as it was
};

/// The network as pure data. The graph accepts anything structurally
/// expressible (even cycles or two producers for one input) so that a file
/// with mistakes still opens; the checker reports those mistakes.
class Graph {
public:
    /// Adds a node with a fresh id (or the given one if it is free) and returns it.
    NodeId addNode(Node node);
    /// Convenience: op + name, attributes, position.
    NodeId addNode(std::string op, std::string name, AttrMap attrs = {}, Point position = {});
    /// Removes the node, every edge touching it and its group membership.
    /// Returns false if absent.
    bool removeNode(NodeId id);

    /// Adds an edge (no validation beyond both nodes existing). False if a node is missing
    /// or the identical edge already exists.
    bool connect(const PortRef& from, const PortRef& to);
    bool disconnect(const Edge& edge);

    const Node* findNode(NodeId id) const;
    Node* findNode(NodeId id);
    const Node* findNodeByName(std::string_view name) const;
    bool hasNode(NodeId id) const { return m_nodes.count(id) != 0; }

    const std::map<NodeId, Node>& nodes() const { return m_nodes; }
    const std::vector<Edge>& edges() const { return m_edges; }
    std::size_t nodeCount() const { return m_nodes.size(); }

    /// Edges arriving at an input port (normally zero or one).
    std::vector<Edge> edgesInto(const PortRef& input) const;
    /// Edges leaving an output port.
    std::vector<Edge> edgesFrom(const PortRef& output) const;
    /// All edges touching a node, in either direction.
    std::vector<Edge> edgesOf(NodeId id) const;
    /// The producer of an input port when there is exactly one.
    std::optional<PortRef> producerOf(const PortRef& input) const;

    /// Id the next addNode() without an explicit id will receive.
    NodeId nextNodeId() const { return m_nextId; }
    /// A name not used by any node, derived from `base` ("conv" → "conv", "conv_2", …).
    std::string uniqueName(std::string_view base) const;

    /// `start` and every node reachable from it along edges (its consumers, their
    /// consumers, …). Connecting x → start would close a cycle iff x is in it.
    std::unordered_set<NodeId> downstreamOf(NodeId start) const;

    /// Nodes in dependency order. Returns nullopt when the graph has a cycle.
    std::optional<std::vector<NodeId>> topologicalOrder() const;
    /// One cycle as a list of nodes (first == last omitted), or empty if acyclic.
    std::vector<NodeId> findCycle() const;

    /// Adds a group with a fresh id (or the given one if it is free) and returns it.
    /// Members that do not exist are dropped; a member already in another group
    /// leaves that group (a node belongs to at most one group).
    GroupId addGroup(Group group);
    /// Removes the group (its nodes stay). Returns false if absent.
    bool removeGroup(GroupId id);
    const Group* findGroup(GroupId id) const;
    /// Mutable access for name and collapsed state; change members through
    /// setGroupMembers() so the one-group-per-node rule holds.
    Group* findGroup(GroupId id);
    /// Replaces the members (same rules as addGroup). False if the group is absent.
    bool setGroupMembers(GroupId id, const std::set<NodeId>& members);
    /// The group `node` belongs to, or kNoGroup.
    GroupId groupOf(NodeId node) const;
    const std::map<GroupId, Group>& groups() const { return m_groups; }
    /// Id the next addGroup() without an explicit id will receive.
    GroupId nextGroupId() const { return m_nextGroupId; }

    /// Same nodes (positions included), edges and groups.
    friend bool operator==(const Graph& a, const Graph& b);

private:
    std::map<NodeId, Node> m_nodes;
    std::vector<Edge> m_edges;
    NodeId m_nextId = 1;
    std::map<GroupId, Group> m_groups;
    GroupId m_nextGroupId = 1;
};

bool operator==(const Node& a, const Node& b);

/// Same network: the same nodes (id, op, name, attributes) and edges; positions
/// on the canvas and groups do not matter. A compiled graph stays valid while this holds.
bool sameNetwork(const Graph& a, const Graph& b);

} // namespace segforge::core
