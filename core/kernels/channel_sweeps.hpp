#pragma once

// The per-channel sweeps of the normalisations (BatchNormalization,
// GroupNormalization; kernels/channel_blocks.hpp cuts the work): rows of
// `channels` values, vectorised across the channels (AVX-512 or AVX2 where the CPU
// has it). Each channel's sum runs over the rows in order, and the file is built
// without floating-point contraction, so every instruction set gives the same bits.

#include <cstdint>

namespace segforge::core::kernels {

/// sum[k] += Σ over the rows of x[row·c + k], in double.
void addChannelSums(const float* x, std::int64_t rows, std::int64_t c, double* sum);
/// sq[k] += Σ (x[row·c + k] − mean[k])², in double.
void addChannelSquaredDeviations(const float* x, std::int64_t rows, std::int64_t c,
                                 const double* mean, double* sq);
/// sumA[k] += Σ a[row·c + k] and sumAB[k] += Σ a·b, in double.
void addChannelSumsAndProducts(const float* a, const float* b, std::int64_t rows, std::int64_t c,
                               double* sumA, double* sumAB);
/// Per row and channel: x̂ = (x − mean)·inv in double, rounded to float; y = x̂·gamma + beta.
void normalizeRows(const float* x, std::int64_t rows, std::int64_t c, const double* mean,
                   const double* inv, const float* gamma, const float* beta, float* xhat, float* y);

/// BatchNormalization keeps no x̂: its sweeps recompute x̂ = (x − mean)·inv from
/// its input x in float, the same bits in all three.
/// y = x̂·gamma + beta.
void batchNormRows(const float* x, std::int64_t rows, std::int64_t c, const float* mean,
                   const float* inv, const float* gamma, const float* beta, float* y);
/// sumDy[k] += Σ dy and sumDyX[k] += Σ dy·x̂, in double.
void addBatchNormGradSums(const float* dy, const float* x, std::int64_t rows, std::int64_t c,
                          const float* mean, const float* inv, double* sumDy, double* sumDyX);
/// The input gradient over rows: dx = scale·(dy − meanDy − x̂·meanDyX) in training,
/// scale·dy at inference; assigned, or added to dx.
void batchNormInputGradRows(const float* dy, const float* x, std::int64_t rows, std::int64_t c,
                            const float* mean, const float* inv, const float* scale,
                            const float* meanDy, const float* meanDyX, bool training, bool assign,
                            float* dx);
} // namespace segforge::core::kernels
