// Dropout as Keras: in training, each value is kept with probability 1 − rate
// and scaled by 1 / (1 − rate); identity at inference. The mask comes from a
// counter-based hash of (seed, element index), so it does not depend on the
// thread count or on what ran before.

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <cstring>

namespace segforge::core::kernels {

namespace {

std::uint64_t splitMix(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

} // namespace

// in:(…) -> out:(…); saved[0]: per-element multiplier (0 or 1/(1−rate))
void dropoutForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const double rate = ctx.getFloat("rate");
    if (!ctx.training || rate == 0.0) {
        std::memcpy(y.bytes(), x.bytes(), x.byteSize());
        ctx.state().clear();
        return;
    }
    float* mask = ctx.stateTensor(0, x.shape(), DType::Float32).f32();
    const auto scale = static_cast<float>(1.0 / (1.0 - rate));
    const std::uint64_t key =
        splitMix(ctx.seed ^ splitMix(static_cast<std::uint64_t>(ctx.getInt("seed"))));
    const float* xp = x.f32();
    float* yp = y.f32();
    parallelForEach(x.numel(), [&](std::int64_t i) {
        const double u =
            static_cast<double>(splitMix(key + static_cast<std::uint64_t>(i)) >> 11) * 0x1.0p-53;
        mask[i] = u < rate ? 0.0f : scale;
        yp[i] = xp[i] * mask[i];
    });
}

// dout -> din += dout · mask
void dropoutBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const float* dy = ctx.outGrad(0).f32();
    float* d = dx->f32();
    const auto& saved = ctx.state();
    const float* mask = saved.empty() ? nullptr : saved[0].f32();
    const std::int64_t n = dx->numel();
    const auto loop = [&](std::int64_t i0, std::int64_t i1) {
        if (mask)
            for (std::int64_t i = i0; i < i1; ++i)
                d[i] += dy[i] * mask[i];
        else
            for (std::int64_t i = i0; i < i1; ++i)
                d[i] += dy[i];
    };
    if (n < (1 << 14))
        loop(0, n);
    else
        parallelForFine(n, loop);
}

} // namespace segforge::core::kernels
