#pragma once

// Whole-tensor passes the executor makes around every step: zeroing the
// gradients and the NaN/Inf guard. They live with the kernels so they get the
// kernels' optimisation flags (vectorised), and run on the engine's pool.

#include <cstdint>

namespace segforge::core::kernels {

/// True when no element is NaN or ±Inf.
bool allFinite(const float* v, std::int64_t n);

/// v[0, n) = 0.
void zeroFill(float* v, std::int64_t n);

} // namespace segforge::core::kernels
