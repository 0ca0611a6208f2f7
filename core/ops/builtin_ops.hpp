#pragma once

// One factory per op file. registerBuiltinOps() (op_registry's table) lists them.

#include "ops/op_schema.hpp"

namespace segforge::core::ops {

/// Op names, each defined in its op's file (where the schema's name reads it):
/// for code that creates a node of a given op (templates, fixes), so that no
/// other file spells an op's name.
extern const char kInputOp[];
extern const char kDatasetOp[];
extern const char kCastOp[];
extern const char kRescaleOp[];
extern const char kConv2DOp[];
extern const char kConv2DTransposeOp[];
extern const char kSeparableConv2DOp[];
extern const char kMaxPool2DOp[];
extern const char kAvgPool2DOp[];
extern const char kUpSampling2DOp[];
extern const char kConcatenateOp[];
extern const char kAddOp[];
extern const char kMultiplyOp[];
extern const char kBatchNormalizationOp[];
extern const char kDropoutOp[];
extern const char kActivationOp[];
extern const char kCropping2DOp[];
extern const char kZeroPadding2DOp[];
extern const char kKerasLayerOp[];
extern const char kOnnxNodeOp[];
extern const char kLeakyReLUOp[];
extern const char kGlobalAvgPool2DOp[];
extern const char kGroupNormalizationOp[];
extern const char kBinaryCrossentropyOp[];
extern const char kCategoricalCrossentropyOp[];
extern const char kSparseCategoricalCrossentropyOp[];
extern const char kDiceOp[];
extern const char kBCEDiceOp[];
extern const char kFocalOp[];
extern const char kDiceCoefficientOp[];
extern const char kIoUOp[];
extern const char kPixelAccuracyOp[];

OpSchema inputSchema();
OpSchema datasetSchema();
OpSchema castSchema();
OpSchema rescaleSchema();
OpSchema conv2dSchema();
OpSchema conv2dTransposeSchema();
OpSchema separableConv2dSchema();
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
/// Placeholder for an imported ONNX node without a SegForge op (reported, never run).
OpSchema onnxNodeSchema();
OpSchema leakyReluSchema();
/// Mean over H and W, keeping them as 1×1 (N×1×1×C).
OpSchema globalAvgPool2dSchema();
/// Normalises each sample over groups of channels (PyTorch nn.GroupNorm, Keras
/// GroupNormalization); groups = C is InstanceNorm. No running statistics.
OpSchema groupNormalizationSchema();

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
