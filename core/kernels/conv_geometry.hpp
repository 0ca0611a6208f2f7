#pragma once

// Index arithmetic shared by convolution, transposed convolution and pooling:
// a window of (kh, kw) taps with strides and dilation sliding over a "large"
// NHWC tensor and producing one value per position of a "small" grid.
// Padding follows TensorFlow exactly: 'same' pads
// max((out−1)·stride + dilated_kernel − in, 0) in total, the smaller half on
// top/left, so the extra row/column goes to the bottom/right.

#include <cstdint>

namespace segforge::core {
struct KernelContext;
}

namespace segforge::core::kernels {

struct ConvGeometry {
    std::int64_t n = 0, h = 0, w = 0, c = 0; ///< the large tensor (conv input)
    std::int64_t oh = 0, ow = 0;             ///< the window positions (conv output)
    std::int64_t kh = 1, kw = 1, sh = 1, sw = 1, dh = 1, dw = 1;
    std::int64_t padTop = 0, padLeft = 0;

    std::int64_t patch() const { return kh * kw * c; }
};

/// TensorFlow's padding for a window over `in` producing `out` positions.
std::int64_t samePaddingBefore(std::int64_t in, std::int64_t out, std::int64_t kernel,
                               std::int64_t stride, std::int64_t dilation);

ConvGeometry makeConvGeometry(std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t c,
                              std::int64_t oh, std::int64_t ow, std::int64_t kh, std::int64_t kw,
                              std::int64_t sh, std::int64_t sw, std::int64_t dh, std::int64_t dw,
                              bool same);
/// The window of a convolution that slides over input 0 and writes output 0
/// (Conv2D, SeparableConv2D), from the node's kernel_size, strides,
/// dilation_rate and padding.
ConvGeometry convolutionGeometry(const KernelContext& ctx);

// large:(N,H,W,C) -> cols:(rows·OW, kh·kw·C) for output rows [oy0, oy0+rows) of image n;
// taps that fall into the padding read 0.
void im2colRows(const float* large, const ConvGeometry& g, std::int64_t n, std::int64_t oy0,
                std::int64_t rows, float* cols);

// cols:(rows·OW, kh·kw·C) -> large:(N,H,W,C), adding each tap into the pixel it read
// (taps in the padding are dropped). The adjoint of im2colRows.
void col2imRowsAdd(const float* cols, const ConvGeometry& g, std::int64_t n, std::int64_t oy0,
                   std::int64_t rows, float* large);

/// Output rows per im2col block so that a block stays around `budget` floats.
std::int64_t rowsPerBlock(const ConvGeometry& g, std::int64_t budget = 1 << 18);

} // namespace segforge::core::kernels
