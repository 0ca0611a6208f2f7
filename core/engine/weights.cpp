#include "engine/weights.hpp"

#include "io/safetensors.hpp"
#include "kernels/tensor_sweeps.hpp"
#include "util/str_cat.hpp"

namespace segforge::core {

std::string saveWeights(Executor& executor, const std::filesystem::path& path) {
    return saveWeights(executor, path, {},
                       [](const Parameter& p) { return std::optional<std::string>(p.name); });
}

std::string saveWeights(Executor& executor, const std::filesystem::path& path,
                        const std::map<std::string, std::string>& metadata,
                        const std::function<std::optional<std::string>(const Parameter&)>& keyOf) {
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const Parameter& p : executor.parameters())
        if (auto key = keyOf(p))
            tensors.emplace_back(std::move(*key), &p.value);
    std::map<std::string, std::string> meta = metadata;
    meta.emplace("format", "segforge");
    return saveSafetensors(path, tensors, meta);
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
            return strCat(path.filename().string(), ": '", p.name, "' is ",
                          it->second.shape().toString(), " but the graph needs ",
                          p.value.shape().toString());
    }
    if (data.tensors.size() != executor.parameters().size()) {
        for (const auto& [name, t] : data.tensors) {
            bool known = false;
            for (const Parameter& p : executor.parameters())
                known = known || p.name == name;
            if (!known)
                return strCat(path.filename().string(), " holds '", name,
                              "', which this graph does not have");
        }
    }
    for (Parameter& p : executor.parameters())
        p.value = std::move(data.tensors.at(p.name));
    return {};
}

WeightsMatch loadMatchingWeights(Executor& executor, const std::filesystem::path& path,
                                 const WeightsFilter& accept) {
    WeightsMatch m;
    SafetensorsData data = loadSafetensors(path, m.error);
    if (!m.error.empty())
        return m;
    return loadMatchingWeights(executor, std::move(data.tensors), data.metadata, accept);
}

WeightsMatch loadMatchingWeights(Executor& executor, std::map<std::string, Tensor> tensors,
                                 const std::map<std::string, std::string>& metadata,
                                 const WeightsFilter& accept) {
    WeightsMatch m;
    m.metadata = metadata;
    std::map<std::string, bool> used;
    for (const auto& [name, t] : tensors)
        used[name] = false;
    for (Parameter& p : executor.parameters()) {
        auto it = tensors.find(p.name);
        if (it == tensors.end()) {
            m.missing.push_back(p.name);
            continue;
        }
        used[p.name] = true;
        Tensor& t = it->second;
        if (t.shape() != p.value.shape() || t.dtype() != p.value.dtype()) {
            m.mismatched.push_back(strCat(p.name, ": file ", t.shape().toString(), ", graph ",
                                          p.value.shape().toString()));
            continue;
        }
        if (!kernels::allFinite(
                t.f32(), t.numel())) { // NaN weights would only move the failure to the first step
            m.mismatched.push_back(strCat(p.name, ": holds NaN or Inf"));
            continue;
        }
        if (accept && !accept(p, m.metadata)) {
            m.refused.push_back(p.name);
            continue;
        }
        p.value = std::move(t);
        m.loaded.push_back(p.name);
    }
    for (const auto& [name, wasUsed] : used)
        if (!wasUsed)
            m.unused.push_back(name);
    return m;
}

std::string describeWeightsMatch(const WeightsMatch& m) {
    if (!m.error.empty())
        return m.error;
    const std::size_t total =
        m.loaded.size() + m.missing.size() + m.mismatched.size() + m.refused.size();
    std::string out = strCat(m.loaded.size(), " of ", total, " tensors loaded");
    auto list = [&out](const char* what, const std::vector<std::string>& names) {
        if (names.empty())
            return;
        out += strCat("; ", what, ": ");
        for (std::size_t i = 0; i < names.size(); ++i)
            out += (i ? ", " : "") + names[i];
    };
    list("changed layers", m.refused);
    list("other shape", m.mismatched);
    list("not in the file", m.missing);
    list("not in the graph", m.unused);
    return out;
}

} // namespace segforge::core
