#pragma once

#include "export/training_script_file.hpp"

#include <QElapsedTimer>
#include <QMainWindow>
#include <QMessageBox>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>

class QLabel;
class QTimer;

namespace segforge::ui {

class Document;
class GraphScene;
class GraphView;
class PalettePanel;
class PropertiesPanel;
class DiagnosticsPanel;
class SummaryPanel;
class QuickAddPopup;
class TrainingWorkbench;
class RecoveryStore;
class Workspaces;
class FirstRunHint;

/// The editor window: canvas in the centre, palette, properties, diagnostics
/// and model summary as docks, menus, toolbar and status bar. File handling
/// (open/save/recent/autosave/recovery) lives here too, on top of Document.
class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    /// Disconnects from the document first: its undo stack signals while the
    /// children are destroyed, when this is no longer a MainWindow.
    ~MainWindow() override;

    Document* document() const { return m_document; }
    GraphScene* scene() const { return m_scene; }
    GraphView* view() const { return m_view; }
    PalettePanel* palette() const { return m_palette; }
    PropertiesPanel* properties() const { return m_properties; }
    DiagnosticsPanel* diagnostics() const { return m_diagnostics; }
    SummaryPanel* summary() const { return m_summary; }
    QuickAddPopup* quickAdd() const { return m_quickAdd; }
    TrainingWorkbench* training() const { return m_training; }
    /// Build / Train / Inspect: the dock layouts and the tabs that switch them.
    Workspaces* workspaces() const { return m_workspaces; }

    /// Opens a file; on failure shows the errors (unless `quiet`) and keeps the current document.
    bool openFile(const QString& path, QString* error = nullptr, bool quiet = false);
    /// Saves the project and, when there are trained weights, the weights and
    /// checkpoint beside it (weights first: the project names only complete
    /// files). Failures show a message box unless `quiet`.
    bool saveFile(const QString& path, QString* error = nullptr, bool quiet = false);
    /// Asks Save / Discard / Cancel when edits or trained weights are unsaved or
    /// training runs (which it then stops). False: the user cancelled, or the save failed.
    bool maybeSave();
    /// Replaces the Save / Discard / Cancel question (tests, scripts). It gets
    /// the title and the text and answers Save, Discard or Cancel.
    using SavePrompt =
        std::function<QMessageBox::StandardButton(const QString& title, const QString& text)>;
    void setSavePrompt(SavePrompt prompt) { m_savePrompt = std::move(prompt); }
    /// Whether trained weights are autosaved into the recovery slot (on by
    /// default; off for scripted runs such as --screenshot, which are no work
    /// to recover).
    void setWeightsAutosave(bool on) { m_weightsAutosave = on; }
    /// Imports a Keras model (model.to_json() or .keras) as a new, unsaved
    /// project; on failure shows the located errors (unless `quiet`) and keeps
    /// the current document. Import warnings go to the status bar.
    bool importKeras(const QString& path, QString* error = nullptr, bool quiet = false);
    /// Imports an ONNX model (torch.onnx.export, opsets 11–17) as a new,
    /// unsaved project whose current weights are the file's (saved with the
    /// project like trained ones). On failure shows the located error (unless
    /// `quiet`) and keeps the current document. Placeholders and warnings go to
    /// the status bar and (unless `quiet`) a non-modal report
    /// ("onnx-import-report").
    bool importOnnx(const QString& path, QString* error = nullptr, bool quiet = false);
    /// File → Export Training Script… without its dialog: writes the script
    /// (and, with `withWeights`, the current weights beside it as
    /// SCRIPT.weights.safetensors, which the script then loads). Returns the
    /// status text ("Wrote … — run: …"), or "" with every reason in `error`
    /// (nothing is left written then).
    QString exportTrainingScript(core::ScriptFramework framework, const QString& path,
                                 bool withWeights, QString* error = nullptr);
    /// "<project stem>_train.py" in the project's folder (the dialog's default).
    QString defaultScriptPath() const;
    /// Replaces the document with a U-Net made from the template (asks first if dirty).
    void newFromTemplate();
    /// File → New: an empty, untitled project (asks first if dirty); Save then
    /// asks where, so nothing opened before is overwritten. False if cancelled.
    bool newEmpty();
    /// The three-step hint over the canvas for a new user.
    FirstRunHint* firstRunHint() const { return m_firstRunHint; }
    /// Shows the hint unless this user dismissed it for good (a normal start;
    /// scripted runs such as --screenshot do not call it). True if shown.
    bool offerFirstRunHint();
    /// Where a file dialog opens: the project's folder, else the last one used.
    QString dialogStartFolder() const;
    /// Renders the window into a PNG (used by --screenshot).
    bool saveScreenshot(const QString& path);
    void setDarkTheme(bool dark);
    /// Where autosave writes the recovery copy of this window's work.
    QString recoveryPath() const;
    RecoveryStore* recovery() const { return m_recovery.get(); }
    /// Answers the start-up recovery question without asking (--recover, tests):
    /// true recovers, false discards. Without an answer an offscreen window
    /// leaves leftover work untouched.
    void setRecoveryAnswer(std::optional<bool> recover) { m_recoveryAnswer = recover; }
    /// Milliseconds autosave waits after an edit; a burst of edits is written
    /// at most kAutosaveMaxDelayMs after its first.
    static constexpr int kAutosaveDelayMs = 1000;
    static constexpr int kAutosaveMaxDelayMs = 2000;
    /// Milliseconds until the pending autosave runs, or -1 when none is pending.
    int autosaveDueInMs() const;

protected:
    void closeEvent(QCloseEvent* event) override;
    /// The first show lays out the workspace for the window's final size.
    void showEvent(QShowEvent* event) override;

private:
    void createActions();
    void createDocks();
    void updateTitle();
    void updateStatus();
    void updateRecentMenu();
    void addRecent(const QString& path);
    void openDialog();
    void importKerasDialog();
    void importOnnxDialog();
    void exportTrainingScriptDialog();
    bool saveAs();
    bool save();
    void autoLayout();
    /// Called on every change: writes the recovery copy soon (see kAutosaveDelayMs),
    /// or forgets it once the document is clean.
    void scheduleAutosave();
    void autosave();
    void offerRecovery();
    /// Trained weights in the recovery slot (RecoveryStore::weightsPath()):
    /// written at epoch ends and when training pauses or ends, offered back
    /// with the recovered project, forgotten with the recovery copy.
    void autosaveWeights();
    /// Forgets the recovery copy and the weights beside it.
    void discardRecovery();
    /// After an accepted recovery: the slot's weights, else the project's saved ones.
    void restoreRecoveredWeights();
    void showQuickAdd(QPointF scenePos, std::optional<qint64> fromNode, const QString& fromPort);

    Document* m_document;
    GraphScene* m_scene;
    GraphView* m_view;
    PalettePanel* m_palette;
    PropertiesPanel* m_properties;
    DiagnosticsPanel* m_diagnostics;
    SummaryPanel* m_summary;
    QuickAddPopup* m_quickAdd;
    TrainingWorkbench* m_training = nullptr;
    Workspaces* m_workspaces = nullptr;
    FirstRunHint* m_firstRunHint = nullptr;
    bool m_arranged = false; ///< the workspace got its layout at the first show
    QMenu* m_recentMenu = nullptr;
    QLabel* m_statusCounts;
    QLabel* m_statusZoom;
    QTimer* m_autosave;
    QElapsedTimer m_unsavedSince; ///< first change not yet in the recovery copy
    std::unique_ptr<RecoveryStore> m_recovery;
    std::optional<bool> m_recoveryAnswer;
    /// Until the start-up question is answered, leftover work is not touched.
    bool m_recoveryDecided = false;
    QPointF m_quickAddScenePos;
    std::optional<std::pair<qint64, QString>> m_quickAddFrom;
    bool m_dark = true;
    SavePrompt m_savePrompt;
    std::uint64_t m_autosavedWeights = 0; ///< weights generation in the recovery slot (0: none)
    bool m_autosavingWeights = false;
    bool m_weightsAutosave = true;
    QElapsedTimer m_weightsAutosavedAt;
};

} // namespace segforge::ui
