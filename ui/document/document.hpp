#pragma once

#include "check/check_result.hpp"
#include "check/checker.hpp"
#include "graph/graph_edit.hpp"
#include "project/project.hpp"

#include <QObject>
#include <QString>
#include <QUndoStack>
#include <filesystem>
#include <optional>
#include <unordered_map>

namespace segforge::ui {

/// The open project: owns the core Project, its undo stack and the latest
/// check. Every change goes through applyEdits() as one undoable command; after
/// each change the checker re-runs and `changed` tells the views to refresh.
class Document : public QObject {
    Q_OBJECT
public:
    explicit Document(QObject* parent = nullptr);

    const core::Project& project() const { return m_project; }
    const core::Graph& graph() const { return m_project.graph; }
    const core::CheckResult& check() const { return m_check; }
    QUndoStack* undoStack() { return &m_undo; }

    /// Applies `edits` as one undoable step named `text`. Returns false (and
    /// changes nothing) if the edits cannot be applied; `error` says why.
    bool applyEdits(const core::EditScript& edits, const QString& text, QString* error = nullptr);
    /// Applies the i-th fix of a diagnostic from the latest check.
    bool applyFix(const core::FixIt& fix);
    /// A network just opened that fits a viewport of `width`×`height` pixels
    /// only below `readableZoom` starts with its groups collapsed and laid out
    /// as blocks. How a file is first shown, not an edit of the user's: no undo
    /// step, nothing newly unsaved. Only while nothing was edited and no group is
    /// collapsed yet (a file that collapses its groups says how to show it).
    /// True when it collapsed.
    bool collapseGroupsToFit(double width, double height, double readableZoom);

    /// Replaces the whole project (open, new): clears undo, marks clean.
    void reset(core::Project project, const QString& filePath);
    /// Loads a project; on failure the current document is untouched and
    /// `error` holds every message (file:path: what).
    bool open(const QString& filePath, QString* error);
    /// Replaces the project with one whose content is not on disk (an import:
    /// untitled; recovered work: the file it belongs to) and marks it modified,
    /// so closing asks to save it.
    void resetUnsaved(core::Project project, const QString& filePath = {});
    bool save(const QString& filePath, QString* error);

    QString filePath() const { return m_filePath; }
    QString displayName() const;
    bool isDirty() const { return !m_undo.isClean(); }

    /// Changes the training section as one undoable step (marks the document dirty).
    void setTraining(const core::TrainingSettings& settings);

    /// While training runs the network is read-only: every edit except moving
    /// nodes is refused with `reason` (and editRefused). Empty reason unlocks.
    void setLocked(const QString& reason);
    bool isLocked() const { return !m_lockReason.isEmpty(); }
    QString lockReason() const { return m_lockReason; }
    /// Which weights file the project names (set by a save that writes them; not an undoable edit).
    void setWeights(std::optional<core::WeightsSection> weights) {
        m_project.weights = std::move(weights);
    }

    /// Re-runs the checker (called automatically after every edit).
    void recheck();
    /// Reads DIR/images and DIR/masks instead of every Dataset node's folders
    /// (`segforge --data DIR`), so the checker probes what training will read.
    void setDataOverride(std::optional<std::filesystem::path> dir);
    /// What the last probe found in a Dataset node's folders (nullptr if none).
    const core::DataProbe* probeOf(core::NodeId id) const;
    /// Time the last re-check took, for the status bar and benchmarks.
    double lastCheckMilliseconds() const { return m_lastCheckMs; }

    /// Used by the undo command: apply raw edits without pushing a command.
    core::EditOutcome applyRaw(const core::EditScript& edits);

signals:
    /// The graph or the check result changed; views refresh from graph()/check().
    void changed();
    /// A different project was loaded or created.
    void projectReplaced();
    void filePathChanged(const QString& path);
    void dirtyChanged(bool dirty);
    void lockChanged(bool locked);
    void trainingChanged();
    /// An edit was refused because the document is locked.
    void editRefused(const QString& reason);

private:
    /// Probes (or reuses the probe of) every Dataset node's folders, so its
    /// wires show what the data really is.
    std::unordered_map<core::NodeId, core::DataProbe> probeDatasets();

    struct CachedProbe {
        std::string key; ///< resolved folders; a new key means a new probe
        core::DataProbe probe;
    };
    std::unordered_map<core::NodeId, CachedProbe> m_probes;
    core::Project m_project;
    core::CheckResult m_check;
    QUndoStack m_undo;
    QString m_filePath;
    double m_lastCheckMs = 0;
    QString m_lockReason;
    std::optional<std::filesystem::path> m_dataOverride;
};

} // namespace segforge::ui
