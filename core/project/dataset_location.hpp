#pragma once

#include "data/dataset_index.hpp"
#include "graph/graph.hpp"

#include <filesystem>
#include <optional>

namespace segforge::core {

/// The folders a Dataset node points to, resolved against the project file's
/// directory (relative paths) — nullopt when the node names no image folder.
std::optional<DatasetSpec> datasetSpecOf(const Node& dataset,
                                         const std::filesystem::path& projectFile);

} // namespace segforge::core
