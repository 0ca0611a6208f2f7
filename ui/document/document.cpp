#include "document/document.hpp"

#include "data/data_probe.hpp"
#include "document/graph_edit_command.hpp"
#include "layout/grouped_layout.hpp"
#include "layout/room_for_insert.hpp"
#include "ops/op_helpers.hpp"
#include "project/dataset_location.hpp"
#include "project/project_file.hpp"

#include <QElapsedTimer>
#include <QFileInfo>
#include <algorithm>
#include <functional>

namespace segforge::ui {

Document::Document(QObject* parent)
    : QObject(parent) {
    connect(&m_undo, &QUndoStack::cleanChanged, this,
            [this](bool clean) { emit dirtyChanged(!clean); });
    recheck();
}

bool Document::applyEdits(const core::EditScript& edits, const QString& text, QString* error) {
    if (edits.empty())
        return false;
    if (isLocked()) {
        // Moving nodes and grouping change how the network looks, not what it computes.
        const bool onlyMoves = std::all_of(edits.begin(), edits.end(), core::isPresentationEdit);
        if (!onlyMoves) {
            if (error)
                *error = m_lockReason;
            emit editRefused(m_lockReason);
            return false;
        }
    }
    // Dry run on a copy so a failing script never reaches the undo stack.
    core::Graph probe = m_project.graph;
    core::EditOutcome trial = core::applyEdits(probe, edits);
    if (!trial.ok) {
        if (error)
            *error = QString::fromStdString(trial.error);
        return false;
    }
    m_undo.push(new GraphEditCommand(this, edits, text));
    return true;
}

bool Document::applyFix(const core::FixIt& fix) {
    // What the fix inserts goes on its wire, the nodes after it move over: one undo step.
    return applyEdits(core::withRoomFor(m_project.graph, fix.edits),
                      QString::fromStdString(fix.description));
}

bool Document::collapseGroupsToFit(double width, double height, double readableZoom) {
    const core::Graph& g = m_project.graph;
    // Nothing edited yet (an import or recovered work is unsaved, but not edited here).
    if (m_undo.count() != 0 || isLocked() || g.groups().empty())
        return false;
    std::map<core::GroupId, bool> collapse;
    for (const auto& [id, group] : g.groups()) {
        if (group.collapsed)
            return false;
        collapse[id] = true;
    }
    if (core::fitZoom(g, width, height) >= readableZoom)
        return false;
    const core::EditScript script = core::setGroupsCollapsedScript(g, collapse);
    return !script.empty() && applyRaw(script).ok;
}

void Document::setLocked(const QString& reason) {
    if (reason == m_lockReason)
        return;
    const bool was = isLocked();
    m_lockReason = reason;
    if (was != isLocked())
        emit lockChanged(isLocked());
}

core::EditOutcome Document::applyRaw(const core::EditScript& edits) {
    core::EditOutcome outcome = core::applyEdits(m_project.graph, edits);
    recheck();
    return outcome;
}

void Document::recheck() {
    QElapsedTimer timer;
    timer.start();
    core::CheckOptions options;
    options.dataProbes = probeDatasets();
    options.validationSplit = m_project.training.validationSplit;
    m_check = core::checkGraph(m_project.graph, options);
    m_lastCheckMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
    emit changed();
}

std::unordered_map<core::NodeId, core::DataProbe> Document::probeDatasets() {
    std::unordered_map<core::NodeId, core::DataProbe> probes;
    const std::filesystem::path file = m_filePath.toStdString();
    for (const auto& [id, node] : m_project.graph.nodes()) {
        if (node.op != "Dataset")
            continue;
        auto spec = core::datasetSpecOf(node, file);
        if (m_dataOverride) { // --data: the folders training reads, as the CLI's check and train do
            spec = spec.value_or(core::DatasetSpec{});
            spec->imagesDir = *m_dataOverride / "images";
            spec->masksDir = *m_dataOverride / "masks";
        }
        // An unsaved project has no folder to resolve relative paths against:
        // until it is saved, its wires follow the Dataset's attributes.
        const auto images = core::ops::resolvedAttr(node, "images");
        const bool relative = !m_dataOverride && images &&
                              std::filesystem::path(std::get<std::string>(*images)).is_relative();
        if (!spec || (file.empty() && relative)) {
            // Nothing to read yet: said on the node (a warning that training will
            // refuse), rather than found out by pressing Train.
            core::DataProbe missing;
            missing.folderOptional = true;
            missing.folderError =
                !spec ? "no images folder is set (its 'images' attribute)"
                      : "its folders are relative to the project file, which is not saved yet";
            probes.emplace(id, std::move(missing));
            continue;
        }
        const std::string key =
            spec->imagesDir.string() + "|" + spec->masksDir.string() + "|" + spec->maskSuffix;
        CachedProbe& cached = m_probes[id];
        if (cached.key != key) {
            // Headers of every file plus a decoded sample: milliseconds for
            // hundreds of images, and only when the folders change.
            cached.key = key;
            cached.probe = core::probeDataset(*spec);
            // The editor checks the graph; Train requires the data. Data given
            // on purpose (--data) must exist, as for `check --data`.
            cached.probe.folderOptional = !m_dataOverride;
        }
        probes.emplace(id, cached.probe);
    }
    return probes;
}

void Document::setDataOverride(std::optional<std::filesystem::path> dir) {
    m_dataOverride = std::move(dir);
    m_probes.clear();
    recheck();
}

const core::DataProbe* Document::probeOf(core::NodeId id) const {
    auto it = m_probes.find(id);
    return it == m_probes.end() ? nullptr : &it->second.probe;
}

void Document::reset(core::Project project, const QString& filePath) {
    m_project = std::move(project);
    m_probes.clear();
    m_undo.clear();
    m_undo.setClean();
    m_filePath = filePath;
    emit projectReplaced();
    emit filePathChanged(m_filePath);
    emit dirtyChanged(false);
    recheck();
}

void Document::resetUnsaved(core::Project project, const QString& filePath) {
    reset(std::move(project), filePath);
    m_undo.resetClean();
    emit dirtyChanged(true);
}

bool Document::open(const QString& filePath, QString* error) {
    core::ProjectLoad load = core::loadProject(filePath.toStdString());
    if (!load.ok()) {
        if (error) {
            QStringList lines;
            for (const auto& e : load.errors)
                lines << QString::fromStdString(e);
            *error = lines.join('\n');
        }
        return false;
    }
    reset(std::move(*load.project), QFileInfo(filePath).absoluteFilePath());
    return true;
}

bool Document::save(const QString& filePath, QString* error) {
    std::string err = core::saveProject(m_project, filePath.toStdString());
    if (!err.empty()) {
        if (error)
            *error = QString::fromStdString(err);
        return false;
    }
    m_project.sourcePath = filePath.toStdString();
    if (m_filePath != filePath) {
        m_filePath = filePath;
        emit filePathChanged(m_filePath);
        recheck(); // dataset folders are relative to the project file
    }
    m_undo.setClean();
    return true;
}

QString Document::displayName() const {
    return m_filePath.isEmpty() ? QStringLiteral("Untitled") : QFileInfo(m_filePath).fileName();
}

namespace {

/// Swaps the project's training section; undo swaps it back.
class TrainingSettingsCommand : public QUndoCommand {
public:
    TrainingSettingsCommand(Document* document, core::TrainingSettings settings,
                            std::function<void(const core::TrainingSettings&)> apply)
        : QUndoCommand(QObject::tr("Change training settings"))
        , m_before(document->project().training)
        , m_after(std::move(settings))
        , m_apply(std::move(apply)) {}
    void redo() override { m_apply(m_after); }
    void undo() override { m_apply(m_before); }
    int id() const override { return 0x7e41; }
    bool mergeWith(const QUndoCommand* other) override {
        // Spinning a value is one undo step, not one per click.
        m_after = static_cast<const TrainingSettingsCommand*>(other)->m_after;
        return true;
    }

private:
    core::TrainingSettings m_before, m_after;
    std::function<void(const core::TrainingSettings&)> m_apply;
};

} // namespace

void Document::setTraining(const core::TrainingSettings& settings) {
    if (settings == m_project.training)
        return;
    m_undo.push(
        new TrainingSettingsCommand(this, settings, [this](const core::TrainingSettings& s) {
            m_project.training = s;
            emit trainingChanged();
        }));
}

} // namespace segforge::ui
