// The Activation op; the functions themselves live in activation_math.

#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"

#include <cstring>

namespace segforge::core::kernels {

namespace {

std::int64_t channelsOf(const Tensor& t) {
    return t.shape().rank() ? t.shape()[t.shape().rank() - 1] : 1;
}

} // namespace

// in:(N,H,W,C) -> out:(N,H,W,C); softmax over C
void activationForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    std::memcpy(y.bytes(), x.bytes(), x.byteSize());
    const std::int64_t c = channelsOf(x);
    activateInPlace(y.f32(), c ? x.numel() / c : 0, c, parseActivation(ctx.getString("activation")),
                    static_cast<float>(ctx.getFloat("alpha")));
}

// dout -> din += dout · act'(in), computed from the output
void activationBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const Tensor& y = ctx.out(0);
    const std::int64_t c = channelsOf(y);
    activationGrad(y.f32(), ctx.outGrad(0).f32(), dx->f32(), c ? y.numel() / c : 0, c,
                   parseActivation(ctx.getString("activation")),
                   static_cast<float>(ctx.getFloat("alpha")), true);
}

} // namespace segforge::core::kernels
