// MaxPool2D and AvgPool2D with Keras/TensorFlow semantics: 'valid' floors,
// 'same' pads bottom/right first; padded taps never win a max and are not
// counted in an average.

#include "kernels/conv_geometry.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "kernels/select_bits.hpp"

#include <algorithm>
#include <cstdint>
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

/// Calls fn(inputPixelIndex, tap) for every in-bounds tap of output position (n, oy, ox),
/// in order; tap = ky·kw + kx.
template <typename Fn>
void forEachTap(const ConvGeometry& g, std::int64_t n, std::int64_t oy, std::int64_t ox, Fn&& fn) {
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t iy = oy * g.sh - g.padTop + ky;
        if (iy < 0 || iy >= g.h)
            continue;
        for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t ix = ox * g.sw - g.padLeft + kx;
            if (ix >= 0 && ix < g.w)
                fn((n * g.h + iy) * g.w + ix, ky * g.kw + kx);
        }
    }
}

/// MaxPool2D keeps, for each output, which tap of its window won: ky·kw + kx. A
/// uint8 holds it for windows of up to 255 taps (a quarter of an int32 index's
/// memory); larger windows keep an int32.
constexpr std::int64_t kNoTap = 255; ///< a window without in-bounds taps (uint8 state)

/// 2×2 windows at stride 2 that all lie inside the input (the U-Net's pooling).
bool isPlain2x2(const ConvGeometry& g) {
    return g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.padTop == 0 && g.padLeft == 0 &&
           g.oh * 2 <= g.h && g.ow * 2 <= g.w;
}

/// Whether max taps `take` over `best`: larger, or NaN (so that the guard sees it
/// downstream).
inline bool takes(float v, float best) {
    return (v > best) | (v != v);
}

/// The 2×2 stride-2 forward: one output row from two input rows, vectorised over
/// channels in blocks of 64.
void maxPool2x2Forward(const ConvGeometry& geometry, const float* x, float* y, std::uint8_t* arg) {
    // Captured by value: the compiler cannot tell the stores from a captured geometry.
    const auto rows = geometry.n * geometry.oh;
    parallelForFine(rows, [g = geometry, x, y, arg](std::int64_t r0, std::int64_t r1) {
        constexpr std::int64_t kBlock = 64;
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, oy = r % g.oh;
            const float* row0 = x + (n * g.h + 2 * oy) * g.w * g.c;
            const float* row1 = row0 + g.w * g.c;
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const std::int64_t o = (r * g.ow + ox) * g.c;
                for (std::int64_t c0 = 0; c0 < g.c; c0 += kBlock) {
                    const std::int64_t nc = std::min(kBlock, g.c - c0);
                    const float* t0 = row0 + 2 * ox * g.c + c0;
                    const float* t1 = t0 + g.c;
                    const float* t2 = row1 + 2 * ox * g.c + c0;
                    const float* t3 = t2 + g.c;
                    float best[kBlock];
                    std::int32_t at[kBlock];
                    for (std::int64_t c = 0; c < nc; ++c) {
                        const float a1 = t1[c], a2 = t2[c], a3 = t3[c];
                        float v = t0[c];
                        std::int32_t k = 0;
                        const bool take1 = takes(a1, v);
                        k = take1 ? 1 : k;
                        v = selectBits(take1, a1, v);
                        const bool take2 = takes(a2, v);
                        k = take2 ? 2 : k;
                        v = selectBits(take2, a2, v);
                        const bool take3 = takes(a3, v);
                        k = take3 ? 3 : k;
                        v = selectBits(take3, a3, v);
                        best[c] = v;
                        at[c] = k;
                    }
                    std::copy(best, best + nc, y + o + c0);
                    for (std::int64_t c = 0; c < nc; ++c)
                        arg[o + c0 + c] = static_cast<std::uint8_t>(at[c]);
                }
            }
        }
    });
}

/// Any window: the in-bounds taps in order, the first always taken.
template <typename Index>
void maxPoolForward(const ConvGeometry& g, const float* x, float* y, Index* arg) {
    parallelForFine(g.n * g.oh, [&](std::int64_t r0, std::int64_t r1) {
        constexpr std::int64_t kBlock = 64;
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, oy = r % g.oh;
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const std::int64_t o = (r * g.ow + ox) * g.c;
                for (std::int64_t c0 = 0; c0 < g.c; c0 += kBlock) {
                    const std::int64_t nc = std::min(kBlock, g.c - c0);
                    float best[kBlock];
                    std::int32_t at[kBlock];
                    std::fill(best, best + nc, -std::numeric_limits<float>::infinity());
                    std::fill(at, at + nc, static_cast<std::int32_t>(kNoTap));
                    bool first = true;
                    forEachTap(g, n, oy, ox, [&](std::int64_t pixel, std::int64_t k) {
                        const float* xp = x + pixel * g.c + c0;
                        const auto tap = static_cast<std::int32_t>(k);
                        for (std::int64_t c = 0; c < nc; ++c) {
                            const float v = xp[c];
                            const bool take = first | takes(v, best[c]);
                            best[c] = selectBits(take, v, best[c]);
                            at[c] = take ? tap : at[c];
                        }
                        first = false;
                    });
                    std::copy(best, best + nc, y + o + c0);
                    for (std::int64_t c = 0; c < nc; ++c)
                        arg[o + c0 + c] = static_cast<Index>(at[c]);
                }
            }
        }
    });
}

/// The 2×2 stride-2 backward: each input pixel of a window gains the output
/// gradient where its tap won (a select, so no input gradient is rewritten otherwise).
void maxPool2x2Backward(const ConvGeometry& geometry, const std::uint8_t* arg, const float* dy,
                        float* d) {
    const auto rows = geometry.n * geometry.oh;
    parallelForFine(rows, [g = geometry, arg, dy, d](std::int64_t r0, std::int64_t r1) {
        constexpr std::int64_t kBlock = 64;
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, oy = r % g.oh;
            float* row0 = d + (n * g.h + 2 * oy) * g.w * g.c;
            float* row1 = row0 + g.w * g.c;
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const std::int64_t o = (r * g.ow + ox) * g.c;
                float* d0 = row0 + 2 * ox * g.c;
                float* d1 = d0 + g.c;
                float* d2 = row1 + 2 * ox * g.c;
                float* d3 = d2 + g.c;
                // Blocks of channels in local arrays, then one loop per tap: one store
                // stream per loop keeps the compiler's alias checks few enough to vectorise.
                for (std::int64_t c0 = 0; c0 < g.c; c0 += kBlock) {
                    const std::int64_t nc = std::min(kBlock, g.c - c0);
                    float v[kBlock];
                    std::int32_t tap[kBlock];
                    for (std::int64_t c = 0; c < nc; ++c) {
                        v[c] = dy[o + c0 + c];
                        tap[c] = arg[o + c0 + c];
                    }
                    float* taps[4] = {d0 + c0, d1 + c0, d2 + c0, d3 + c0};
                    for (std::int32_t t = 0; t < 4; ++t) {
                        float* dt = taps[t];
                        for (std::int64_t c = 0; c < nc; ++c)
                            dt[c] = selectBits(tap[c] == t, dt[c] + v[c], dt[c]);
                    }
                }
            }
        }
    });
}

/// Any window: each output's gradient to the input pixel of its winning tap. Output
/// rows in order; threads split them only when windows do not overlap (then no two
/// outputs share an input pixel).
template <typename Index>
void maxPoolBackward(const ConvGeometry& g, const Index* arg, const float* dy, float* d) {
    auto scatter = [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, oy = r % g.oh;
            for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                const std::int64_t o = (r * g.ow + ox) * g.c;
                for (std::int64_t c = 0; c < g.c; ++c) {
                    const auto tap = static_cast<std::int64_t>(arg[o + c]);
                    if (tap == kNoTap || tap < 0)
                        continue;
                    const std::int64_t iy = oy * g.sh - g.padTop + tap / g.kw;
                    const std::int64_t ix = ox * g.sw - g.padLeft + tap % g.kw;
                    d[((n * g.h + iy) * g.w + ix) * g.c + c] += dy[o + c];
                }
            }
        }
    };
    if (g.sh >= g.kh && g.sw >= g.kw)
        parallelForFine(g.n * g.oh, scatter);
    else
        scatter(0, g.n * g.oh);
}

/// uint8 state for windows of up to 255 taps, int32 beyond.
DType tapDType(const ConvGeometry& g) {
    return g.kh * g.kw < kNoTap ? DType::UInt8 : DType::Int32;
}

} // namespace

// in:(N,H,W,C) -> out:(N,H',W',C); saved[0]: (N,H',W',C) the winning tap ky·kw + kx
// of each output (uint8, or int32 for windows over 254 taps). Output rows are
// independent: threads split them. Every element of the state is rewritten (its
// buffer is last step's, or one from the lean plan's pool).
void maxPool2dForward(const KernelContext& ctx) {
    const ConvGeometry g = poolGeometry(ctx);
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    const DType dtype = tapDType(g);
    Tensor& taps = ctx.stateTensor(0, ctx.out(0).shape(), dtype);
    if (dtype == DType::Int32)
        maxPoolForward(g, x, y, taps.i32());
    else if (isPlain2x2(g))
        maxPool2x2Forward(g, x, y, taps.u8());
    else
        maxPoolForward(g, x, y, taps.u8());
}

// dout:(N,H',W',C) -> din:(N,H,W,C) += dout at each window's winning tap
void maxPool2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const ConvGeometry g = poolGeometry(ctx);
    const Tensor& arg = ctx.state().at(0);
    const float* dy = ctx.outGrad(0).f32();
    if (arg.dtype() == DType::Int32)
        maxPoolBackward(g, arg.i32(), dy, dx->f32());
    else if (isPlain2x2(g))
        maxPool2x2Backward(g, arg.u8(), dy, dx->f32());
    else
        maxPoolBackward(g, arg.u8(), dy, dx->f32());
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
                forEachTap(g, n, oy, ox, [&](std::int64_t pixel, std::int64_t) {
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
                forEachTap(g, n, oy, ox, [&](std::int64_t, std::int64_t) { ++count; });
                if (!count)
                    continue;
                const float inv = 1.0f / static_cast<float>(count);
                forEachTap(g, n, oy, ox, [&](std::int64_t pixel, std::int64_t) {
                    float* dp = d + pixel * g.c;
                    for (std::int64_t c = 0; c < g.c; ++c)
                        dp[c] += dyp[c] * inv;
                });
            }
        }
    }
}

} // namespace segforge::core::kernels
