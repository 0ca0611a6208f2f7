#include "io/atomic_file.hpp"

#include "util/str_cat.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <system_error>
#include <unistd.h>

namespace segforge::core {

namespace {

std::string errnoText(int err) {
    return std::generic_category().message(err);
}

/// Retries what a signal interrupted; a stop request (SIGTERM) must not turn
/// into a failed save.
bool fsyncRetrying(int fd) {
    while (::fsync(fd) != 0) {
        if (errno != EINTR)
            return false;
    }
    return true;
}

/// Makes the directory entry of a rename durable. Some filesystems cannot
/// fsync a directory (EINVAL) and some systems refuse to open one for reading;
/// there the rename is as durable as that filesystem makes it.
void syncDirectory(const std::filesystem::path& dir) {
    const int fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return;
    fsyncRetrying(fd);
    ::close(fd);
}

} // namespace

bool AtomicFileSink::write(const void* data, std::size_t size) {
    if (!m_error.empty())
        return false;
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
        const ssize_t n = ::write(m_fd, p, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            m_error = errnoText(errno);
            return false;
        }
        p += n;
        size -= static_cast<std::size_t>(n);
    }
    return true;
}

std::string writeFileAtomically(const std::filesystem::path& path,
                                const std::function<std::string(AtomicFileSink&)>& write) {
    static std::atomic<unsigned> counter{0};
    std::filesystem::path temp = path;
    temp += strCat(".tmp-", ::getpid(), "-", counter.fetch_add(1));
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0)
        return strCat("cannot write '", temp.string(), "': ", errnoText(errno));
    // The replacement keeps the file's permissions (a project shared with a
    // group, a private one), not the default mode of a new file.
    if (struct stat existing{}; ::stat(path.c_str(), &existing) == 0)
        (void)::fchmod(fd, existing.st_mode & 07777);
    AtomicFileSink sink(fd);
    std::string error = write(sink);
    if (error.empty() && !sink.ok())
        error = strCat("writing '", temp.string(), "' failed: ", sink.m_error);
    if (error.empty() && !fsyncRetrying(fd))
        error = strCat("writing '", temp.string(), "' failed: ", errnoText(errno));
    // close() reports deferred write errors (NFS, quotas), so it is checked too.
    if (::close(fd) != 0 && error.empty() && errno != EINTR)
        error = strCat("writing '", temp.string(), "' failed: ", errnoText(errno));
    if (error.empty() && ::rename(temp.c_str(), path.c_str()) != 0)
        error = strCat("cannot replace '", path.string(), "': ", errnoText(errno));
    if (!error.empty()) {
        ::unlink(temp.c_str());
        return error;
    }
    syncDirectory(path.parent_path());
    return {};
}

std::string writeFileAtomically(const std::filesystem::path& path, std::string_view contents) {
    return writeFileAtomically(path, [contents](AtomicFileSink& sink) {
        sink.write(contents);
        return std::string();
    });
}

std::string appendToFileDurably(const std::filesystem::path& path, std::string_view text) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return strCat("cannot write '", path.string(), "': ", errnoText(errno));
    AtomicFileSink sink(fd);
    std::string error;
    if (!sink.write(text))
        error = strCat("writing '", path.string(), "' failed: ", sink.m_error);
    else if (!fsyncRetrying(fd))
        error = strCat("writing '", path.string(), "' failed: ", errnoText(errno));
    if (::close(fd) != 0 && error.empty() && errno != EINTR)
        error = strCat("writing '", path.string(), "' failed: ", errnoText(errno));
    return error;
}

bool isAtomicWriteTemporary(std::string_view name) {
    const std::size_t at = name.rfind(".tmp");
    if (at == std::string_view::npos || at == 0)
        return false;
    std::string_view rest = name.substr(at + 4);
    if (rest.empty())
        return true; // NAME.tmp, what versions before writeFileAtomically wrote
    // -PID-N
    for (int part = 0; part < 2; ++part) {
        if (rest.empty() || rest.front() != '-')
            return false;
        rest.remove_prefix(1);
        std::size_t digits = 0;
        while (digits < rest.size() && rest[digits] >= '0' && rest[digits] <= '9')
            ++digits;
        if (digits == 0)
            return false;
        rest.remove_prefix(digits);
    }
    return rest.empty();
}

int removeStaleTemporaries(const std::filesystem::path& dir) {
    int removed = 0;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::error_code typeError;
        if (!it->is_regular_file(typeError) ||
            !isAtomicWriteTemporary(it->path().filename().string()))
            continue;
        std::error_code removeError;
        if (std::filesystem::remove(it->path(), removeError))
            ++removed;
    }
    return removed;
}

} // namespace segforge::core
