#pragma once

// Winograd F(4×4, 3×3) convolution for the U-Net's 3×3 stride-1 layers: each
// 4×4 block of outputs costs 36 multiplications per input/output channel pair
// instead of 144, so the forward pass and the input gradient take a quarter
// of the direct kernels' multiply-adds (plus the transforms, which are linear
// in the channel count); so does the weight gradient, by the same transforms
// transposed. Work is cut into groups of tiles; a tile's result is
// the same whichever group or thread computes it, so runs stay bit-identical.
// Scratch stays within fixed budgets (WinogradScratchLimits): layers with many
// channels are cut into blocks of channels and super-groups of tiles rather
// than holding all 36 × C × F transformed filters or weight-gradient sums.
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

/// Byte budgets of the Winograd scratch. Layers whose 36 × C × F floats exceed
/// `filterBytes` transform their filters one block of output channels at a time,
/// with the transformed tiles of up to `tileBytes` (36 × tiles × (C + F) floats)
/// held at once; the weight gradient keeps one 36 × C × F sum per thread chunk only
/// while all chunks' sums fit `partialBytes`, and otherwise cuts C × F into blocks,
/// each summed over all tiles by one unit (the same bits for every thread count).
/// Weight-heavy layers (tiles·(C + F) ≤ C·F, 36·C·F floats past 1 MiB) take the
/// blocked schemes whatever the budgets: they are faster there.
struct WinogradScratchLimits {
    std::int64_t filterBytes = 8 << 20;
    std::int64_t tileBytes = 16 << 20;
    std::int64_t partialBytes = 16 << 20; ///< all chunks together
};

/// Sets the budgets (tests use small ones to run the blocked paths on small layers).
/// Must not be called while a kernel runs.
void setWinogradScratchLimits(const WinogradScratchLimits& limits);
WinogradScratchLimits winogradScratchLimits();

/// True for a 3×3, stride-1, undilated convolution with channel counts that are
/// multiples of 8 and C·F ≥ 256, when Winograd is on and the direct kernels are in use.
bool useWinogradConv(const ConvGeometry& g, std::int64_t f);

// in:(N,H,W,C) w:(3,3,C,F) bias:(F) or nullptr -> out:(N,OH,OW,F) = conv + bias,
// then ReLU when `relu`.
void convWinogradForward(const float* x, const float* w, const float* bias, float* y,
                         const ConvGeometry& g, std::int64_t f, bool relu);

// dz:(N,OH,OW,F) w:(3,3,C,F) -> dx:(N,H,W,C) += the input gradient (= when not
// `accumulate`: every element is written). With `reluOut` (the layer's output, after
// its fused ReLU), dz is the gradient of that output and counts only where
// reluOut > 0; nullptr for a linear layer.
void convWinogradBackwardData(const float* dz, const float* reluOut, const float* w, float* dx,
                              const ConvGeometry& g, std::int64_t f, bool accumulate = true);

// in:(N,H,W,C) dz:(N,OH,OW,F) -> dw:(3,3,C,F) += the weight gradient, and db:(F) +=
// the bias gradient unless db is nullptr; `reluOut` as for the input gradient. Small
// C × F: the products are summed per chunk of tiles and the chunks added in order, so
// the result depends on the thread count, never on timing; large C × F: each block of
// C × F is summed by one unit over all tiles, the same for every thread count.
void convWinogradBackwardWeights(const float* x, const float* dz, const float* reluOut, float* dw,
                                 float* db, const ConvGeometry& g, std::int64_t f);

} // namespace segforge::core::kernels
