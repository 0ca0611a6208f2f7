// Losses on per-pixel probabilities with Keras (tf.keras 2) semantics:
// BinaryCrossentropy, Dice, BCEDice, binary Focal. Every loss is the mean over
// all elements (pixels, channels and batch) unless stated otherwise.

#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace segforge::core::kernels {

namespace {

/// Keras' backend.epsilon(): probabilities are clipped to [eps, 1 − eps].
constexpr double kEps = 1e-7;

struct Term {
    double loss = 0;
    double grad = 0; ///< d loss / d input (probability, or logit when from_logits)
};

// tf.keras backend.binary_crossentropy: clip, then log(p + eps); the clip stops the gradient.
double bceGrad(double p, double t, bool logits) {
    if (logits)
        return static_cast<double>(sigmoid(static_cast<float>(p))) - t;
    if (p < kEps || p > 1 - kEps)
        return 0;
    return -t / (p + kEps) + (1 - t) / (1 - p + kEps);
}

Term bce(double p, double t, bool logits) {
    if (logits) {
        const double x = p;
        return {std::max(x, 0.0) - x * t + std::log1p(std::exp(-std::fabs(x))),
                bceGrad(p, t, true)};
    }
    const double c = std::clamp(p, kEps, 1 - kEps);
    return {-(t * std::log(c + kEps) + (1 - t) * std::log(1 - c + kEps)), bceGrad(p, t, false)};
}

/// Σ over samples of Σ fn(i) over the sample's elements: each sample summed on one
/// thread in order, the samples added in order, so the value ignores the thread count.
template <typename Fn> double sumBySample(std::int64_t batch, std::int64_t per, Fn&& fn) {
    std::vector<double> sums(static_cast<std::size_t>(batch));
    parallelForFine(batch, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            double s = 0;
            for (std::int64_t i = b * per; i < (b + 1) * per; ++i)
                s += fn(i);
            sums[static_cast<std::size_t>(b)] = s;
        }
    });
    double total = 0;
    for (double s : sums)
        total += s;
    return total;
}

// keras.losses.binary_focal_crossentropy: (1 − p_t)^γ · bce, optionally α-balanced.
Term focal(double p, double t, bool logits, double gamma, double alpha, bool balance) {
    const Term b = bce(p, t, logits);
    const double s = logits ? static_cast<double>(sigmoid(static_cast<float>(p))) : p;
    const double dsdx = logits ? s * (1 - s) : 1.0;
    const double pt = t * s + (1 - t) * (1 - s);
    const double base = 1 - pt;
    const double factor = std::pow(base, gamma);
    // d(base^γ)/d(base), with the limit at base = 0 (0 for γ > 1, 1 for γ = 1).
    double dFactor = 0;
    if (gamma != 0)
        dFactor = base > 0 ? gamma * std::pow(base, gamma - 1) : (gamma == 1 ? 1.0 : 0.0);
    const double weight = balance ? t * alpha + (1 - t) * (1 - alpha) : 1.0;
    Term r;
    r.loss = weight * factor * b.loss;
    // d base / d input = −(2t − 1)·ds/dx
    r.grad = weight * (-dFactor * (2 * t - 1) * dsdx * b.loss + factor * b.grad);
    return r;
}

/// Mean of loss(p, t) over all elements.
template <typename LossFn> double meanOf(const KernelContext& ctx, LossFn&& loss) {
    const float* p = ctx.in(0).f32();
    const float* t = ctx.in(1).f32();
    const std::int64_t n = ctx.in(0).numel();
    const std::int64_t batch = std::max<std::int64_t>(ctx.in(0).batch(), 1);
    const double sum =
        sumBySample(batch, n / batch, [&](std::int64_t i) { return loss(p[i], t[i]); });
    return n ? sum / static_cast<double>(n) : 0.0;
}

template <typename TermFn> void meanForward(const KernelContext& ctx, TermFn&& term) {
    ctx.out(0).f32()[0] =
        static_cast<float>(meanOf(ctx, [&](double p, double t) { return term(p, t).loss; }));
}

/// dp += weight · d(mean loss)/dp, with grad(p, t) the derivative of one element's loss.
template <typename GradFn>
void meanBackward(const KernelContext& ctx, double weight, GradFn&& grad) {
    Tensor* dp = ctx.inGrad(0);
    if (!dp)
        return;
    const float* p = ctx.in(0).f32();
    const float* t = ctx.in(1).f32();
    const std::int64_t n = ctx.in(0).numel();
    const double g = weight * ctx.outGrad(0).f32()[0] / static_cast<double>(n);
    float* d = dp->f32();
    parallelForEach(n, [&](std::int64_t i) { d[i] += static_cast<float>(g * grad(p[i], t[i])); });
}

/// Per-sample sums Σp·t and Σp + Σt.
struct DiceSums {
    std::vector<double> inter, total;
};

DiceSums diceSums(const KernelContext& ctx) {
    const Tensor& pred = ctx.in(0);
    const std::int64_t batch = pred.batch();
    const std::int64_t per = batch ? pred.numel() / batch : 0;
    const float* p = pred.f32();
    const float* t = ctx.in(1).f32();
    DiceSums s{std::vector<double>(static_cast<std::size_t>(batch)),
               std::vector<double>(static_cast<std::size_t>(batch))};
    parallelForFine(batch, [&](std::int64_t b0, std::int64_t b1) { // a sample per task
        for (std::int64_t b = b0; b < b1; ++b) {
            double inter = 0, total = 0;
            for (std::int64_t i = b * per; i < (b + 1) * per; ++i) {
                inter += static_cast<double>(p[i]) * t[i];
                total += static_cast<double>(p[i]) + t[i];
            }
            s.inter[static_cast<std::size_t>(b)] = inter;
            s.total[static_cast<std::size_t>(b)] = total;
        }
    });
    return s;
}

// mean over samples of 1 − (2·Σpt + ε) / (Σp + Σt + ε); 0/0 stays NaN on purpose.
double diceValue(const KernelContext& ctx) {
    const double eps = ctx.getFloat("epsilon");
    const DiceSums s = diceSums(ctx);
    double sum = 0;
    for (std::size_t b = 0; b < s.inter.size(); ++b)
        sum += 1 - (2 * s.inter[b] + eps) / (s.total[b] + eps);
    return s.inter.empty() ? 0.0 : sum / static_cast<double>(s.inter.size());
}

void diceGrad(const KernelContext& ctx, double weight) {
    Tensor* dp = ctx.inGrad(0);
    if (!dp)
        return;
    const double eps = ctx.getFloat("epsilon");
    const DiceSums s = diceSums(ctx);
    const std::int64_t batch = ctx.in(0).batch();
    const std::int64_t per = batch ? ctx.in(0).numel() / batch : 0;
    const float* t = ctx.in(1).f32();
    float* d = dp->f32();
    const double g = weight * ctx.outGrad(0).f32()[0] / static_cast<double>(batch);
    parallelForEach(batch * per, [&](std::int64_t i) {
        const auto b = static_cast<std::size_t>(i / per);
        const double num = 2 * s.inter[b] + eps;
        const double den = s.total[b] + eps;
        d[i] += static_cast<float>(-g * (2 * t[i] * den - num) / (den * den));
    });
}

} // namespace

// pred:(N,H,W,C) target:(N,H,W,C) -> loss:() mean BCE
void binaryCrossentropyForward(const KernelContext& ctx) {
    const bool logits = ctx.getBool("from_logits");
    const double ls = ctx.getFloat("label_smoothing");
    meanForward(ctx, [&](double p, double t) { return bce(p, t * (1 - ls) + 0.5 * ls, logits); });
}

void binaryCrossentropyBackward(const KernelContext& ctx) {
    const bool logits = ctx.getBool("from_logits");
    const double ls = ctx.getFloat("label_smoothing");
    meanBackward(ctx, 1.0,
                 [&](double p, double t) { return bceGrad(p, t * (1 - ls) + 0.5 * ls, logits); });
}

// pred:(N,H,W,C) target:(N,H,W,C) -> loss:() mean over samples of the soft Dice loss
void diceLossForward(const KernelContext& ctx) {
    ctx.out(0).f32()[0] = static_cast<float>(diceValue(ctx));
}

void diceLossBackward(const KernelContext& ctx) {
    diceGrad(ctx, 1.0);
}

std::string diceLossExplain(const KernelContext& ctx, std::int64_t sample) {
    const DiceSums s = diceSums(ctx);
    if (sample < 0 || sample >= static_cast<std::int64_t>(s.total.size()))
        return {};
    const double eps = ctx.getFloat("epsilon");
    if (s.total[static_cast<std::size_t>(sample)] + eps != 0)
        return {};
    return strCat("denominator sum(target)+sum(prediction) = 0 for sample ", sample,
                  eps == 0 ? "; set epsilon > 0" : "");
}

// pred, target:(N,H,W,C) -> loss:() = bce_weight·BCE + dice_weight·Dice
void bceDiceLossForward(const KernelContext& ctx) {
    const double bceMean = meanOf(ctx, [](double p, double t) { return bce(p, t, false).loss; });
    ctx.out(0).f32()[0] = static_cast<float>(ctx.getFloat("bce_weight") * bceMean +
                                             ctx.getFloat("dice_weight") * diceValue(ctx));
}

void bceDiceLossBackward(const KernelContext& ctx) {
    meanBackward(ctx, ctx.getFloat("bce_weight"),
                 [](double p, double t) { return bceGrad(p, t, false); });
    diceGrad(ctx, ctx.getFloat("dice_weight"));
}

// pred, target:(N,H,W,C) -> loss:() mean binary focal cross-entropy
void focalLossForward(const KernelContext& ctx) {
    const bool logits = ctx.getBool("from_logits");
    const double gamma = ctx.getFloat("gamma"), alpha = ctx.getFloat("alpha");
    const bool balance = ctx.getBool("apply_class_balancing");
    meanForward(ctx,
                [&](double p, double t) { return focal(p, t, logits, gamma, alpha, balance); });
}

void focalLossBackward(const KernelContext& ctx) {
    const bool logits = ctx.getBool("from_logits");
    const double gamma = ctx.getFloat("gamma"), alpha = ctx.getFloat("alpha");
    const bool balance = ctx.getBool("apply_class_balancing");
    meanBackward(ctx, 1.0, [&](double p, double t) {
        return focal(p, t, logits, gamma, alpha, balance).grad;
    });
}

} // namespace segforge::core::kernels
