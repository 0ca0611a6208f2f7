#pragma once

// One factory per op file. registerBuiltinOps() (op_registry's table) lists them.

#include "ops/op_schema.hpp"

namespace segforge::core::ops {

OpSchema inputSchema();
OpSchema datasetSchema();
OpSchema castSchema();
OpSchema rescaleSchema();
OpSchema conv2dSchema();
OpSchema conv2dTransposeSchema();
OpSchema maxPool2dSchema();
OpSchema avgPool2dSchema();
OpSchema upSampling2dSchema();
OpSchema concatenateSchema();
OpSchema addSchema();
OpSchema multiplySchema();
OpSchema batchNormalizationSchema();
OpSchema dropoutSchema();
OpSchema activationSchema();
OpSchema cropping2dSchema();
OpSchema zeroPadding2dSchema();
/// Placeholder for an imported Keras layer without a SegForge op (reported, never run).
OpSchema kerasLayerSchema();

OpSchema binaryCrossentropySchema();
OpSchema categoricalCrossentropySchema();
OpSchema sparseCategoricalCrossentropySchema();
OpSchema diceLossSchema();
OpSchema bceDiceLossSchema();
OpSchema focalLossSchema();

OpSchema diceCoefficientSchema();
OpSchema iouSchema();
OpSchema pixelAccuracySchema();

} // namespace segforge::core::ops
