#include "keras/keras_archive.hpp"
#include "keras/keras_import.hpp"
#include "util/bounded_json.hpp"
#include "util/file_text.hpp"
#include "util/str_cat.hpp"

// Reading Keras files: JSON text or a .keras archive, told apart by content.

namespace segforge::core {

using nlohmann::json;
using namespace interop;

namespace {

/// A Keras model JSON is at most a few megabytes; a .keras archive is opened
/// by libzip and only its config.json is read (keras_archive.cpp).
constexpr std::uint64_t kMaxKerasJsonBytes = 256ull << 20;

} // namespace

bool isKerasModelJson(const json& doc) {
    return doc.is_object() && doc.contains("class_name") && doc["class_name"].is_string() &&
           doc.contains("config") && (doc["config"].is_object() || doc["config"].is_array());
}

KerasImport importKerasJson(std::string_view text, const std::string& fileLabel) {
    BoundedJson parsed = parseBoundedJson(text);
    if (!parsed.ok()) {
        KerasImport out;
        out.errors.push_back(strCat(fileLabel, ":", parsed.error));
        return out;
    }
    return importKerasModel(parsed.value, fileLabel);
}

KerasImport importKerasFile(const std::filesystem::path& path) {
    std::string error;
    std::optional<std::string> text;
    std::string label = path.string();
    if (looksLikeZipFile(path)) {
        text = readKerasArchiveConfig(path, error);
        label += ":config.json";
    } else {
        text = readFileText(path, kMaxKerasJsonBytes, error);
    }
    if (!text) {
        KerasImport out;
        out.errors.push_back(error);
        return out;
    }
    return importKerasJson(*text, label);
}

bool looksLikeKerasFile(const std::filesystem::path& path) {
    if (looksLikeZipFile(path))
        return true;
    std::string error;
    const auto text = readFileText(path, kMaxKerasJsonBytes, error);
    if (!text)
        return false;
    const BoundedJson parsed = parseBoundedJson(*text);
    const json& doc = parsed.value;
    return parsed.ok() && isKerasModelJson(doc) &&
           !(doc.contains("format") && doc["format"] == kProjectFormatName);
}

} // namespace segforge::core
