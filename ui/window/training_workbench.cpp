#include "window/training_workbench.hpp"

#include "document/document.hpp"
#include "engine/project_weights.hpp"
#include "kernels/mask_metrics.hpp"
#include "ops/op_registry.hpp"
#include "panels/diagnostics_panel.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "training/overlay_panel.hpp"
#include "training/tensor_inspector.hpp"
#include "training/training_controller.hpp"
#include "training/training_panel.hpp"
#include "training/training_plots.hpp"
#include "util/constants.hpp"
#include "window/dialog_folder.hpp"
#include "window/gradient_legend.hpp"

#include <QAction>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QMainWindow>
#include <QMenu>
#include <QMessageBox>
#include <QScrollArea>
#include <QToolBar>

namespace segforge::ui {

namespace {

QString portTitle(const core::Graph& graph, const core::PortRef& port) {
    const core::Node* n = graph.findNode(port.node);
    return n ? QString::fromStdString(n->name + "." + port.port)
             : QString::fromStdString(port.port);
}

/// The first output port of a node (what the inspector shows for a node).
std::optional<core::PortRef> firstOutput(const core::Graph& graph, core::NodeId id) {
    const core::Node* n = graph.findNode(id);
    const core::OpSchema* s = n ? core::OpRegistry::builtin().find(n->op) : nullptr;
    if (!s || s->outputs.empty())
        return std::nullopt;
    return core::PortRef{id, s->outputs.front().name};
}

/// The producer of the first connected input of a node (its input tensor).
std::optional<core::PortRef> firstInputProducer(const core::Graph& graph, core::NodeId id) {
    const core::Node* n = graph.findNode(id);
    const core::OpSchema* s = n ? core::OpRegistry::builtin().find(n->op) : nullptr;
    if (!s)
        return std::nullopt;
    for (const auto& input : s->inputs)
        if (auto producer = graph.producerOf({id, input.name}))
            return producer;
    return std::nullopt;
}

const char* kLockReason =
    "Training is running: stop it (Shift+F5) to edit the graph. Nodes can still be moved.";

} // namespace

TrainingWorkbench::TrainingWorkbench(QMainWindow* window, Document* document, GraphScene* scene,
                                     GraphView* view, DiagnosticsPanel* diagnostics)
    : QObject(window)
    , m_window(window)
    , m_document(document)
    , m_scene(scene)
    , m_view(view)
    , m_diagnostics(diagnostics)
    , m_controller(new TrainingController(document, this)) {
    createDocks(window);
    m_gradientLegend = new GradientLegend(m_view->viewport());

    connect(m_controller, &TrainingController::stateChanged, this,
            &TrainingWorkbench::onStateChanged);
    connect(m_controller, &TrainingController::runStarted, this,
            [this](int, qint64, qint64 firstStep) {
                if (firstStep == 0)
                    m_plots->clear();
                emit trainingStarted();
                m_diagnostics->setRuntimeDiagnostic(std::nullopt);
                m_scene->setRunMark(core::kNoNode, NodeItem::RunMark::None);
            });
    connect(m_controller, &TrainingController::batchDone, this, [this](const core::TrainEvent& e) {
        m_plots->addStep(e.step, e.trainLoss, e.learningRate);
        if (m_panel->gradientViewAction()->isChecked())
            showGradientNorms();
    });
    connect(m_controller, &TrainingController::epochDone, this, [this](const core::TrainEvent& e) {
        m_plots->addEpoch(e.epoch, e.step, e.trainLoss, e.valLoss, e.valMetrics);
    });
    connect(m_controller, &TrainingController::overlaysReady, this,
            [this](const std::vector<core::SamplePrediction>& samples, int epoch) {
                std::vector<OverlaySample> rows;
                rows.reserve(samples.size());
                for (const auto& s : samples)
                    rows.push_back({QString::fromStdString(s.name), s.image, s.truth, s.scores});
                m_overlays->setSamples(std::move(rows), epoch);
            });
    connect(m_controller, &TrainingController::predictionReady, this,
            [this](const QString& name, const core::FilePrediction& p) {
                m_overlays->showPrediction(name, p.rgb, p.scores);
            });
    connect(m_controller, &TrainingController::pausedAt, this,
            [this](core::NodeId node, core::Phase phase, bool) { onPaused(node, phase); });
    connect(m_controller, &TrainingController::nonFiniteFound, this,
            &TrainingWorkbench::onNonFinite);
    connect(m_controller, &TrainingController::runEnded, this,
            [this](core::TrainEventKind, const QString& message) {
                emit statusText(message, 10000);
                refreshInspector();
            });
    connect(m_controller, &TrainingController::failed, this, [this](const QString& message) {
        emit statusText(message, 15000);
        auto* box = new QMessageBox(QMessageBox::Warning, tr("Training"), message, QMessageBox::Ok,
                                    m_window);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open(); // never blocks the event loop
    });
    connect(m_panel, &TrainingPanel::statusText, this,
            [this](const QString& text) { emit statusText(text, 0); });
    connect(m_panel->gradientViewAction(), &QAction::toggled, this, [this](bool on) {
        showGradientNorms();
        if (on && m_controller->gradientNorms().empty())
            emit statusText(
                tr("Gradient view: wires are drawn by gradient norm after the next training step."),
                6000);
    });

    connect(m_scene, &GraphScene::currentEdgeChanged, this, [this](std::optional<core::Edge> edge) {
        if (edge)
            inspect(edge->from);
    });
    connect(m_overlays, &OverlayPanel::refreshRequested, this, [this] {
        QString error;
        if (!m_controller->refreshOverlays(&error))
            emit statusText(error, 6000);
    });
    connect(m_overlays, &OverlayPanel::predictImageRequested, this, [this](const QString& path) {
        QString error;
        if (!m_controller->predictImage(path, &error))
            emit statusText(error, 6000);
    });
    auto noteMetrics = [this] {
        bool metric = false;
        // Each class-averaging metric's legend states its class policy, which follows
        // the channels of the prediction it judges (core/kernels/mask_metrics.hpp).
        std::map<std::string, QString> definitions;
        const core::Graph& graph = m_document->graph();
        for (const auto& [id, node] : graph.nodes()) {
            const core::OpSchema* schema = core::OpRegistry::builtin().find(node.op);
            if (!schema || schema->role != core::OpRole::Metric)
                continue;
            metric = true;
            const auto producer = graph.producerOf({id, "prediction"});
            const auto type = producer ? m_document->check().typeOf(*producer) : std::nullopt;
            if (schema->traits.averagesClasses && type && type->shape.rank() == 4 &&
                type->shape.channels() > 0)
                definitions[node.name] = QString::fromStdString(
                    core::ClassPolicy::forPrediction(type->shape.channels()).describe());
        }
        m_plots->setHasMetric(metric);
        m_plots->setMetricDefinitions(std::move(definitions));
    };
    connect(m_document, &Document::changed, this, noteMetrics);
    noteMetrics();
    connect(m_document, &Document::editRefused, this,
            [this](const QString& why) { emit statusText(why, 6000); });
    connect(m_controller, &TrainingController::historyRestored, this,
            [this](const core::RunHistory& h) {
                m_plots->clear();
                for (const auto& s : h.steps)
                    m_plots->addStep(s.step, s.loss, s.learningRate);
                for (const auto& e : h.epochs)
                    m_plots->addEpoch(e.epoch, e.step, e.trainLoss, e.valLoss, e.metrics);
                m_plots->flush();
            });
    connect(m_controller, &TrainingController::weightsRestored, this,
            [this](bool ok, bool complete, const QString& report) {
                emit statusText(report, complete ? 10000 : 0);
                if (ok && complete)
                    return;
                // Layers that lost their weights are worth a look, not a modal question.
                auto* box = new QMessageBox(QMessageBox::Information, tr("Saved weights"), report,
                                            QMessageBox::Ok, m_window);
                box->setAttribute(Qt::WA_DeleteOnClose);
                box->open();
            });
}

void TrainingWorkbench::showGradientNorms() {
    const bool on = m_panel->gradientViewAction()->isChecked();
    const std::map<core::PortRef, double> norms =
        on ? m_controller->gradientNorms() : std::map<core::PortRef, double>{};
    m_scene->setGradientNorms(norms);
    m_gradientLegend->setNorms(norms, m_controller->step());
    m_gradientLegend->setVisible(on);
}

void TrainingWorkbench::restoreSavedWeights() {
    const auto& section = m_document->project().weights;
    if (!section || m_document->filePath().isEmpty())
        return;
    emit statusText(tr("Loading the saved weights…"), 0);
    m_controller->restoreWeights(m_document->filePath(), *section);
}

void TrainingWorkbench::exportWeightsDialog() {
    if (!m_controller->hasWeights()) {
        emit statusText(tr("No weights yet: train first."), 6000);
        return;
    }
    const QString name = m_document->filePath().isEmpty()
                             ? QString::fromLatin1(kWeightsFileName)
                             : QFileInfo(QString::fromStdString(core::weightsFileNameFor(
                                             m_document->filePath().toStdString())))
                                   .fileName();
    const QString path = QFileDialog::getSaveFileName(
        m_window, tr("Export weights"), dialogFolder(m_document->filePath()) + "/" + name,
        tr("safetensors (*.safetensors);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    const QString error = m_controller->exportWeights(path);
    if (!error.isEmpty()) {
        QMessageBox::critical(m_window, tr("Export failed"), error);
        return;
    }
    emit statusText(tr("Exported the weights of step %1 to %2").arg(m_controller->step()).arg(path),
                    8000);
}

QString TrainingWorkbench::importWeightsFile(const QString& path, QString* error) {
    const core::WeightsMatch m = m_controller->importWeights(path);
    if (!m.error.empty()) {
        if (error)
            *error = QString::fromStdString(m.error);
        return {};
    }
    auto list = [](const std::vector<std::string>& names) {
        QStringList out;
        for (const auto& n : names)
            out << QString::fromStdString(n);
        return out.join(", ");
    };
    const std::size_t total =
        m.loaded.size() + m.missing.size() + m.mismatched.size() + m.refused.size();
    QString report = tr("%1 of %2 tensors loaded from %3.")
                         .arg(m.loaded.size())
                         .arg(total)
                         .arg(QFileInfo(path).fileName());
    if (!m.mismatched.empty())
        report += "\n" + tr("Other shape (kept as they were): %1").arg(list(m.mismatched));
    if (!m.missing.empty())
        report += "\n" + tr("Not in the file (kept as they were): %1").arg(list(m.missing));
    if (!m.unused.empty())
        report += "\n" + tr("In the file but not in the graph: %1").arg(list(m.unused));
    refreshInspector();
    return report;
}

void TrainingWorkbench::importWeightsDialog() {
    const QString path = QFileDialog::getOpenFileName(
        m_window, tr("Import weights"), dialogFolder(m_document->filePath()),
        tr("safetensors (*.safetensors);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    QString error;
    const QString report = importWeightsFile(path, &error);
    if (report.isEmpty()) {
        QMessageBox::critical(m_window, tr("Import failed"), error);
        return;
    }
    emit statusText(report.section('\n', 0, 0), 10000);
    auto* box = new QMessageBox(QMessageBox::Information, tr("Imported weights"), report,
                                QMessageBox::Ok, m_window);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    QString why;
    m_controller->refreshOverlays(&why); // new weights, new predictions (when there is data)
}

void TrainingWorkbench::createDocks(QMainWindow* window) {
    auto dock = [window](const QString& title, QWidget* w, const QString& name, bool scroll) {
        auto* d = new QDockWidget(title, window);
        d->setObjectName(name);
        if (scroll) { // tall content scrolls instead of forcing the window taller
            auto* area = new QScrollArea(d);
            area->setWidgetResizable(true);
            area->setFrameShape(QFrame::NoFrame);
            area->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
            area->setWidget(w);
            d->setWidget(area);
        } else {
            d->setWidget(w);
        }
        return d;
    };
    m_panel = new TrainingPanel(m_document, m_controller, window);
    m_plots = new TrainingPlots(window);
    m_overlays = new OverlayPanel(window);
    m_inspector = new TensorInspectorPanel(window);
    m_trainingDock = dock(tr("Training"), m_panel, "training", true);
    m_plotsDock = dock(tr("Plots"), m_plots, "plots", false);
    m_overlaysDock = dock(tr("Predictions"), m_overlays, "predictions", false);
    m_inspectorDock = dock(tr("Tensor Inspector"), m_inspector, "inspector", true);
    window->addDockWidget(Qt::RightDockWidgetArea, m_trainingDock);
    window->addDockWidget(Qt::RightDockWidgetArea, m_inspectorDock);
    window->addDockWidget(Qt::BottomDockWidgetArea, m_plotsDock);
    window->addDockWidget(Qt::BottomDockWidgetArea, m_overlaysDock);
}

QMenu* TrainingWorkbench::createMenu(QWidget* parent) {
    auto* menu = new QMenu(tr("&Train"), parent);
    menu->addAction(m_panel->trainAction());
    menu->addAction(m_panel->pauseAction());
    menu->addAction(m_panel->stopAction());
    menu->addSeparator();
    menu->addAction(m_panel->stepBatchAction());
    menu->addAction(m_panel->stepNodeAction());
    menu->addAction(m_panel->runToBreakpointAction());
    QAction* breakpoint = menu->addAction(tr("Toggle &Breakpoint"));
    breakpoint->setShortcut(Qt::Key_F9);
    breakpoint->setShortcutContext(Qt::WindowShortcut);
    breakpoint->setToolTip(tr("Pause after the selected nodes run (F9)"));
    connect(breakpoint, &QAction::triggered, this, &TrainingWorkbench::toggleBreakpoints);
    menu->addSeparator();
    menu->addAction(m_panel->gradientViewAction());
    QAction* refresh = menu->addAction(tr("Refresh &Predictions"));
    connect(refresh, &QAction::triggered, m_overlays, &OverlayPanel::refreshRequested);
    QAction* predict = menu->addAction(tr("Predict &Image…"));
    connect(predict, &QAction::triggered, this, [this] {
        const QString path = QFileDialog::getOpenFileName(
            m_window, tr("Predict image"), dialogFolder(m_document->filePath()),
            tr("Images (*.png *.jpg *.jpeg *.tif *.tiff *.bmp)"));
        if (path.isEmpty())
            return;
        rememberDialogPath(path);
        QString error;
        if (!m_controller->predictImage(path, &error))
            emit statusText(error, 6000);
    });
    menu->addSeparator();
    menu->addAction(m_panel->resetWeightsAction());
    return menu;
}

void TrainingWorkbench::addToolBarActions(QToolBar* bar) {
    for (QAction* a : {m_panel->trainAction(), m_panel->pauseAction(), m_panel->stopAction(),
                       m_panel->stepBatchAction(), m_panel->stepNodeAction()})
        bar->addAction(a);
}

void TrainingWorkbench::toggleBreakpoints() {
    const auto nodes = m_scene->selectedNodes();
    if (nodes.empty()) {
        emit statusText(tr("Select a node to toggle its breakpoint (F9)."), 4000);
        return;
    }
    for (core::NodeId id : nodes)
        m_controller->setBreakpoint(id, !m_controller->hasBreakpoint(id));
    m_scene->setBreakpoints(m_controller->breakpoints());
    m_panel->runToBreakpointAction()->setEnabled(
        !m_controller->breakpoints().empty() &&
        (m_controller->state() == TrainingController::State::Idle ||
         m_controller->state() == TrainingController::State::Paused));
}

void TrainingWorkbench::inspect(const core::PortRef& output) {
    m_inspected = output;
    refreshInspector();
}

void TrainingWorkbench::refreshInspector() {
    if (!m_inspected)
        return;
    const QString title = portTitle(m_document->graph(), *m_inspected);
    if (!m_controller->canInspect()) {
        m_inspector->showWire(title, nullptr, nullptr);
        return;
    }
    m_inspector->showWire(title, m_controller->value(*m_inspected),
                          m_controller->gradient(*m_inspected));
}

void TrainingWorkbench::onStateChanged() {
    using State = TrainingController::State;
    const bool active = m_controller->trainingActive();
    m_document->setLocked(active ? tr(kLockReason) : QString());
    if (m_controller->state() == State::Running && m_scene->runMarkNode() != core::kNoNode &&
        !m_controller->nonFinite())
        m_scene->setRunMark(core::kNoNode, NodeItem::RunMark::None);
    if (m_controller->state() == State::Idle && !m_controller->nonFinite())
        m_scene->setRunMark(core::kNoNode, NodeItem::RunMark::None);
}

void TrainingWorkbench::onPaused(core::NodeId node, core::Phase phase) {
    m_phase = phase;
    if (node == core::kNoNode) {
        m_scene->setRunMark(core::kNoNode, NodeItem::RunMark::None);
        const QString text = tr("Paused between batches, at step %1.").arg(m_controller->step());
        m_panel->showRunState(text);
        emit statusText(text, 0);
        refreshInspector();
        return;
    }
    m_scene->setRunMark(node, NodeItem::RunMark::Current);
    if (NodeItem* item = m_scene->nodeItem(node))
        m_view->ensureVisible(item, 60, 60);
    const core::Node* n = m_document->graph().findNode(node);
    const QString text = tr("Paused after %1 %2 of step %3. Step Node (F11) runs the next one.")
                             .arg(phase == core::Phase::Forward ? tr("forward") : tr("backward"))
                             .arg(n ? QString::fromStdString(n->name) : QString())
                             .arg(m_controller->step() + 1);
    m_panel->showRunState(text);
    emit statusText(text, 0);
    // Follow the node being stepped unless the user picked a wire.
    if (!m_scene->selectedEdge()) {
        auto port = phase == core::Phase::Forward ? firstOutput(m_document->graph(), node)
                                                  : firstInputProducer(m_document->graph(), node);
        if (port)
            m_inspected = port;
    }
    refreshInspector();
}

void TrainingWorkbench::onNonFinite(const core::NonFiniteReport& report) {
    m_scene->setRunMark(report.node, NodeItem::RunMark::NonFinite);
    m_view->centerOnNode(report.node);
    core::Diagnostic d;
    d.severity = core::Severity::Error;
    d.code = "non-finite-at-runtime";
    d.node = report.node;
    d.message = report.message();
    // The checker's fixes for that node (a Dice without epsilon: set epsilon) apply here too.
    for (const core::Diagnostic& c : m_document->check().diagnostics)
        if (c.node == report.node)
            d.fixes.insert(d.fixes.end(), c.fixes.begin(), c.fixes.end());
    m_diagnostics->setRuntimeDiagnostic(d);
    if (auto input = firstInputProducer(m_document->graph(), report.node))
        m_inspected = input;
    emit inspectorWanted();
    if (m_inspectorDock->isVisible())
        m_inspectorDock->raise();
    emit statusText(QString::fromStdString(report.message()), 0);
    refreshInspector();
}

bool TrainingWorkbench::stopTraining(bool ask) {
    if (!m_controller->trainingActive() && m_controller->state() != TrainingController::State::Busy)
        return true;
    if (ask && m_controller->trainingActive()) {
        const auto answer = QMessageBox::question(
            m_window, tr("Training is running"),
            tr("Stop training? The weights of the last finished step are kept; "
               "save the project to keep them with it."));
        if (answer != QMessageBox::Yes)
            return false;
    }
    m_controller->stop();
    m_controller->waitForIdle(60'000);
    return true;
}

void TrainingWorkbench::projectReplaced() {
    m_controller->resetWeights();
    m_controller->markWeightsSaved(); // another project: nothing of it is unsaved yet
    for (core::NodeId id : std::set<core::NodeId>(m_controller->breakpoints()))
        m_controller->setBreakpoint(id, false);
    m_scene->setBreakpoints({});
    m_scene->setRunMark(core::kNoNode, NodeItem::RunMark::None);
    m_scene->setGradientNorms({});
    m_gradientLegend->setNorms({}, 0); // another network: the legend waits for its first step
    m_diagnostics->setRuntimeDiagnostic(std::nullopt);
    m_plots->clear();
    m_overlays->setSamples({}, -1);
    m_inspector->showWire(QString(), nullptr, nullptr);
    m_inspected.reset();
}

} // namespace segforge::ui
