#pragma once

// Kernels of the GlobalAvgPool2D op (core/ops/global_pooling.cpp).

#include "kernels/op_kernel.hpp"

namespace segforge::core::kernels {

/// in:(N,H,W,C) -> out:(N,1,1,C), the mean over H and W of each sample and channel.
void globalAvgPool2dForward(const KernelContext& ctx);
/// din(n,y,x,c) += dout(n,0,0,c) / (H·W).
void globalAvgPool2dBackward(const KernelContext& ctx);

} // namespace segforge::core::kernels
