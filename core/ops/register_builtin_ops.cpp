#include "ops/builtin_ops.hpp"
#include "ops/op_registry.hpp"

namespace segforge::core {

void registerBuiltinOps(OpRegistry& registry) {
    using namespace ops;
    // Sources
    registry.add(inputSchema());
    registry.add(datasetSchema());
    // Preprocessing
    registry.add(castSchema());
    registry.add(rescaleSchema());
    // Layers
    registry.add(conv2dSchema());
    registry.add(conv2dTransposeSchema());
    registry.add(separableConv2dSchema());
    registry.add(maxPool2dSchema());
    registry.add(avgPool2dSchema());
    registry.add(globalAvgPool2dSchema());
    registry.add(upSampling2dSchema());
    registry.add(concatenateSchema());
    registry.add(addSchema());
    registry.add(multiplySchema());
    registry.add(batchNormalizationSchema());
    registry.add(groupNormalizationSchema());
    registry.add(dropoutSchema());
    registry.add(activationSchema());
    registry.add(leakyReluSchema());
    registry.add(cropping2dSchema());
    registry.add(zeroPadding2dSchema());
    // Interop: what a Keras or ONNX import could not map
    registry.add(kerasLayerSchema());
    registry.add(onnxNodeSchema());
    // Losses
    registry.add(binaryCrossentropySchema());
    registry.add(categoricalCrossentropySchema());
    registry.add(sparseCategoricalCrossentropySchema());
    registry.add(diceLossSchema());
    registry.add(bceDiceLossSchema());
    registry.add(focalLossSchema());
    // Metrics
    registry.add(diceCoefficientSchema());
    registry.add(iouSchema());
    registry.add(pixelAccuracySchema());
}

} // namespace segforge::core
