// Segmentation metrics (forward only): Dice coefficient, IoU and pixel
// accuracy of the *thresholded* prediction, over the whole batch.
// Prediction classes: K = 1 → p > threshold; K > 1 → argmax over channels.
// Target classes: 1 channel → float > 0.5 when K = 1 and float32, non-zero
// for integer masks when K = 1, the class index when K > 1; K channels with
// K > 1 → argmax (one-hot). The scores and the class policy (Dice and IoU
// average over the K classes, background included, when K ≥ 2, and score the
// foreground when K = 1) are kernels/mask_metrics.hpp's, shared with the
// predictions panel and `segforge-cli predict`.

#include "kernels/kernels.hpp"
#include "kernels/mask_metrics.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
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
        : m_p(ctx.in(0))
        , m_t(ctx.in(1))
        , m_k(ctx.in(0).channels())
        , m_threshold(ctx.getFloat("threshold")) {}
    std::int64_t classes() const { return m_k == 1 ? 2 : m_k; } ///< 2 for binary
    /// One probability channel: both labels are 0 or 1.
    bool binary() const { return m_k == 1; }
    std::int64_t pixels() const { return m_p.numel() / m_k; }
    const Tensor& prediction() const { return m_p; }
    const Tensor& target() const { return m_t; }
    /// The largest float not above the threshold: for a float p, p > it exactly when
    /// p > the (double) threshold, so a binary map compares in float.
    float floatThreshold() const {
        auto f = static_cast<float>(m_threshold);
        if (static_cast<double>(f) > m_threshold)
            f = std::nextafter(f, -std::numeric_limits<float>::infinity());
        return f;
    }
    std::int64_t predicted(std::int64_t i) const {
        return m_k == 1 ? (m_p.f32()[i] > m_threshold ? 1 : 0) : argmax(m_p.f32() + i * m_k, m_k);
    }
    std::int64_t truth(std::int64_t i) const {
        if (m_t.channels() > 1)
            return argmax(m_t.f32() + i * m_k, m_k);
        if (m_k == 1)
            return m_t.dtype() == DType::Float32 ? (m_t.f32()[i] > 0.5f ? 1 : 0)
                                                 : (m_t.valueAt(i) != 0 ? 1 : 0);
        return static_cast<std::int64_t>(std::lround(m_t.valueAt(i)));
    }

private:
    const Tensor& m_p;
    const Tensor& m_t;
    std::int64_t m_k;
    double m_threshold;
};

/// Pixels of a binary map (K = 1) in [i0, i1): predicted foreground, true foreground,
/// both. Branch-free over float or uint8 targets, counted in int32 per stage, so that
/// the loop vectorises.
struct BinaryCounts {
    std::int64_t p1 = 0, t1 = 0, both1 = 0;
};

template <typename T, typename IsTrue>
BinaryCounts countBinary(const float* p, const T* t, std::int64_t i0, std::int64_t i1,
                         float threshold, IsTrue isTrue) {
    constexpr std::int64_t kStage = 1 << 20; // well below 2³¹
    BinaryCounts c;
    for (std::int64_t s0 = i0; s0 < i1; s0 += kStage) {
        const std::int64_t s1 = std::min(i1, s0 + kStage);
        std::int32_t p1 = 0, t1 = 0, both1 = 0;
        for (std::int64_t i = s0; i < s1; ++i) {
            const std::int32_t pv = p[i] > threshold ? 1 : 0;
            const std::int32_t tv = isTrue(t[i]) ? 1 : 0;
            p1 += pv;
            t1 += tv;
            both1 += pv & tv;
        }
        c.p1 += p1;
        c.t1 += t1;
        c.both1 += both1;
    }
    return c;
}

/// The binary counts over [i0, i1) by the fastest loop the target's type allows.
BinaryCounts countBinaryRange(const Labels& l, std::int64_t i0, std::int64_t i1) {
    const Tensor& target = l.target();
    const float* p = l.prediction().f32();
    const float threshold = l.floatThreshold();
    if (target.channels() == 1 && target.dtype() == DType::Float32)
        return countBinary(p, target.f32(), i0, i1, threshold, [](float v) { return v > 0.5f; });
    if (target.channels() == 1 && target.dtype() == DType::UInt8)
        return countBinary(p, target.u8(), i0, i1, threshold,
                           [](std::uint8_t v) { return v != 0; });
    BinaryCounts c;
    for (std::int64_t i = i0; i < i1; ++i) {
        const std::int64_t pv = l.predicted(i), tv = l.truth(i);
        c.p1 += pv;
        c.t1 += tv;
        c.both1 += pv & tv;
    }
    return c;
}

/// The batch's class counts, counted in parallel chunks and added afterwards:
/// whole numbers, exact whatever the thread count.
ClassCounts countBatch(const Labels& l) {
    const std::int64_t pixels = l.pixels();
    std::vector<ClassCounts> chunks(static_cast<std::size_t>(parallelChunks(pixels)),
                                    ClassCounts(l.classes()));
    parallelFor(pixels, [&](std::int64_t i0, std::int64_t i1, int chunk) {
        ClassCounts& c = chunks[static_cast<std::size_t>(chunk)];
        if (l.binary()) {
            // Both labels are 0 or 1: three counters, not vector slots.
            const BinaryCounts b = countBinaryRange(l, i0, i1);
            const std::int64_t p1 = b.p1, t1 = b.t1, both1 = b.both1;
            const std::int64_t n = i1 - i0, both0 = n - p1 - t1 + both1;
            c.predicted = {n - p1, p1};
            c.truth = {n - t1, t1};
            c.intersection = {both0, both1};
            c.correct = both0 + both1;
            c.pixels = n;
            return;
        }
        for (std::int64_t i = i0; i < i1; ++i)
            c.add(l.predicted(i), l.truth(i));
    });
    ClassCounts total(l.classes());
    for (const ClassCounts& c : chunks)
        total.merge(c);
    return total;
}

/// The training metrics' class policy (mask_metrics.hpp) with the node's epsilon;
/// with epsilon 0 a class absent from both maps is 0/0, NaN, as the checker warns.
ClassPolicy trainingPolicy(const KernelContext& ctx) {
    ClassPolicy policy = ClassPolicy::forPrediction(ctx.in(0).channels(), ctx.getFloat("epsilon"));
    policy.absentScoresOne = false;
    return policy;
}

} // namespace

// pred:(N,H,W,K) target:(N,H,W,1|K) -> value:()
void diceCoefficientForward(const KernelContext& ctx) {
    ctx.out(0).f32()[0] =
        static_cast<float>(meanDice(countBatch(Labels(ctx)), trainingPolicy(ctx)));
}

void iouForward(const KernelContext& ctx) {
    ctx.out(0).f32()[0] = static_cast<float>(meanIoU(countBatch(Labels(ctx)), trainingPolicy(ctx)));
}

void pixelAccuracyForward(const KernelContext& ctx) {
    ctx.out(0).f32()[0] = static_cast<float>(pixelAccuracy(countBatch(Labels(ctx))));
}

} // namespace segforge::core::kernels
