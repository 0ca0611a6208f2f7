#pragma once

#include "graph/graph_edit.hpp"

#include <set>
#include <string>
#include <string_view>

namespace segforge::core {

/// A group name not used by any group, derived from `base` ("block" → "block",
/// "block_2", …).
std::string uniqueGroupName(const Graph& graph, std::string_view base);

/// Script that makes `nodes` (those that exist) one new group named `name`
/// (made unique). Nodes already in another group leave it first; a group left
/// empty by that is removed, so no invisible empty groups accumulate. Empty
/// script when no node exists.
EditScript groupNodesScript(const Graph& graph, const std::set<NodeId>& nodes,
                            std::string_view name);

/// Script that dissolves a group, keeping its nodes. Empty if the group is absent.
EditScript ungroupScript(const Graph& graph, GroupId group);

/// Script that removes `nodes` and every group they leave empty. Removing a
/// node already takes it out of its group; the empty group would otherwise
/// stay behind as an invisible entry in the file.
EditScript removeNodesScript(const Graph& graph, const std::set<NodeId>& nodes);

} // namespace segforge::core
