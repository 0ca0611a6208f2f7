#pragma once

// Runs the real segforge-cli binary for the end-to-end tests.

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

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

/// Runs a shell command with stderr merged into the output (Python scripts,
/// torchrun, the CLI with shell syntax).
inline CliResult shell(const std::string& command) {
    CliResult r;
    FILE* pipe = popen((command + " 2>&1").c_str(), "r");
    if (!pipe)
        return r;
    std::array<char, 4096> buf{};
    while (std::size_t n = fread(buf.data(), 1, buf.size(), pipe))
        r.out.append(buf.data(), n);
    const int status = pclose(pipe);
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

/// A path single-quoted for the shell (test paths hold no quote).
inline std::string quoted(const std::filesystem::path& p) {
    return "'" + p.string() + "'";
}

/// A folder of this test process's own (ctest runs each test in a process of
/// its own, and several may run at once), created empty and removed at exit.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& prefix)
        : m_path(std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()))) {
        std::filesystem::remove_all(m_path);
        std::filesystem::create_directories(m_path);
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(m_path, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

} // namespace segforge::testing
