#pragma once

#include <cstdint>

namespace segforge::core {

/// Stable node identity: never reused within a graph, survives save/load.
using NodeId = std::int64_t;
inline constexpr NodeId kNoNode = 0;

} // namespace segforge::core
