#include "layout/level_groups.hpp"

#include "layout/graph_layout.hpp"
#include "layout/resolution_levels.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <map>
#include <set>

namespace segforge::core {

EditScript levelGroupsScript(const Graph& graph, const CheckResult& check) {
    if (!graph.groups().empty())
        return {};
    const ResolutionLevels levels = resolutionLevels(graph, check);
    const auto parts = classifyUShape(graph, levels);
    if (!parts)
        return {};

    // Level numbers as the template names them: enc1 works at the input's
    // resolution (level 0), the bottleneck at the deepest one.
    std::map<std::string, std::set<NodeId>> members;
    std::map<std::string, int> order; // enc1…encN, bottleneck, decN…dec1
    for (NodeId id : levels.order) {
        auto part = parts->find(id);
        if (part == parts->end())
            continue;
        std::string name;
        switch (part->second) {
        case UPart::Encoder: {
            // A pooling node belongs to the level it takes down from.
            const int level = std::min(levels.inLevel(id), levels.outLevel(id));
            name = strCat("enc", level + 1);
            order[name] = level;
            break;
        }
        case UPart::Bottleneck:
            // The pooling into the deepest level is the last encoder level's,
            // the upsampling out of it the first decoder level's.
            if (levels.inLevel(id) < levels.outLevel(id)) {
                name = strCat("enc", levels.inLevel(id) + 1);
                order[name] = levels.inLevel(id);
            } else if (levels.outLevel(id) < levels.inLevel(id)) {
                name = strCat("dec", levels.outLevel(id) + 1);
                order[name] = 1000 - levels.outLevel(id);
            } else {
                name = "bottleneck";
            }
            break;
        case UPart::Decoder: {
            // An upsampling node belongs to the level it brings the decoder up to.
            const int level = levels.outLevel(id);
            name = strCat("dec", level + 1);
            order[name] = 1000 - level;
            break;
        }
        default:
            continue; // sources, heads and side nodes stay outside the blocks
        }
        members[name].insert(id);
    }
    if (members.size() < 3 || !members.count("bottleneck"))
        return {};
    order["bottleneck"] = 500;

    std::vector<std::pair<int, std::string>> sorted;
    for (const auto& [name, nodes] : members)
        sorted.push_back({order[name], name});
    std::sort(sorted.begin(), sorted.end());
    EditScript script;
    GroupId next = graph.nextGroupId();
    for (const auto& [rank, name] : sorted) {
        Group group;
        group.id = next++;
        group.name = name;
        group.members = members[name];
        script.push_back(AddGroupEdit{std::move(group)});
    }
    return script;
}

EditScript levelGroupsScript(const Graph& graph) {
    return levelGroupsScript(graph, checkTypesForLayout(graph));
}

} // namespace segforge::core
