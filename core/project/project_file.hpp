#pragma once

#include "project/project.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// Outcome of reading a project. `errors` are fatal (no project); `warnings`
/// were tolerated (unknown keys). Every message reads `file:path.to.field: what`.
struct ProjectLoad {
    std::optional<Project> project;
    std::vector<std::string> errors;
    std::vector<std::string> warnings;
    bool ok() const { return project.has_value(); }
};

/// Parses and validates a project from text; `fileLabel` prefixes messages.
ProjectLoad parseProject(const std::string& text, const std::string& fileLabel);
/// Reads a project file. Never throws for bad input.
ProjectLoad loadProject(const std::filesystem::path& path);

/// Keys in a fixed, readable order (format and version first) so diffs stay small.
nlohmann::ordered_json projectToJson(const Project& project);
/// Writes atomically and durably (io/atomic_file: temp file, fsync, rename,
/// directory fsync). Returns an error message, or an empty string on success.
std::string saveProject(const Project& project, const std::filesystem::path& path);

/// A name the weights section may hold: a file in the project's own folder
/// (not empty, not "." or "..", no '/', '\\' or NUL).
bool isPlainFileName(const std::string& name);

/// AttrValue ⇄ JSON (lists of lists of ints are flattened: cropping ((1, 1), (2, 2))).
nlohmann::json attrToJson(const AttrValue& value);
std::optional<AttrValue> attrFromJson(const nlohmann::json& value);

} // namespace segforge::core
