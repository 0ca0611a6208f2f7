#pragma once

#include "ops/op_schema.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>

namespace segforge::core {

/// Fills `value` as Keras would for `spec.initializer`: he_normal (truncated
/// normal, stddev sqrt(2 / fan_in)), glorot_uniform (±sqrt(6 / (fan_in + fan_out))),
/// zeros, ones. Fans follow Keras: a (kh, kw, in, out) kernel has
/// fan_in = kh·kw·in, fan_out = kh·kw·out. Deterministic in `seed`.
/// Throws std::invalid_argument for an unknown initializer name.
void initializeParameter(Tensor& value, const ParamSpec& spec, std::uint64_t seed);

} // namespace segforge::core
