#include "kernels/channel_sweeps.hpp"

#include "kernels/cloned_for_wide_vectors.hpp"

namespace segforge::core::kernels {

SEGFORGE_CLONED_FOR_WIDE_VECTORS void addChannelSums(const float* __restrict x, std::int64_t rows,
                                                     std::int64_t c, double* __restrict sum) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k)
            sum[k] += static_cast<double>(x[p * c + k]);
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void addChannelSquaredDeviations(const float* __restrict x,
                                                                  std::int64_t rows, std::int64_t c,
                                                                  const double* __restrict mean,
                                                                  double* __restrict sq) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k) {
            const double d = static_cast<double>(x[p * c + k]) - mean[k];
            sq[k] += d * d;
        }
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void
addChannelSumsAndProducts(const float* __restrict a, const float* __restrict b, std::int64_t rows,
                          std::int64_t c, double* __restrict sumA, double* __restrict sumAB) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k) {
            const double v = a[p * c + k];
            sumA[k] += v;
            sumAB[k] += v * static_cast<double>(b[p * c + k]);
        }
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void normalizeRows(const float* __restrict x, std::int64_t rows,
                                                    std::int64_t c, const double* __restrict mean,
                                                    const double* __restrict inv,
                                                    const float* __restrict gamma,
                                                    const float* __restrict beta,
                                                    float* __restrict xhat, float* __restrict y) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k) {
            const auto h =
                static_cast<float>((static_cast<double>(x[p * c + k]) - mean[k]) * inv[k]);
            xhat[p * c + k] = h;
            y[p * c + k] = h * gamma[k] + beta[k];
        }
}

/// BatchNormalization's x̂ = (x − mean)·inv, in float: the forward pass and both
/// backward sweeps compute it with this one expression, so they agree to the bit.
inline float normalized(float x, float mean, float inv) {
    return (x - mean) * inv;
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void
batchNormRows(const float* __restrict x, std::int64_t rows, std::int64_t c,
              const float* __restrict mean, const float* __restrict inv,
              const float* __restrict gamma, const float* __restrict beta, float* __restrict y) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k)
            y[p * c + k] = normalized(x[p * c + k], mean[k], inv[k]) * gamma[k] + beta[k];
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void
addBatchNormGradSums(const float* __restrict dy, const float* __restrict x, std::int64_t rows,
                     std::int64_t c, const float* __restrict mean, const float* __restrict inv,
                     double* __restrict sumDy, double* __restrict sumDyX) {
    for (std::int64_t p = 0; p < rows; ++p)
        for (std::int64_t k = 0; k < c; ++k) {
            const double g = dy[p * c + k];
            sumDy[k] += g;
            sumDyX[k] += g * static_cast<double>(normalized(x[p * c + k], mean[k], inv[k]));
        }
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void
batchNormInputGradRows(const float* __restrict dy, const float* __restrict x, std::int64_t rows,
                       std::int64_t c, const float* __restrict mean, const float* __restrict inv,
                       const float* __restrict scale, const float* __restrict meanDy,
                       const float* __restrict meanDyX, bool training, bool assign,
                       float* __restrict dx) {
    for (std::int64_t p = 0; p < rows; ++p) {
        const float* __restrict gi = dy + p * c;
        const float* __restrict xi = x + p * c;
        float* __restrict di = dx + p * c;
        if (training && assign)
            for (std::int64_t k = 0; k < c; ++k)
                di[k] = scale[k] *
                        (gi[k] - meanDy[k] - normalized(xi[k], mean[k], inv[k]) * meanDyX[k]);
        else if (training)
            for (std::int64_t k = 0; k < c; ++k)
                di[k] += scale[k] *
                         (gi[k] - meanDy[k] - normalized(xi[k], mean[k], inv[k]) * meanDyX[k]);
        else if (assign)
            for (std::int64_t k = 0; k < c; ++k)
                di[k] = scale[k] * gi[k];
        else
            for (std::int64_t k = 0; k < c; ++k)
                di[k] += scale[k] * gi[k];
    }
}

} // namespace segforge::core::kernels
