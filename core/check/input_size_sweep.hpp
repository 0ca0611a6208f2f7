#pragma once

#include "graph/graph.hpp"
#include "ops/op_registry.hpp"

#include <string>
#include <vector>

namespace segforge::core {

/// Which values of one spatial input dimension the network can carry through
/// all its poolings, strides and skip connections.
struct DimensionReport {
    std::int64_t current = 0;
    bool currentWorks = false;
    std::vector<std::int64_t> working; ///< every working value in [1, maxSize]
    std::int64_t period = 0;           ///< working values are offset + k·period (0: no pattern)
    std::int64_t offset = 0;
    std::int64_t nearest = 0; ///< working value closest to current (0 if none)
    std::string rule;         ///< "multiples of 16, from 16"
};

struct InputSizeReport {
    bool applicable = false;     ///< the graph has a sized source (Input / Dataset)
    std::vector<NodeId> sources; ///< nodes whose height/width were swept
    DimensionReport height;
    DimensionReport width;
};

/// Sweeps candidate input sizes through shape inference. A size "works" when
/// no shape error (mismatched merge, loss, collapse) remains.
InputSizeReport sweepInputSizes(const Graph& graph, int maxSize = 512,
                                const OpRegistry& registry = OpRegistry::builtin());

/// "multiples of 16, from 16", "16k + 12 (28, 44, 60, …)", or a short list.
std::string describeWorkingSizes(const std::vector<std::int64_t>& working, std::int64_t maxSize,
                                 std::int64_t* period = nullptr, std::int64_t* offset = nullptr);

/// True for the codes a different input size could cure.
bool isSizeDependentCode(std::string_view code);

} // namespace segforge::core
