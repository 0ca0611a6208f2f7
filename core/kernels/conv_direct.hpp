#pragma once

// Direct convolution for stride-1, undilated Conv2D on NHWC (the U-Net's 3×3
// 'same' and 1×1 layers): no im2col buffer, weights packed once per call into
// blocks of 16 output channels, each micro-kernel keeping a tile of
// 6 pixels × 16 channels (or 6 input channels × 16 output channels for the
// weight gradient) in registers. The micro-kernels exist twice, compiled from
// one template (conv_direct_body.hpp): portable (SSE2 baseline) and AVX2+FMA
// (conv_direct_avx2.cpp, built with -mavx2 -mfma); where the CPU has AVX-512,
// 16-lane row and weight kernels (conv_direct_avx512.cpp) with tiles of
// 12 pixels (or input channels) × 32 output channels take over, giving the
// same bits. Chosen at run time.
// Results are independent of timing: work is cut into fixed row blocks, and
// the weight gradient sums per-chunk partials in chunk order.

#include "kernels/activation_math.hpp"
#include "kernels/conv_geometry.hpp"

#include <cstdint>

namespace segforge::core::kernels {

/// Which convolution code runs. Auto: the direct kernels wherever they apply, on
/// AVX-512 or else AVX2 when the CPU has it (unless the environment sets
/// SEGFORGE_CONV_PORTABLE=1), im2col + GEMM elsewhere. The other values force one
/// path, so tests can compare them. The environment variable
/// SEGFORGE_CONV_PATH=gemm|portable|avx2|avx512 sets the initial value.
enum class ConvPath { Auto, Gemm, DirectPortable, DirectAvx2, DirectAvx512 };

/// True when the AVX2 kernels were compiled in and this CPU runs AVX2 and FMA.
bool convAvx2Available();
/// True when the AVX-512 kernels were compiled in and this CPU (and OS) runs AVX-512F.
bool convAvx512Available();
/// Must not be called while a kernel runs. DirectAvx2 without convAvx2Available(), or
/// DirectAvx512 without convAvx512Available(), throws std::logic_error.
void setConvPath(ConvPath path);
ConvPath convPath();
/// "avx512", "avx2", "portable" or "gemm": what runs a direct-capable convolution.
const char* convPathName();

/// Whether the direct kernels take this convolution under the current ConvPath
/// (they handle stride 1, dilation 1, any kernel size and padding).
bool useDirectConv(const ConvGeometry& g);

/// Whether the direct kernels take this convolution on the gathered schedule: small
/// images with many channels (the deepest U-Net levels at small batches), whose
/// patches are gathered into rows (im2col, at most 8 MiB) and multiplied 32 output
/// channels at a time, each task's weights staying in cache over all pixels. Winograd
/// declines these layers (conv_winograd.hpp).
bool useGatheredConv(const ConvGeometry& g, std::int64_t f);

// in:(N,H,W,C) w:(kh,kw,C,F) bias:(F) or nullptr -> out:(N,OH,OW,F) = act(conv + bias).
// `act` is applied here when it is Linear or Relu; otherwise the caller applies it.
// Returns true when it applied the activation.
bool convDirectForward(const float* x, const float* w, const float* bias, float* y,
                       const ConvGeometry& g, std::int64_t f, ActKind act);

// dz:(N,OH,OW,F) w:(kh,kw,C,F) -> dx:(N,H,W,C) += the input gradient.
void convDirectBackwardData(const float* dz, const float* w, float* dx, const ConvGeometry& g,
                            std::int64_t f);

// in:(N,H,W,C) dz:(N,OH,OW,F) -> dw:(kh,kw,C,F) += the weight gradient.
void convDirectBackwardWeights(const float* x, const float* dz, float* dw, const ConvGeometry& g,
                               std::int64_t f);

} // namespace segforge::core::kernels
