#pragma once

// Kernels of the GroupNormalization op (core/ops/group_normalization.cpp).

#include "kernels/op_kernel.hpp"

namespace segforge::core::kernels {

/// in:(N,H,W,C) [gamma:(C)] [beta:(C)] -> out:(N,H,W,C): per sample and group of
/// C/groups channels, (x − mean) / sqrt(biased variance + epsilon) · gamma + beta.
void groupNormForward(const KernelContext& ctx);
/// dout -> din, dgamma, dbeta (accumulated): the analytic backward of the normalisation.
void groupNormBackward(const KernelContext& ctx);

} // namespace segforge::core::kernels
