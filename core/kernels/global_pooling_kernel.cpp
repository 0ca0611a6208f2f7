// GlobalAvgPool2D (Keras GlobalAveragePooling2D with keepdims=True): a mean
// over the whole image per channel. Sums run in double, pixel by pixel in
// order, so a result does not depend on the thread count.

#include "kernels/global_pooling_kernel.hpp"

#include "kernels/parallel.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core::kernels {

void globalAvgPool2dForward(const KernelContext& ctx) {
    const Tensor& xt = ctx.in(0);
    const std::int64_t n = xt.batch(), pixels = xt.height() * xt.width(), c = xt.channels();
    const float* x = xt.f32();
    float* y = ctx.out(0).f32();
    const double scale = pixels > 0 ? 1.0 / static_cast<double>(pixels) : 0.0;
    parallelForFine(n, [&](std::int64_t n0, std::int64_t n1) {
        std::vector<double> sum(static_cast<std::size_t>(c));
        for (std::int64_t b = n0; b < n1; ++b) {
            std::fill(sum.begin(), sum.end(), 0.0);
            const float* xs = x + b * pixels * c;
            for (std::int64_t p = 0; p < pixels; ++p)
                for (std::int64_t k = 0; k < c; ++k)
                    sum[static_cast<std::size_t>(k)] += xs[p * c + k];
            for (std::int64_t k = 0; k < c; ++k)
                y[b * c + k] = static_cast<float>(sum[static_cast<std::size_t>(k)] * scale);
        }
    });
}

void globalAvgPool2dBackward(const KernelContext& ctx) {
    Tensor* dxt = ctx.inGrad(0);
    if (!dxt)
        return;
    const std::int64_t n = dxt->batch(), pixels = dxt->height() * dxt->width(), c = dxt->channels();
    const float* dy = ctx.outGrad(0).f32();
    float* dx = dxt->f32();
    const float scale = pixels > 0 ? 1.0f / static_cast<float>(pixels) : 0.0f;
    parallelForFine(n * pixels, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const float* g = dy + (r / pixels) * c;
            float* d = dx + r * c;
            for (std::int64_t k = 0; k < c; ++k)
                d[k] += g[k] * scale;
        }
    });
}

} // namespace segforge::core::kernels
