#pragma once

#include <sstream>
#include <string>

namespace segforge::core {

/// Concatenates anything streamable: strCat("expected ", 3, " got ", x).
template <typename... Args> std::string strCat(const Args&... args) {
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}

/// Formats a double compactly (1e-06, 0.5, 3).
std::string formatNumber(double value);

/// Levenshtein distance, used to suggest "did you mean" names.
std::size_t editDistance(std::string_view a, std::string_view b);

} // namespace segforge::core
