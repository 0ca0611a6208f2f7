#include "kernels/optimizer_kernels.hpp"

#include "kernels/cloned_for_wide_vectors.hpp"

#include <cmath>

namespace segforge::core::kernels {

SEGFORGE_CLONED_FOR_WIDE_VECTORS void adamUpdate(float* __restrict p, const float* __restrict g,
                                                 float* __restrict m, float* __restrict v,
                                                 std::int64_t n, const AdamCoefficients& c) {
    const float b1 = c.beta1, b2 = c.beta2, step = c.step, eps = c.epsilon, decay = c.decay;
    for (std::int64_t k = 0; k < n; ++k) {
        m[k] = b1 * m[k] + (1 - b1) * g[k];
        v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
        p[k] -= decay * p[k];
        p[k] -= step * m[k] / (std::sqrt(v[k]) + eps);
    }
}

SEGFORGE_CLONED_FOR_WIDE_VECTORS void sgdUpdate(float* __restrict p, const float* __restrict g,
                                                float* __restrict velocity, std::int64_t n,
                                                double momentum, double learningRate) {
    for (std::int64_t k = 0; k < n; ++k) {
        velocity[k] = static_cast<float>(momentum * velocity[k] - learningRate * g[k]);
        p[k] += velocity[k];
    }
}

} // namespace segforge::core::kernels
