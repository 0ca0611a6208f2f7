#include "kernels/activation_math.hpp"

#include <algorithm>
#include <cmath>
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
            data[i] = sigmoid(data[i]);
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

/// dz[i] (+)= fn(i) for i < n; the two loops are separate so each vectorises.
template <typename Fn> void putAll(float* dz, std::int64_t n, bool accumulate, Fn&& fn) {
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
        putAll(dz, n, accumulate, [&](std::int64_t i) { return y[i] > 0 ? dy[i] : 0.0f; });
        return;
    case ActKind::LeakyRelu:
        // y ≤ 0 exactly when z ≤ 0 for a positive slope.
        putAll(dz, n, accumulate, [&](std::int64_t i) { return y[i] > 0 ? dy[i] : alpha * dy[i]; });
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
