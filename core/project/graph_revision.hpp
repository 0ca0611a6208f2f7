#pragma once

// A stable fingerprint of a network, so that saved weights can say which
// graph they were trained for. It covers what decides the parameters and how
// they are trained: node ids, ops, attributes (as the schema resolves them, so
// `kernel_size: 3` and `[3, 3]` or a default left out are the same network)
// and edges. It leaves out what does not: node positions, node names (a name
// only labels the tensors; the weights file is written under the current
// names) and where a data source reads its files (the string attributes of
// source ops, i.e. folders), so moving the data keeps the checkpoint usable.

#include "graph/graph.hpp"

#include <cstddef>
#include <string>

namespace segforge::core {

/// Length of a revision: a 64-bit FNV-1a hash in lower-case hex.
inline constexpr std::size_t kGraphRevisionDigits = 16;

/// The revision of `graph` (16 hex digits). Equal graphs give equal revisions
/// in every build and on every platform.
std::string graphRevision(const Graph& graph);

/// The fingerprint of one node's layer (op and resolved attributes, not its
/// inputs): weights trained for a layer are reused only while it is unchanged.
std::string layerSignature(const Node& node);

/// Whether `text` looks like a revision (kGraphRevisionDigits hex digits).
bool isGraphRevision(const std::string& text);

} // namespace segforge::core
