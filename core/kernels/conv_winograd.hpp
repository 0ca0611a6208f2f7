#pragma once

// Winograd F(4×4, 3×3) convolution for the U-Net's 3×3 stride-1 layers: each
// 4×4 block of outputs costs 36 multiplications per input/output channel pair
// instead of 144, so the forward pass and the input gradient take a quarter
// of the direct kernels' multiply-adds (plus the transforms, which are linear
// in the channel count); so does the weight gradient, by the same transforms
// transposed. Work is cut into groups of tiles; a tile's result is
// the same whichever group or thread computes it, so runs stay bit-identical.
// Transforms: conv_winograd_body.hpp; the 36 products run on the direct row
// kernel as 1×1 convolutions.

#include "kernels/conv_geometry.hpp"

#include <cstdint>

namespace segforge::core::kernels {

/// Whether Winograd takes 3×3 convolutions (default on; the environment variable
/// SEGFORGE_WINOGRAD=0 sets the initial value to off, for comparisons). Must not be
/// called while a kernel runs.
void setConvWinograd(bool on);
bool convWinograd();

/// True for a 3×3, stride-1, undilated convolution with channel counts that are
/// multiples of 8 and C·F ≥ 256, when Winograd is on and the direct kernels are in use.
bool useWinogradConv(const ConvGeometry& g, std::int64_t f);

// in:(N,H,W,C) w:(3,3,C,F) bias:(F) or nullptr -> out:(N,OH,OW,F) = conv + bias,
// then ReLU when `relu`.
void convWinogradForward(const float* x, const float* w, const float* bias, float* y,
                         const ConvGeometry& g, std::int64_t f, bool relu);

// dz:(N,OH,OW,F) w:(3,3,C,F) -> dx:(N,H,W,C) += the input gradient. With `reluOut`
// (the layer's output, after its fused ReLU), dz is the gradient of that output and
// counts only where reluOut > 0; nullptr for a linear layer.
void convWinogradBackwardData(const float* dz, const float* reluOut, const float* w, float* dx,
                              const ConvGeometry& g, std::int64_t f);

// in:(N,H,W,C) dz:(N,OH,OW,F) -> dw:(3,3,C,F) += the weight gradient, and db:(F) +=
// the bias gradient unless db is nullptr; `reluOut` as for the input gradient. The
// products are summed per chunk of tiles and the chunks added in order: the result
// depends on the thread count, never on timing.
void convWinogradBackwardWeights(const float* x, const float* dz, const float* reluOut, float* dw,
                                 float* db, const ConvGeometry& g, std::int64_t f);

} // namespace segforge::core::kernels
