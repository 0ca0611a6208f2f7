#include "export/python_sources.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

namespace segforge::core::interop {

// Generated from resources/python/*.py (build folder, python_embedded.cpp).
std::string_view embeddedPython(std::string_view stem);
std::vector<std::string> embeddedPythonStems();

namespace {

constexpr std::string_view kMarker =
    "# --- SegForge embeds the lines below in exported scripts ---\n";

bool identifierChar(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

} // namespace

std::string pythonSource(std::string_view stem) {
    const std::string_view text = embeddedPython(stem);
    const std::size_t marker = text.find(kMarker);
    return std::string(marker == std::string_view::npos ? text
                                                        : text.substr(marker + kMarker.size()));
}

std::vector<std::string> pythonSourceStems() {
    std::vector<std::string> stems = embeddedPythonStems();
    std::sort(stems.begin(), stems.end());
    return stems;
}

std::string fillPlaceholders(std::string text,
                             const std::vector<std::pair<std::string, std::string>>& values) {
    // One pass over the names in `text`, so that a value is never read as a placeholder.
    std::vector<bool> found(values.size(), false);
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size();) {
        if (!identifierChar(text[i])) {
            out += text[i++];
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && identifierChar(text[end]))
            ++end;
        const std::string_view word(text.data() + i, end - i);
        auto match = std::find_if(values.begin(), values.end(),
                                  [&](const auto& v) { return v.first == word; });
        if (match == values.end()) {
            out += word;
        } else {
            out += match->second;
            found[static_cast<std::size_t>(match - values.begin())] = true;
        }
        i = end;
    }
    for (std::size_t k = 0; k < values.size(); ++k) {
        if (!found[k])
            throw std::logic_error("placeholder " + values[k].first +
                                   " is not in the embedded Python");
    }
    return out;
}

} // namespace segforge::core::interop
