#include "engine/weights.hpp"

#include "io/safetensors.hpp"
#include "util/str_cat.hpp"

namespace segforge::core {

std::string saveWeights(Executor& executor, const std::filesystem::path& path) {
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const Parameter& p : executor.parameters())
        tensors.emplace_back(p.name, &p.value);
    return saveSafetensors(path, tensors, {{"format", "segforge"}});
}

std::string loadWeights(Executor& executor, const std::filesystem::path& path) {
    std::string error;
    SafetensorsData data = loadSafetensors(path, error);
    if (!error.empty())
        return error;
    for (const Parameter& p : executor.parameters()) {
        auto it = data.tensors.find(p.name);
        if (it == data.tensors.end())
            return strCat(path.filename().string(), " has no tensor '", p.name, "'");
        if (it->second.shape() != p.value.shape())
            return strCat(path.filename().string(), ": '", p.name, "' is ", it->second.shape().toString(),
                          " but the graph needs ", p.value.shape().toString());
    }
    if (data.tensors.size() != executor.parameters().size()) {
        for (const auto& [name, t] : data.tensors) {
            bool known = false;
            for (const Parameter& p : executor.parameters())
                known = known || p.name == name;
            if (!known)
                return strCat(path.filename().string(), " holds '", name, "', which this graph does not have");
        }
    }
    for (Parameter& p : executor.parameters())
        p.value = std::move(data.tensors.at(p.name));
    return {};
}

} // namespace segforge::core
