#pragma once

// Forward and backward kernels of the built-in ops, NHWC float32. Each op's
// schema (core/ops/<op>.cpp) points at its pair here; the files in this folder
// group kernels by concept (convolution, pooling, losses, …).

#include "kernels/op_kernel.hpp"

namespace segforge::core::kernels {

void castForward(const KernelContext& ctx);
void castBackward(const KernelContext& ctx);
void rescaleForward(const KernelContext& ctx);
void rescaleBackward(const KernelContext& ctx);

void conv2dForward(const KernelContext& ctx);
void conv2dBackward(const KernelContext& ctx);
void conv2dTransposeForward(const KernelContext& ctx);
void conv2dTransposeBackward(const KernelContext& ctx);
void separableConv2dForward(const KernelContext& ctx);
void separableConv2dBackward(const KernelContext& ctx);

void maxPool2dForward(const KernelContext& ctx);
void maxPool2dBackward(const KernelContext& ctx);
void avgPool2dForward(const KernelContext& ctx);
void avgPool2dBackward(const KernelContext& ctx);
void upSampling2dForward(const KernelContext& ctx);
void upSampling2dBackward(const KernelContext& ctx);

void concatenateForward(const KernelContext& ctx);
void concatenateBackward(const KernelContext& ctx);
void addForward(const KernelContext& ctx);
void addBackward(const KernelContext& ctx);
void multiplyForward(const KernelContext& ctx);
void multiplyBackward(const KernelContext& ctx);
void cropping2dForward(const KernelContext& ctx);
void cropping2dBackward(const KernelContext& ctx);
void zeroPadding2dForward(const KernelContext& ctx);
void zeroPadding2dBackward(const KernelContext& ctx);

void batchNormForward(const KernelContext& ctx);
void batchNormBackward(const KernelContext& ctx);
void dropoutForward(const KernelContext& ctx);
void dropoutBackward(const KernelContext& ctx);
void activationForward(const KernelContext& ctx);
void activationBackward(const KernelContext& ctx);

void binaryCrossentropyForward(const KernelContext& ctx);
void binaryCrossentropyBackward(const KernelContext& ctx);
void categoricalCrossentropyForward(const KernelContext& ctx);
void categoricalCrossentropyBackward(const KernelContext& ctx);
void sparseCategoricalCrossentropyForward(const KernelContext& ctx);
void sparseCategoricalCrossentropyBackward(const KernelContext& ctx);
void diceLossForward(const KernelContext& ctx);
void diceLossBackward(const KernelContext& ctx);
std::string diceLossExplain(const KernelContext& ctx, std::int64_t sample);
void bceDiceLossForward(const KernelContext& ctx);
void bceDiceLossBackward(const KernelContext& ctx);
void focalLossForward(const KernelContext& ctx);
void focalLossBackward(const KernelContext& ctx);

void diceCoefficientForward(const KernelContext& ctx);
void iouForward(const KernelContext& ctx);
void pixelAccuracyForward(const KernelContext& ctx);

} // namespace segforge::core::kernels
