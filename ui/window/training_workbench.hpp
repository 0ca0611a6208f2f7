#pragma once

#include "engine/executor.hpp"
#include "graph/graph.hpp"

#include <QObject>
#include <QString>
#include <optional>

class QDockWidget;
class QMainWindow;
class QMenu;
class QToolBar;

namespace segforge::ui {

class DiagnosticsPanel;
class Document;
class GradientLegend;
class GraphScene;
class GraphView;
class OverlayPanel;
class TensorInspectorPanel;
class TrainingController;
class TrainingPanel;
class TrainingPlots;

/// Training inside the editor window: the controller, its docks (Training,
/// Plots, Predictions, Tensor inspector), the Train menu, and the wiring
/// between them and the canvas — the graph locks while training runs, the
/// node being stepped glows, a NaN stop outlines its node in red and opens the
/// inspector on its inputs, wires show gradient norms on request.
class TrainingWorkbench : public QObject {
    Q_OBJECT
public:
    TrainingWorkbench(QMainWindow* window, Document* document, GraphScene* scene, GraphView* view,
                      DiagnosticsPanel* diagnostics);

    TrainingController* controller() const { return m_controller; }
    TrainingPanel* panel() const { return m_panel; }
    TrainingPlots* plots() const { return m_plots; }
    OverlayPanel* overlays() const { return m_overlays; }
    TensorInspectorPanel* inspector() const { return m_inspector; }
    QDockWidget* trainingDock() const { return m_trainingDock; }
    QDockWidget* plotsDock() const { return m_plotsDock; }
    QDockWidget* overlaysDock() const { return m_overlaysDock; }
    QDockWidget* inspectorDock() const { return m_inspectorDock; }
    /// The gradient view's key over the canvas, shown while the view is on.
    GradientLegend* gradientLegend() const { return m_gradientLegend; }

    /// The Train menu with every training action and shortcut.
    QMenu* createMenu(QWidget* parent);
    void addToolBarActions(QToolBar* bar);

    /// F9: toggles a breakpoint on every selected node.
    void toggleBreakpoints();
    /// Shows the tensor on an output port (and its gradient) in the inspector.
    void inspect(const core::PortRef& output);
    /// Before the document is replaced or the window closes: stops training
    /// (after asking, unless `ask` is false) and waits for the worker. False if
    /// the user declined.
    bool stopTraining(bool ask);
    /// The document now holds another project: forget weights, plots and marks.
    void projectReplaced();
    /// After an open: loads the weights the project was saved with, if any
    /// (on the worker; the report goes to the status bar).
    void restoreSavedWeights();
    /// File → Export Weights… / Import Weights… (dialogs, then a report).
    void exportWeightsDialog();
    void importWeightsDialog();
    /// Imports `path` and returns the report shown to the user ("" on error: see `error`).
    QString importWeightsFile(const QString& path, QString* error = nullptr);

signals:
    void statusText(const QString& text, int timeoutMs);
    /// A run started (the window switches to its Train workspace).
    void trainingStarted();
    /// Something worth a look in the inspector happened (a NaN stop).
    void inspectorWanted();

private:
    void createDocks(QMainWindow* window);
    void onStateChanged();
    void onPaused(core::NodeId node, core::Phase phase);
    void onNonFinite(const core::NonFiniteReport& report);
    void refreshInspector();
    /// The wires and the legend show the latest step's gradient norms (none when the view is off).
    void showGradientNorms();

    QMainWindow* m_window;
    Document* m_document;
    GraphScene* m_scene;
    GraphView* m_view;
    DiagnosticsPanel* m_diagnostics;
    TrainingController* m_controller;
    TrainingPanel* m_panel = nullptr;
    TrainingPlots* m_plots = nullptr;
    OverlayPanel* m_overlays = nullptr;
    TensorInspectorPanel* m_inspector = nullptr;
    QDockWidget* m_trainingDock = nullptr;
    QDockWidget* m_plotsDock = nullptr;
    QDockWidget* m_overlaysDock = nullptr;
    QDockWidget* m_inspectorDock = nullptr;
    GradientLegend* m_gradientLegend = nullptr;
    std::optional<core::PortRef> m_inspected; ///< the output port whose tensor the inspector shows
    core::Phase m_phase = core::Phase::Forward;
};

} // namespace segforge::ui
