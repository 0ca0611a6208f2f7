#pragma once

// Crash-consistent file replacement (POSIX). A plain "write NAME.tmp, rename"
// survives a killed process but not a power cut: the rename can reach the disk
// before the data, leaving an empty or partial file under the final name. So
// the temporary is fsynced before the rename and the directory after it.
// Temporaries are named NAME.tmp-PID-N, so two writers (threads or processes)
// never share one, and removeStaleTemporaries() can recognise what a killed
// writer left behind.

#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace segforge::core {

/// Where writeFileAtomically's callback puts the bytes. Writes go straight to
/// the file descriptor (callers write large blocks or one string).
class AtomicFileSink {
public:
    /// False after the first failed write (later writes are ignored).
    bool write(const void* data, std::size_t size);
    bool write(std::string_view text) { return write(text.data(), text.size()); }
    bool ok() const { return m_error.empty(); }

private:
    friend std::string writeFileAtomically(const std::filesystem::path&,
                                           const std::function<std::string(AtomicFileSink&)>&);
    friend std::string appendToFileDurably(const std::filesystem::path&, std::string_view);
    explicit AtomicFileSink(int fd)
        : m_fd(fd) {}
    int m_fd;
    std::string m_error; ///< strerror of the first failed write
};

/// Replaces `path` with what `write` produces: the bytes go to a new temporary
/// beside it (NAME.tmp-PID-N), which is fsynced, closed and renamed over
/// `path`; then the directory is fsynced so the rename is durable too. `write`
/// returns "" or a message of its own, which aborts the save. On any failure
/// the temporary is removed and `path` is left as it was. Returns "" or a
/// message naming the file and the reason.
std::string writeFileAtomically(const std::filesystem::path& path,
                                const std::function<std::string(AtomicFileSink&)>& write);

/// The same for contents already in memory (a project, a CSV).
std::string writeFileAtomically(const std::filesystem::path& path, std::string_view contents);

/// Appends `text` to `path` (created if missing) and fsyncs it before
/// returning, for a log that must be on disk before what refers to it (a
/// metrics row before the checkpoint of its epoch). Returns "" or a message.
std::string appendToFileDurably(const std::filesystem::path& path, std::string_view text);

/// Whether `name` is a temporary that writeFileAtomically (NAME.tmp-PID-N) or
/// an older SegForge (NAME.tmp) writes.
bool isAtomicWriteTemporary(std::string_view name);

/// Removes the temporaries (isAtomicWriteTemporary) that killed writers left
/// in `dir` (not recursive). Only for folders this program owns, at a time no
/// other writer is active there (the start of a training run). Returns how
/// many were removed.
int removeStaleTemporaries(const std::filesystem::path& dir);

} // namespace segforge::core
