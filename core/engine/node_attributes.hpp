#pragma once

#include "graph/graph.hpp"
#include "ops/op_schema.hpp"
#include "tensor/tensor_type.hpp"

#include <cstdint>

namespace segforge::core {

/// Every attribute of `node`, coerced to its spec's type, defaults filled in:
/// what kernels read. Throws std::invalid_argument for a value the checker
/// would have reported (the executor only runs checked graphs).
AttrMap resolveAttributes(const OpSchema& schema, const Node& node);

/// `shape` with the symbolic batch replaced by `batch`.
Shape concreteShape(const Shape& shape, std::int64_t batch);

} // namespace segforge::core
