// Multi-class cross-entropies over the channel axis, tf.keras 2 semantics:
// probabilities are renormalised and clipped to [eps, 1 − eps] (categorical:
// renormalised, then clipped; sparse: clipped, then renormalised);
// from_logits uses a numerically stable log-softmax. Mean over pixels and batch.

#include "kernels/kernels.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace segforge::core::kernels {

namespace {

constexpr double kEps = 1e-7;

/// Sparse, from probabilities: Keras clips first and renormalises after
/// (log, then sparse_softmax_cross_entropy_with_logits), so the loss is
/// Σt·log Σclip(x) − Σ t·log clip(x). Differs from the categorical order only
/// when a probability is outside [eps, 1 − eps] or the inputs are not normalised.
double clippedThenNormalised(const float* x, const double* t, std::int64_t k, double* grad) {
    double s = 0, sumT = 0, loss = 0;
    for (std::int64_t c = 0; c < k; ++c) {
        s += std::clamp<double>(x[c], kEps, 1 - kEps);
        sumT += t[c];
    }
    for (std::int64_t c = 0; c < k; ++c) {
        const double clipped = std::clamp<double>(x[c], kEps, 1 - kEps);
        loss -= t[c] * std::log(clipped);
        if (grad) // the clip stops the gradient outside [eps, 1 − eps]
            grad[c] = (x[c] >= kEps && x[c] <= 1 - kEps) ? sumT / s - t[c] / clipped : 0.0;
    }
    return loss + sumT * std::log(s);
}

/// One pixel's loss and (optionally) gradient w.r.t. its K inputs, given
/// per-class target weights t (one-hot, smoothed, or an index as one-hot).
double pixelCrossEntropy(const float* x, const double* t, std::int64_t k, bool logits, bool sparse,
                         double* grad) {
    if (!logits && sparse)
        return clippedThenNormalised(x, t, k, grad);
    if (logits) {
        const double mx = *std::max_element(x, x + k);
        double sumExp = 0, sumT = 0, dot = 0;
        for (std::int64_t c = 0; c < k; ++c) {
            sumExp += std::exp(x[c] - mx);
            sumT += t[c];
            dot += t[c] * x[c];
        }
        const double lse = mx + std::log(sumExp);
        if (grad)
            for (std::int64_t c = 0; c < k; ++c)
                grad[c] = std::exp(x[c] - lse) * sumT - t[c];
        return lse * sumT - dot;
    }
    double s = 0;
    for (std::int64_t c = 0; c < k; ++c)
        s += x[c];
    double loss = 0, gq = 0;
    std::vector<double> g(static_cast<std::size_t>(k));
    for (std::int64_t c = 0; c < k; ++c) {
        const double q = x[c] / s;
        const double clipped = std::clamp(q, kEps, 1 - kEps);
        loss -= t[c] * std::log(clipped);
        g[static_cast<std::size_t>(c)] = (q >= kEps && q <= 1 - kEps) ? -t[c] / clipped : 0.0;
        gq += g[static_cast<std::size_t>(c)] * q;
    }
    if (grad) // through q = x / Σx
        for (std::int64_t c = 0; c < k; ++c)
            grad[c] = (g[static_cast<std::size_t>(c)] - gq) / s;
    return loss;
}

std::int64_t classAt(const Tensor& target, std::int64_t i) {
    return static_cast<std::int64_t>(target.valueAt(i));
}

/// Runs `pixel(index, targetWeights)` for every pixel that counts; returns how many did.
template <typename Fn>
std::int64_t forEachPixel(const KernelContext& ctx, bool sparse, Fn&& pixel) {
    const Tensor& pred = ctx.in(0);
    const Tensor& target = ctx.in(1);
    const std::int64_t k = pred.channels();
    const std::int64_t pixels = pred.numel() / k;
    std::vector<double> t(static_cast<std::size_t>(k));
    std::int64_t counted = 0;
    if (sparse) {
        const std::int64_t ignore = ctx.getInt("ignore_class");
        for (std::int64_t i = 0; i < pixels; ++i) {
            const std::int64_t cls = classAt(target, i);
            if (cls == ignore)
                continue;
            if (cls < 0 || cls >= k) {
                const std::int64_t per = pixels / std::max<std::int64_t>(pred.batch(), 1);
                throw std::invalid_argument(strCat("target class ", cls, " in sample ", i / per,
                                                   " is outside [0, ", k, ")"));
            }
            std::fill(t.begin(), t.end(), 0.0);
            t[static_cast<std::size_t>(cls)] = 1.0;
            pixel(i, t.data());
            ++counted;
        }
        return counted;
    }
    const double ls = ctx.getFloat("label_smoothing");
    const float* tp = target.f32();
    for (std::int64_t i = 0; i < pixels; ++i) {
        for (std::int64_t c = 0; c < k; ++c)
            t[static_cast<std::size_t>(c)] = tp[i * k + c] * (1 - ls) + ls / static_cast<double>(k);
        pixel(i, t.data());
    }
    return pixels;
}

void crossEntropyForward(const KernelContext& ctx, bool sparse) {
    const Tensor& pred = ctx.in(0);
    const std::int64_t k = pred.channels();
    const bool logits = ctx.getBool("from_logits");
    double sum = 0;
    const std::int64_t n = forEachPixel(ctx, sparse, [&](std::int64_t i, const double* t) {
        sum += pixelCrossEntropy(pred.f32() + i * k, t, k, logits, sparse, nullptr);
    });
    ctx.out(0).f32()[0] = n ? static_cast<float>(sum / static_cast<double>(n)) : 0.0f;
}

void crossEntropyBackward(const KernelContext& ctx, bool sparse) {
    Tensor* dp = ctx.inGrad(0);
    if (!dp)
        return;
    const Tensor& pred = ctx.in(0);
    const std::int64_t k = pred.channels();
    const bool logits = ctx.getBool("from_logits");
    std::vector<double> grad(static_cast<std::size_t>(k));
    // Two passes: the mean's divisor (pixels that count) is known only after the first.
    const std::int64_t n = forEachPixel(ctx, sparse, [](std::int64_t, const double*) {});
    if (!n)
        return;
    const double g = ctx.outGrad(0).f32()[0] / static_cast<double>(n);
    float* d = dp->f32();
    forEachPixel(ctx, sparse, [&](std::int64_t i, const double* t) {
        pixelCrossEntropy(pred.f32() + i * k, t, k, logits, sparse, grad.data());
        for (std::int64_t c = 0; c < k; ++c)
            d[i * k + c] += static_cast<float>(g * grad[static_cast<std::size_t>(c)]);
    });
}

} // namespace

// pred:(N,H,W,K) target:(N,H,W,K) one-hot -> loss:()
void categoricalCrossentropyForward(const KernelContext& ctx) {
    crossEntropyForward(ctx, false);
}
void categoricalCrossentropyBackward(const KernelContext& ctx) {
    crossEntropyBackward(ctx, false);
}

// pred:(N,H,W,K) target:(N,H,W,1) class indices -> loss:() mean over non-ignored pixels
void sparseCategoricalCrossentropyForward(const KernelContext& ctx) {
    crossEntropyForward(ctx, true);
}
void sparseCategoricalCrossentropyBackward(const KernelContext& ctx) {
    crossEntropyBackward(ctx, true);
}

} // namespace segforge::core::kernels
