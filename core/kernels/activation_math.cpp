#include "kernels/activation_math.hpp"

#include "kernels/select_bits.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace segforge::core::kernels {

ActKind parseActivation(const std::string& name) {
    if (name == "linear")
        return ActKind::Linear;
    if (name == "relu")
        return ActKind::Relu;
    if (name == "leaky_relu")
        return ActKind::LeakyRelu;
    if (name == "sigmoid")
        return ActKind::Sigmoid;
    if (name == "softmax")
        return ActKind::Softmax;
    if (name == "tanh")
        return ActKind::Tanh;
    throw std::logic_error("unknown activation '" + name + "'");
}

float sigmoid(float x) {
    // Two branches keep exp() from overflowing for large |x|.
    if (x >= 0) {
        const float e = std::exp(-x);
        return 1.0f / (1.0f + e);
    }
    const float e = std::exp(x);
    return e / (1.0f + e);
}

namespace {

/// e^x for x ≤ 0, without branches so that a loop over it vectorises: x = n·ln 2 + r
/// with |r| ≤ ln 2 / 2 (ln 2 split in two, Cody–Waite), Cephes' degree-5 polynomial
/// for e^r, 2^n built from exponent bits. Within 2 ulp of e^x; 0 below −87.3, where
/// e^x is under the smallest normal float. Selects are selectBits (vectorises).
inline float expNonPositive(float x) {
    const bool inRange = x >= -87.3f; // false for NaN too: no NaN reaches the int cast
    const float xc = selectBits(inRange, x, -87.3f);
    // Adding 1.5·2²³ rounds to an integer (the float has no fraction bits left there).
    constexpr float kRound = 12582912.0f;
    const float n = (xc * 1.44269504088896341f + kRound) - kRound;
    const float r = (xc - n * 0.693359375f) - n * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    const float er = (p * (r * r) + r) + 1.0f;
    const float e = er * std::bit_cast<float>((static_cast<std::int32_t>(n) + 127) << 23);
    return selectBits(inRange, e, 0.0f);
}

/// sigmoid as sigmoid(): 1 / (1 + e^−x) for x ≥ 0, e^x / (1 + e^x) below, so that
/// e never overflows; NaN stays NaN. Vectorises, unlike std::exp.
inline float sigmoidFast(float x) {
    const float e = expNonPositive(-std::fabs(x));
    const float s = selectBits(x >= 0, 1.0f, e) / (1.0f + e);
    return selectBits(x != x, x, s);
}

} // namespace

void activateInPlace(float* data, std::int64_t pixels, std::int64_t channels, ActKind kind,
                     float alpha) {
    const std::int64_t n = pixels * channels;
    switch (kind) {
    case ActKind::Linear:
        return;
    case ActKind::Relu:
        for (std::int64_t i = 0; i < n; ++i)
            data[i] = data[i] > 0 ? data[i] : 0.0f;
        return;
    case ActKind::LeakyRelu:
        for (std::int64_t i = 0; i < n; ++i)
            data[i] = data[i] > 0 ? data[i] : alpha * data[i];
        return;
    case ActKind::Sigmoid:
        for (std::int64_t i = 0; i < n; ++i)
            data[i] = sigmoidFast(data[i]);
        return;
    case ActKind::Tanh:
        for (std::int64_t i = 0; i < n; ++i)
            data[i] = std::tanh(data[i]);
        return;
    case ActKind::Softmax:
        for (std::int64_t p = 0; p < pixels; ++p) {
            float* row = data + p * channels;
            const float mx = *std::max_element(row, row + channels);
            float sum = 0;
            for (std::int64_t c = 0; c < channels; ++c) {
                row[c] = std::exp(row[c] - mx);
                sum += row[c];
            }
            const float inv = 1.0f / sum;
            for (std::int64_t c = 0; c < channels; ++c)
                row[c] *= inv;
        }
        return;
    }
}

namespace {

/// dz[i] (+)= fn(i) for i < n; the two loops are separate so each vectorises. fn must
/// read its operands unconditionally (a load under a condition keeps GCC from turning
/// the select into a blend, and a branch on the sign of a value mispredicts half the time).
template <typename Fn> void putAll(float* __restrict dz, std::int64_t n, bool accumulate, Fn&& fn) {
    if (accumulate) {
        for (std::int64_t i = 0; i < n; ++i)
            dz[i] += fn(i);
    } else {
        for (std::int64_t i = 0; i < n; ++i)
            dz[i] = fn(i);
    }
}

} // namespace

void activationGrad(const float* y, const float* dy, float* dz, std::int64_t pixels,
                    std::int64_t channels, ActKind kind, float alpha, bool accumulate) {
    const std::int64_t n = pixels * channels;
    switch (kind) {
    case ActKind::Linear:
        putAll(dz, n, accumulate, [&](std::int64_t i) { return dy[i]; });
        return;
    case ActKind::Relu:
        putAll(dz, n, accumulate, [&](std::int64_t i) {
            const float g = dy[i];
            return y[i] > 0 ? g : 0.0f;
        });
        return;
    case ActKind::LeakyRelu:
        // y ≤ 0 exactly when z ≤ 0 for a positive slope.
        putAll(dz, n, accumulate, [&](std::int64_t i) {
            const float g = dy[i];
            return y[i] > 0 ? g : alpha * g;
        });
        return;
    case ActKind::Sigmoid:
        putAll(dz, n, accumulate, [&](std::int64_t i) { return dy[i] * y[i] * (1.0f - y[i]); });
        return;
    case ActKind::Tanh:
        putAll(dz, n, accumulate, [&](std::int64_t i) { return dy[i] * (1.0f - y[i] * y[i]); });
        return;
    case ActKind::Softmax:
        for (std::int64_t p = 0; p < pixels; ++p) {
            const float* yr = y + p * channels;
            const float* dyr = dy + p * channels;
            float dot = 0;
            for (std::int64_t c = 0; c < channels; ++c)
                dot += yr[c] * dyr[c];
            putAll(dz + p * channels, channels, accumulate,
                   [&](std::int64_t c) { return yr[c] * (dyr[c] - dot); });
        }
        return;
    }
}

} // namespace segforge::core::kernels
