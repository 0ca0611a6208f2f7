// Losses on per-pixel probabilities with Keras (tf.keras 2) semantics:
// BinaryCrossentropy, Dice, BCEDice, binary Focal. Every loss is the mean over
// all elements (pixels, channels and batch) unless stated otherwise.

#include "kernels/activation_math.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "kernels/select_bits.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
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
            // Eight lanes added in a fixed order: independent chains, and they vectorise.
            double inter[8] = {}, total[8] = {};
            const float* pb = p + b * per;
            const float* tb = t + b * per;
            std::int64_t i = 0;
            for (; i + 8 <= per; i += 8)
                for (int l = 0; l < 8; ++l) {
                    inter[l] += static_cast<double>(pb[i + l]) * tb[i + l];
                    total[l] += static_cast<double>(pb[i + l]) + tb[i + l];
                }
            for (; i < per; ++i) {
                inter[0] += static_cast<double>(pb[i]) * tb[i];
                total[0] += static_cast<double>(pb[i]) + tb[i];
            }
            auto fold = [](const double* v) {
                return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
            };
            s.inter[static_cast<std::size_t>(b)] = fold(inter);
            s.total[static_cast<std::size_t>(b)] = fold(total);
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

// BCEDice in one sweep. The per-element work is split into short stages over a
// block of kStage elements so that each stage vectorises: the clipped log
// arguments, the logs in float (logFloat, within 2 ulp), the sums in eight
// double lanes added in a fixed order. A sample is cut into fixed blocks of kSweepBlock elements
// whose sums are added in block order, so the value ignores the thread count.

constexpr std::int64_t kStage = 256;
constexpr std::int64_t kSweepBlock = 1 << 14;

/// ln x for a positive normal float, without branches (Cephes' logf): x = m·2^e with
/// m in [√½, √2), a degree-9 polynomial in m − 1.
inline float logFloat(float x) {
    const auto bits = std::bit_cast<std::int32_t>(x);
    auto e = static_cast<float>(((bits >> 23) & 0xff) - 126);
    float m = std::bit_cast<float>((bits & 0x007fffff) | 0x3f000000); // in [0.5, 1)
    const bool low = m < 0.707106781186547524f;
    e = selectBits(low, e - 1.0f, e);
    m = selectBits(low, (m + m) - 1.0f, m - 1.0f);
    const float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    y += -2.12194440e-4f * e;
    y += -0.5f * z;
    return (m + y) + 0.693359375f * e;
}

/// One block's Σ BCE, Σ p·t and Σ (p + t).
struct BceDiceSums {
    double bce = 0, inter = 0, total = 0;
};

BceDiceSums bceDiceSweep(const float* p, const float* t, std::int64_t n) {
    double bceLane[8] = {}, interLane[8] = {}, totalLane[8] = {};
    float a[kStage], b[kStage];
    double tail[3] = {};
    for (std::int64_t s0 = 0; s0 < n; s0 += kStage) {
        const std::int64_t m = std::min(kStage, n - s0);
        const float* ps = p + s0;
        const float* ts = t + s0;
        // With c = clip(p, ε, 1 − ε): c + ε = min(max(p, ε) + ε, 1) and 1 − c + ε =
        // min(max(1 − p, ε) + ε, 1). In float, 1 − p is exact for p ≥ ½ (and within
        // half an ulp below), so 1 − p + ε keeps ε next to 1, where 1 − ε itself would
        // round. A NaN prediction makes the Dice sums NaN, so the loss too.
        constexpr float kEpsF = static_cast<float>(kEps);
        for (std::int64_t i = 0; i < m; ++i) {
            const float v = ps[i], w = 1.0f - v;
            const float a0 = selectBits(v > kEpsF, v, kEpsF) + kEpsF;
            const float b0 = selectBits(w > kEpsF, w, kEpsF) + kEpsF;
            a[i] = selectBits(a0 < 1.0f, a0, 1.0f);
            b[i] = selectBits(b0 < 1.0f, b0, 1.0f);
        }
        for (std::int64_t i = 0; i < m; ++i) {
            a[i] = logFloat(a[i]);
            b[i] = logFloat(b[i]);
        }
        std::int64_t i = 0;
        for (; i + 8 <= m; i += 8)
            for (int l = 0; l < 8; ++l) {
                const double pv = ps[i + l], tv = ts[i + l];
                bceLane[l] -= tv * a[i + l] + (1 - tv) * b[i + l];
                interLane[l] += pv * tv;
                totalLane[l] += pv + tv;
            }
        for (; i < m; ++i) {
            const double pv = ps[i], tv = ts[i];
            tail[0] -= tv * a[i] + (1 - tv) * b[i];
            tail[1] += pv * tv;
            tail[2] += pv + tv;
        }
    }
    auto fold = [](const double* v) {
        return ((v[0] + v[1]) + (v[2] + v[3])) + ((v[4] + v[5]) + (v[6] + v[7]));
    };
    return {fold(bceLane) + tail[0], fold(interLane) + tail[1], fold(totalLane) + tail[2]};
}

/// Per-sample sums of the whole batch, each sample's blocks added in order.
std::vector<BceDiceSums> bceDiceSums(const KernelContext& ctx) {
    const Tensor& pred = ctx.in(0);
    const std::int64_t batch = pred.batch();
    const std::int64_t per = batch ? pred.numel() / batch : 0;
    const std::int64_t blocks = std::max<std::int64_t>((per + kSweepBlock - 1) / kSweepBlock, 1);
    std::vector<BceDiceSums> partial(static_cast<std::size_t>(batch * blocks));
    parallelForFine(batch * blocks, [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j) {
            const std::int64_t b = j / blocks, i0 = std::min(per, (j % blocks) * kSweepBlock);
            const std::int64_t i1 = std::min(per, i0 + kSweepBlock);
            partial[static_cast<std::size_t>(j)] =
                bceDiceSweep(pred.f32() + b * per + i0, ctx.in(1).f32() + b * per + i0, i1 - i0);
        }
    });
    std::vector<BceDiceSums> sums(static_cast<std::size_t>(batch));
    for (std::int64_t j = 0; j < batch * blocks; ++j) {
        BceDiceSums& s = sums[static_cast<std::size_t>(j / blocks)];
        const BceDiceSums& q = partial[static_cast<std::size_t>(j)];
        s.bce += q.bce;
        s.inter += q.inter;
        s.total += q.total;
    }
    return sums;
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
// One sweep: per sample Σ BCE, Σ p·t and Σ (p + t).
void bceDiceLossForward(const KernelContext& ctx) {
    const std::vector<BceDiceSums> sums = bceDiceSums(ctx);
    const double eps = ctx.getFloat("epsilon");
    const std::int64_t n = ctx.in(0).numel();
    double bceSum = 0, dice = 0;
    for (const BceDiceSums& s : sums) {
        bceSum += s.bce;
        dice += 1 - (2 * s.inter + eps) / (s.total + eps);
    }
    const double bceMean = n ? bceSum / static_cast<double>(n) : 0.0;
    const double diceMean = sums.empty() ? 0.0 : dice / static_cast<double>(sums.size());
    ctx.out(0).f32()[0] = static_cast<float>(ctx.getFloat("bce_weight") * bceMean +
                                             ctx.getFloat("dice_weight") * diceMean);
}

// The Dice sums again (a sweep without logs), then one sweep adding both terms'
// gradients: dp += g_bce·bce'(p, t) − g_dice·(2t·den − num) / den² per sample.
void bceDiceLossBackward(const KernelContext& ctx) {
    Tensor* dp = ctx.inGrad(0);
    if (!dp)
        return;
    const DiceSums s = diceSums(ctx);
    const double eps = ctx.getFloat("epsilon");
    const std::int64_t batch = ctx.in(0).batch();
    const std::int64_t n = ctx.in(0).numel();
    const std::int64_t per = batch ? n / batch : 0;
    const double upstream = ctx.outGrad(0).f32()[0];
    const double gBce = ctx.getFloat("bce_weight") * upstream / static_cast<double>(n);
    const double gDice = ctx.getFloat("dice_weight") * upstream / static_cast<double>(batch);
    const float* p = ctx.in(0).f32();
    const float* t = ctx.in(1).f32();
    float* d = dp->f32();
    parallelForFine(batch * per, [&](std::int64_t i0, std::int64_t i1) {
        while (i0 < i1) {
            const std::int64_t b = i0 / per, end = std::min(i1, (b + 1) * per);
            const double num = 2 * s.inter[static_cast<std::size_t>(b)] + eps;
            const double den = s.total[static_cast<std::size_t>(b)] + eps;
            const double diceScale = -gDice / (den * den);
            for (std::int64_t i = i0; i < end; ++i) {
                const double pv = p[i], tv = t[i];
                // bceGrad without branches: the clip stops the gradient outside [ε, 1 − ε].
                const double g = -tv / (pv + kEps) + (1 - tv) / (1 - pv + kEps);
                const double bceG = selectBits((pv >= kEps) & (pv <= 1 - kEps), g, 0.0);
                d[i] += static_cast<float>(gBce * bceG + diceScale * (2 * tv * den - num));
            }
            i0 = end;
        }
    });
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
