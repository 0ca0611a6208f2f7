#include "project/dataset_location.hpp"

#include "ops/op_helpers.hpp"

namespace segforge::core {

std::optional<DatasetSpec> datasetSpecOf(const Node& dataset,
                                         const std::filesystem::path& projectFile) {
    auto text = [&](const char* name) {
        auto v = ops::resolvedAttr(dataset, name);
        return v ? std::get<std::string>(*v) : std::string();
    };
    const std::string images = text("images");
    if (images.empty())
        return std::nullopt;
    const std::filesystem::path base =
        projectFile.empty() ? std::filesystem::current_path() : projectFile.parent_path();
    auto resolve = [&](const std::string& p) {
        std::filesystem::path path(p);
        return path.is_absolute() ? path : base / path;
    };
    DatasetSpec spec;
    spec.imagesDir = resolve(images);
    const std::string masks = text("masks");
    spec.masksDir = masks.empty() ? spec.imagesDir : resolve(masks);
    const std::string suffix = text("mask_suffix");
    if (!suffix.empty())
        spec.maskSuffix = suffix;
    return spec;
}

} // namespace segforge::core
