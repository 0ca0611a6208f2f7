#pragma once

// The per-element updates of the optimizers (engine/optimizer.cpp), over one range
// of one parameter. Vectorised (AVX-512 or AVX2 where the CPU has it) with the bits
// of the plain scalar loop: the file is built without floating-point contraction.

#include <cstdint>

namespace segforge::core::kernels {

/// Adam(W) with Keras's folding of the bias corrections into `step`:
/// m = β₁m + (1 − β₁)g; v = β₂v + (1 − β₂)g²; p −= decay·p; p −= step·m / (√v + ε).
struct AdamCoefficients {
    float beta1 = 0.9f, beta2 = 0.999f, step = 0, epsilon = 1e-7f, decay = 0;
};
void adamUpdate(float* p, const float* g, float* m, float* v, std::int64_t n,
                const AdamCoefficients& c);

/// SGD with momentum, in double as Keras's formula is written: v = μ·v − lr·g; p += v.
void sgdUpdate(float* p, const float* g, float* velocity, std::int64_t n, double momentum,
               double learningRate);

} // namespace segforge::core::kernels
