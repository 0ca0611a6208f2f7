#include "graph/graph.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <unordered_map>

namespace segforge::core {

NodeId Graph::addNode(Node node) {
    if (node.id == kNoNode || m_nodes.count(node.id) != 0)
        node.id = m_nextId;
    m_nextId = std::max(m_nextId, node.id + 1);
    NodeId id = node.id;
    m_nodes.emplace(id, std::move(node));
    return id;
}

NodeId Graph::addNode(std::string op, std::string name, AttrMap attrs, Point position) {
    Node node;
    node.op = std::move(op);
    node.name = std::move(name);
    node.attrs = std::move(attrs);
    node.position = position;
    return addNode(std::move(node));
}

bool Graph::removeNode(NodeId id) {
    if (m_nodes.erase(id) == 0)
        return false;
    std::erase_if(m_edges, [id](const Edge& e) { return e.from.node == id || e.to.node == id; });
    for (auto& [gid, group] : m_groups)
        group.members.erase(id);
    return true;
}

GroupId Graph::addGroup(Group group) {
    if (group.id == kNoGroup || m_groups.count(group.id) != 0)
        group.id = m_nextGroupId;
    m_nextGroupId = std::max(m_nextGroupId, group.id + 1);
    const GroupId id = group.id;
    std::set<NodeId> members = std::move(group.members);
    group.members.clear();
    m_groups.emplace(id, std::move(group));
    setGroupMembers(id, members);
    return id;
}

bool Graph::removeGroup(GroupId id) {
    return m_groups.erase(id) != 0;
}

const Group* Graph::findGroup(GroupId id) const {
    auto it = m_groups.find(id);
    return it == m_groups.end() ? nullptr : &it->second;
}

Group* Graph::findGroup(GroupId id) {
    auto it = m_groups.find(id);
    return it == m_groups.end() ? nullptr : &it->second;
}

bool Graph::setGroupMembers(GroupId id, const std::set<NodeId>& members) {
    Group* target = findGroup(id);
    if (!target)
        return false;
    target->members.clear();
    for (NodeId node : members) {
        if (!hasNode(node))
            continue;
        for (auto& [gid, other] : m_groups)
            other.members.erase(node);
        target->members.insert(node);
    }
    return true;
}

GroupId Graph::groupOf(NodeId node) const {
    for (const auto& [gid, group] : m_groups)
        if (group.members.count(node) != 0)
            return gid;
    return kNoGroup;
}

bool Graph::connect(const PortRef& from, const PortRef& to) {
    if (!hasNode(from.node) || !hasNode(to.node))
        return false;
    Edge edge{from, to};
    if (std::find(m_edges.begin(), m_edges.end(), edge) != m_edges.end())
        return false;
    m_edges.push_back(std::move(edge));
    return true;
}

bool Graph::disconnect(const Edge& edge) {
    auto it = std::find(m_edges.begin(), m_edges.end(), edge);
    if (it == m_edges.end())
        return false;
    m_edges.erase(it);
    return true;
}

const Node* Graph::findNode(NodeId id) const {
    auto it = m_nodes.find(id);
    return it == m_nodes.end() ? nullptr : &it->second;
}

Node* Graph::findNode(NodeId id) {
    auto it = m_nodes.find(id);
    return it == m_nodes.end() ? nullptr : &it->second;
}

const Node* Graph::findNodeByName(std::string_view name) const {
    for (const auto& [id, node] : m_nodes) {
        if (node.name == name)
            return &node;
    }
    return nullptr;
}

std::vector<Edge> Graph::edgesInto(const PortRef& input) const {
    std::vector<Edge> out;
    for (const Edge& e : m_edges) {
        if (e.to == input)
            out.push_back(e);
    }
    return out;
}

std::vector<Edge> Graph::edgesFrom(const PortRef& output) const {
    std::vector<Edge> out;
    for (const Edge& e : m_edges) {
        if (e.from == output)
            out.push_back(e);
    }
    return out;
}

std::vector<Edge> Graph::edgesOf(NodeId id) const {
    std::vector<Edge> out;
    for (const Edge& e : m_edges) {
        if (e.from.node == id || e.to.node == id)
            out.push_back(e);
    }
    return out;
}

std::optional<PortRef> Graph::producerOf(const PortRef& input) const {
    std::optional<PortRef> found;
    for (const Edge& e : m_edges) {
        if (e.to == input) {
            if (found)
                return std::nullopt;
            found = e.from;
        }
    }
    return found;
}

std::string Graph::uniqueName(std::string_view base) const {
    std::string candidate(base.empty() ? std::string_view("node") : base);
    if (!findNodeByName(candidate))
        return candidate;
    for (int i = 2;; ++i) {
        std::string next = candidate + "_" + std::to_string(i);
        if (!findNodeByName(next))
            return next;
    }
}

std::optional<std::vector<NodeId>> Graph::topologicalOrder() const {
    // Kahn's algorithm; ties broken by node id so the order is deterministic.
    std::unordered_map<NodeId, int> indegree;
    std::unordered_map<NodeId, std::vector<NodeId>> successors;
    for (const auto& [id, node] : m_nodes)
        indegree[id] = 0;
    for (const Edge& e : m_edges) {
        if (!hasNode(e.from.node) || !hasNode(e.to.node))
            continue;
        successors[e.from.node].push_back(e.to.node);
        ++indegree[e.to.node];
    }
    std::vector<NodeId> ready;
    for (const auto& [id, node] : m_nodes) {
        if (indegree[id] == 0)
            ready.push_back(id);
    }
    std::vector<NodeId> order;
    order.reserve(m_nodes.size());
    // `ready` is used as a min-heap on id.
    std::make_heap(ready.begin(), ready.end(), std::greater<>());
    while (!ready.empty()) {
        std::pop_heap(ready.begin(), ready.end(), std::greater<>());
        NodeId id = ready.back();
        ready.pop_back();
        order.push_back(id);
        for (NodeId next : successors[id]) {
            if (--indegree[next] == 0) {
                ready.push_back(next);
                std::push_heap(ready.begin(), ready.end(), std::greater<>());
            }
        }
    }
    if (order.size() != m_nodes.size())
        return std::nullopt;
    return order;
}

std::vector<NodeId> Graph::findCycle() const {
    std::unordered_map<NodeId, std::vector<NodeId>> successors;
    for (const Edge& e : m_edges)
        successors[e.from.node].push_back(e.to.node);
    for (auto& [id, next] : successors)
        std::sort(next.begin(), next.end());

    enum class Mark { White, Grey, Black };
    std::unordered_map<NodeId, Mark> mark;
    std::vector<NodeId> stack;
    std::vector<NodeId> cycle;

    // Iterative DFS so a 10,000-node chain cannot overflow the call stack.
    for (const auto& [start, node] : m_nodes) {
        if (mark[start] != Mark::White)
            continue;
        std::vector<std::pair<NodeId, std::size_t>> work{{start, 0}};
        mark[start] = Mark::Grey;
        stack.push_back(start);
        while (!work.empty()) {
            auto& [id, nextIndex] = work.back();
            const auto& succ = successors[id];
            if (nextIndex < succ.size()) {
                NodeId next = succ[nextIndex++];
                if (mark[next] == Mark::Grey) {
                    auto it = std::find(stack.begin(), stack.end(), next);
                    cycle.assign(it, stack.end());
                    return cycle;
                }
                if (mark[next] == Mark::White) {
                    mark[next] = Mark::Grey;
                    stack.push_back(next);
                    work.emplace_back(next, 0);
                }
            } else {
                mark[id] = Mark::Black;
                stack.pop_back();
                work.pop_back();
            }
        }
    }
    return cycle;
}

std::unordered_set<NodeId> Graph::downstreamOf(NodeId start) const {
    std::unordered_set<NodeId> seen{start};
    std::deque<NodeId> queue{start};
    while (!queue.empty()) {
        const NodeId id = queue.front();
        queue.pop_front();
        for (const Edge& e : m_edges)
            if (e.from.node == id && seen.insert(e.to.node).second)
                queue.push_back(e.to.node);
    }
    return seen;
}

bool operator==(const Node& a, const Node& b) {
    return a.id == b.id && a.op == b.op && a.name == b.name && a.attrs == b.attrs &&
           a.position == b.position;
}

namespace {

bool sameEdges(std::vector<Edge> a, std::vector<Edge> b) {
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    return a == b;
}

} // namespace

bool operator==(const Graph& a, const Graph& b) {
    return a.m_nodes == b.m_nodes && sameEdges(a.m_edges, b.m_edges) && a.m_groups == b.m_groups;
}

bool sameNetwork(const Graph& a, const Graph& b) {
    const auto samePurpose = [](const auto& x, const auto& y) {
        return x.first == y.first && x.second.op == y.second.op && x.second.name == y.second.name &&
               x.second.attrs == y.second.attrs;
    };
    return std::equal(a.nodes().begin(), a.nodes().end(), b.nodes().begin(), b.nodes().end(),
                      samePurpose) &&
           sameEdges(a.edges(), b.edges());
}

} // namespace segforge::core
