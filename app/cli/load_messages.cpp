#include "cli/load_messages.hpp"

#include <iostream>

namespace segforge::cli {

void printLoadMessages(const std::vector<std::string>& messages) {
    for (const auto& m : messages) {
        const bool note = m.find(": note: ") != std::string::npos;
        std::cerr << m << (note ? "" : " (warning)") << "\n";
    }
}

} // namespace segforge::cli
