#pragma once

// What probed data means for the graph: the Dataset node's true output types,
// and the data diagnostics (dataset-empty, unpaired-file, image-size-mismatch,
// mask-channels, mask-value-range, data-file-unreadable, image-too-large,
// mixed-sample-types, mask-not-binary, mask-palette-index, mask-colours,
// dataset-type-mismatch). Every condition that makes ImageFolderSource refuse,
// skip or fail on a file is one of these, so `check` warns before `train` does. Called by
// checkGraph when CheckOptions carries probes; pure functions of graph, probe and result.

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
std::vector<std::optional<TensorType>> datasetTypesFromProbe(const Node& dataset,
                                                             const DataProbe& probe);

/// Adds the data diagnostics for every probed Dataset node. `forTraining`
/// adds dataset-type-mismatch: the data must also fit the types the node's
/// attributes declare, which the engine compiles (see CheckOptions::forTraining).
void checkDatasets(const Graph& graph, const std::unordered_map<NodeId, DataProbe>& probes,
                   CheckResult& result, bool forTraining = false);

} // namespace segforge::core
