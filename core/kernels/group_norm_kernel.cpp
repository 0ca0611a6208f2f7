// GroupNormalization as PyTorch's nn.GroupNorm on NHWC: per sample n and group
// g of Cg = C/groups channels, the mean and the biased variance over H·W·Cg
// values; the same in training and inference (no running statistics).
// Parameters in ParamSpec order: [gamma] [beta].
//
// The per-channel sums run in double over blocks of pixels that depend only on
// the sizes (kernels/channel_blocks.hpp); a group's statistics merge its blocks
// and channels in a fixed order, so every result is the same bits at any thread
// count. The point-wise passes run in parallel chunks of pixels with the
// channels (contiguous in NHWC) innermost, from per (sample, channel) factors.

#include "kernels/group_norm_kernel.hpp"

#include "kernels/channel_blocks.hpp"
#include "kernels/channel_sweeps.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace segforge::core::kernels {

namespace {

struct GnSlots {
    int gamma = -1, beta = -1;
};

GnSlots slots(const KernelContext& ctx) {
    GnSlots s;
    int k = 0;
    if (ctx.getBool("scale"))
        s.gamma = k++;
    if (ctx.getBool("center"))
        s.beta = k;
    return s;
}

struct GnDims {
    std::int64_t n, pixels, c, groups, cg;
};

GnDims dims(const Tensor& t, std::int64_t groups) {
    const std::int64_t c = t.channels();
    return {t.batch(), t.height() * t.width(), c, groups, groups > 0 ? c / groups : c};
}

} // namespace

// saved[0]: 1/sqrt(var + eps) per (sample, group) (N·groups); saved[1]: x̂ (N,H,W,C)
void groupNormForward(const KernelContext& ctx) {
    const Tensor& xt = ctx.in(0);
    const GnSlots s = slots(ctx);
    const GnDims d = dims(xt, ctx.getInt("groups"));
    const double eps = ctx.getFloat("epsilon");
    float* inv = ctx.stateTensor(0, Shape{d.n * d.groups}, DType::Float32).f32();
    float* xhat = ctx.stateTensor(1, xt.shape(), DType::Float32).f32();
    const float* x = xt.f32();
    float* y = ctx.out(0).f32();
    const float* gamma = s.gamma >= 0 ? ctx.param(s.gamma).f32() : nullptr;
    const float* beta = s.beta >= 0 ? ctx.param(s.beta).f32() : nullptr;
    const PixelBlocks pb(d.n, d.pixels, d.c);
    std::vector<double> blockMean, blockM2;
    blockMeanM2(x, pb, blockMean, blockM2);
    // Per (sample, channel): the group's mean and 1/sqrt(var + eps).
    const auto nc = static_cast<std::size_t>(d.n * d.c);
    std::vector<double> meanC(nc), invC(nc);
    for (std::int64_t b = 0; b < d.n; ++b)
        for (std::int64_t g = 0; g < d.groups; ++g) {
            const std::int64_t c0 = g * d.cg;
            MeanM2 st;
            for (std::int64_t j = b * pb.perSample; j < (b + 1) * pb.perSample; ++j)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const auto i = static_cast<std::size_t>(j * d.c + c0 + k);
                    st.merge(static_cast<double>(pb.size(j)), blockMean[i], blockM2[i]);
                }
            const double r = 1.0 / std::sqrt(st.variance() + eps);
            inv[b * d.groups + g] = static_cast<float>(r);
            for (std::int64_t k = 0; k < d.cg; ++k) {
                meanC[static_cast<std::size_t>(b * d.c + c0 + k)] = st.mean;
                invC[static_cast<std::size_t>(b * d.c + c0 + k)] = r;
            }
        }
    std::vector<float> gam(static_cast<std::size_t>(d.c), 1.0f), bet(gam.size(), 0.0f);
    for (std::int64_t k = 0; k < d.c; ++k) {
        if (gamma)
            gam[static_cast<std::size_t>(k)] = gamma[k];
        if (beta)
            bet[static_cast<std::size_t>(k)] = beta[k];
    }
    const std::int64_t c = d.c, pixels = d.pixels;
    forPixelChunks(d.n * pixels, c, [&](std::int64_t q0, std::int64_t q1) {
        for (std::int64_t q = q0; q < q1;) { // statistics per sample and channel
            const std::int64_t sample = q / pixels, end = std::min(q1, (sample + 1) * pixels);
            normalizeRows(x + q * c, end - q, c, meanC.data() + sample * c,
                          invC.data() + sample * c, gam.data(), bet.data(), xhat + q * c,
                          y + q * c);
            q = end;
        }
    });
}

// With x̂ = (x − μ)·r and dx̂ = dy·gamma, per (sample, group) of M values:
// dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)); dgamma[c] = Σ dy·x̂, dbeta[c] = Σ dy.
// One pass gives Σ dy and Σ dy·x̂ per (block, channel); the group sums weight them by gamma.
void groupNormBackward(const KernelContext& ctx) {
    const GnSlots s = slots(ctx);
    const Tensor& dyt = ctx.outGrad(0);
    const GnDims d = dims(dyt, ctx.getInt("groups"));
    const float* dy = dyt.f32();
    const float* inv = ctx.state().at(0).f32();
    const float* xhat = ctx.state().at(1).f32();
    const float* gamma = s.gamma >= 0 ? ctx.param(s.gamma).f32() : nullptr;
    Tensor* dg = s.gamma >= 0 ? ctx.paramGrad(s.gamma) : nullptr;
    Tensor* db = s.beta >= 0 ? ctx.paramGrad(s.beta) : nullptr;
    const PixelBlocks pb(d.n, d.pixels, d.c);
    std::vector<double> blockDy, blockDyX;
    blockSums(dy, xhat, pb, blockDy, blockDyX);
    if (dg || db)
        for (std::int64_t k = 0; k < d.c; ++k) {
            double sg = 0.0, sb = 0.0;
            for (std::int64_t j = 0; j < pb.count(); ++j) {
                sg += blockDyX[static_cast<std::size_t>(j * d.c + k)];
                sb += blockDy[static_cast<std::size_t>(j * d.c + k)];
            }
            if (dg)
                dg->f32()[k] += static_cast<float>(sg);
            if (db)
                db->f32()[k] += static_cast<float>(sb);
        }
    Tensor* dxt = ctx.inGrad(0);
    if (!dxt)
        return;
    float* dx = dxt->f32();
    std::vector<double> gam(static_cast<std::size_t>(d.c), 1.0);
    if (gamma)
        for (std::int64_t k = 0; k < d.c; ++k)
            gam[static_cast<std::size_t>(k)] = gamma[k];
    // Per (sample, channel): r, mean(dx̂) and mean(dx̂·x̂) of the channel's group.
    const auto nc = static_cast<std::size_t>(d.n * d.c);
    std::vector<double> invC(nc), meanG(nc), meanGX(nc);
    const double count = static_cast<double>(d.pixels * d.cg);
    for (std::int64_t b = 0; b < d.n; ++b)
        for (std::int64_t g = 0; g < d.groups; ++g) {
            const std::int64_t c0 = g * d.cg;
            double sumG = 0.0, sumGX = 0.0;
            for (std::int64_t j = b * pb.perSample; j < (b + 1) * pb.perSample; ++j)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const auto i = static_cast<std::size_t>(j * d.c + c0 + k);
                    sumG += gam[static_cast<std::size_t>(c0 + k)] * blockDy[i];
                    sumGX += gam[static_cast<std::size_t>(c0 + k)] * blockDyX[i];
                }
            for (std::int64_t k = 0; k < d.cg; ++k) {
                const auto i = static_cast<std::size_t>(b * d.c + c0 + k);
                invC[i] = inv[b * d.groups + g];
                meanG[i] = count > 0 ? sumG / count : 0.0;
                meanGX[i] = count > 0 ? sumGX / count : 0.0;
            }
        }
    const std::int64_t c = d.c, pixels = d.pixels;
    forPixelChunks(d.n * pixels, c, [&](std::int64_t q0, std::int64_t q1) {
        const double* __restrict ga = gam.data();
        for (std::int64_t q = q0; q < q1; ++q) {
            const double* __restrict r = invC.data() + (q / pixels) * c;
            const double* __restrict a = meanG.data() + (q / pixels) * c;
            const double* __restrict bx = meanGX.data() + (q / pixels) * c;
            const float* __restrict gi = dy + q * c;
            const float* __restrict hi = xhat + q * c;
            float* __restrict di = dx + q * c;
            for (std::int64_t k = 0; k < c; ++k)
                di[k] += static_cast<float>(r[k] * (static_cast<double>(gi[k]) * ga[k] - a[k] -
                                                    static_cast<double>(hi[k]) * bx[k]));
        }
    });
}

} // namespace segforge::core::kernels
