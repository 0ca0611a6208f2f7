// The Activation op; the functions themselves live in activation_math.

#include "kernels/activation_math.hpp"
#include "kernels/channel_blocks.hpp"
#include "kernels/kernels.hpp"

#include <cstring>

namespace segforge::core::kernels {

namespace {

std::int64_t channelsOf(const Tensor& t) {
    return t.shape().rank() ? t.shape()[t.shape().rank() - 1] : 1;
}

} // namespace

// in:(N,H,W,C) -> out:(N,H,W,C); softmax over C. Elementwise within a pixel, so
// parallel chunks of whole pixels give the same bits at any thread count.
void activationForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const std::int64_t c = channelsOf(x);
    const ActKind kind = parseActivation(ctx.getString("activation"));
    const auto alpha = static_cast<float>(ctx.getFloat("alpha"));
    const float* xp = x.f32();
    float* yp = y.f32();
    forPixelChunks(c ? x.numel() / c : 0, c, [&](std::int64_t p0, std::int64_t p1) {
        std::memcpy(yp + p0 * c, xp + p0 * c,
                    static_cast<std::size_t>((p1 - p0) * c) * sizeof(float));
        activateInPlace(yp + p0 * c, p1 - p0, c, kind, alpha);
    });
}

// dout -> din += dout · act'(in), computed from the output (din = … when it is fresh)
void activationBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const Tensor& y = ctx.out(0);
    const std::int64_t c = channelsOf(y);
    const ActKind kind = parseActivation(ctx.getString("activation"));
    const auto alpha = static_cast<float>(ctx.getFloat("alpha"));
    const float* yp = y.f32();
    const float* dy = ctx.outGrad(0).f32();
    float* dz = dx->f32();
    const bool accumulate = !ctx.inputGradFresh(0);
    forPixelChunks(c ? y.numel() / c : 0, c, [&](std::int64_t p0, std::int64_t p1) {
        activationGrad(yp + p0 * c, dy + p0 * c, dz + p0 * c, p1 - p0, c, kind, alpha, accumulate);
    });
}

} // namespace segforge::core::kernels
