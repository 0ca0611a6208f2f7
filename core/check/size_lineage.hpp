#pragma once

// The size lineage of a mismatch: where two tensors that meet at a
// Concatenate, an Add or a loss with different heights and widths come from.
// Both operands are traced back through the graph; the ancestors they share
// end where their sizes diverged, and the rest (each operand's branch) is
// where the layer that made the difference must be.

#include "check/check_result.hpp"
#include "graph/graph.hpp"

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace segforge::core {

/// The edges into and out of each node of a graph, looked up by node id.
struct Adjacency {
    std::map<NodeId, std::vector<Edge>> in;
    std::map<NodeId, std::vector<Edge>> out;
    explicit Adjacency(const Graph& graph);
    /// The edges that feed `id` (none for an unknown node).
    const std::vector<Edge>& into(NodeId id) const;
    /// The edges that `id` feeds (none for an unknown node).
    const std::vector<Edge>& from(NodeId id) const;
};

/// `start` and every node it depends on.
std::set<NodeId> ancestorsOf(const Adjacency& adj, NodeId start);

/// One side of the mismatch: an input of the merge (or loss) and what feeds it.
struct Operand {
    std::string port;
    Edge edge;
    Shape shape;
    const Node* producer = nullptr;
    std::set<NodeId> ancestors; ///< the producer and everything it depends on
    std::set<NodeId> branch;    ///< ancestors the other operand does not share
};

/// The two operands of a size mismatch at `node`: `x` on the diagnostic's port,
/// `y` the input it was compared with.
struct Mismatch {
    const Node* node = nullptr;
    Operand x;
    Operand y;
};

/// The input `port` of `node` as an Operand, without its ancestry: nullopt
/// unless exactly one edge feeds it a tensor of known rank-4 type.
std::optional<Operand> operandOf(const Graph& graph, const CheckResult& result, NodeId node,
                                 const std::string& port);

/// Both operands of `node` (inputs `portX` and `portY`) traced back: their
/// ancestors and the branches they do not share. nullopt when either input is
/// not a single edge carrying a known rank-4 tensor.
std::optional<Mismatch> mismatchAt(const Graph& graph, const Adjacency& adj,
                                   const CheckResult& result, NodeId node, const std::string& portX,
                                   const std::string& portY);

} // namespace segforge::core
