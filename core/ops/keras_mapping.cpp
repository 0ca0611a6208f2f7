#include "ops/keras_mapping.hpp"

#include <algorithm>

namespace segforge::core {

const KerasForm* kerasExportForm(const KerasMapping& mapping, const AttrMap& attrs) {
    for (const KerasForm& form : mapping.forms) {
        if (form.importOnly)
            continue;
        const bool matches =
            std::all_of(form.implies.begin(), form.implies.end(), [&](const auto& kv) {
                auto it = attrs.find(kv.first);
                return it != attrs.end() && it->second == kv.second;
            });
        if (matches)
            return &form;
    }
    return nullptr;
}

std::vector<std::int64_t> kerasPoolStrides(const AttrMap& attrs, const std::string& stridesAttr) {
    std::vector<std::int64_t> strides = std::get<std::vector<std::int64_t>>(attrs.at(stridesAttr));
    const auto& pool = std::get<std::vector<std::int64_t>>(attrs.at("pool_size"));
    for (std::size_t i = 0; i < strides.size() && i < pool.size(); ++i) {
        if (strides[i] == 0)
            strides[i] = pool[i];
    }
    return strides;
}

std::string kerasInitializerClassName(const std::string& name) {
    if (name == "he_normal")
        return "HeNormal";
    if (name == "zeros")
        return "Zeros";
    if (name == "ones")
        return "Ones";
    return "GlorotUniform";
}

std::string kerasInitializerJson(const std::string& name) {
    // Keras 3 writes a seed (null: none) for the random initializers only.
    const bool seeded = name == "glorot_uniform" || name == "he_normal";
    return "{\"module\": \"keras.initializers\", \"class_name\": \"" +
           kerasInitializerClassName(name) +
           "\", \"config\": " + (seeded ? "{\"seed\": null}" : "{}") +
           ", \"registered_name\": null}";
}

std::vector<KerasFixed> kerasRegularizers(const std::vector<std::string>& keys) {
    std::vector<KerasFixed> fixed;
    for (const std::string& key : keys)
        fixed.push_back({key, "null", "SegForge trains without regularizers and constraints"});
    return fixed;
}

std::vector<KerasFixed> operator+(std::vector<KerasFixed> a, const std::vector<KerasFixed>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<KerasAttr> operator+(std::vector<KerasAttr> a, const std::vector<KerasAttr>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

std::vector<KerasAttr> kerasConvolutionWindow() {
    return {{"filters", "filters", KerasValue::Int, std::nullopt, {}, true},
            {"kernel_size", "kernel_size", KerasValue::Pair},
            {"strides", "strides", KerasValue::Pair, std::int64_t{1}},
            {"padding", "padding", KerasValue::Lowercase, std::string("valid")},
            {"dilation_rate", "dilation_rate", KerasValue::Pair, std::int64_t{1}}};
}

std::vector<KerasFixed> kerasLoraKeys() {
    return {{.key = "lora_rank", .ignoredWhy = "LoRA adapters are not imported", .written = false},
            {.key = "lora_alpha", .written = false}};
}

} // namespace segforge::core
