// BatchNormalization as Keras: training normalises with the batch's mean and
// (biased) variance over N·H·W and moves the running statistics,
// moving = momentum·moving + (1 − momentum)·batch; inference uses the moving
// statistics. Parameters in ParamSpec order: [gamma] [beta] moving_mean moving_variance.
//
// The per-channel sums run in double over blocks of pixels that depend only on
// the sizes (kernels/channel_blocks.hpp), combined in block order, so every
// result is the same bits at any thread count; the point-wise passes run in
// parallel chunks of pixels with the channels (contiguous in NHWC) innermost.

#include "kernels/channel_blocks.hpp"
#include "kernels/channel_sweeps.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace segforge::core::kernels {

namespace {

struct BnSlots {
    int gamma = -1, beta = -1, mean = -1, var = -1;
};

BnSlots slots(const KernelContext& ctx) {
    BnSlots s;
    int k = 0;
    if (ctx.getBool("scale"))
        s.gamma = k++;
    if (ctx.getBool("center"))
        s.beta = k++;
    s.mean = k++;
    s.var = k;
    return s;
}

/// Per channel (count, mean, M2) over all pixels: the blocks merged in order.
std::vector<MeanM2> channelStats(const float* x, std::int64_t pixels, std::int64_t c) {
    const PixelBlocks pb(1, pixels, c);
    std::vector<double> mean, m2;
    blockMeanM2(x, pb, mean, m2);
    std::vector<MeanM2> stats(static_cast<std::size_t>(c));
    for (std::int64_t j = 0; j < pb.count(); ++j)
        for (std::int64_t k = 0; k < c; ++k) {
            const auto i = static_cast<std::size_t>(j * c + k);
            stats[static_cast<std::size_t>(k)].merge(static_cast<double>(pb.size(j)), mean[i],
                                                     m2[i]);
        }
    return stats;
}

} // namespace

// in:(N,H,W,C) gamma,beta,moving_mean,moving_variance:(C) -> out:(N,H,W,C)
// saved[0]: the mean used, saved[1]: 1/sqrt(var + eps), per channel (C), in float. The
// backward pass recomputes x̂ from the input rather than keeping a copy of its size:
// the forward pass then writes one tensor, not two.
void batchNormForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const BnSlots s = slots(ctx);
    const std::int64_t c = x.channels();
    const std::int64_t m = c > 0 ? x.numel() / c : 0;
    const double eps = ctx.getFloat("epsilon");
    const float* xp = x.f32();
    float* movingMean = ctx.param(s.mean).f32();
    float* movingVar = ctx.param(s.var).f32();
    float* mean = ctx.stateTensor(0, Shape{c}, DType::Float32).f32();
    float* inv = ctx.stateTensor(1, Shape{c}, DType::Float32).f32();
    if (ctx.training) {
        const std::vector<MeanM2> stats = channelStats(xp, m, c);
        const double momentum = ctx.getFloat("momentum");
        for (std::int64_t k = 0; k < c; ++k) {
            const MeanM2& st = stats[static_cast<std::size_t>(k)];
            const double var = st.variance();
            mean[k] = static_cast<float>(st.mean);
            inv[k] = static_cast<float>(1.0 / std::sqrt(var + eps));
            movingMean[k] = static_cast<float>(momentum * movingMean[k] + (1 - momentum) * st.mean);
            movingVar[k] = static_cast<float>(momentum * movingVar[k] + (1 - momentum) * var);
        }
    } else {
        for (std::int64_t k = 0; k < c; ++k) {
            mean[k] = movingMean[k];
            inv[k] = static_cast<float>(1.0 / std::sqrt(static_cast<double>(movingVar[k]) + eps));
        }
    }
    // Per-channel factors, so the point-wise loop has no branch.
    std::vector<float> gam(static_cast<std::size_t>(c), 1.0f),
        bet(static_cast<std::size_t>(c), 0.0f);
    if (s.gamma >= 0)
        std::copy_n(ctx.param(s.gamma).f32(), c, gam.begin());
    if (s.beta >= 0)
        std::copy_n(ctx.param(s.beta).f32(), c, bet.begin());
    float* yp = y.f32();
    forPixelChunks(m, c, [&](std::int64_t p0, std::int64_t p1) {
        batchNormRows(xp + p0 * c, p1 - p0, c, mean, inv, gam.data(), bet.data(), yp + p0 * c);
    });
}

// dout:(N,H,W,C) -> din:(N,H,W,C) dgamma,dbeta:(C), accumulated (din assigned when fresh)
void batchNormBackward(const KernelContext& ctx) {
    const BnSlots s = slots(ctx);
    const Tensor& dy = ctx.outGrad(0);
    const std::int64_t c = dy.channels();
    const std::int64_t m = c > 0 ? dy.numel() / c : 0;
    const float* g = dy.f32();
    const float* x = ctx.in(0).f32();
    const float* mean = ctx.state().at(0).f32();
    const float* inv = ctx.state().at(1).f32();
    // Σ dy and Σ dy·x̂ per channel: per block of pixels in parallel, the blocks added in order.
    const PixelBlocks pb(1, m, c);
    std::vector<double> blockDy, blockDyX;
    blockSumPairs(pb, blockDy, blockDyX,
                  [&](std::int64_t p0, std::int64_t len, double* dys, double* dyxs) {
                      addBatchNormGradSums(g + p0 * c, x + p0 * c, len, c, mean, inv, dys, dyxs);
                  });
    std::vector<double> sumDy(static_cast<std::size_t>(c), 0.0),
        sumDyX(static_cast<std::size_t>(c), 0.0);
    for (std::int64_t j = 0; j < pb.count(); ++j)
        for (std::int64_t k = 0; k < c; ++k) {
            sumDy[static_cast<std::size_t>(k)] += blockDy[static_cast<std::size_t>(j * c + k)];
            sumDyX[static_cast<std::size_t>(k)] += blockDyX[static_cast<std::size_t>(j * c + k)];
        }
    if (Tensor* dg = s.gamma >= 0 ? ctx.paramGrad(s.gamma) : nullptr)
        for (std::int64_t k = 0; k < c; ++k)
            dg->f32()[k] += static_cast<float>(sumDyX[static_cast<std::size_t>(k)]);
    if (Tensor* db = s.beta >= 0 ? ctx.paramGrad(s.beta) : nullptr)
        for (std::int64_t k = 0; k < c; ++k)
            db->f32()[k] += static_cast<float>(sumDy[static_cast<std::size_t>(k)]);
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const float* gamma = s.gamma >= 0 ? ctx.param(s.gamma).f32() : nullptr;
    float* d = dx->f32();
    const double invM = m > 0 ? 1.0 / static_cast<double>(m) : 0.0;
    // dx = scale·(dy − mean(dy) − x̂·mean(dy·x̂)) in training (the batch statistics
    // depend on x too), scale·dy at inference; in float, which has twice the lanes of
    // double (the double sums are rounded once; each element takes a few float roundings).
    std::vector<float> scale(static_cast<std::size_t>(c)), meanDy(scale.size(), 0.0f),
        meanDyX(scale.size(), 0.0f);
    for (std::int64_t k = 0; k < c; ++k) {
        const auto kk = static_cast<std::size_t>(k);
        scale[kk] = (gamma ? gamma[k] : 1.0f) * inv[k];
        if (ctx.training) {
            meanDy[kk] = static_cast<float>(invM * sumDy[kk]);
            meanDyX[kk] = static_cast<float>(invM * sumDyX[kk]);
        }
    }
    const bool training = ctx.training;
    const bool assign = ctx.inputGradFresh(0);
    forPixelChunks(m, c, [&](std::int64_t p0, std::int64_t p1) {
        batchNormInputGradRows(g + p0 * c, x + p0 * c, p1 - p0, c, mean, inv, scale.data(),
                               meanDy.data(), meanDyX.data(), training, assign, d + p0 * c);
    });
}

} // namespace segforge::core::kernels
