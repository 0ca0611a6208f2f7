#include "export/python_sources.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace segforge::core::interop {

// Generated from resources/python/*.py (build folder, python_embedded.cpp).
std::string_view embeddedPython(std::string_view stem);
std::vector<std::string> embeddedPythonStems();

namespace {

constexpr std::string_view kMarker = "# --- SegForge embeds the lines below in exported scripts ---\n";

bool identifierChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

} // namespace

std::string pythonSource(std::string_view stem) {
    const std::string_view text = embeddedPython(stem);
    const std::size_t marker = text.find(kMarker);
    return std::string(marker == std::string_view::npos ? text : text.substr(marker + kMarker.size()));
}

std::vector<std::string> pythonSourceStems() {
    std::vector<std::string> stems = embeddedPythonStems();
    std::sort(stems.begin(), stems.end());
    return stems;
}

std::string fillPlaceholders(std::string text,
                             const std::vector<std::pair<std::string, std::string>>& values) {
    for (const auto& [name, value] : values) {
        bool found = false;
        for (std::size_t at = text.find(name); at != std::string::npos; at = text.find(name, at)) {
            const std::size_t end = at + name.size();
            if ((at > 0 && identifierChar(text[at - 1])) || (end < text.size() && identifierChar(text[end]))) {
                at = end;
                continue;
            }
            text.replace(at, name.size(), value);
            at += value.size();
            found = true;
        }
        if (!found)
            throw std::logic_error("placeholder " + name + " is not in the embedded Python");
    }
    return text;
}

} // namespace segforge::core::interop
