// Segmentation metrics (forward only): Dice coefficient, IoU and pixel
// accuracy of the *thresholded* prediction, over the whole batch.
// Prediction classes: K = 1 → p > threshold; K > 1 → argmax over channels.
// Target classes: 1 channel → float > 0.5 when K = 1 and float32, non-zero
// for integer masks when K = 1, the class index when K > 1; K channels with
// K > 1 → argmax (one-hot). Dice and IoU average over the K classes (K ≥ 2)
// or score the foreground (K = 1).

#include "engine/kernels/kernels.hpp"
#include "engine/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace segforge::core::kernels {

namespace {

std::int64_t argmax(const float* v, std::int64_t k) {
    return static_cast<std::int64_t>(std::max_element(v, v + k) - v);
}

/// Predicted and true class of every pixel.
struct Labels {
    std::int64_t classes = 2; ///< 2 for binary
    std::vector<std::int64_t> pred, truth;
};

Labels labels(const KernelContext& ctx) {
    const Tensor& p = ctx.in(0);
    const Tensor& t = ctx.in(1);
    const std::int64_t k = p.channels();
    const std::int64_t pixels = p.numel() / k;
    const double threshold = ctx.getFloat("threshold");
    Labels l;
    l.classes = k == 1 ? 2 : k;
    l.pred.resize(static_cast<std::size_t>(pixels));
    l.truth.resize(static_cast<std::size_t>(pixels));
    parallelForFine(pixels, [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i) {
            auto& pr = l.pred[static_cast<std::size_t>(i)];
            auto& tr = l.truth[static_cast<std::size_t>(i)];
            pr = k == 1 ? (p.f32()[i] > threshold ? 1 : 0) : argmax(p.f32() + i * k, k);
            if (t.channels() > 1)
                tr = argmax(t.f32() + i * k, k);
            else if (k == 1)
                tr = t.dtype() == DType::Float32 ? (t.f32()[i] > 0.5f ? 1 : 0) : (t.valueAt(i) != 0 ? 1 : 0);
            else
                tr = static_cast<std::int64_t>(std::lround(t.valueAt(i)));
        }
    });
    return l;
}

/// Mean over scored classes of (num(c) + ε) / (den(c) + ε).
template <typename Score> void overlapMetric(const KernelContext& ctx, Score&& score) {
    const Labels l = labels(ctx);
    const double eps = ctx.getFloat("epsilon");
    // Whole counts per chunk, added afterwards: exact, whatever the thread count.
    const auto k = static_cast<std::size_t>(l.classes);
    const auto pixels = static_cast<std::int64_t>(l.pred.size());
    std::vector<std::int64_t> counts(static_cast<std::size_t>(parallelChunks(pixels)) * 3 * k);
    parallelFor(pixels, [&](std::int64_t i0, std::int64_t i1, int chunk) {
        std::int64_t* c = counts.data() + static_cast<std::size_t>(chunk) * 3 * k; // inter | pred | true
        for (std::int64_t i = i0; i < i1; ++i) {
            const auto pc = l.pred[static_cast<std::size_t>(i)], tc = l.truth[static_cast<std::size_t>(i)];
            if (pc >= 0 && pc < l.classes)
                ++c[k + static_cast<std::size_t>(pc)];
            if (tc >= 0 && tc < l.classes)
                ++c[2 * k + static_cast<std::size_t>(tc)];
            if (pc == tc && pc >= 0 && pc < l.classes)
                ++c[static_cast<std::size_t>(pc)];
        }
    });
    std::vector<double> inter(k), predCount(k), trueCount(k);
    for (std::size_t at = 0; at < counts.size(); at += 3 * k)
        for (std::size_t c = 0; c < k; ++c) {
            inter[c] += static_cast<double>(counts[at + c]);
            predCount[c] += static_cast<double>(counts[at + k + c]);
            trueCount[c] += static_cast<double>(counts[at + 2 * k + c]);
        }
    const std::size_t first = ctx.in(0).channels() == 1 ? 1 : 0; // binary: foreground only
    double sum = 0;
    for (std::size_t c = first; c < inter.size(); ++c)
        sum += score(inter[c], predCount[c], trueCount[c], eps);
    ctx.out(0).f32()[0] = static_cast<float>(sum / static_cast<double>(inter.size() - first));
}

} // namespace

// pred:(N,H,W,K) target:(N,H,W,1|K) -> value:()
void diceCoefficientForward(const KernelContext& ctx) {
    overlapMetric(ctx, [](double i, double p, double t, double eps) { return (2 * i + eps) / (p + t + eps); });
}

void iouForward(const KernelContext& ctx) {
    overlapMetric(ctx, [](double i, double p, double t, double eps) { return (i + eps) / (p + t - i + eps); });
}

void pixelAccuracyForward(const KernelContext& ctx) {
    const Labels l = labels(ctx);
    std::int64_t correct = 0;
    for (std::size_t i = 0; i < l.pred.size(); ++i)
        correct += l.pred[i] == l.truth[i] ? 1 : 0;
    ctx.out(0).f32()[0] =
        l.pred.empty() ? 0.0f : static_cast<float>(static_cast<double>(correct) / static_cast<double>(l.pred.size()));
}

} // namespace segforge::core::kernels
