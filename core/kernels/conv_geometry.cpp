#include "kernels/conv_geometry.hpp"

#include "kernels/op_kernel.hpp"

#include <algorithm>
#include <cstring>

namespace segforge::core::kernels {

std::int64_t samePaddingBefore(std::int64_t in, std::int64_t out, std::int64_t kernel,
                               std::int64_t stride, std::int64_t dilation) {
    const std::int64_t dilated = (kernel - 1) * dilation + 1;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + dilated - in, 0);
    return total / 2;
}

ConvGeometry makeConvGeometry(std::int64_t n, std::int64_t h, std::int64_t w, std::int64_t c,
                              std::int64_t oh, std::int64_t ow, std::int64_t kh, std::int64_t kw,
                              std::int64_t sh, std::int64_t sw, std::int64_t dh, std::int64_t dw,
                              bool same) {
    ConvGeometry g;
    g.n = n;
    g.h = h;
    g.w = w;
    g.c = c;
    g.oh = oh;
    g.ow = ow;
    g.kh = kh;
    g.kw = kw;
    g.sh = sh;
    g.sw = sw;
    g.dh = dh;
    g.dw = dw;
    if (same) {
        g.padTop = samePaddingBefore(h, oh, kh, sh, dh);
        g.padLeft = samePaddingBefore(w, ow, kw, sw, dw);
    }
    return g;
}

ConvGeometry convolutionGeometry(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const auto k = ctx.getPair("kernel_size");
    const auto s = ctx.getPair("strides");
    const auto d = ctx.getPair("dilation_rate");
    return makeConvGeometry(x.batch(), x.height(), x.width(), x.channels(), y.height(), y.width(),
                            k[0], k[1], s[0], s[1], d[0], d[1], ctx.getString("padding") == "same");
}

void im2colRows(const float* large, const ConvGeometry& g, std::int64_t n, std::int64_t oy0,
                std::int64_t rows, float* cols) {
    const std::int64_t patch = g.patch();
    const std::size_t cBytes = static_cast<std::size_t>(g.c) * sizeof(float);
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t oy = oy0 + r;
        for (std::int64_t ox = 0; ox < g.ow; ++ox) {
            float* dst = cols + (r * g.ow + ox) * patch;
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                const std::int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
                for (std::int64_t kx = 0; kx < g.kw; ++kx, dst += g.c) {
                    const std::int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
                    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                        std::memset(dst, 0, cBytes);
                    else
                        std::memcpy(dst, large + ((n * g.h + iy) * g.w + ix) * g.c, cBytes);
                }
            }
        }
    }
}

void col2imRowsAdd(const float* cols, const ConvGeometry& g, std::int64_t n, std::int64_t oy0,
                   std::int64_t rows, float* large) {
    const std::int64_t patch = g.patch();
    for (std::int64_t r = 0; r < rows; ++r) {
        const std::int64_t oy = oy0 + r;
        for (std::int64_t ox = 0; ox < g.ow; ++ox) {
            const float* src = cols + (r * g.ow + ox) * patch;
            for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                const std::int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
                for (std::int64_t kx = 0; kx < g.kw; ++kx, src += g.c) {
                    const std::int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
                    if (iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
                        continue;
                    float* dst = large + ((n * g.h + iy) * g.w + ix) * g.c;
                    for (std::int64_t k = 0; k < g.c; ++k)
                        dst[k] += src[k];
                }
            }
        }
    }
}

std::int64_t rowsPerBlock(const ConvGeometry& g, std::int64_t budget) {
    const std::int64_t perRow = std::max<std::int64_t>(1, g.ow * g.patch());
    return std::clamp<std::int64_t>(budget / perRow, 1, std::max<std::int64_t>(g.oh, 1));
}

} // namespace segforge::core::kernels
