// BatchNormalization as Keras: training normalises with the batch's mean and
// (biased) variance over N·H·W and moves the running statistics,
// moving = momentum·moving + (1 − momentum)·batch; inference uses the moving
// statistics. Parameters in ParamSpec order: [gamma] [beta] moving_mean moving_variance.

#include "kernels/kernels.hpp"

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

} // namespace

// in:(N,H,W,C) gamma,beta,moving_mean,moving_variance:(C) -> out:(N,H,W,C)
// saved[0]: x̂ (N,H,W,C); saved[1]: 1/sqrt(var + eps) per channel (C)
void batchNormForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const BnSlots s = slots(ctx);
    const std::int64_t c = x.channels();
    const std::int64_t m = x.numel() / c;
    const double eps = ctx.getFloat("epsilon");
    const float* xp = x.f32();
    std::vector<double> mean(static_cast<std::size_t>(c), 0.0),
        var(static_cast<std::size_t>(c), 0.0);
    float* movingMean = ctx.param(s.mean).f32();
    float* movingVar = ctx.param(s.var).f32();
    if (ctx.training) {
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t k = 0; k < c; ++k)
                mean[static_cast<std::size_t>(k)] += xp[i * c + k];
        for (auto& v : mean)
            v /= static_cast<double>(m);
        for (std::int64_t i = 0; i < m; ++i)
            for (std::int64_t k = 0; k < c; ++k) {
                const double d = xp[i * c + k] - mean[static_cast<std::size_t>(k)];
                var[static_cast<std::size_t>(k)] += d * d;
            }
        const double momentum = ctx.getFloat("momentum");
        for (std::int64_t k = 0; k < c; ++k) {
            auto& v = var[static_cast<std::size_t>(k)];
            v /= static_cast<double>(m);
            movingMean[k] = static_cast<float>(momentum * movingMean[k] +
                                               (1 - momentum) * mean[static_cast<std::size_t>(k)]);
            movingVar[k] = static_cast<float>(momentum * movingVar[k] + (1 - momentum) * v);
        }
    } else {
        for (std::int64_t k = 0; k < c; ++k) {
            mean[static_cast<std::size_t>(k)] = movingMean[k];
            var[static_cast<std::size_t>(k)] = movingVar[k];
        }
    }
    auto& saved = ctx.state();
    saved.assign(2, Tensor());
    saved[0] = Tensor(x.shape(), DType::Float32);
    saved[1] = Tensor(Shape{c}, DType::Float32);
    float* xhat = saved[0].f32();
    float* inv = saved[1].f32();
    for (std::int64_t k = 0; k < c; ++k)
        inv[k] = static_cast<float>(1.0 / std::sqrt(var[static_cast<std::size_t>(k)] + eps));
    const float* gamma = s.gamma >= 0 ? ctx.param(s.gamma).f32() : nullptr;
    const float* beta = s.beta >= 0 ? ctx.param(s.beta).f32() : nullptr;
    float* yp = y.f32();
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t k = 0; k < c; ++k) {
            const std::int64_t j = i * c + k;
            xhat[j] = static_cast<float>((xp[j] - mean[static_cast<std::size_t>(k)]) * inv[k]);
            yp[j] = xhat[j] * (gamma ? gamma[k] : 1.0f) + (beta ? beta[k] : 0.0f);
        }
}

// dout:(N,H,W,C) -> din:(N,H,W,C) dgamma,dbeta:(C), accumulated
void batchNormBackward(const KernelContext& ctx) {
    const BnSlots s = slots(ctx);
    const Tensor& dy = ctx.outGrad(0);
    const std::int64_t c = dy.channels();
    const std::int64_t m = dy.numel() / c;
    const float* g = dy.f32();
    const float* xhat = ctx.state().at(0).f32();
    const float* inv = ctx.state().at(1).f32();
    std::vector<double> sumDy(static_cast<std::size_t>(c), 0.0),
        sumDyX(static_cast<std::size_t>(c), 0.0);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t k = 0; k < c; ++k) {
            sumDy[static_cast<std::size_t>(k)] += g[i * c + k];
            sumDyX[static_cast<std::size_t>(k)] += g[i * c + k] * xhat[i * c + k];
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
    const double invM = 1.0 / static_cast<double>(m);
    for (std::int64_t i = 0; i < m; ++i)
        for (std::int64_t k = 0; k < c; ++k) {
            const std::int64_t j = i * c + k;
            const double scale = (gamma ? gamma[k] : 1.0f) * inv[k];
            if (ctx.training) // the batch statistics depend on x too
                d[j] += static_cast<float>(scale *
                                           (g[j] - invM * sumDy[static_cast<std::size_t>(k)] -
                                            xhat[j] * invM * sumDyX[static_cast<std::size_t>(k)]));
            else
                d[j] += static_cast<float>(scale * g[j]);
        }
}

} // namespace segforge::core::kernels
