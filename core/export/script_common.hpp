#pragma once

// Python text shared by the Keras and PyTorch scripts: the header, the inline
// safetensors reader, the image/mask folder reader and the command line (the
// last three from resources/python, export/python_sources.hpp).

#include "export/export_graph.hpp"
#include "project/project.hpp"

#include <string>

namespace segforge::core::interop {

/// Settings the training part of a script needs, read from the project.
struct ScriptData {
    std::string images = "images";
    std::string masks = "masks";
    std::string maskSuffix = "_mask";
    std::string maskMode = "binary"; ///< binary, class_index, as_stored
    std::int64_t height = 128, width = 128, channels = 3, batchSize = 8;
    std::int64_t classes = 1; ///< channels of the network output
    bool oneHot = false;      ///< CategoricalCrossentropy targets
    bool sparse = false;      ///< SparseCategoricalCrossentropy targets
    // What the PyTorch script's Dataset and validation read (core/data, the metric nodes).
    std::string sizePolicy = "exact"; ///< exact, resize, crop_or_pad
    double validationSplit = 0.2;     ///< the project's training.validationSplit
    bool flips = false, rotate90 = false;
    double brightness = 0, contrast = 0;
    double threshold = 0.5;      ///< the first DiceCoefficient/IoU node's, else the default
    double metricEpsilon = 1e-6; ///< likewise (kernels/mask_metrics.hpp's kMetricEpsilon)
};

ScriptData scriptDataOf(const Project& project, const ExportGraph& graph);

/// Docstring, imports (`framework`: "keras" or "torch") and read_safetensors().
std::string scriptHeader(const Project& project, const std::string& framework);
/// load_pairs()/load_sample()/batches() over image and mask folders (numpy, NHWC).
std::string scriptDataReader(const ScriptData& data);
/// The PyTorch script's Dataset, samplers (resources/python/pytorch_data.py) and
/// Dice/IoU (pytorch_metrics.py) with the project's values.
std::string scriptTorchData(const ScriptData& data);
/// argparse main() skeleton: `body` runs with args.data, args.weights, args.epochs, args.lr.
std::string scriptMain(const Project& project, const std::string& weights, const std::string& body);

/// Python literals (ops/export_mapping.hpp): "1.0" floats, (a, b) tuples, True / False.
using core::pyBool;
using core::pyFloat;
using core::pyTuple;
/// A string attribute as a quoted Python string, an int-list attribute as a tuple.
inline std::string pyText(const AttrMap& a, const char* key) {
    return pythonString(attrText(a, key));
}
inline std::string pyInts(const AttrMap& a, const char* key) {
    return pyTuple(attrInts(a, key));
}

/// The project's optimizer constructed in Python: `module` + SGD/Adam/AdamW +
/// "(" + `leadingArgs` + the settings. leadingArgs names the learning rate.
std::string optimizerCall(const TrainingSettings& training, const std::string& module,
                          const std::string& leadingArgs);

} // namespace segforge::core::interop
