// Point-wise ops: Cast, Rescale, and the merges Add / Multiply with Keras'
// broadcasting (an axis of size 1 repeats). Large tensors run in parallel
// chunks; every element is computed in the same order as a serial loop would,
// so the results are the same bits at any thread count.

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

namespace segforge::core::kernels {

namespace {

/// Below this many elements a loop runs on the caller (not worth waking the pool).
constexpr std::int64_t kSerialBelow = 1 << 14;

/// Element strides of `in` as seen from an output of shape `out` (0 on broadcast axes).
std::array<std::int64_t, 4> broadcastStrides(const Shape& in, const Shape& out) {
    std::array<std::int64_t, 4> s{};
    std::int64_t stride = 1;
    for (int a = 3; a >= 0; --a) {
        s[static_cast<std::size_t>(a)] = (in[a] == 1 && out[a] != 1) ? 0 : stride;
        stride *= in[a];
    }
    return s;
}

std::int64_t numelOf(const Shape& s) {
    return s[0] * s[1] * s[2] * s[3];
}

bool sameShape(const Shape& a, const Shape& b) {
    for (int k = 0; k < 4; ++k)
        if (a[k] != b[k])
            return false;
    return true;
}

/// fn(o0, o1) over chunks of the flat indices [0, n): in parallel when n is large.
template <typename Fn> void forChunks(std::int64_t n, Fn&& fn) {
    if (n < kSerialBelow)
        fn(std::int64_t{0}, n);
    else
        parallelForFine(n, fn);
}

/// Calls fn(outIndex, inIndex) over every output element, in parallel chunks of
/// output rows (each output element is visited once, so fn may write it).
template <typename Fn> void forEachBroadcast(const Shape& in, const Shape& out, Fn&& fn) {
    const auto s = broadcastStrides(in, out);
    const std::int64_t rows = out[0] * out[1] * out[2], w = out[3];
    const auto rowLoop = [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t c = r % out[2], b = (r / out[2]) % out[1], a = r / (out[2] * out[1]);
            const std::int64_t base = a * s[0] + b * s[1] + c * s[2];
            for (std::int64_t d = 0; d < w; ++d)
                fn(r * w + d, base + d * s[3]);
        }
    };
    if (rows * w < kSerialBelow)
        rowLoop(0, rows);
    else
        parallelForFine(rows, rowLoop);
}

/// Input gradient of a broadcast: d[i] += Σ g[o] over the outputs o that read input element
/// i, in increasing o (the order of a serial loop over the outputs). Parallel over the
/// input's elements, each summed by one chunk.
void reduceBroadcast(const Shape& in, const Shape& out, const float* g, float* d) {
    if (sameShape(in, out)) {
        forChunks(numelOf(out), [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i)
                d[i] += g[i];
        });
        return;
    }
    // Output strides, and per axis how many outputs share one input element.
    std::array<std::int64_t, 4> os{}, reps{};
    std::int64_t stride = 1;
    for (int a = 3; a >= 0; --a) {
        const auto k = static_cast<std::size_t>(a);
        os[k] = stride;
        stride *= out[a];
        reps[k] = (in[a] == 1 && out[a] != 1) ? out[a] : 1;
    }
    const auto one = [&](std::int64_t i) {
        // The input coordinates of element i, then its outputs in increasing order.
        std::array<std::int64_t, 4> at{};
        std::int64_t rest = i;
        for (int a = 3; a >= 0; --a) {
            at[static_cast<std::size_t>(a)] = rest % in[a];
            rest /= in[a];
        }
        float acc = d[i];
        for (std::int64_t a = 0; a < reps[0]; ++a)
            for (std::int64_t b = 0; b < reps[1]; ++b)
                for (std::int64_t c = 0; c < reps[2]; ++c) {
                    const std::int64_t o0 = (at[0] + a) * os[0] + (at[1] + b) * os[1] +
                                            (at[2] + c) * os[2] + at[3] * os[3];
                    for (std::int64_t e = 0; e < reps[3]; ++e)
                        acc += g[o0 + e * os[3]];
                }
        d[i] = acc;
    };
    const std::int64_t n = numelOf(in);
    if (numelOf(out) < kSerialBelow)
        for (std::int64_t i = 0; i < n; ++i)
            one(i);
    else
        parallelForFine(n, [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i)
                one(i);
        });
}

} // namespace

// in:(…) any dtype -> out:(…) the attribute's dtype
void castForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    if (x.dtype() == y.dtype()) {
        std::memcpy(y.bytes(), x.bytes(), x.byteSize());
        return;
    }
    parallelForEach(x.numel(), [&](std::int64_t i) {
        y.setValueAt(i, x.valueAt(i)); // truncates like tf.cast, saturating
    });
}

// Only a float32 → float32 cast passes a gradient (integers are not differentiable).
void castBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx || ctx.in(0).dtype() != DType::Float32 || ctx.out(0).dtype() != DType::Float32)
        return;
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    forChunks(dx->numel(), [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i)
            d[i] += dy[i];
    });
}

// in:(…) any dtype -> out:(…) f32 = in·scale + offset
void rescaleForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    float* y = ctx.out(0).f32();
    const double scale = ctx.getFloat("scale");
    const double offset = ctx.getFloat("offset");
    if (x.dtype() == DType::UInt8) { // the common case: pixels
        const std::uint8_t* p = x.u8();
        forChunks(x.numel(), [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i)
                y[i] = static_cast<float>(p[i] * scale + offset);
        });
        return;
    }
    if (x.dtype() == DType::Float32) {
        const float* p = x.f32();
        forChunks(x.numel(), [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i)
                y[i] = static_cast<float>(static_cast<double>(p[i]) * scale + offset);
        });
        return;
    }
    parallelForEach(x.numel(), [&](std::int64_t i) {
        y[i] = static_cast<float>(x.valueAt(i) * scale + offset);
    });
}

void rescaleBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx || ctx.in(0).dtype() != DType::Float32)
        return;
    const auto scale = static_cast<float>(ctx.getFloat("scale"));
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    forChunks(dx->numel(), [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i)
            d[i] += dy[i] * scale;
    });
}

// in_i:(N,H,W,C) each axis equal or 1 -> out:(N,H,W,C) = Σ in_i
void addForward(const KernelContext& ctx) {
    Tensor& y = ctx.out(0);
    float* yp = y.f32();
    // Each output element sums 0 + in_0 + in_1 + … in input order, as a serial loop would.
    forChunks(y.numel(),
              [&](std::int64_t i0, std::int64_t i1) { std::fill(yp + i0, yp + i1, 0.0f); });
    for (const Tensor* x : ctx.inputs) {
        const float* xp = x->f32();
        if (sameShape(x->shape(), y.shape()))
            forChunks(y.numel(), [&](std::int64_t i0, std::int64_t i1) {
                for (std::int64_t i = i0; i < i1; ++i)
                    yp[i] += xp[i];
            });
        else
            forEachBroadcast(x->shape(), y.shape(),
                             [&](std::int64_t o, std::int64_t i) { yp[o] += xp[i]; });
    }
}

// dout -> din_i += dout, summed over the axes input i was broadcast along
void addBackward(const KernelContext& ctx) {
    const Tensor& dy = ctx.outGrad(0);
    for (std::size_t k = 0; k < ctx.inputs.size(); ++k)
        if (Tensor* dx = ctx.inGrad(static_cast<int>(k)))
            reduceBroadcast(dx->shape(), dy.shape(), dy.f32(), dx->f32());
}

// in_i:(N,H,W,C) each axis equal or 1 -> out:(N,H,W,C) = Π in_i
void multiplyForward(const KernelContext& ctx) {
    Tensor& y = ctx.out(0);
    float* yp = y.f32();
    forChunks(y.numel(),
              [&](std::int64_t i0, std::int64_t i1) { std::fill(yp + i0, yp + i1, 1.0f); });
    for (const Tensor* x : ctx.inputs) {
        const float* xp = x->f32();
        forEachBroadcast(x->shape(), y.shape(),
                         [&](std::int64_t o, std::int64_t i) { yp[o] *= xp[i]; });
    }
}

// dout -> din_i += dout · Π_{j≠i} in_j (recomputed, so a zero input is handled exactly)
void multiplyBackward(const KernelContext& ctx) {
    const Tensor& dy = ctx.outGrad(0);
    for (std::size_t k = 0; k < ctx.inputs.size(); ++k) {
        Tensor* dx = ctx.inGrad(static_cast<int>(k));
        if (!dx)
            continue;
        Tensor others(dy.shape(), DType::Float32);
        float* op = others.f32();
        const float* g = dy.f32();
        forChunks(dy.numel(),
                  [&](std::int64_t i0, std::int64_t i1) { std::copy(g + i0, g + i1, op + i0); });
        for (std::size_t j = 0; j < ctx.inputs.size(); ++j) {
            if (j == k)
                continue;
            const float* xp = ctx.inputs[j]->f32();
            forEachBroadcast(ctx.inputs[j]->shape(), dy.shape(),
                             [&](std::int64_t o, std::int64_t i) { op[o] *= xp[i]; });
        }
        reduceBroadcast(dx->shape(), dy.shape(), op, dx->f32());
    }
}

} // namespace segforge::core::kernels
