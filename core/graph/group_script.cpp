#include "graph/group_script.hpp"

#include <algorithm>
#include <map>

namespace segforge::core {

std::string uniqueGroupName(const Graph& graph, std::string_view base) {
    const auto taken = [&](const std::string& name) {
        return std::any_of(graph.groups().begin(), graph.groups().end(),
                           [&](const auto& entry) { return entry.second.name == name; });
    };
    std::string candidate(base.empty() ? std::string_view("group") : base);
    if (!taken(candidate))
        return candidate;
    for (int i = 2;; ++i) {
        std::string next = candidate + "_" + std::to_string(i);
        if (!taken(next))
            return next;
    }
}

EditScript groupNodesScript(const Graph& graph, const std::set<NodeId>& nodes,
                            std::string_view name) {
    Group group;
    group.id = graph.nextGroupId();
    group.name = uniqueGroupName(graph, name);
    std::map<GroupId, std::set<NodeId>> leaving; // old group → its members that move
    for (NodeId id : nodes) {
        if (!graph.hasNode(id))
            continue;
        group.members.insert(id);
        if (const GroupId owner = graph.groupOf(id); owner != kNoGroup)
            leaving[owner].insert(id);
    }
    if (group.members.empty())
        return {};
    EditScript script;
    for (const auto& [owner, moving] : leaving) {
        std::set<NodeId> rest = graph.findGroup(owner)->members;
        for (NodeId id : moving)
            rest.erase(id);
        if (rest.empty())
            script.push_back(RemoveGroupEdit{owner});
        else
            script.push_back(SetGroupMembersEdit{owner, std::move(rest)});
    }
    script.push_back(AddGroupEdit{std::move(group)});
    return script;
}

EditScript ungroupScript(const Graph& graph, GroupId group) {
    if (!graph.findGroup(group))
        return {};
    return {RemoveGroupEdit{group}};
}

EditScript removeNodesScript(const Graph& graph, const std::set<NodeId>& nodes) {
    EditScript script;
    for (NodeId id : nodes)
        if (graph.hasNode(id))
            script.push_back(RemoveNodeEdit{id});
    for (const auto& [gid, group] : graph.groups()) {
        const bool emptied =
            !group.members.empty() && std::all_of(group.members.begin(), group.members.end(),
                                                  [&](NodeId m) { return nodes.count(m) != 0; });
        if (emptied)
            script.push_back(RemoveGroupEdit{gid});
    }
    return script;
}

} // namespace segforge::core
