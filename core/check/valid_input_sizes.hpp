#pragma once

#include "check/size_set.hpp"
#include "graph/graph.hpp"
#include "ops/op_registry.hpp"

#include <string>
#include <string_view>
#include <vector>

namespace segforge::core {

struct CheckResult;

/// Which values of one spatial input dimension the network carries through all
/// its poolings, strides, crops and skip connections: exact, with no cap.
struct DimensionReport {
    std::int64_t current = 0;
    bool currentWorks = false;
    SizeSet sizes;           ///< every size that works
    std::int64_t period = 0; ///< the sizes are offset + k·period from some size on (0: no pattern)
    std::int64_t offset = 0;
    std::int64_t nearest = 0; ///< working value closest to current (0 if none)
    std::int64_t below = 0;   ///< largest working value ≤ current (0 if none)
    std::int64_t above = 0;   ///< smallest working value ≥ current (0 if none)
    std::string rule;         ///< "H = 16k, k ≥ 1"
};

struct InputSizeReport {
    bool applicable = false;     ///< the graph has a sized source (Input / Dataset)
    std::vector<NodeId> sources; ///< nodes with a height and width
    DimensionReport height;
    DimensionReport width;
};

/// The input sizes that work, derived from the size constraints the checker
/// collected in `result` (CheckResult::sizeConstraints): every source is taken
/// as free, whatever its variable_size. A size "works" when no shape error
/// (mismatched merge or loss, collapse) depends on it.
InputSizeReport validInputSizes(const Graph& graph, const CheckResult& result,
                                const OpRegistry& registry = OpRegistry::builtin());
/// The same after checking the graph (without its input-size diagnosis).
InputSizeReport validInputSizes(const Graph& graph,
                                const OpRegistry& registry = OpRegistry::builtin());

/// True for the codes a different input size could cure.
bool isSizeDependentCode(std::string_view code);

} // namespace segforge::core
