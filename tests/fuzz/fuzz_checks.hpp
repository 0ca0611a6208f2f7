#pragma once

// What every fuzz target demands of a refusal besides "no crash": each
// message names the input it is about, is valid UTF-8 (so the JSON output
// can carry it), stays short, and is never an "internal error" — bad input
// must be explained, not caught as a surprise.

#include "util/bounded_json.hpp"

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace segforge::fuzz {

inline void requireLocated(const std::string& message, const std::string& label) {
    // The message may quote the input, which may say anything: only our own
    // "LABEL: internal error …" form is a failure to explain.
    const bool ok = message.rfind(label, 0) == 0 &&
                    message.rfind(label + ": internal error", 0) != 0 &&
                    core::validUtf8(message) == message && message.size() < 4096;
    if (!ok) {
        std::fprintf(stderr, "unlocated or malformed message: %.300s\n", message.c_str());
        std::abort();
    }
}

inline void requireLocated(const std::vector<std::string>& messages, const std::string& label) {
    for (const auto& m : messages)
        requireLocated(m, label);
}

} // namespace segforge::fuzz
