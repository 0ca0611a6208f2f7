#include "kernels/conv_pointwise_head.hpp"

#include "kernels/conv_direct.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core::kernels {

namespace {

/// Pixels per block: fixed, so the partial sums do not depend on the thread count.
constexpr std::int64_t kRows = 1024;

/// Σ a[k]·b[k] over k < n, in eight interleaved lanes (the compiler keeps them in
/// two vector registers) added in a fixed order.
float dot(const float* a, const float* b, std::int64_t n) {
    float lane[8] = {};
    std::int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; ++l)
            lane[l] += a[k + l] * b[k + l];
    float s =
        ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
    for (; k < n; ++k)
        s += a[k] * b[k];
    return s;
}

/// dst[k] += g·src[k]. The arrays never overlap (restrict): a pixel's few channels are
/// too short to pay for the overlap check the compiler would add before its vector loop.
inline void addScaled(float* __restrict dst, const float* __restrict src, float g, std::int64_t n) {
    for (std::int64_t k = 0; k < n; ++k)
        dst[k] += src[k] * g;
}

/// w:(C,F) -> (F,C), so that each output channel's weights are contiguous.
std::vector<float> transposed(const float* w, std::int64_t c, std::int64_t f) {
    std::vector<float> t(static_cast<std::size_t>(c * f));
    for (std::int64_t k = 0; k < c; ++k)
        for (std::int64_t j = 0; j < f; ++j)
            t[static_cast<std::size_t>(j * c + k)] = w[k * f + j];
    return t;
}

} // namespace

bool usePointwiseHead(const ConvGeometry& g, std::int64_t f) {
    return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
           g.padTop == 0 && g.padLeft == 0 && g.oh == g.h && g.ow == g.w &&
           f < kPointwiseHeadMaxFilters && convPath() != ConvPath::Gemm;
}

void pointwiseHeadForward(const float* x, const float* w, const float* bias, float* y,
                          std::int64_t pixels, std::int64_t c, std::int64_t f, ActKind act,
                          float slope) {
    const std::vector<float> wt = transposed(w, c, f);
    const std::int64_t blocks = (pixels + kRows - 1) / kRows;
    parallelForFine(blocks, [&](std::int64_t b0, std::int64_t b1) {
        for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t p0 = b * kRows, p1 = std::min(pixels, p0 + kRows);
            for (std::int64_t p = p0; p < p1; ++p)
                for (std::int64_t j = 0; j < f; ++j)
                    y[p * f + j] = dot(x + p * c, wt.data() + j * c, c) + (bias ? bias[j] : 0.0f);
            activateInPlace(y + p0 * f, p1 - p0, f, act, slope);
        }
    });
}

void pointwiseHeadBackward(const float* x, const float* y, const float* dy, const float* w,
                           float* dx, float* dw, float* db, std::int64_t pixels, std::int64_t c,
                           std::int64_t f, ActKind act, float slope) {
    const std::vector<float> wt = transposed(w, c, f);
    const std::int64_t blocks = (pixels + kRows - 1) / kRows;
    // Per block: the weight gradient as (F,C), then the bias gradient.
    const std::int64_t per = f * c + f;
    std::vector<float> partial(static_cast<std::size_t>((dw || db) ? blocks * per : 0));
    parallelForFine(blocks, [&](std::int64_t b0, std::int64_t b1) {
        thread_local std::vector<float> dzBuffer;
        dzBuffer.resize(static_cast<std::size_t>(kRows * f));
        for (std::int64_t b = b0; b < b1; ++b) {
            const std::int64_t p0 = b * kRows, rows = std::min(pixels, p0 + kRows) - p0;
            // A linear head's pre-activation gradient is dy itself.
            const float* dz = dy + p0 * f;
            if (act != ActKind::Linear) {
                activationGrad(y + p0 * f, dy + p0 * f, dzBuffer.data(), rows, f, act, slope,
                               false);
                dz = dzBuffer.data();
            }
            float* dwb = partial.empty() ? nullptr : partial.data() + b * per;
            for (std::int64_t r = 0; r < rows; ++r) {
                const float* xp = x + (p0 + r) * c;
                for (std::int64_t j = 0; j < f; ++j) {
                    const float g = dz[r * f + j];
                    if (dwb) {
                        addScaled(dwb + j * c, xp, g, c);
                        dwb[f * c + j] += g;
                    }
                    if (dx)
                        addScaled(dx + (p0 + r) * c, wt.data() + j * c, g, c);
                }
            }
        }
    });
    if (partial.empty())
        return;
    // The blocks' partials in block order, in double.
    std::vector<double> sum(static_cast<std::size_t>(per), 0.0);
    for (std::int64_t b = 0; b < blocks; ++b)
        for (std::int64_t i = 0; i < per; ++i)
            sum[static_cast<std::size_t>(i)] += partial[static_cast<std::size_t>(b * per + i)];
    for (std::int64_t j = 0; j < f; ++j) {
        if (dw)
            for (std::int64_t k = 0; k < c; ++k)
                dw[k * f + j] += static_cast<float>(sum[static_cast<std::size_t>(j * c + k)]);
        if (db)
            db[j] += static_cast<float>(sum[static_cast<std::size_t>(f * c + j)]);
    }
}

} // namespace segforge::core::kernels
