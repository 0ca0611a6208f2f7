// MaxPool2D and AvgPool2D with Keras/TensorFlow semantics: 'valid' floors,
// 'same' pads bottom/right first; padded taps never win a max and are not
// counted in an average.

#include "kernels/conv_geometry.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <limits>

namespace segforge::core::kernels {

namespace {

ConvGeometry poolGeometry(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const auto p = ctx.getPair("pool_size");
    const auto s = ctx.getPair("strides");
    const std::int64_t sh = s[0] == 0 ? p[0] : s[0];
    const std::int64_t sw = s[1] == 0 ? p[1] : s[1];
    return makeConvGeometry(x.batch(), x.height(), x.width(), x.channels(), y.height(), y.width(),
                            p[0], p[1], sh, sw, 1, 1, ctx.getString("padding") == "same");
}

/// Calls fn(inputPixelIndex) for every in-bounds tap of output position (n, oy, ox).
template <typename Fn>
void forEachTap(const ConvGeometry& g, std::int64_t n, std::int64_t oy, std::int64_t ox, Fn&& fn) {
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t iy = oy * g.sh - g.padTop + ky;
        if (iy < 0 || iy >= g.h)
            continue;
        for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t ix = ox * g.sw - g.padLeft + kx;
            if (ix >= 0 && ix < g.w)
                fn((n * g.h + iy) * g.w + ix);
        }
    }
}

} // namespace

// in:(N,H,W,C) -> out:(N,H',W',C); saved[0]: argmax input index per output (int32)
// Output rows are independent: threads split them. The argmax buffer is kept
// from step to step (every element is rewritten).
void maxPool2dForward(const KernelContext& ctx) {
    const ConvGeometry g = poolGeometry(ctx);
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    auto& saved = ctx.state();
    if (saved.size() != 1 || saved[0].shape() != ctx.out(0).shape() ||
        saved[0].dtype() != DType::Int32)
        saved.assign(1, Tensor(ctx.out(0).shape(), DType::Int32));
    std::int32_t* arg = saved[0].i32();
    parallelForFine(g.n * g.oh, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, oy = r % g.oh;
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const std::int64_t o = ((n * g.oh + oy) * g.ow + ox) * g.c;
                // Blocks of channels in local arrays: the compiler can keep them out of
                // memory (y and arg might alias x as far as it knows) and vectorise.
                constexpr std::int64_t kBlock = 64;
                for (std::int64_t c0 = 0; c0 < g.c; c0 += kBlock) {
                    const std::int64_t nc = std::min(kBlock, g.c - c0);
                    float best[kBlock];
                    std::int32_t at[kBlock];
                    for (std::int64_t c = 0; c < nc; ++c) {
                        best[c] = -std::numeric_limits<float>::infinity();
                        at[c] = -1;
                    }
                    forEachTap(g, n, oy, ox, [&](std::int64_t pixel) {
                        const float* xp = x + pixel * g.c + c0;
                        const auto base = static_cast<std::int32_t>(pixel * g.c + c0);
                        for (std::int64_t c = 0; c < nc; ++c) {
                            // NaN wins so that the guard sees it downstream.
                            const bool take = xp[c] > best[c] || at[c] < 0 || xp[c] != xp[c];
                            best[c] = take ? xp[c] : best[c];
                            at[c] = take ? base + static_cast<std::int32_t>(c) : at[c];
                        }
                    });
                    std::copy(best, best + nc, y + o + c0);
                    std::copy(at, at + nc, arg + o + c0);
                }
            }
        }
    });
}

// dout:(N,H',W',C) -> din:(N,H,W,C) += dout at each window's argmax
void maxPool2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const std::int32_t* arg = ctx.state().at(0).i32();
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    const std::int64_t n = ctx.out(0).numel();
    auto scatter = [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i) {
            if (arg[i] >= 0)
                d[arg[i]] += dy[i];
        }
    };
    // Windows that do not overlap never share an input pixel: threads may split them.
    const ConvGeometry g = poolGeometry(ctx);
    if (g.sh >= g.kh && g.sw >= g.kw)
        parallelForFine(n, scatter);
    else
        scatter(0, n);
}

// in:(N,H,W,C) -> out:(N,H',W',C), mean of the in-bounds taps
void avgPool2dForward(const KernelContext& ctx) {
    const ConvGeometry g = poolGeometry(ctx);
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    for (std::int64_t n = 0; n < g.n; ++n) {
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                float* yp = y + ((n * g.oh + oy) * g.ow + ox) * g.c;
                std::int64_t count = 0;
                for (std::int64_t c = 0; c < g.c; ++c)
                    yp[c] = 0;
                forEachTap(g, n, oy, ox, [&](std::int64_t pixel) {
                    ++count;
                    const float* xp = x + pixel * g.c;
                    for (std::int64_t c = 0; c < g.c; ++c)
                        yp[c] += xp[c];
                });
                const float inv = count ? 1.0f / static_cast<float>(count) : 0.0f;
                for (std::int64_t c = 0; c < g.c; ++c)
                    yp[c] *= inv;
            }
        }
    }
}

// dout:(N,H',W',C) -> din:(N,H,W,C) += dout / taps over each window
void avgPool2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const ConvGeometry g = poolGeometry(ctx);
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    for (std::int64_t n = 0; n < g.n; ++n) {
        for (std::int64_t oy = 0; oy < g.oh; ++oy) {
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const float* dyp = dy + ((n * g.oh + oy) * g.ow + ox) * g.c;
                std::int64_t count = 0;
                forEachTap(g, n, oy, ox, [&](std::int64_t) { ++count; });
                if (!count)
                    continue;
                const float inv = 1.0f / static_cast<float>(count);
                forEachTap(g, n, oy, ox, [&](std::int64_t pixel) {
                    float* dp = d + pixel * g.c;
                    for (std::int64_t c = 0; c < g.c; ++c)
                        dp[c] += dyp[c] * inv;
                });
            }
        }
    }
}

} // namespace segforge::core::kernels
