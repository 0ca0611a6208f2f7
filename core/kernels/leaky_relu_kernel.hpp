#pragma once

// Kernels of the LeakyReLU op (core/ops/leaky_relu.cpp).

#include "kernels/op_kernel.hpp"

namespace segforge::core::kernels {

/// y = x for x > 0, alpha·x otherwise (alpha: the node's `alpha`).
void leakyReluForward(const KernelContext& ctx);
/// dx += dy for x > 0, alpha·dy otherwise (from the input, so any alpha works).
void leakyReluBackward(const KernelContext& ctx);

} // namespace segforge::core::kernels
