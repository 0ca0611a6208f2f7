#pragma once

// Element-wise activations shared by the Activation op and the activation
// fused into Conv2D/Conv2DTranspose. Every derivative is written in terms of
// the activation's *output*, so backward needs no copy of the pre-activation.

#include <cstdint>
#include <string>

namespace segforge::core::kernels {

enum class ActKind { Linear, Relu, LeakyRelu, Sigmoid, Softmax, Tanh };

ActKind parseActivation(const std::string& name);

/// The slope of the activation *function* leaky_relu (Keras 3's
/// activations.leaky_relu default; the LeakyReLU layer defaults to 0.3): used
/// wherever leaky_relu is named without a slope (fused into a convolution,
/// Keras import of activation='leaky_relu', the PyTorch and ONNX exports). It
/// lives here, with the activation math, because the kernels are below the ops
/// that bind them; the Activation op has its own alpha attribute.
inline constexpr double kLeakyReluSlope = 0.2;
inline constexpr float kDefaultLeakySlope = static_cast<float>(kLeakyReluSlope);

// data:(pixels, channels) in place; softmax acts over channels.
void activateInPlace(float* data, std::int64_t pixels, std::int64_t channels, ActKind kind,
                     float alpha);

// y, dy:(pixels, channels) -> dz (= or += when accumulate) : dz = dy · act'(z) written via y.
void activationGrad(const float* y, const float* dy, float* dz, std::int64_t pixels,
                    std::int64_t channels, ActKind kind, float alpha, bool accumulate);

float sigmoid(float x);

} // namespace segforge::core::kernels
