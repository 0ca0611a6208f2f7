#include "document/recovery_store.hpp"

#include "engine/project_weights.hpp"
#include "project/project_file.hpp"
#include "util/constants.hpp"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QStandardPaths>

namespace segforge::ui {

namespace {
constexpr int kMaxSlots = 64;
constexpr const char* kRecoveredFrom = "recovered_from";
} // namespace

RecoveryStore::RecoveryStore(QString folder) {
    if (folder.isEmpty())
        folder = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(folder);
    for (int slot = 0; slot < kMaxSlots && !m_lock; ++slot) {
        auto lock =
            std::make_unique<QLockFile>(QString("%1/recovery-%2.lock").arg(folder).arg(slot));
        lock->setStaleLockTime(0); // held for the whole session: only a dead owner makes it stale
        if (lock->tryLock(0)) {
            m_lock = std::move(lock);
            m_path =
                QString("%1/recovery-%2%3")
                    .arg(folder, QString::number(slot), QString::fromLatin1(kProjectExtension));
        }
    }
    if (!m_lock) // every slot busy: still keep the work, in a file of this process alone
        m_path = QString("%1/recovery-pid%2%3")
                     .arg(folder, QString::number(QCoreApplication::applicationPid()),
                          QString::fromLatin1(kProjectExtension));
    m_leftover = QFile::exists(m_path);
    m_worker = std::thread([this] { run(); });
}

RecoveryStore::~RecoveryStore() {
    {
        std::lock_guard lock(m_mutex);
        m_quit = true;
    }
    m_wake.notify_all();
    m_worker.join(); // a queued write still reaches the disk
}

void RecoveryStore::write(core::Project project, const QString& sourcePath) {
    {
        std::lock_guard lock(m_mutex);
        m_pending.emplace(std::move(project), sourcePath.toStdString());
    }
    m_wake.notify_all();
}

void RecoveryStore::flush() {
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return !m_pending && !m_writing; });
}

QString RecoveryStore::weightsPath() const {
    const std::filesystem::path copy = m_path.toStdString();
    return QString::fromStdString(
        core::projectSibling(copy, core::weightsFileNameFor(copy)).string());
}

QString RecoveryStore::checkpointPath() const {
    const std::filesystem::path copy = m_path.toStdString();
    return QString::fromStdString(
        core::projectSibling(copy, core::checkpointFileNameFor(copy)).string());
}

void RecoveryStore::discard() {
    std::unique_lock lock(m_mutex);
    m_pending.reset();
    m_idle.wait(lock, [this] { return !m_writing; }); // not raced by a write in flight
    for (const QString& file : {m_path, weightsPath(), checkpointPath()})
        QFile::remove(file);
    m_leftover = false;
}

void RecoveryStore::run() {
    std::unique_lock lock(m_mutex);
    for (;;) {
        m_wake.wait(lock, [this] { return m_quit || m_pending; });
        if (!m_pending)
            return; // quit with nothing left to write
        auto [project, source] = std::move(*m_pending);
        m_pending.reset();
        m_writing = true;
        lock.unlock();
        project.view[kRecoveredFrom] = source;
        (void)core::saveProject(project,
                                m_path.toStdString()); // a failed copy keeps the previous one
        lock.lock();
        m_writing = false;
        m_idle.notify_all();
    }
}

std::optional<core::Project> RecoveryStore::read(QString* sourcePath, QString* error) const {
    core::ProjectLoad load = core::loadProject(m_path.toStdString());
    if (!load.ok()) {
        if (error)
            *error =
                QString::fromStdString(load.errors.empty() ? "unreadable" : load.errors.front());
        return std::nullopt;
    }
    core::Project project = std::move(*load.project);
    QString source;
    if (auto it = project.view.find(kRecoveredFrom); it != project.view.end()) {
        if (it->is_string())
            source = QString::fromStdString(it->get<std::string>());
        project.view.erase(it);
    }
    project.sourcePath = source.toStdString();
    if (sourcePath)
        *sourcePath = source;
    return project;
}

} // namespace segforge::ui
