#pragma once

// What probed data means for the graph: the Dataset node's true output types,
// and the data diagnostics (dataset-empty, unpaired-file, image-size-mismatch,
// mask-channels, mask-value-range, data-file-unreadable). Called by checkGraph
// when CheckOptions carries probes; pure functions of graph, probe and result.

#include "check/check_result.hpp"
#include "data/data_probe.hpp"
#include "graph/graph.hpp"

#include <optional>
#include <unordered_map>
#include <vector>

namespace segforge::core {

/// {image, mask} types of a Dataset node whose data is `probe`, after its
/// mask_mode and size_policy; empty when the probe found no readable pair (the
/// attribute-based types stay).
std::vector<std::optional<TensorType>> datasetTypesFromProbe(const Node& dataset, const DataProbe& probe);

/// Adds the data diagnostics for every probed Dataset node.
void checkDatasets(const Graph& graph, const std::unordered_map<NodeId, DataProbe>& probes,
                   CheckResult& result);

} // namespace segforge::core
