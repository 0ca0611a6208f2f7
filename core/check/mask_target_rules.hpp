#pragma once

// How the probed masks meet the losses and metrics that read them as their
// target: mask-channels (the masks have another channel count than the
// prediction needs) and mask-value-range (values outside what the loss reads:
// 0/255 masks into a binary loss, class indices past the prediction's classes,
// class indices into a per-channel loss), each with the fixes that fit the
// data. Part of checkDatasets (check/dataset_rules.hpp).

#include "check/check_result.hpp"
#include "data/data_probe.hpp"
#include "graph/graph.hpp"

namespace segforge::core {

/// mask-channels for each loss or metric that Dataset `node`'s mask feeds, when
/// its mask_mode is 'as_stored' and the masks have more than one channel.
void checkMaskChannels(const Graph& graph, const Node& node, const DataProbe& p, CheckResult& r);

/// mask-value-range for each loss or metric that Dataset `node`'s mask feeds,
/// from the values the probe found; also rewrites the fixes of the loss's own
/// diagnostics where the data shows what the loss should be.
void checkMaskValues(const Graph& graph, const Node& node, const DataProbe& p, CheckResult& r);

} // namespace segforge::core
