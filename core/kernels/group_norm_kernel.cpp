// GroupNormalization as PyTorch's nn.GroupNorm on NHWC: per sample n and group
// g of Cg = C/groups channels, the mean and the biased variance over H·W·Cg
// values; the same in training and inference (no running statistics).
// Parameters in ParamSpec order: [gamma] [beta].
//
// Sums run in double in a fixed order within one (sample, group) job, and every
// job writes only its own outputs, so the result does not depend on the thread
// count. The parameter gradients are summed per channel over the samples in
// order, one job per group.

#include "kernels/group_norm_kernel.hpp"

#include "kernels/parallel.hpp"

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
    auto& saved = ctx.state();
    saved.assign(2, Tensor());
    saved[0] = Tensor(Shape{d.n * d.groups}, DType::Float32);
    saved[1] = Tensor(xt.shape(), DType::Float32);
    const float* x = xt.f32();
    float* y = ctx.out(0).f32();
    float* inv = saved[0].f32();
    float* xhat = saved[1].f32();
    const float* gamma = s.gamma >= 0 ? ctx.param(s.gamma).f32() : nullptr;
    const float* beta = s.beta >= 0 ? ctx.param(s.beta).f32() : nullptr;
    const double count = static_cast<double>(d.pixels * d.cg);
    parallelForFine(d.n * d.groups, [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j) {
            const std::int64_t b = j / d.groups, c0 = (j % d.groups) * d.cg;
            const std::int64_t base = b * d.pixels * d.c + c0;
            double sum = 0.0;
            for (std::int64_t p = 0; p < d.pixels; ++p)
                for (std::int64_t k = 0; k < d.cg; ++k)
                    sum += x[base + p * d.c + k];
            const double mean = count > 0 ? sum / count : 0.0;
            double sq = 0.0;
            for (std::int64_t p = 0; p < d.pixels; ++p)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const double v = x[base + p * d.c + k] - mean;
                    sq += v * v;
                }
            const double var = count > 0 ? sq / count : 0.0;
            const double r = 1.0 / std::sqrt(var + eps);
            inv[j] = static_cast<float>(r);
            for (std::int64_t p = 0; p < d.pixels; ++p)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const std::int64_t i = base + p * d.c + k;
                    const float h = static_cast<float>((x[i] - mean) * r);
                    xhat[i] = h;
                    y[i] = h * (gamma ? gamma[c0 + k] : 1.0f) + (beta ? beta[c0 + k] : 0.0f);
                }
        }
    });
}

// With x̂ = (x − μ)·r and dx̂ = dy·gamma, per (sample, group) of M values:
// dx = r·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)); dgamma[c] = Σ dy·x̂, dbeta[c] = Σ dy.
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
    if (dg || db) {
        parallelForFine(d.groups, [&](std::int64_t g0, std::int64_t g1) {
            std::vector<double> sg(static_cast<std::size_t>(d.cg)), sb(sg.size());
            for (std::int64_t g = g0; g < g1; ++g) {
                std::fill(sg.begin(), sg.end(), 0.0);
                std::fill(sb.begin(), sb.end(), 0.0);
                const std::int64_t c0 = g * d.cg;
                for (std::int64_t b = 0; b < d.n; ++b)
                    for (std::int64_t p = 0; p < d.pixels; ++p)
                        for (std::int64_t k = 0; k < d.cg; ++k) {
                            const std::int64_t i = (b * d.pixels + p) * d.c + c0 + k;
                            sg[static_cast<std::size_t>(k)] += static_cast<double>(dy[i]) * xhat[i];
                            sb[static_cast<std::size_t>(k)] += dy[i];
                        }
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    if (dg)
                        dg->f32()[c0 + k] += static_cast<float>(sg[static_cast<std::size_t>(k)]);
                    if (db)
                        db->f32()[c0 + k] += static_cast<float>(sb[static_cast<std::size_t>(k)]);
                }
            }
        });
    }
    Tensor* dxt = ctx.inGrad(0);
    if (!dxt)
        return;
    float* dx = dxt->f32();
    const double count = static_cast<double>(d.pixels * d.cg);
    parallelForFine(d.n * d.groups, [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j) {
            const std::int64_t b = j / d.groups, c0 = (j % d.groups) * d.cg;
            const std::int64_t base = b * d.pixels * d.c + c0;
            double sumG = 0.0, sumGX = 0.0;
            for (std::int64_t p = 0; p < d.pixels; ++p)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const std::int64_t i = base + p * d.c + k;
                    const double g = static_cast<double>(dy[i]) * (gamma ? gamma[c0 + k] : 1.0f);
                    sumG += g;
                    sumGX += g * xhat[i];
                }
            const double meanG = count > 0 ? sumG / count : 0.0;
            const double meanGX = count > 0 ? sumGX / count : 0.0;
            const double r = inv[j];
            for (std::int64_t p = 0; p < d.pixels; ++p)
                for (std::int64_t k = 0; k < d.cg; ++k) {
                    const std::int64_t i = base + p * d.c + k;
                    const double g = static_cast<double>(dy[i]) * (gamma ? gamma[c0 + k] : 1.0f);
                    dx[i] += static_cast<float>(r * (g - meanG - xhat[i] * meanGX));
                }
        }
    });
}

} // namespace segforge::core::kernels
