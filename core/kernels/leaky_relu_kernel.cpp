// The LeakyReLU op: its own slope (alpha), unlike the fixed-slope activation
// function leaky_relu of Activation and the fused activations.

#include "kernels/leaky_relu_kernel.hpp"

#include "kernels/parallel.hpp"

namespace segforge::core::kernels {

// in:(N,H,W,C) -> out: same shape
void leakyReluForward(const KernelContext& ctx) {
    const float alpha = static_cast<float>(ctx.getFloat("alpha"));
    const float* x = ctx.in(0).f32();
    float* y = ctx.out(0).f32();
    parallelForEach(ctx.in(0).numel(), [&](std::int64_t i) {
        const float v = x[i];
        y[i] = v > 0.0f ? v : alpha * v;
    });
}

// dout -> din += dout · (x > 0 ? 1 : alpha)
void leakyReluBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const float alpha = static_cast<float>(ctx.getFloat("alpha"));
    const float* x = ctx.in(0).f32();
    const float* dy = ctx.outGrad(0).f32();
    float* g = dx->f32();
    parallelForEach(ctx.in(0).numel(),
                    [&](std::int64_t i) { g[i] += x[i] > 0.0f ? dy[i] : alpha * dy[i]; });
}

} // namespace segforge::core::kernels
