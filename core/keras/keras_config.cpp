#include "keras/keras_config.hpp"

#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <cstdio>

namespace segforge::core::interop {

using nlohmann::json;

std::string jsonPath(const std::string& base, const std::string& key) {
    return base.empty() ? key : base + "." + key;
}

std::string jsonPath(const std::string& base, std::size_t index) {
    return strCat(base, "[", index, "]");
}

namespace {

std::int64_t asInt(const json& v, const std::string& path, const char* what) {
    if (v.is_number_integer())
        return v.get<std::int64_t>();
    // Keras writes some integers as floats (2.0) after a round trip through Python.
    if (v.is_number_float()) {
        const double d = v.get<double>();
        // Range first: converting a double outside int64 is undefined (UBSan,
        // found by fuzzing with "filters": 1e112).
        if (d > -1e15 && d < 1e15 && d == static_cast<double>(static_cast<std::int64_t>(d)))
            return static_cast<std::int64_t>(d);
    }
    throw KerasFormatError(path, strCat("expected ", what, ", got ", jsonTypeName(v)));
}

} // namespace

KerasConfig::KerasConfig(const json& config, std::string path, ImportLog& log, std::string subject)
    : m_config(config)
    , m_path(std::move(path))
    , m_log(log)
    , m_subject(std::move(subject)) {
    if (!m_config.is_object())
        throw KerasFormatError(m_path,
                               "expected a layer config object, got " + jsonTypeName(m_config));
}

bool KerasConfig::has(const std::string& key) {
    const json* v = raw(key);
    return v && !v->is_null();
}

const json* KerasConfig::raw(const std::string& key) {
    m_read.insert(key);
    auto it = m_config.find(key);
    return it == m_config.end() ? nullptr : &*it;
}

const json& KerasConfig::field(const std::string& key, const char* what) {
    const json* v = raw(key);
    if (!v || v->is_null())
        throw KerasFormatError(pathOf(key),
                               strCat("missing required field '", key, "' (", what, ")"));
    return *v;
}

std::int64_t KerasConfig::integer(const std::string& key, std::optional<std::int64_t> def) {
    if (!has(key) && def)
        return *def;
    return asInt(field(key, "an integer"), pathOf(key), "an integer");
}

double KerasConfig::number(const std::string& key, double def) {
    if (!has(key))
        return def;
    const json& v = field(key, "a number");
    if (!v.is_number())
        throw KerasFormatError(pathOf(key), "expected a number, got " + jsonTypeName(v));
    return v.get<double>();
}

bool KerasConfig::boolean(const std::string& key, bool def) {
    if (!has(key))
        return def;
    const json& v = field(key, "true or false");
    if (!v.is_boolean())
        throw KerasFormatError(pathOf(key), "expected true or false, got " + jsonTypeName(v));
    return v.get<bool>();
}

std::string KerasConfig::string(const std::string& key, std::optional<std::string> def) {
    if (!has(key) && def)
        return *def;
    const json& v = field(key, "a string");
    if (!v.is_string())
        throw KerasFormatError(pathOf(key), "expected a string, got " + jsonTypeName(v));
    return v.get<std::string>();
}

std::vector<std::int64_t> KerasConfig::pair(const std::string& key,
                                            std::optional<std::int64_t> def) {
    if (!has(key) && def)
        return {*def, *def};
    const json& v = field(key, "an integer or a pair");
    const std::string p = pathOf(key);
    if (!v.is_array()) {
        const std::int64_t n = asInt(v, p, "an integer or a pair [height, width]");
        return {n, n};
    }
    if (v.size() != 2)
        throw KerasFormatError(
            p, strCat("expected a pair [height, width], got ", v.size(), " values"));
    return {asInt(v[0], jsonPath(p, 0), "an integer"), asInt(v[1], jsonPath(p, 1), "an integer")};
}

std::vector<std::int64_t> KerasConfig::quad(const std::string& key, std::int64_t def) {
    if (!has(key))
        return {def, def, def, def};
    const json& v = field(key, "an integer or pairs");
    const std::string p = pathOf(key);
    if (!v.is_array()) {
        const std::int64_t n = asInt(v, p, "an integer, [h, w] or [[top, bottom], [left, right]]");
        return {n, n, n, n};
    }
    if (v.size() != 2)
        throw KerasFormatError(p, strCat("expected [h, w] or [[top, bottom], [left, right]], got ",
                                         v.size(), " values"));
    std::vector<std::int64_t> out;
    for (std::size_t i = 0; i < 2; ++i) {
        const std::string pi = jsonPath(p, i);
        if (v[i].is_array()) {
            if (v[i].size() != 2)
                throw KerasFormatError(pi, strCat("expected a pair, got ", v[i].size(), " values"));
            out.push_back(asInt(v[i][0], jsonPath(pi, 0), "an integer"));
            out.push_back(asInt(v[i][1], jsonPath(pi, 1), "an integer"));
        } else {
            const std::int64_t n = asInt(v[i], pi, "an integer or a pair");
            out.push_back(n);
            out.push_back(n);
        }
    }
    return out;
}

std::optional<std::vector<std::optional<std::int64_t>>> KerasConfig::shape(const std::string& key) {
    if (!has(key))
        return std::nullopt;
    const json& v = *raw(key);
    const std::string p = pathOf(key);
    if (!v.is_array())
        throw KerasFormatError(p, "expected a shape (a list of sizes), got " + jsonTypeName(v));
    std::vector<std::optional<std::int64_t>> dims;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i].is_null())
            dims.push_back(std::nullopt);
        else
            dims.push_back(asInt(v[i], jsonPath(p, i), "a size or null"));
    }
    return dims;
}

void KerasConfig::accept(std::initializer_list<const char*> keys) {
    for (const char* k : keys)
        m_read.insert(k);
}

void KerasConfig::acceptAll() {
    for (auto it = m_config.begin(); it != m_config.end(); ++it)
        m_read.insert(it.key());
}

void KerasConfig::ignoreIfSet(const std::string& key, const std::string& why, const json& neutral) {
    const json* v = raw(key);
    if (!v || v->is_null() || *v == neutral)
        return;
    m_log.warning(
        pathOf(key), strCat("'", key, "' = ", jsonExcerpt(*v), " is ignored: ", why),
        {strCat(key, " ", describeKerasValue(*v), " ignored"), subject(), strCat(": ", why)});
}

void KerasConfig::finish(const std::string& label) {
    for (auto it = m_config.begin(); it != m_config.end(); ++it) {
        if (!m_read.count(it.key()))
            m_log.warning(pathOf(it.key()),
                          strCat("unknown field '", it.key(), "' of ", label, " is ignored"),
                          {strCat("unknown field '", it.key(), "' ignored"),
                           m_subject.empty() ? label : m_subject});
    }
}

std::string KerasConfig::subject() const {
    return m_subject.empty() ? m_path : m_subject;
}

namespace {

/// 9.999999747378752e-05 (a float32 written as a double) → "0.0001".
std::string shortNumber(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

} // namespace

std::string describeKerasValue(const json& value) {
    if (!value.is_object() || !value.contains("class_name") || !value["class_name"].is_string())
        return jsonExcerpt(value);
    std::string args;
    if (auto c = value.find("config"); c != value.end() && c->is_object()) {
        for (auto it = c->begin(); it != c->end(); ++it) {
            const json& x = it.value();
            std::string text;
            if (x.is_number_float()) {
                if (x.get<double>() == 0.0)
                    continue;
                text = shortNumber(x.get<double>());
            } else if (x.is_number_integer()) {
                if (x.get<std::int64_t>() == 0)
                    continue;
                text = std::to_string(x.get<std::int64_t>());
            } else if (x.is_null()) {
                continue;
            } else {
                text = jsonExcerpt(x, 24);
            }
            args += (args.empty() ? "" : ", ") + it.key() + "=" + text;
        }
    }
    return strCat(value["class_name"].get<std::string>(), "(", args, ")");
}

} // namespace segforge::core::interop
