#include "interop/keras_import.hpp"

#include "interop/keras_archive.hpp"
#include "util/str_cat.hpp"

#include <fstream>
#include <sstream>

// Reading Keras files: JSON text or a .keras archive, told apart by content.

namespace segforge::core {

using nlohmann::json;
using namespace interop;

namespace {

std::optional<std::string> readFile(const std::filesystem::path& path, std::string& error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = path.string() + ": cannot open the file";
        return std::nullopt;
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace

bool isKerasModelJson(const json& doc) {
    return doc.is_object() && doc.contains("class_name") && doc["class_name"].is_string() &&
           doc.contains("config") && (doc["config"].is_object() || doc["config"].is_array());
}

KerasImport importKerasJson(std::string_view text, const std::string& fileLabel) {
    json doc = json::parse(text.begin(), text.end(), nullptr, false);
    if (doc.is_discarded()) {
        // Parse again with exceptions for the position and reason.
        KerasImport out;
        try {
            doc = json::parse(text.begin(), text.end());
        } catch (const json::parse_error& e) {
            out.errors.push_back(strCat(fileLabel, ": not valid JSON (byte ", e.byte, "): ", e.what()));
        } catch (const json::exception& e) { // e.g. out_of_range: a number too large (found by fuzzing)
            out.errors.push_back(strCat(fileLabel, ": not valid JSON: ", e.what()));
        }
        if (out.errors.empty())
            out.errors.push_back(fileLabel + ": not valid JSON");
        return out;
    }
    return importKerasModel(doc, fileLabel);
}

KerasImport importKerasFile(const std::filesystem::path& path) {
    std::string error;
    auto bytes = readFile(path, error);
    if (bytes && looksLikeZip(*bytes)) {
        bytes = readKerasArchiveConfig(path, error);
        if (bytes)
            return importKerasJson(*bytes, path.string() + ":config.json");
    }
    if (!bytes) {
        KerasImport out;
        out.errors.push_back(error);
        return out;
    }
    return importKerasJson(*bytes, path.string());
}

bool looksLikeKerasFile(const std::filesystem::path& path) {
    std::string error;
    auto bytes = readFile(path, error);
    if (!bytes)
        return false;
    if (looksLikeZip(*bytes))
        return true;
    json doc = json::parse(*bytes, nullptr, false);
    return !doc.is_discarded() && isKerasModelJson(doc) &&
           !(doc.contains("format") && doc["format"] == kProjectFormatName);
}

} // namespace segforge::core
