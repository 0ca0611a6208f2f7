// UpSampling2D as keras.layers.UpSampling2D: 'nearest' repeats pixels,
// 'bilinear' is tf.image.resize(bilinear) with half-pixel centres
// (source = (dst + 0.5) / size − 0.5, clamped at the borders), or with
// align_corners = true PyTorch's interpolate(align_corners=True): source =
// dst · (in − 1) / (out − 1), so the corner pixels of input and output coincide
// (source 0 when out = 1).

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "kernels/tensor_sweeps.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

namespace segforge::core::kernels {

namespace {

bool isNearest(const KernelContext& ctx) {
    return ctx.getString("interpolation") == "nearest";
}

/// One output coordinate's two source taps and the weight of the second.
struct Tap {
    std::int64_t lo = 0, hi = 0;
    float frac = 0;
};

/// The taps of the `in · factor` output coordinates along one axis.
std::vector<Tap> bilinearTaps(std::int64_t in, std::int64_t factor, bool alignCorners) {
    const std::int64_t out = in * factor;
    std::vector<Tap> taps(static_cast<std::size_t>(out));
    for (std::int64_t o = 0; o < out; ++o) {
        // align_corners: o·(in − 1)/(out − 1) rounded once, so that the last
        // output reads exactly the last input (PyTorch multiplies by the rounded
        // ratio, which may differ in the last bit).
        const double src =
            alignCorners
                ? (out > 1 ? static_cast<double>(o * (in - 1)) / static_cast<double>(out - 1) : 0.0)
                : (static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5;
        const double base = std::floor(src);
        Tap& t = taps[static_cast<std::size_t>(o)];
        t.frac = static_cast<float>(src - base);
        const auto b = static_cast<std::int64_t>(base);
        t.lo = std::clamp<std::int64_t>(b, 0, in - 1);
        t.hi = std::clamp<std::int64_t>(b + 1, 0, in - 1);
    }
    return taps;
}

/// The bilinear geometry of one node: sizes and the taps along each axis.
struct Bilinear {
    std::int64_t batch, h, w, c, oh, ow;
    std::vector<Tap> ty, tx;

    explicit Bilinear(const KernelContext& ctx)
        : batch(ctx.in(0).batch())
        , h(ctx.in(0).height())
        , w(ctx.in(0).width())
        , c(ctx.in(0).channels())
        , oh(ctx.out(0).height())
        , ow(ctx.out(0).width()) {
        const auto size = ctx.getPair("size");
        const bool align = ctx.getBool("align_corners");
        ty = bilinearTaps(h, size[0], align);
        tx = bilinearTaps(w, size[1], align);
    }

    /// Calls fn(outIndex, inIndex, weight) for the four taps of every pixel of
    /// output row oy of sample n: the pixels in order, the taps as (lo, lo),
    /// (lo, hi), (hi, lo), (hi, hi).
    template <typename Fn> void row(std::int64_t n, std::int64_t oy, Fn&& fn) const {
        const Tap& a = ty[static_cast<std::size_t>(oy)];
        for (std::int64_t ox = 0; ox < ow; ++ox) {
            const std::int64_t o = ((n * oh + oy) * ow + ox) * c;
            const Tap& b = tx[static_cast<std::size_t>(ox)];
            fn(o, ((n * h + a.lo) * w + b.lo) * c, (1 - a.frac) * (1 - b.frac));
            fn(o, ((n * h + a.lo) * w + b.hi) * c, (1 - a.frac) * b.frac);
            fn(o, ((n * h + a.hi) * w + b.lo) * c, a.frac * (1 - b.frac));
            fn(o, ((n * h + a.hi) * w + b.hi) * c, a.frac * b.frac);
        }
    }
};

/// Bilinear forward: output rows are independent, so threads split them; each
/// output value sums its four taps in a fixed order.
void bilinearForward(const KernelContext& ctx) {
    const Bilinear g(ctx);
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    ctx.out(0).fill(0.0f);
    parallelForFine(g.batch * g.oh, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) { // r = n·OH + oy
            g.row(r / g.oh, r % g.oh, [&](std::int64_t o, std::int64_t i, float weight) {
                for (std::int64_t k = 0; k < g.c; ++k)
                    y[o + k] += weight * x[i + k];
            });
        }
    });
}

/// Bilinear backward: the forward's taps scattered back, output rows in order,
/// one sample per task (samples write disjoint gradients). Each input
/// gradient sums its taps in the same order at every thread count.
void bilinearBackward(const KernelContext& ctx, float* dx) {
    const Bilinear g(ctx);
    const float* dy = ctx.outGrad(0).f32();
    parallelForFine(g.batch, [&](std::int64_t n0, std::int64_t n1) {
        for (std::int64_t n = n0; n < n1; ++n)
            for (std::int64_t oy = 0; oy < g.oh; ++oy)
                g.row(n, oy, [&](std::int64_t o, std::int64_t i, float weight) {
                    for (std::int64_t k = 0; k < g.c; ++k)
                        dx[i + k] += weight * dy[o + k];
                });
    });
}

/// a[k] = b[k] = src[k]: one pixel to its two copies. The three never overlap
/// (restrict), which spares each pixel the overlap check before the vector loop.
inline void copyTwice(float* __restrict a, float* __restrict b, const float* __restrict src,
                      std::int64_t n) {
    for (std::int64_t k = 0; k < n; ++k) {
        a[k] = src[k];
        b[k] = src[k];
    }
}

/// Nearest: each input row becomes sh output rows of pixels repeated sw times; rows
/// are independent, so threads split them. The first output row is written pixel by
/// pixel (each value stored sw times from a register, no call per pixel), the
/// others are copies of it.
void nearestForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const std::int64_t h = x.height(), w = x.width(), c = x.channels();
    const auto size = ctx.getPair("size");
    const std::int64_t sh = size[0], sw = size[1], ow = w * sw;
    const auto rowBytes = static_cast<std::size_t>(ow * c) * sizeof(float);
    parallelForFine(x.batch() * h, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) { // r = n·H + iy
            const float* in = x.f32() + r * w * c;
            float* first = ctx.out(0).f32() + r * sh * ow * c;
            if (sw == 2) {
                for (std::int64_t ix = 0; ix < w; ++ix)
                    copyTwice(first + ix * 2 * c, first + ix * 2 * c + c, in + ix * c, c);
            } else {
                for (std::int64_t ix = 0; ix < w; ++ix)
                    for (std::int64_t k = 0; k < sw; ++k)
                        std::memcpy(first + (ix * sw + k) * c, in + ix * c,
                                    static_cast<std::size_t>(c) * sizeof(float));
            }
            for (std::int64_t k = 1; k < sh; ++k)
                std::memcpy(first + k * ow * c, first, rowBytes);
        }
    });
}

/// Nearest: each input pixel's gradient gains (or, fresh, is) the sum of its sh × sw copies.
void nearestBackward(const KernelContext& ctx, float* dx) {
    const bool assign = ctx.inputGradFresh(0);
    const Tensor& x = ctx.in(0);
    const std::int64_t h = x.height(), w = x.width(), c = x.channels();
    const auto size = ctx.getPair("size");
    const std::int64_t sh = size[0], sw = size[1], ow = w * sw;
    parallelForFine(x.batch() * h, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* dy = ctx.outGrad(0).f32() + r * sh * ow * c;
            for (std::int64_t ix = 0; ix < w; ++ix) {
                float* d = dx + (r * w + ix) * c;
                if (assign)
                    std::fill(d, d + c, 0.0f);
                for (std::int64_t ky = 0; ky < sh; ++ky)
                    for (std::int64_t kx = 0; kx < sw; ++kx) {
                        const float* src = dy + (ky * ow + ix * sw + kx) * c;
                        for (std::int64_t k = 0; k < c; ++k)
                            d[k] += src[k];
                    }
            }
        }
    });
}

} // namespace

// in:(N,H,W,C) -> out:(N,H·sh,W·sw,C)
void upSampling2dForward(const KernelContext& ctx) {
    if (isNearest(ctx))
        nearestForward(ctx);
    else
        bilinearForward(ctx);
}

// dout:(N,H·sh,W·sw,C) -> din:(N,H,W,C) += the weighted sum of the outputs each pixel fed
void upSampling2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    if (isNearest(ctx)) {
        nearestBackward(ctx, dx->f32());
        return;
    }
    if (ctx.inputGradFresh(0)) // bilinear scatters: it needs zeros to add to
        zeroFill(dx->f32(), dx->numel());
    bilinearBackward(ctx, dx->f32());
}

} // namespace segforge::core::kernels
