#include "graph/edit_scripts.hpp"

#include "graph/group_script.hpp"

#include <algorithm>
#include <set>

namespace segforge::core {

EditScript connectReplacing(const Graph& graph, const PortRef& from, const PortRef& to) {
    EditScript edits;
    for (const Edge& e : graph.edgesInto(to)) {
        if (e.from == from)
            return {};
        edits.push_back(DisconnectEdit{e});
    }
    edits.push_back(ConnectEdit{{from, to}});
    return edits;
}

EditScript removeSelection(const Graph& graph, const std::vector<NodeId>& nodes,
                           const std::vector<Edge>& wires) {
    std::set<NodeId> removing;
    for (NodeId id : nodes) {
        if (graph.hasNode(id))
            removing.insert(id);
    }
    EditScript edits;
    std::set<Edge> disconnected;
    const auto& existing = graph.edges();
    for (const Edge& e : wires) {
        if (removing.count(e.from.node) || removing.count(e.to.node))
            continue; // goes with its node
        if (std::find(existing.begin(), existing.end(), e) == existing.end() ||
            !disconnected.insert(e).second)
            continue;
        edits.push_back(DisconnectEdit{e});
    }
    // The nodes, and the groups they leave empty (one implementation of "remove nodes").
    EditScript nodesGone = removeNodesScript(graph, removing);
    edits.insert(edits.end(), nodesGone.begin(), nodesGone.end());
    return edits;
}

Graph extractSubgraph(const Graph& graph, const std::vector<NodeId>& ids) {
    Graph sub;
    std::set<NodeId> chosen;
    for (NodeId id : ids) {
        if (const Node* n = graph.findNode(id); n && chosen.insert(id).second)
            sub.addNode(*n);
    }
    for (const Edge& e : graph.edges()) {
        if (chosen.count(e.from.node) && chosen.count(e.to.node))
            sub.connect(e.from, e.to);
    }
    return sub;
}

PasteScript pasteSubgraph(const Graph& graph, const Graph& clip, Point origin) {
    PasteScript paste;
    if (clip.nodeCount() == 0)
        return paste;
    double minX = 0, minY = 0;
    bool first = true;
    for (const auto& [id, n] : clip.nodes()) {
        minX = first ? n.position.x : std::min(minX, n.position.x);
        minY = first ? n.position.y : std::min(minY, n.position.y);
        first = false;
    }
    Graph scratch = graph; // allocates ids and names exactly as applying the script will
    for (const auto& [id, n] : clip.nodes()) {
        Node copy = n;
        copy.id = scratch.nextNodeId();
        copy.name = scratch.uniqueName(n.name);
        copy.position = {origin.x + n.position.x - minX, origin.y + n.position.y - minY};
        paste.ids[id] = scratch.addNode(copy);
        paste.edits.push_back(AddNodeEdit{copy});
    }
    for (const Edge& e : clip.edges()) {
        paste.edits.push_back(ConnectEdit{
            {{paste.ids.at(e.from.node), e.from.port}, {paste.ids.at(e.to.node), e.to.port}}});
    }
    return paste;
}

} // namespace segforge::core
