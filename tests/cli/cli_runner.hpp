#pragma once

// Runs the real segforge-cli binary for the end-to-end tests.

#include <array>
#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace segforge::testing {

struct CliResult {
    int exitCode = -1;
    std::string out; ///< stdout (and stderr when merged)
};

enum class Stderr { Discard, Merge };

/// Runs `segforge-cli ARGS` (ARGS shell-quoted by the caller) and collects its output.
inline CliResult runCli(const std::string& args, Stderr stderrMode = Stderr::Discard) {
    CliResult r;
    const std::string command = std::string(SEGFORGE_CLI) + " " + args +
                                (stderrMode == Stderr::Merge ? " 2>&1" : " 2>/dev/null");
    FILE* pipe = popen(command.c_str(), "r");
    if (!pipe)
        return r;
    std::array<char, 4096> buf{};
    while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe))
        r.out.append(buf.data(), n);
    const int status = pclose(pipe);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

} // namespace segforge::testing
