// Point-wise ops: Cast, Rescale, and the merges Add / Multiply with Keras'
// broadcasting (an axis of size 1 repeats).

#include "kernels/kernels.hpp"

#include <array>
#include <cmath>
#include <cstring>

namespace segforge::core::kernels {

namespace {

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

/// Calls fn(outIndex, inIndex) over every output element.
template <typename Fn> void forEachBroadcast(const Shape& in, const Shape& out, Fn&& fn) {
    const auto s = broadcastStrides(in, out);
    std::int64_t o = 0;
    for (std::int64_t a = 0; a < out[0]; ++a)
        for (std::int64_t b = 0; b < out[1]; ++b)
            for (std::int64_t c = 0; c < out[2]; ++c)
                for (std::int64_t d = 0; d < out[3]; ++d, ++o)
                    fn(o, a * s[0] + b * s[1] + c * s[2] + d * s[3]);
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
    for (std::int64_t i = 0; i < x.numel(); ++i)
        y.setValueAt(i, x.valueAt(i)); // truncates like tf.cast, saturating
}

// Only a float32 → float32 cast passes a gradient (integers are not differentiable).
void castBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx || ctx.in(0).dtype() != DType::Float32 || ctx.out(0).dtype() != DType::Float32)
        return;
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    for (std::int64_t i = 0; i < dx->numel(); ++i)
        d[i] += dy[i];
}

// in:(…) any dtype -> out:(…) f32 = in·scale + offset
void rescaleForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    float* y = ctx.out(0).f32();
    const double scale = ctx.getFloat("scale");
    const double offset = ctx.getFloat("offset");
    if (x.dtype() == DType::UInt8) { // the common case: pixels
        const std::uint8_t* p = x.u8();
        for (std::int64_t i = 0; i < x.numel(); ++i)
            y[i] = static_cast<float>(p[i] * scale + offset);
        return;
    }
    for (std::int64_t i = 0; i < x.numel(); ++i)
        y[i] = static_cast<float>(x.valueAt(i) * scale + offset);
}

void rescaleBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx || ctx.in(0).dtype() != DType::Float32)
        return;
    const auto scale = static_cast<float>(ctx.getFloat("scale"));
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    for (std::int64_t i = 0; i < dx->numel(); ++i)
        d[i] += dy[i] * scale;
}

// in_i:(N,H,W,C) each axis equal or 1 -> out:(N,H,W,C) = Σ in_i
void addForward(const KernelContext& ctx) {
    Tensor& y = ctx.out(0);
    y.fill(0.0f);
    float* yp = y.f32();
    for (const Tensor* x : ctx.inputs) {
        const float* xp = x->f32();
        forEachBroadcast(x->shape(), y.shape(),
                         [&](std::int64_t o, std::int64_t i) { yp[o] += xp[i]; });
    }
}

// dout -> din_i += dout, summed over the axes input i was broadcast along
void addBackward(const KernelContext& ctx) {
    const Tensor& dy = ctx.outGrad(0);
    const float* g = dy.f32();
    for (std::size_t k = 0; k < ctx.inputs.size(); ++k) {
        Tensor* dx = ctx.inGrad(static_cast<int>(k));
        if (!dx)
            continue;
        float* d = dx->f32();
        forEachBroadcast(dx->shape(), dy.shape(),
                         [&](std::int64_t o, std::int64_t i) { d[i] += g[o]; });
    }
}

// in_i:(N,H,W,C) each axis equal or 1 -> out:(N,H,W,C) = Π in_i
void multiplyForward(const KernelContext& ctx) {
    Tensor& y = ctx.out(0);
    y.fill(1.0f);
    float* yp = y.f32();
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
        std::memcpy(others.f32(), dy.f32(), dy.byteSize());
        float* op = others.f32();
        for (std::size_t j = 0; j < ctx.inputs.size(); ++j) {
            if (j == k)
                continue;
            const float* xp = ctx.inputs[j]->f32();
            forEachBroadcast(ctx.inputs[j]->shape(), dy.shape(),
                             [&](std::int64_t o, std::int64_t i) { op[o] *= xp[i]; });
        }
        float* d = dx->f32();
        forEachBroadcast(dx->shape(), dy.shape(),
                         [&](std::int64_t o, std::int64_t i) { d[i] += op[o]; });
    }
}

} // namespace segforge::core::kernels
