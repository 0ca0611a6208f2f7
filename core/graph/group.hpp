#pragma once

#include "graph/node_id.hpp"

#include <cstdint>
#include <set>
#include <string>

namespace segforge::core {

/// Stable group identity: never reused within a graph, survives save/load.
using GroupId = std::int64_t;
inline constexpr GroupId kNoGroup = 0;

/// A named block of nodes (an encoder level, a residual block…) that the canvas
/// can draw as a frame or collapse into one box showing its boundary types.
/// Groups are presentation: they never change the compiled network, so
/// sameNetwork() ignores them. A node belongs to at most one group.
struct Group {
    GroupId id = kNoGroup;
    std::string name;
    std::set<NodeId> members; ///< ordered so saves and comparisons are deterministic
    bool collapsed = false;
    friend bool operator==(const Group&, const Group&) = default;
};

} // namespace segforge::core
