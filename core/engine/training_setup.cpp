#include "engine/training_setup.hpp"

#include "engine/node_attributes.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <stdexcept>

namespace segforge::core {

namespace {

const std::string& stringAttr(const AttrMap& attrs, const char* name) {
    return std::get<std::string>(attrs.at(name));
}

std::int64_t intAttr(const AttrMap& attrs, const char* name) {
    return std::get<std::int64_t>(attrs.at(name));
}

std::filesystem::path resolve(const Project& project, const std::string& folder) {
    const std::filesystem::path p(folder);
    if (p.is_absolute() || project.sourcePath.empty())
        return p;
    return project.sourcePath.parent_path() / p;
}

} // namespace

const Node* findDatasetNode(const Graph& graph, std::string& error) {
    const Node* found = nullptr;
    for (const auto& [id, node] : graph.nodes()) {
        const OpSchema* schema = OpRegistry::builtin().find(node.op);
        if (!schema || !schema->traits.readsDataset)
            continue;
        if (found) {
            error = strCat("the graph has two Dataset nodes ('", found->name, "' and '", node.name,
                           "'); training reads one");
            return nullptr;
        }
        found = &node;
    }
    if (!found)
        error = "the graph has no Dataset node to read training data from";
    return found;
}

PipelineOptions pipelineOptionsFor(const Project& project, const Node& dataset,
                                   const TrainingOverrides& overrides) {
    const OpSchema* schema = OpRegistry::builtin().find(dataset.op);
    const AttrMap attrs = resolveAttributes(*schema, dataset);
    PipelineOptions o;
    if (overrides.dataDir) {
        o.spec.imagesDir = *overrides.dataDir / "images";
        o.spec.masksDir = *overrides.dataDir / "masks";
    } else {
        if (stringAttr(attrs, "images").empty())
            throw std::invalid_argument(
                strCat("Dataset '", dataset.name, "' has no images folder"));
        o.spec.imagesDir = resolve(project, stringAttr(attrs, "images"));
        o.spec.masksDir = stringAttr(attrs, "masks").empty()
                              ? o.spec.imagesDir
                              : resolve(project, stringAttr(attrs, "masks"));
    }
    o.spec.maskSuffix = stringAttr(attrs, "mask_suffix");
    const auto mode = parseMaskMode(stringAttr(attrs, "mask_mode"));
    if (!mode)
        throw std::invalid_argument(strCat("Dataset '", dataset.name, "': unknown mask_mode"));
    o.maskMode = *mode;
    const std::string& policy = stringAttr(attrs, "size_policy");
    o.sizePolicy = policy == "resize"        ? SizePolicy::Resize
                   : policy == "crop_or_pad" ? SizePolicy::CropOrPad
                                             : SizePolicy::Exact;
    o.height = static_cast<int>(intAttr(attrs, "height"));
    o.width = static_cast<int>(intAttr(attrs, "width"));
    o.stopOnError = stringAttr(attrs, "on_error") == "stop";
    o.augment.flips = std::get<bool>(attrs.at("augment_flips"));
    o.augment.rotate90 = std::get<bool>(attrs.at("augment_rotate90"));
    o.augment.brightness = std::get<double>(attrs.at("augment_brightness"));
    o.augment.contrast = std::get<double>(attrs.at("augment_contrast"));
    o.batchSize = static_cast<std::size_t>(
        overrides.batchSize.value_or(static_cast<int>(intAttr(attrs, "batch_size"))));
    o.validationFraction = project.training.validationSplit;
    o.seed = overrides.seed.value_or(static_cast<std::uint64_t>(project.training.seed));
    return o;
}

TrainerSettings trainerSettingsFor(const TrainingSettings& training,
                                   const TrainingOverrides& overrides,
                                   std::size_t batchesPerEpoch) {
    TrainerSettings s;
    s.epochs = overrides.epochs.value_or(static_cast<int>(training.epochs));
    s.seed = overrides.seed.value_or(static_cast<std::uint64_t>(training.seed));
    s.threads = overrides.threads.value_or(static_cast<int>(training.threads));
    s.optimizer.kind = training.optimizer;
    s.optimizer.momentum = training.momentum;
    s.optimizer.weightDecay = training.weightDecay;
    s.schedule.kind = training.schedule;
    s.schedule.base = overrides.learningRate.value_or(training.learningRate);
    const auto total =
        static_cast<std::int64_t>(s.epochs) * static_cast<std::int64_t>(batchesPerEpoch);
    s.schedule.stepSize = std::max<std::int64_t>(1, total / 3);
    s.schedule.gamma = 0.1;
    s.schedule.totalSteps = std::max<std::int64_t>(1, total);
    return s;
}

} // namespace segforge::core
