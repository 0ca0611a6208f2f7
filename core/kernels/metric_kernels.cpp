// Segmentation metrics (forward only): Dice coefficient, IoU and pixel
// accuracy of the *thresholded* prediction, over the whole batch.
// Prediction classes: K = 1 → p > threshold; K > 1 → argmax over channels.
// Target classes: 1 channel → float > 0.5 when K = 1 and float32, non-zero
// for integer masks when K = 1, the class index when K > 1; K channels with
// K > 1 → argmax (one-hot). Dice and IoU average over the K classes (K ≥ 2)
// or score the foreground (K = 1).

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace segforge::core::kernels {

namespace {

std::int64_t argmax(const float* v, std::int64_t k) {
    return static_cast<std::int64_t>(std::max_element(v, v + k) - v);
}

/// The predicted and the true class of pixel i, read straight from the tensors (no
/// per-pixel label arrays: a metric allocates nothing per step).
class Labels {
public:
    explicit Labels(const KernelContext& ctx)
        : m_p(ctx.in(0)), m_t(ctx.in(1)), m_k(ctx.in(0).channels()), m_threshold(ctx.getFloat("threshold")) {}
    std::int64_t classes() const { return m_k == 1 ? 2 : m_k; } ///< 2 for binary
    std::int64_t pixels() const { return m_p.numel() / m_k; }
    std::int64_t predicted(std::int64_t i) const {
        return m_k == 1 ? (m_p.f32()[i] > m_threshold ? 1 : 0) : argmax(m_p.f32() + i * m_k, m_k);
    }
    std::int64_t truth(std::int64_t i) const {
        if (m_t.channels() > 1)
            return argmax(m_t.f32() + i * m_k, m_k);
        if (m_k == 1)
            return m_t.dtype() == DType::Float32 ? (m_t.f32()[i] > 0.5f ? 1 : 0) : (m_t.valueAt(i) != 0 ? 1 : 0);
        return static_cast<std::int64_t>(std::lround(m_t.valueAt(i)));
    }

private:
    const Tensor& m_p;
    const Tensor& m_t;
    std::int64_t m_k;
    double m_threshold;
};

/// Mean over scored classes of (num(c) + ε) / (den(c) + ε).
template <typename Score> void overlapMetric(const KernelContext& ctx, Score&& score) {
    const Labels l(ctx);
    const double eps = ctx.getFloat("epsilon");
    // Whole counts per chunk, added afterwards: exact, whatever the thread count.
    const auto k = static_cast<std::size_t>(l.classes());
    const std::int64_t pixels = l.pixels();
    std::vector<std::int64_t> counts(static_cast<std::size_t>(parallelChunks(pixels)) * 3 * k);
    parallelFor(pixels, [&](std::int64_t i0, std::int64_t i1, int chunk) {
        std::int64_t* c = counts.data() + static_cast<std::size_t>(chunk) * 3 * k; // inter | pred | true
        for (std::int64_t i = i0; i < i1; ++i) {
            const std::int64_t pc = l.predicted(i), tc = l.truth(i);
            if (pc >= 0 && pc < l.classes())
                ++c[k + static_cast<std::size_t>(pc)];
            if (tc >= 0 && tc < l.classes())
                ++c[2 * k + static_cast<std::size_t>(tc)];
            if (pc == tc && pc >= 0 && pc < l.classes())
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
    const Labels l(ctx);
    const std::int64_t pixels = l.pixels();
    std::vector<std::int64_t> correct(static_cast<std::size_t>(parallelChunks(pixels)));
    parallelFor(pixels, [&](std::int64_t i0, std::int64_t i1, int chunk) {
        std::int64_t n = 0;
        for (std::int64_t i = i0; i < i1; ++i)
            n += l.predicted(i) == l.truth(i) ? 1 : 0;
        correct[static_cast<std::size_t>(chunk)] = n;
    });
    std::int64_t total = 0;
    for (std::int64_t n : correct)
        total += n;
    ctx.out(0).f32()[0] =
        pixels == 0 ? 0.0f : static_cast<float>(static_cast<double>(total) / static_cast<double>(pixels));
}

} // namespace segforge::core::kernels
