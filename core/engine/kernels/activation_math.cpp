#include "engine/kernels/activation_math.hpp"

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
    case ActKind::Linear: return;
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

void activationGrad(const float* y, const float* dy, float* dz, std::int64_t pixels,
                    std::int64_t channels, ActKind kind, float alpha, bool accumulate) {
    const std::int64_t n = pixels * channels;
    auto put = [&](std::int64_t i, float v) {
        if (accumulate)
            dz[i] += v;
        else
            dz[i] = v;
    };
    switch (kind) {
    case ActKind::Linear:
        for (std::int64_t i = 0; i < n; ++i)
            put(i, dy[i]);
        return;
    case ActKind::Relu:
        for (std::int64_t i = 0; i < n; ++i)
            put(i, y[i] > 0 ? dy[i] : 0.0f);
        return;
    case ActKind::LeakyRelu:
        // y ≤ 0 exactly when z ≤ 0 for a positive slope.
        for (std::int64_t i = 0; i < n; ++i)
            put(i, y[i] > 0 ? dy[i] : alpha * dy[i]);
        return;
    case ActKind::Sigmoid:
        for (std::int64_t i = 0; i < n; ++i)
            put(i, dy[i] * y[i] * (1.0f - y[i]));
        return;
    case ActKind::Tanh:
        for (std::int64_t i = 0; i < n; ++i)
            put(i, dy[i] * (1.0f - y[i] * y[i]));
        return;
    case ActKind::Softmax:
        for (std::int64_t p = 0; p < pixels; ++p) {
            const float* yr = y + p * channels;
            const float* dyr = dy + p * channels;
            float dot = 0;
            for (std::int64_t c = 0; c < channels; ++c)
                dot += yr[c] * dyr[c];
            for (std::int64_t c = 0; c < channels; ++c)
                put(p * channels + c, yr[c] * (dyr[c] - dot));
        }
        return;
    }
}

} // namespace segforge::core::kernels
