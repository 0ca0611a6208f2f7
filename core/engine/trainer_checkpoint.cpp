// Checkpoints: the parameters under their weights-file names, the optimizer's
// per-parameter state as "optimizer/<slot>/<index>", and the position and the
// current epoch's running sums in the metadata (hex floats, so a resumed run
// reports exactly what an uninterrupted one would).

#include "engine/trainer.hpp"

#include "io/safetensors.hpp"
#include "util/str_cat.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace segforge::core {

namespace {

constexpr const char* kCheckpointFormat = "segforge-checkpoint";
constexpr const char* kMetricPrefix = "metric_sum/";

std::string exact(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", v);
    return buf;
}

bool parseNumber(const std::map<std::string, std::string>& meta, const std::string& key, double& out) {
    auto it = meta.find(key);
    if (it == meta.end() || it->second.empty())
        return false;
    char* end = nullptr;
    out = std::strtod(it->second.c_str(), &end);
    return end && *end == '\0';
}

std::string slotKey(const std::string& slot, std::size_t index) {
    return strCat("optimizer/", slot, "/", index);
}

} // namespace

std::string Trainer::saveCheckpoint(const std::filesystem::path& path) const {
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const Parameter& p : m_executor.parameters())
        tensors.emplace_back(p.name, &p.value);
    std::vector<Tensor> state; // copies: the optimizer keeps std::vector<float>, safetensors wants Tensors
    const auto slots = m_optimizer->state();
    for (const auto& [slot, perParam] : slots)
        for (const auto& values : *perParam) {
            Tensor t(Shape{static_cast<std::int64_t>(values.size())}, DType::Float32);
            if (!values.empty())
                std::memcpy(t.f32(), values.data(), values.size() * sizeof(float));
            state.push_back(std::move(t));
        }
    std::size_t k = 0;
    for (const auto& [slot, perParam] : slots)
        for (std::size_t i = 0; i < perParam->size(); ++i)
            tensors.emplace_back(slotKey(slot, i), &state[k++]);
    std::map<std::string, std::string> meta{
        {"format", kCheckpointFormat},
        {"optimizer", m_settings.optimizer.kind},
        {"optimizer_iterations", std::to_string(m_optimizer->iterations())},
        {"epoch", std::to_string(m_epoch)},
        {"batch", std::to_string(m_batch)},
        {"step", std::to_string(m_step)},
        {"seed", std::to_string(m_settings.seed)},
        {"loss_sum", exact(m_acc.lossSum)},
        {"ms_sum", exact(m_acc.msSum)},
        {"seconds", exact(m_acc.seconds)},
        {"batches", std::to_string(m_acc.batches)},
    };
    for (const auto& [name, sum] : m_acc.metricSums)
        meta[kMetricPrefix + name] = exact(sum);
    return saveSafetensors(path, tensors, meta);
}

std::string Trainer::loadCheckpoint(const std::filesystem::path& path) {
    std::string error;
    SafetensorsData data = loadSafetensors(path, error);
    if (!error.empty())
        return error;
    const std::string file = path.filename().string();
    const auto& meta = data.metadata;
    if (auto it = meta.find("format"); it == meta.end() || it->second != kCheckpointFormat)
        return strCat(file, " is not a SegForge checkpoint (a weights file? load it as weights instead)");
    if (meta.count("optimizer") == 0 || meta.at("optimizer") != m_settings.optimizer.kind)
        return strCat(file, " was written with optimizer '", meta.count("optimizer") ? meta.at("optimizer") : "?",
                      "', but this run uses '", m_settings.optimizer.kind, "'");
    double epoch = 0, batch = 0, step = 0, iterations = 0, batches = 0;
    Accumulator acc;
    if (!parseNumber(meta, "epoch", epoch) || !parseNumber(meta, "batch", batch) ||
        !parseNumber(meta, "step", step) || !parseNumber(meta, "optimizer_iterations", iterations) ||
        !parseNumber(meta, "loss_sum", acc.lossSum) || !parseNumber(meta, "ms_sum", acc.msSum) ||
        !parseNumber(meta, "seconds", acc.seconds) || !parseNumber(meta, "batches", batches))
        return strCat(file, ": the metadata lacks the training position (epoch, batch, step, sums)");
    if (batch > static_cast<double>(m_source.trainBatchCount()))
        return strCat(file, ": it stopped at batch ", batch, " but an epoch here has only ",
                      m_source.trainBatchCount(), " batches (different data or batch size)");
    acc.batches = static_cast<std::size_t>(batches);
    for (const auto& [key, value] : meta)
        if (key.rfind(kMetricPrefix, 0) == 0 && !parseNumber(meta, key, acc.metricSums[key.substr(std::strlen(kMetricPrefix))]))
            return strCat(file, ": metadata '", key, "' is not a number: '", value, "'");
    // Check everything before changing anything.
    std::size_t expected = 0;
    for (const Parameter& p : m_executor.parameters()) {
        auto it = data.tensors.find(p.name);
        if (it == data.tensors.end())
            return strCat(file, " has no tensor '", p.name, "'");
        if (it->second.shape() != p.value.shape())
            return strCat(file, ": '", p.name, "' is ", it->second.shape().toString(), " but the graph needs ",
                          p.value.shape().toString());
        ++expected;
    }
    const auto trainable = m_executor.trainableParameters();
    const auto slots = m_optimizer->state();
    std::map<std::string, std::vector<std::vector<float>>> restored;
    for (const auto& [slot, perParam] : slots) {
        auto& values = restored[slot];
        for (std::size_t i = 0;; ++i) {
            auto it = data.tensors.find(slotKey(slot, i));
            if (it == data.tensors.end())
                break;
            if (i >= trainable.size() || it->second.numel() != trainable[i].value->numel())
                return strCat(file, ": optimizer state '", slotKey(slot, i), "' does not fit this graph's parameters");
            values.emplace_back(it->second.f32(), it->second.f32() + it->second.numel());
            ++expected;
        }
        if (!values.empty() && values.size() != trainable.size())
            return strCat(file, ": optimizer state '", slot, "' covers ", values.size(), " of ", trainable.size(),
                          " parameters");
    }
    if (expected != data.tensors.size())
        return strCat(file, " holds ", data.tensors.size() - expected,
                      " tensor(s) this graph and optimizer do not have (a different network?)");
    for (Parameter& p : m_executor.parameters())
        p.value = std::move(data.tensors.at(p.name));
    for (auto& [slot, perParam] : slots)
        *perParam = std::move(restored[slot]);
    m_optimizer->setIterations(static_cast<std::int64_t>(iterations));
    m_epoch = static_cast<int>(epoch);
    m_batch = static_cast<std::size_t>(batch);
    m_step = static_cast<std::int64_t>(step);
    m_acc = std::move(acc);
    return {};
}

} // namespace segforge::core
