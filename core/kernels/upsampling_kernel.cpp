// UpSampling2D as keras.layers.UpSampling2D: 'nearest' repeats pixels,
// 'bilinear' is tf.image.resize(bilinear) with half-pixel centres
// (source = (dst + 0.5) / size − 0.5, clamped at the borders).

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

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

std::vector<Tap> bilinearTaps(std::int64_t in, std::int64_t factor) {
    std::vector<Tap> taps(static_cast<std::size_t>(in * factor));
    for (std::int64_t o = 0; o < in * factor; ++o) {
        const double src = (static_cast<double>(o) + 0.5) / static_cast<double>(factor) - 0.5;
        const double base = std::floor(src);
        Tap& t = taps[static_cast<std::size_t>(o)];
        t.frac = static_cast<float>(src - base);
        const auto b = static_cast<std::int64_t>(base);
        t.lo = std::clamp<std::int64_t>(b, 0, in - 1);
        t.hi = std::clamp<std::int64_t>(b + 1, 0, in - 1);
    }
    return taps;
}

/// Bilinear: calls fn(outIndex, inIndex, weight) for every (output, source) pair.
template <typename Fn> void forEachSource(const KernelContext& ctx, Fn&& fn) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const std::int64_t h = x.height(), w = x.width(), c = x.channels();
    const std::int64_t oh = y.height(), ow = y.width();
    const auto size = ctx.getPair("size");
    const auto ty = bilinearTaps(h, size[0]);
    const auto tx = bilinearTaps(w, size[1]);
    for (std::int64_t n = 0; n < x.batch(); ++n) {
        for (std::int64_t oy = 0; oy < oh; ++oy) {
            for (std::int64_t ox = 0; ox < ow; ++ox) {
                const std::int64_t o = ((n * oh + oy) * ow + ox) * c;
                const Tap& a = ty[static_cast<std::size_t>(oy)];
                const Tap& b = tx[static_cast<std::size_t>(ox)];
                fn(o, ((n * h + a.lo) * w + b.lo) * c, (1 - a.frac) * (1 - b.frac));
                fn(o, ((n * h + a.lo) * w + b.hi) * c, (1 - a.frac) * b.frac);
                fn(o, ((n * h + a.hi) * w + b.lo) * c, a.frac * (1 - b.frac));
                fn(o, ((n * h + a.hi) * w + b.hi) * c, a.frac * b.frac);
            }
        }
    }
}

/// Nearest: each input row becomes sh output rows of pixels repeated sw times; rows
/// are independent, so threads split them.
void nearestForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const std::int64_t h = x.height(), w = x.width(), c = x.channels();
    const auto size = ctx.getPair("size");
    const std::int64_t sh = size[0], sw = size[1], ow = w * sw;
    const auto pixelBytes = static_cast<std::size_t>(c) * sizeof(float);
    parallelForFine(x.batch() * h, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) { // r = n·H + iy
            const float* in = x.f32() + r * w * c;
            float* first = ctx.out(0).f32() + r * sh * ow * c;
            for (std::int64_t ix = 0; ix < w; ++ix)
                for (std::int64_t k = 0; k < sw; ++k)
                    std::memcpy(first + (ix * sw + k) * c, in + ix * c, pixelBytes);
            for (std::int64_t k = 1; k < sh; ++k)
                std::memcpy(first + k * ow * c, first, static_cast<std::size_t>(ow) * pixelBytes);
        }
    });
}

/// Nearest: each input pixel's gradient gains the sum of its sh × sw copies.
void nearestBackward(const KernelContext& ctx, float* dx) {
    const Tensor& x = ctx.in(0);
    const std::int64_t h = x.height(), w = x.width(), c = x.channels();
    const auto size = ctx.getPair("size");
    const std::int64_t sh = size[0], sw = size[1], ow = w * sw;
    parallelForFine(x.batch() * h, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* dy = ctx.outGrad(0).f32() + r * sh * ow * c;
            for (std::int64_t ix = 0; ix < w; ++ix) {
                float* d = dx + (r * w + ix) * c;
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
    if (isNearest(ctx)) {
        nearestForward(ctx);
        return;
    }
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    const std::int64_t c = ctx.in(0).channels();
    ctx.out(0).fill(0.0f);
    forEachSource(ctx, [&](std::int64_t o, std::int64_t i, float weight) {
        for (std::int64_t k = 0; k < c; ++k)
            y[o + k] += weight * x[i + k];
    });
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
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    const std::int64_t c = ctx.in(0).channels();
    forEachSource(ctx, [&](std::int64_t o, std::int64_t i, float weight) {
        for (std::int64_t k = 0; k < c; ++k)
            d[i + k] += weight * dy[o + k];
    });
}

} // namespace segforge::core::kernels
