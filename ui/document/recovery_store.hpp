#pragma once

#include "project/project.hpp"

#include <QLockFile>
#include <QString>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

namespace segforge::ui {

/// Where unsaved work survives a crash. Each running SegForge holds one slot
/// (recovery-N.segforge under the app's data folder), claimed with a lock file:
/// a slot whose lock can be taken belonged to a process that is gone, so the
/// file in it, if any, is work to offer back — two windows never write over
/// each other's recovery, and a stale lock (kill -9) is taken over.
///
/// Writes happen on a worker thread (serialising and writing a 300-node
/// project must not stall the GUI); requests that arrive while one is being
/// written are coalesced into the newest. Each write is atomic (temp file,
/// fsync, rename), so a kill at any moment leaves the previous copy or the new.
class RecoveryStore {
public:
    /// `folder` defaults to the app's data location.
    explicit RecoveryStore(QString folder = {});
    ~RecoveryStore();
    RecoveryStore(const RecoveryStore&) = delete;
    RecoveryStore& operator=(const RecoveryStore&) = delete;

    /// The recovery file of this process's slot.
    QString path() const { return m_path; }
    /// Trained weights kept in the slot beside that copy, and their optimizer
    /// state (core/engine/project_weights' names for path()).
    QString weightsPath() const;
    QString checkpointPath() const;
    /// True when the slot held a file when it was claimed: work left by a crash.
    bool hasLeftover() const { return m_leftover; }

    /// Queues `project` to be written (the newest request wins). `sourcePath`
    /// is the file the work belongs to ("" for untitled), kept in the copy.
    void write(core::Project project, const QString& sourcePath);
    /// Waits until every queued write has reached the disk.
    void flush();
    /// Forgets the copy and the weights beside it (after a save, a clean close
    /// or an explicit discard).
    void discard();

    /// Reads the copy back; the path it belongs to comes out in `sourcePath`.
    std::optional<core::Project> read(QString* sourcePath, QString* error) const;

private:
    void run();

    QString m_path;
    std::unique_ptr<QLockFile> m_lock;
    bool m_leftover = false;

    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    std::optional<std::pair<core::Project, std::string>> m_pending;
    bool m_writing = false;
    bool m_quit = false;
    std::thread m_worker;
};

} // namespace segforge::ui
