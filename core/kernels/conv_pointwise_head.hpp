#pragma once

// A 1×1 stride-1 convolution to a few channels: a segmentation head (16 → 1
// with a sigmoid in the U-Net). NHWC pixels are rows, so each output value is
// a dot product over one pixel's channels; the bias and the activation are
// applied to a block of rows while it is still in cache, and the backward is
// one sweep that forms the pre-activation gradient, the bias and weight
// gradients and the input gradient together. Work is cut into fixed blocks of
// pixels and the gradient partials are added in block order, so the result is
// the same at every thread count.

#include "kernels/activation_math.hpp"
#include "kernels/conv_geometry.hpp"

#include <cstdint>

namespace segforge::core::kernels {

/// Below this many output channels a 1×1 convolution runs here rather than on
/// the direct kernels (which compute 16 output channels at a time).
inline constexpr std::int64_t kPointwiseHeadMaxFilters = 8;

/// True for a 1×1, stride-1, unpadded convolution with fewer than
/// kPointwiseHeadMaxFilters outputs, unless ConvPath::Gemm is forced (tests compare).
bool usePointwiseHead(const ConvGeometry& g, std::int64_t f);

// x:(P,C) w:(C,F) bias:(F) or nullptr -> y:(P,F) = act(x·w + bias)
void pointwiseHeadForward(const float* x, const float* w, const float* bias, float* y,
                          std::int64_t pixels, std::int64_t c, std::int64_t f, ActKind act,
                          float slope);

// x:(P,C) y:(P,F) dy:(P,F) w:(C,F) -> dx:(P,C) dw:(C,F) db:(F), each accumulated (+=)
// and skipped when nullptr.
void pointwiseHeadBackward(const float* x, const float* y, const float* dy, const float* w,
                           float* dx, float* dw, float* db, std::int64_t pixels, std::int64_t c,
                           std::int64_t f, ActKind act, float slope);

} // namespace segforge::core::kernels
