// Checkpoints: the parameters under their weights-file names, the optimizer's
// per-parameter state as "optimizer/<slot>/<index>", and the position and the
// current epoch's running sums in the metadata (hex floats, so a resumed run
// reports exactly what an uninterrupted one would).

#include "engine/trainer.hpp"
#include "io/safetensors.hpp"
#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace segforge::core {

namespace {

constexpr const char* kCheckpointFormat = "segforge-checkpoint";
constexpr const char* kMetricPrefix = "metric_sum/";

std::string exact(double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%a", v);
    return buf;
}

/// A metadata value as messages quote it.
std::string quotedValue(const std::string& text) {
    return quotedText(text, 40);
}

/// Reads the checkpoint's metadata with messages that name the field. A
/// checkpoint is trusted for nothing: every number is parsed strictly (a
/// double cast to int is undefined for nan or 1e300) and range-checked.
class MetadataReader {
public:
    MetadataReader(const std::map<std::string, std::string>& meta, std::string file)
        : m_meta(meta)
        , m_file(std::move(file)) {}

    /// A decimal integer in [lo, hi], written as saveCheckpoint writes it.
    bool whole(const std::string& key, std::int64_t lo, std::int64_t hi, std::int64_t& out,
               const std::string& hint = "") {
        const std::string* text = find(key);
        if (!text)
            return false;
        const char* begin = text->data();
        const char* end = begin + text->size();
        const auto [ptr, ec] = std::from_chars(begin, end, out);
        if (text->empty() || ec != std::errc() || ptr != end || out < lo || out > hi) {
            m_error = strCat(m_file, ": metadata '", key, "' = ", quotedValue(*text),
                             " is not a whole number in [", lo, ", ", hi, "]", hint);
            return false;
        }
        return true;
    }

    /// A finite number (saveCheckpoint writes hex floats, exact to the bit).
    bool finite(const std::string& key, double& out, bool nonNegative = false) {
        const std::string* text = find(key);
        if (!text)
            return false;
        char* end = nullptr;
        // strtod skips leading spaces and reads "nan" and "inf": the first is not
        // what we write, the others are refused by the test below.
        const bool spaced =
            !text->empty() && std::isspace(static_cast<unsigned char>(text->front()));
        out = text->empty() || spaced ? std::nan("") : std::strtod(text->c_str(), &end);
        if (text->empty() || spaced || !end || *end != '\0' || !std::isfinite(out) ||
            (nonNegative && out < 0)) {
            m_error = strCat(m_file, ": metadata '", key, "' = ", quotedValue(*text),
                             " is not a finite number", nonNegative ? " ≥ 0" : "");
            return false;
        }
        return true;
    }

    void fail(const std::string& key, const std::string& what) {
        m_error =
            strCat(m_file, ": metadata '", key, "' = ", quotedValue(m_meta.at(key)), " ", what);
    }
    const std::string& error() const { return m_error; }

private:
    const std::string* find(const std::string& key) {
        auto it = m_meta.find(key);
        if (it == m_meta.end()) {
            m_error = strCat(m_file, ": metadata '", key,
                             "' is missing (not a complete SegForge checkpoint)");
            return nullptr;
        }
        return &it->second;
    }

    const std::map<std::string, std::string>& m_meta;
    std::string m_file;
    std::string m_error;
};

/// "" or where the first NaN or Inf of `t` is.
std::string nonFiniteIn(const std::string& file, const std::string& name, const Tensor& t) {
    const float* p = t.f32();
    for (std::int64_t i = 0; i < t.numel(); ++i)
        if (!std::isfinite(p[i]))
            return strCat(file, ": tensor '", name, "' holds ", std::isnan(p[i]) ? "NaN" : "Inf",
                          " at element ", i,
                          "; a checkpoint is written only from finite training states");
    return {};
}

std::string slotKey(const std::string& slot, std::size_t index) {
    return strCat("optimizer/", slot, "/", index);
}

} // namespace

std::string Trainer::saveCheckpoint(const std::filesystem::path& path) const {
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const Parameter& p : m_executor.parameters())
        tensors.emplace_back(p.name, &p.value);
    std::vector<Tensor>
        state; // copies: the optimizer keeps OptimizerSlots, safetensors wants Tensors
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
    return restoreCheckpoint(std::move(data), path.filename().string());
}

std::string Trainer::loadCheckpointBytes(std::string_view bytes, const std::string& name) {
    std::string error;
    SafetensorsData data = readSafetensors(bytes, name, error);
    if (!error.empty())
        return error;
    return restoreCheckpoint(std::move(data), name);
}

std::string Trainer::restoreCheckpoint(SafetensorsData data, const std::string& file) {
    const auto& meta = data.metadata;
    if (auto it = meta.find("format"); it == meta.end() || it->second != kCheckpointFormat)
        return strCat(file,
                      " is not a SegForge checkpoint (a weights file? load it as weights instead)");
    if (meta.count("optimizer") == 0 || meta.at("optimizer") != m_settings.optimizer.kind)
        return strCat(file, " was written with optimizer ",
                      meta.count("optimizer") ? quotedValue(meta.at("optimizer")) : "'?'",
                      ", but this run uses '", m_settings.optimizer.kind, "'");

    // The position. Everything the run loop does is counted in whole batches of
    // this run's epoch length, so the fields must agree with each other exactly.
    MetadataReader read(meta, file);
    const std::int64_t epochs = m_settings.epochs;
    const auto perEpoch = static_cast<std::int64_t>(m_source.trainBatchCount());
    // Steps stay below 2^53 so that every count converts to a double exactly.
    constexpr std::int64_t kMaxCount = std::int64_t{1} << 53;
    std::int64_t epoch = 0, batch = 0, step = 0, iterations = 0, batches = 0;
    if (!read.whole("epoch", 0, epochs, epoch, strCat(" (this run has ", epochs, " epochs)")))
        return read.error();
    // A finished run (epoch == epochs) rests at batch 0; batch == perEpoch is a run
    // stopped during validation, after the epoch's last training batch.
    const std::int64_t lastBatch = epoch == epochs ? 0 : perEpoch;
    if (!read.whole("batch", 0, lastBatch, batch,
                    epoch == epochs ? " (every epoch is finished)"
                                    : strCat(" (an epoch here has ", perEpoch,
                                             " batches; different data or --batch?)")))
        return read.error();
    if (!read.whole("step", 0, kMaxCount, step))
        return read.error();
    if (step != epoch * perEpoch + batch) {
        read.fail("step",
                  strCat("does not match epoch ", epoch, ", batch ", batch, " at ", perEpoch,
                         " batches per epoch (expected ", epoch * perEpoch + batch,
                         "; was it written with different data or --batch?)"));
        return read.error();
    }
    if (!read.whole("optimizer_iterations", 0, kMaxCount, iterations))
        return read.error();
    if (iterations != step) { // one optimizer step per training batch
        read.fail("optimizer_iterations", strCat("must equal step ", step));
        return read.error();
    }
    if (!read.whole("batches", 0, kMaxCount, batches))
        return read.error();
    if (batches != batch) { // the running sums cover this epoch's finished batches
        read.fail("batches", strCat("must equal batch ", batch));
        return read.error();
    }
    Accumulator acc;
    acc.batches = static_cast<std::size_t>(batches);
    if (!read.finite("loss_sum", acc.lossSum) || !read.finite("ms_sum", acc.msSum, true) ||
        !read.finite("seconds", acc.seconds, true))
        return read.error();
    const std::vector<std::string> metricNames = m_executor.metricNames();
    for (const auto& [key, value] : meta) {
        if (key.rfind(kMetricPrefix, 0) != 0)
            continue;
        const std::string name = key.substr(std::strlen(kMetricPrefix));
        if (std::find(metricNames.begin(), metricNames.end(), name) == metricNames.end()) {
            read.fail(key, "names no metric of this graph");
            return read.error();
        }
        if (batches == 0) {
            read.fail(key, "sums a metric over no batch (metadata 'batches' is 0)");
            return read.error();
        }
        if (!read.finite(key, acc.metricSums[name]))
            return read.error();
    }
    if (batches > 0)
        for (const auto& name : metricNames)
            if (acc.metricSums.count(name) == 0)
                return strCat(file, ": metadata '", kMetricPrefix, name,
                              "' is missing (the sum of metric '", name, "' over this epoch's ",
                              batches, " batches)");

    // The tensors: this graph's parameters and this optimizer's state, finite.
    std::size_t expected = 0;
    for (const Parameter& p : m_executor.parameters()) {
        auto it = data.tensors.find(p.name);
        if (it == data.tensors.end())
            return strCat(file, " has no tensor '", p.name, "'");
        if (it->second.shape() != p.value.shape())
            return strCat(file, ": '", p.name, "' is ", it->second.shape().toString(),
                          " but the graph needs ", p.value.shape().toString());
        if (std::string err = nonFiniteIn(file, p.name, it->second); !err.empty())
            return err;
        ++expected;
    }
    const auto trainable = m_executor.trainableParameters();
    const auto slots = m_optimizer->state();
    std::map<std::string, std::vector<OptimizerSlot>> restored;
    for (const auto& [slot, perParam] : slots) {
        auto& values = restored[slot];
        for (std::size_t i = 0;; ++i) {
            const std::string key = slotKey(slot, i);
            auto it = data.tensors.find(key);
            if (it == data.tensors.end())
                break;
            if (i >= trainable.size() || it->second.numel() != trainable[i].value->numel())
                return strCat(file, ": optimizer state '", key,
                              "' does not fit this graph's parameters");
            if (std::string err = nonFiniteIn(file, key, it->second); !err.empty())
                return err;
            // Adam divides by the square root of its second moment: a negative one is
            // a NaN the next step would blame on a healthy layer.
            if (slot == "v")
                for (std::int64_t k = 0; k < it->second.numel(); ++k)
                    if (it->second.f32()[k] < 0)
                        return strCat(file, ": tensor '", key,
                                      "' holds a negative second moment at element ", k);
            values.emplace_back(it->second.f32(), it->second.f32() + it->second.numel());
            ++expected;
        }
        // The optimizer creates its state at its first step, for every parameter.
        const std::size_t want = iterations > 0 ? trainable.size() : 0;
        if (values.size() != want)
            return strCat(file, ": optimizer state '", slot, "' covers ", values.size(), " of ",
                          trainable.size(), " parameters, but after ", iterations,
                          " optimizer steps it must cover ", want);
    }
    if (expected != data.tensors.size())
        return strCat(file, " holds ", data.tensors.size() - expected,
                      " tensor(s) this graph and optimizer do not have (a different network?)");

    // Everything fits: only now change the trainer.
    for (Parameter& p : m_executor.parameters())
        p.value = std::move(data.tensors.at(p.name));
    for (auto& [slot, perParam] : slots)
        *perParam = std::move(restored[slot]);
    m_optimizer->setIterations(iterations);
    m_epoch = static_cast<int>(epoch);
    m_batch = static_cast<std::size_t>(batch);
    m_step = step;
    m_acc = std::move(acc);
    return {};
}

} // namespace segforge::core
