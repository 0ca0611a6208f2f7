#include "export/script_common.hpp"

#include "export/python_sources.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"
#include "util/version.hpp"

#include <stdexcept>

namespace segforge::core::interop {

std::string optimizerCall(const TrainingSettings& t, const std::string& module,
                          const std::string& leadingArgs) {
    if (t.optimizer == "sgd")
        return strCat(module, "SGD(", leadingArgs, ", momentum=", pyFloat(t.momentum), ")");
    if (t.optimizer == "adamw")
        return strCat(module, "AdamW(", leadingArgs, ", weight_decay=", pyFloat(t.weightDecay),
                      ")");
    return strCat(module, "Adam(", leadingArgs, ")");
}

ScriptData scriptDataOf(const Project& project, const ExportGraph& graph) {
    ScriptData d;
    for (const ExportLayer& l : graph.layers) {
        const AttrMap& a = l.attrs;
        if (l.schema->traits.readsDataset) {
            d.images = std::get<std::string>(a.at("images"));
            d.masks = std::get<std::string>(a.at("masks"));
            d.maskSuffix = std::get<std::string>(a.at("mask_suffix"));
            d.maskMode = std::get<std::string>(a.at("mask_mode"));
            d.batchSize = std::get<std::int64_t>(a.at("batch_size"));
            d.sizePolicy = std::get<std::string>(a.at("size_policy"));
            d.flips = std::get<bool>(a.at("augment_flips"));
            d.rotate90 = std::get<bool>(a.at("augment_rotate90"));
            d.brightness = std::get<double>(a.at("augment_brightness"));
            d.contrast = std::get<double>(a.at("augment_contrast"));
        }
        if (l.isInput()) {
            d.height = std::get<std::int64_t>(a.at("height"));
            d.width = std::get<std::int64_t>(a.at("width"));
            d.channels = std::get<std::int64_t>(a.at("channels"));
        }
    }
    if (!graph.outputs.empty()) {
        for (const ExportLayer& l : graph.layers) {
            if (l.node->name == graph.outputs.front() && l.output && l.output->shape.rank() == 4)
                d.classes = l.output->shape.channels();
        }
    }
    // The targets the loss reads (its contract): one-hot classes or class indices.
    const OpSchema* loss =
        graph.lossOp.empty() ? nullptr : OpRegistry::builtin().find(graph.lossOp);
    const TargetLayout layout =
        loss && loss->contract ? loss->contract->layout : TargetLayout::SameChannels;
    d.oneHot = layout == TargetLayout::OneHot;
    d.sparse = layout == TargetLayout::ClassIndex;
    // Validation scores with the metric nodes' threshold and epsilon (the first that has one).
    bool thresholdSet = false, epsilonSet = false;
    for (const auto& [id, node] : project.graph.nodes()) {
        if (node.op != ops::kDiceCoefficientOp && node.op != ops::kIoUOp)
            continue;
        auto t = node.attrs.find("threshold");
        if (!thresholdSet && t != node.attrs.end() && std::holds_alternative<double>(t->second)) {
            d.threshold = std::get<double>(t->second);
            thresholdSet = true;
        }
        auto e = node.attrs.find("epsilon");
        if (!epsilonSet && e != node.attrs.end() && std::holds_alternative<double>(e->second)) {
            d.metricEpsilon = std::get<double>(e->second);
            epsilonSet = true;
        }
    }
    d.validationSplit = project.training.validationSplit;
    if (d.images.empty())
        d.images = "images";
    if (d.masks.empty())
        d.masks = "masks";
    return d;
}

std::string scriptHeader(const Project& project, const std::string& framework) {
    const bool keras = framework == "keras";
    std::string s = strCat(
        "#!/usr/bin/env python3\n\"\"\"", project.name, " — exported by SegForge ", kVersion,
        " for ", keras ? "Keras 3" : "PyTorch", ".\n\n",
        "Builds the network of the SegForge project with the same layer names,\n"
        "loads SegForge weights (safetensors, '<layer>/<param>') when given, and\n"
        "trains on image/mask folders paired by file name.\n\n",
        keras ? "    python3 this_script.py --data DATASET_DIR [--weights W] [--epochs N]\n"
              : "    python3 this_script.py --data DATASET_DIR [--device cpu|cuda] [--amp]\n"
                "    torchrun --standalone --nproc_per_node N this_script.py --data DATASET_DIR\n\n"
                "It writes SegForge weights (--out) after every epoch, which segforge-cli\n"
                "predict and the app load; --help lists every option.\n",
        "\"\"\"\n\n"
        "import argparse\nimport json\nimport os\nimport struct\n\n"
        "import numpy as np\nfrom PIL import Image\n");
    s += keras ? "import keras\nfrom keras import layers, ops\n"
               : "import math\nimport random\n\nimport torch\nimport torch.distributed as dist\n"
                 "import torch.nn as nn\nimport torch.nn.functional as F\n";
    s += pythonSource("read_safetensors");
    return s;
}

namespace {

/// What both data readers (Keras' NumPy one, PyTorch's Dataset) are told.
std::vector<std::pair<std::string, std::string>> dataPlaceholders(const ScriptData& d) {
    return {{"SEGFORGE_HEIGHT", std::to_string(d.height)},
            {"SEGFORGE_WIDTH", std::to_string(d.width)},
            {"SEGFORGE_CHANNELS", std::to_string(d.channels)},
            {"SEGFORGE_CLASSES", std::to_string(d.classes)},
            {"SEGFORGE_MASK_SUFFIX", pythonString(d.maskSuffix)},
            {"SEGFORGE_MASK_MODE", pythonString(d.maskMode)},
            {"SEGFORGE_BATCH_SIZE", std::to_string(d.batchSize)}};
}

} // namespace

std::string scriptDataReader(const ScriptData& d) {
    // The target each loss reads: one-hot classes, class indices, or the mask per channel.
    const std::string target =
        d.oneHot   ? "np.eye(NUM_CLASSES, dtype=\"float32\")[mask.astype(\"int64\")]"
        : d.sparse ? "mask.astype(\"float32\")[..., None]  # class indices"
                   : "np.repeat(mask.astype(\"float32\")[..., None], NUM_CLASSES, axis=-1)";
    auto values = dataPlaceholders(d);
    values.insert(values.end(), {{"SEGFORGE_IMAGES", pythonString(d.images)},
                                 {"SEGFORGE_MASKS", pythonString(d.masks)},
                                 {"SEGFORGE_TARGET", target}});
    return fillPlaceholders(pythonSource("data_reader"), values);
}

std::string scriptTorchData(const ScriptData& d) {
    const std::string target = d.oneHot ? "one_hot" : d.sparse ? "class_index" : "same_channels";
    auto values = dataPlaceholders(d);
    values.insert(values.end(), {{"SEGFORGE_SIZE_POLICY", pythonString(d.sizePolicy)},
                                 {"SEGFORGE_VALIDATION_SPLIT", pyFloat(d.validationSplit)},
                                 {"SEGFORGE_FLIPS", pyBool(d.flips)},
                                 {"SEGFORGE_ROTATE90", pyBool(d.rotate90)},
                                 {"SEGFORGE_BRIGHTNESS", pyFloat(d.brightness)},
                                 {"SEGFORGE_CONTRAST", pyFloat(d.contrast)},
                                 {"SEGFORGE_TARGET", pythonString(target)}});
    std::string text = fillPlaceholders(pythonSource("pytorch_data"), values);
    text += fillPlaceholders(pythonSource("pytorch_metrics"),
                             {{"SEGFORGE_THRESHOLD", pyFloat(d.threshold)},
                              {"SEGFORGE_METRIC_EPSILON", pyFloat(d.metricEpsilon)}});
    return text;
}

std::string scriptMain(const Project& project, const std::string& weights,
                       const std::string& body) {
    std::string text = fillPlaceholders(
        pythonSource("script_main"),
        {{"SEGFORGE_DESCRIPTION", pythonString("Train " + project.name)},
         {"SEGFORGE_WEIGHTS", weights.empty() ? std::string("None") : pythonString(weights)},
         {"SEGFORGE_EPOCHS", std::to_string(project.training.epochs)},
         {"SEGFORGE_LR", pyFloat(project.training.learningRate)},
         {"SEGFORGE_SEED", std::to_string(project.training.seed)}});
    // The training loop (whole lines, indented for main()) in place of the SEGFORGE_TRAIN line.
    const std::string train = "    SEGFORGE_TRAIN\n";
    const std::size_t at = text.find(train);
    if (at == std::string::npos)
        throw std::logic_error("resources/python/script_main.py has no SEGFORGE_TRAIN line");
    return text.replace(at, train.size(), body);
}

} // namespace segforge::core::interop
