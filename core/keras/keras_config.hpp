#pragma once

// Reading one Keras layer `config` object: typed getters with Keras defaults,
// every message naming its JSON path, and a record of which fields were read
// so that the ones nobody understood are reported, not silently dropped.

#include "util/bounded_json.hpp" // jsonTypeName
#include "util/import_log.hpp"

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

namespace segforge::core::interop {

/// A fatal problem in a Keras file: `path` is the JSON path ("config.layers[3].config.filters").
class KerasFormatError : public std::runtime_error {
public:
    KerasFormatError(std::string path, const std::string& what)
        : std::runtime_error(what)
        , m_path(std::move(path)) {}
    const std::string& path() const { return m_path; }

private:
    std::string m_path;
};

/// "a.b" + "c" → "a.b.c"; "a" + 3 → "a[3]".
std::string jsonPath(const std::string& base, const std::string& key);
std::string jsonPath(const std::string& base, std::size_t index);

class KerasConfig {
public:
    /// `config` must outlive the reader. Throws KerasFormatError unless it is an object.
    /// `subject` names the layer in aggregated warnings.
    KerasConfig(const nlohmann::json& config, std::string path, ImportLog& log,
                std::string subject = "");

    const std::string& path() const { return m_path; }
    std::string pathOf(const std::string& key) const { return jsonPath(m_path, key); }
    /// The layer's name for aggregated warnings (its path when unnamed).
    std::string subject() const;

    /// Present and not null. Marks the field as read.
    bool has(const std::string& key);
    /// The raw field (nullptr when absent). Marks it as read.
    const nlohmann::json* raw(const std::string& key);

    // Typed getters: the Keras default when absent or null; a wrong type throws.
    std::int64_t integer(const std::string& key, std::optional<std::int64_t> def);
    double number(const std::string& key, double def);
    bool boolean(const std::string& key, bool def);
    std::string string(const std::string& key, std::optional<std::string> def);
    /// An int n or a list [h, w] → {h, w}.
    std::vector<std::int64_t> pair(const std::string& key, std::optional<std::int64_t> def);
    /// n, [h, w] (symmetric) or [[top, bottom], [left, right]] → {top, bottom, left, right}.
    std::vector<std::int64_t> quad(const std::string& key, std::int64_t def);
    /// A list of ints where null stands for an unknown size (shapes).
    std::optional<std::vector<std::optional<std::int64_t>>> shape(const std::string& key);

    /// Fields a layer may carry that do not change what it computes here.
    void accept(std::initializer_list<const char*> keys);
    /// Every field: for layers whose settings do not matter here at all.
    void acceptAll();
    /// Warns when the field is set (not null, not `neutral`): SegForge ignores it.
    void ignoreIfSet(const std::string& key, const std::string& why,
                     const nlohmann::json& neutral = nullptr);
    /// Warns about every field not read or accepted. `label` is "Conv2D 'c1'".
    void finish(const std::string& label);

private:
    const nlohmann::json& field(const std::string& key, const char* what);

    const nlohmann::json& m_config;
    std::string m_path;
    ImportLog& m_log;
    std::set<std::string> m_read;
    std::string m_subject;
};

/// A Keras object value as a short phrase: {"class_name": "L2", "config":
/// {"l2": 1e-4}} → "L2(l2=0.0001)" (zero and null settings left out); other
/// values as a JSON excerpt.
std::string describeKerasValue(const nlohmann::json& value);

} // namespace segforge::core::interop
