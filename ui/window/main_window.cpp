#include "window/main_window.hpp"

#include "document/document.hpp"
#include "document/recovery_store.hpp"
#include "engine/project_weights.hpp"
#include "engine/weights.hpp"
#include "keras/keras_import.hpp"
#include "layout/grouped_layout.hpp"
#include "onnx/onnx_import.hpp"
#include "panels/diagnostics_panel.hpp"
#include "panels/palette_panel.hpp"
#include "panels/properties_panel.hpp"
#include "panels/quick_add_popup.hpp"
#include "panels/summary_panel.hpp"
#include "project/project_file.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/group_actions.hpp"
#include "style/application_style.hpp"
#include "style/theme.hpp"
#include "training/training_controller.hpp"
#include "util/constants.hpp"
#include "util/version.hpp"
#include "window/dialog_folder.hpp"
#include "window/export_script_dialog.hpp"
#include "window/first_run_hint.hpp"
#include "window/shortcuts_dialog.hpp"
#include "window/template_dialog.hpp"
#include "window/toolbar_icons.hpp"
#include "window/training_workbench.hpp"
#include "window/workspaces.hpp"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGraphicsItem>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QStyle>
#include <QTabBar>
#include <QTimer>
#include <QToolBar>
#include <algorithm>

namespace segforge::ui {

namespace {

/// ".segforge", as a QString.
QString projectExtension() {
    return QString::fromLatin1(kProjectExtension);
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent) {
    m_document = new Document(this);
    m_scene = new GraphScene(m_document, this);
    m_view = new GraphView(m_scene, this);
    setCentralWidget(m_view);
    m_firstRunHint = new FirstRunHint(m_view->viewport());
    m_quickAdd = new QuickAddPopup(this);
    createDocks();
    createActions();

    m_statusCounts = new QLabel(this);
    m_statusZoom = new QLabel(this);
    statusBar()->addPermanentWidget(m_statusCounts);
    statusBar()->addPermanentWidget(m_statusZoom);

    connect(m_document, &Document::changed, this, &MainWindow::updateStatus);
    connect(m_view, &GraphView::zoomChanged, this, &MainWindow::updateStatus);
    connect(m_document, &Document::dirtyChanged, this, &MainWindow::updateTitle);
    connect(m_document, &Document::filePathChanged, this, &MainWindow::updateTitle);
    connect(m_training->controller(), &TrainingController::weightsChanged, this,
            &MainWindow::updateTitle);
    connect(m_training->controller(), &TrainingController::autosavePoint, this,
            &MainWindow::autosaveWeights);
    connect(m_document, &Document::projectReplaced, this,
            [this] { QTimer::singleShot(0, m_view, &GraphView::showStart); });
    connect(m_scene, &GraphScene::currentNodeChanged, m_properties, &PropertiesPanel::showNode);
    connect(m_scene, &GraphScene::statusMessage, this,
            [this](const QString& text) { statusBar()->showMessage(text, 4000); });
    connect(m_diagnostics, &DiagnosticsPanel::nodeActivated, this, [this](core::NodeId id) {
        m_scene->selectNode(id);
        m_view->centerOnNode(id);
    });
    connect(m_palette, &PalettePanel::opActivated, this, [this](const QString& op) {
        m_scene->addNodeAt(op.toStdString(),
                           m_view->mapToScene(m_view->viewport()->rect().center()));
    });
    connect(m_view, &GraphView::quickAddAt, this,
            [this](QPointF p) { showQuickAdd(p, std::nullopt, {}); });
    connect(m_scene, &GraphScene::quickAddRequested, this,
            [this](QPointF p, std::optional<core::PortRef> from) {
                if (from)
                    showQuickAdd(p, from->node, QString::fromStdString(from->port));
                else
                    showQuickAdd(p, std::nullopt, {});
            });
    connect(m_quickAdd, &QuickAddPopup::opChosen, this, [this](const QString& op) {
        std::optional<core::PortRef> from;
        if (m_quickAddFrom)
            from = core::PortRef{m_quickAddFrom->first, m_quickAddFrom->second.toStdString()};
        m_scene->addNodeAt(op.toStdString(), m_quickAddScenePos, from);
    });

    m_recovery = std::make_unique<RecoveryStore>();
    m_autosave = new QTimer(this);
    m_autosave->setSingleShot(true);
    m_autosave->setTimerType(Qt::PreciseTimer); // a coarse timer may fire 5 % late: 2 s means 2 s
    connect(m_autosave, &QTimer::timeout, this, &MainWindow::autosave);
    connect(m_document, &Document::changed, this, &MainWindow::scheduleAutosave);
    connect(m_document, &Document::trainingChanged, this, &MainWindow::scheduleAutosave);
    connect(m_document, &Document::dirtyChanged, this, &MainWindow::scheduleAutosave);

    // An explicit minimum: the layout then never raises the window's minimum to
    // what its docks ask for (once, all docks at once asked for 823 px of
    // height, and a 1280×720 window grew past the screen). Docks scroll instead.
    setMinimumSize(640, 420);
    resize(1500, 920);
    setDarkTheme(true);
    updateTitle();
    updateStatus();
    QTimer::singleShot(0, this, &MainWindow::offerRecovery);
}

MainWindow::~MainWindow() {
    if (m_autosave
            ->isActive()) // closed without closeEvent (scripts, tests): keep the pending edits
        autosave();
    m_document->undoStack()->disconnect(this);
    m_document->disconnect(this);
}

void MainWindow::createDocks() {
    auto dock = [this](const QString& title, QWidget* w, Qt::DockWidgetArea area,
                       const QString& name) {
        auto* d = new QDockWidget(title, this);
        d->setObjectName(name);
        d->setWidget(w);
        addDockWidget(area, d);
        return d;
    };
    m_palette = new PalettePanel(this);
    m_properties = new PropertiesPanel(m_document, this);
    m_diagnostics = new DiagnosticsPanel(m_document, this);
    m_summary = new SummaryPanel(m_document, this);
    // No fixed minimum widths: a dock's minimum is what forces a window wider
    // than a 1280-pixel screen. The workspace layouts give each dock its room.
    Workspaces::Docks docks;
    docks.palette = dock(tr("Palette"), m_palette, Qt::LeftDockWidgetArea, "palette");
    docks.properties = dock(tr("Properties"), m_properties, Qt::RightDockWidgetArea, "properties");
    docks.diagnostics =
        dock(tr("Diagnostics"), m_diagnostics, Qt::RightDockWidgetArea, "diagnostics");
    docks.summary = dock(tr("Model summary"), m_summary, Qt::RightDockWidgetArea, "summary");
    m_training = new TrainingWorkbench(this, m_document, m_scene, m_view, m_diagnostics);
    docks.training = m_training->trainingDock();
    docks.plots = m_training->plotsDock();
    docks.predictions = m_training->overlaysDock();
    docks.inspector = m_training->inspectorDock();
    m_workspaces = new Workspaces(this, docks);
    // Only Build's docks from the start: all of them at once would ask for a
    // window taller than a laptop's screen before the first show.
    m_workspaces->arrange();
    connect(m_training, &TrainingWorkbench::trainingStarted, m_workspaces,
            &Workspaces::trainingStarted);
    connect(m_training, &TrainingWorkbench::inspectorWanted, this, [this] {
        if (!m_training->inspectorDock()->isVisible())
            m_workspaces->switchTo(Workspace::Inspect);
    });
    connect(m_training, &TrainingWorkbench::statusText, this,
            [this](const QString& text, int ms) { statusBar()->showMessage(text, ms); });
    connect(m_document, &Document::projectReplaced, m_training,
            &TrainingWorkbench::projectReplaced);
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    if (!m_arranged) { // now the window has the size it is shown at
        m_arranged = true;
        m_workspaces->arrange();
    }
}

void MainWindow::createActions() {
    auto add = [this](QMenu* menu, const QString& text, QKeySequence key, auto slot) {
        QAction* a = menu->addAction(text);
        a->setShortcut(key);
        a->setShortcutContext(Qt::WindowShortcut);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* newAct = add(file, tr("&New"), QKeySequence::New, [this] { newEmpty(); });
    newAct->setObjectName("new-empty");
    newAct->setIcon(style()->standardIcon(QStyle::SP_FileIcon));
    newAct->setToolTip(
        tr("New empty project (%1)").arg(newAct->shortcut().toString(QKeySequence::NativeText)));
    add(file, tr("New from &Template…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N), [this] {
        newFromTemplate();
    })->setObjectName("new-from-template");
    QAction* openAct = add(file, tr("&Open…"), QKeySequence::Open, [this] { openDialog(); });
    openAct->setIcon(style()->standardIcon(QStyle::SP_DialogOpenButton));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    add(file, tr("&Import Keras Model…"), QKeySequence(Qt::CTRL | Qt::Key_I),
        [this] { importKerasDialog(); });
    add(file, tr("Import O&NNX Model…"), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_I), [this] {
        importOnnxDialog();
    })->setStatusTip(tr("Open a PyTorch model exported with torch.onnx.export, with its weights"));
    QAction* saveAct = add(file, tr("&Save"), QKeySequence::Save, [this] { save(); });
    saveAct->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));
    add(file, tr("Save &As…"), QKeySequence::SaveAs, [this] { saveAs(); });
    file->addSeparator();
    add(file, tr("&Export Weights…"), QKeySequence(), [this] {
        m_training->exportWeightsDialog();
    })->setStatusTip(tr("Write the trained weights as safetensors, under the graph's layer names"));
    add(file, tr("Im&port Weights…"), QKeySequence(), [this] {
        m_training->importWeightsDialog();
    })->setStatusTip(tr("Load safetensors weights by layer name; what does not fit is reported"));
    add(file, tr("Export &Training Script…"), QKeySequence(), [this] {
        exportTrainingScriptDialog();
    })->setStatusTip(tr("Write a PyTorch or Keras script that trains this network elsewhere"));
    file->addSeparator();
    add(file, tr("&Quit"), QKeySequence::Quit, [this] { close(); });

    QMenu* edit = menuBar()->addMenu(tr("&Edit"));
    // Undo and redo follow the stack, and are off while training locks the graph.
    QUndoStack* stack = m_document->undoStack();
    QAction* undo = add(edit, tr("&Undo"), QKeySequence::Undo, [stack] { stack->undo(); });
    QAction* redo = add(edit, tr("&Redo"), QKeySequence::Redo, [stack] { stack->redo(); });
    redo->setShortcuts({QKeySequence::Redo, QKeySequence(Qt::CTRL | Qt::Key_Y)});
    auto updateUndo = [this, stack, undo, redo] {
        const bool locked = m_document->isLocked();
        undo->setEnabled(stack->canUndo() && !locked);
        redo->setEnabled(stack->canRedo() && !locked);
        // The labels stay put (a fix's description would push the toolbar's
        // buttons around): what would be undone is said in the tooltip.
        const QString undoKey = undo->shortcut().toString(QKeySequence::NativeText);
        const QString redoKey = redo->shortcut().toString(QKeySequence::NativeText);
        undo->setToolTip(stack->canUndo() ? tr("Undo %1 (%2)").arg(stack->undoText(), undoKey)
                                          : tr("Nothing to undo"));
        redo->setToolTip(stack->canRedo() ? tr("Redo %1 (%2)").arg(stack->redoText(), redoKey)
                                          : tr("Nothing to redo"));
        undo->setStatusTip(undo->toolTip());
        redo->setStatusTip(redo->toolTip());
    };
    undo->setObjectName("undo");
    redo->setObjectName("redo");
    undo->setIcon(style()->standardIcon(QStyle::SP_ArrowBack));
    redo->setIcon(style()->standardIcon(QStyle::SP_ArrowForward));
    connect(stack, &QUndoStack::indexChanged, this, updateUndo);
    connect(stack, &QUndoStack::cleanChanged, this, updateUndo);
    connect(m_document, &Document::lockChanged, this, updateUndo);
    updateUndo();
    edit->addSeparator();
    add(edit, tr("&Copy"), QKeySequence::Copy, [this] { m_scene->copySelection(); });
    add(edit, tr("&Paste"), QKeySequence::Paste,
        [this] { m_scene->pasteAt(m_view->cursorScenePos()); });
    add(edit, tr("D&uplicate"), QKeySequence(Qt::CTRL | Qt::Key_D),
        [this] { m_scene->duplicateSelection(); });
    QAction* del =
        add(edit, tr("&Delete"), QKeySequence::Delete, [this] { m_scene->deleteSelection(); });
    del->setShortcuts({QKeySequence::Delete, QKeySequence(Qt::Key_Backspace)});
    add(edit, tr("Select &All"), QKeySequence::SelectAll, [this] {
        for (QGraphicsItem* item : m_scene->items())
            item->setSelected(true);
    });
    add(edit, tr("Add &Node…"), QKeySequence(Qt::Key_A | Qt::SHIFT),
        [this] { showQuickAdd(m_view->cursorScenePos(), std::nullopt, {}); });
    addGroupActions(edit, this, m_scene);

    QMenu* view = menuBar()->addMenu(tr("&View"));
    QAction* fit =
        add(view, tr("&Fit Graph"), QKeySequence(Qt::Key_F), [this] { m_view->fitAll(); });
    fit->setIcon(toolbarIcon(ToolbarIcon::Fit));
    fit->setIconText(tr("Fit"));
    fit->setToolTip(tr("Fit the whole graph in view (F)"));
    add(view, tr("Zoom &In"), QKeySequence::ZoomIn, [this] { m_view->zoomBy(1.2); });
    add(view, tr("Zoom &Out"), QKeySequence::ZoomOut, [this] { m_view->zoomBy(1 / 1.2); });
    add(view, tr("Actual &Size"), QKeySequence(Qt::CTRL | Qt::Key_0), [this] {
        m_view->resetTransform();
        updateStatus();
    });
    view->addSeparator();
    QAction* layout =
        add(view, tr("Auto &Layout"), QKeySequence(Qt::CTRL | Qt::Key_L), [this] { autoLayout(); });
    layout->setIcon(toolbarIcon(ToolbarIcon::Layout));
    layout->setIconText(tr("Layout"));
    layout->setToolTip(tr("Lay the graph out again (Ctrl+L, one undoable step)"));
    QAction* snap = view->addAction(tr("Snap to &Grid"));
    snap->setCheckable(true);
    snap->setChecked(true);
    connect(snap, &QAction::toggled, this, [this](bool on) { m_scene->setSnapToGrid(on); });
    QAction* theme = view->addAction(tr("&Dark Theme"));
    theme->setCheckable(true);
    theme->setChecked(true);
    connect(theme, &QAction::toggled, this, [this](bool dark) { setDarkTheme(dark); });
    view->addSeparator();
    QMenu* workspaces = view->addMenu(tr("&Workspace"));
    for (QAction* a : m_workspaces->actions())
        workspaces->addAction(a);
    workspaces->addSeparator();
    workspaces->addAction(m_workspaces->autoTrainAction());
    workspaces->addAction(m_workspaces->resetAction());
    QMenu* panels = view->addMenu(tr("&Panels"));
    for (QDockWidget* d : findChildren<QDockWidget*>())
        panels->addAction(d->toggleViewAction());
    // Workspace tabs where Blender has them: in the bar at the top, clear of the toolbar's buttons.
    menuBar()->setCornerWidget(m_workspaces->tabBar(), Qt::TopRightCorner);

    menuBar()->addMenu(m_training->createMenu(this));

    QMenu* help = menuBar()->addMenu(tr("&Help"));
    add(help, tr("&Keyboard Shortcuts"), QKeySequence(Qt::CTRL | Qt::Key_Slash), [this] {
        ShortcutsDialog dialog(this, this);
        dialog.exec();
    })->setObjectName("keyboard-shortcuts");
    help->addAction(tr("&Getting Started"), this, [this] { m_firstRunHint->showHint(); })
        ->setObjectName("first-run-hint");
    help->addAction(tr("&About SegForge"), this, [this] {
        QMessageBox::about(
            this, tr("About SegForge"),
            tr("<b>SegForge</b> %1<br>Build segmentation networks as graphs and see the "
               "tensor type on every wire. Mistakes are caught on the canvas, explained, "
               "and fixable with one click.")
                .arg(QString::fromLatin1(kVersion)));
    });

    QToolBar* bar = addToolBar(tr("Main"));
    bar->setObjectName("main-toolbar");
    bar->setMovable(false);
    bar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    bar->setIconSize({16, 16});
    // Short fixed labels: the menu's words ("New from Template…") go in tooltips.
    newAct->setIconText(tr("New"));
    openAct->setIconText(tr("Open"));
    saveAct->setIconText(tr("Save"));
    undo->setIconText(tr("Undo"));
    redo->setIconText(tr("Redo"));
    for (QAction* a : {newAct, openAct, saveAct})
        bar->addAction(a);
    bar->addSeparator();
    bar->addAction(undo);
    bar->addAction(redo);
    bar->addSeparator();
    bar->addAction(fit);
    bar->addAction(layout);
    bar->addSeparator();
    m_training->addToolBarActions(bar);
    updateRecentMenu();
}

void MainWindow::setDarkTheme(bool dark) {
    m_dark = dark;
    Theme::setDark(dark);
    applyApplicationStyle(dark);
    m_document->recheck(); // repaint everything in the new colours
}

void MainWindow::showQuickAdd(QPointF scenePos, std::optional<qint64> fromNode,
                              const QString& fromPort) {
    m_quickAddScenePos = scenePos;
    std::optional<core::TensorType> type;
    if (fromNode) {
        m_quickAddFrom = std::make_pair(*fromNode, fromPort);
        type = m_document->check().typeOf({*fromNode, fromPort.toStdString()});
    } else {
        m_quickAddFrom.reset();
    }
    const QPoint global = m_view->viewport()->mapToGlobal(m_view->mapFromScene(scenePos));
    m_quickAdd->open(global, type);
}

void MainWindow::updateTitle() {
    setWindowTitle(QString("%1[*] — SegForge").arg(m_document->displayName()));
    setWindowModified(m_document->isDirty() || m_training->controller()->weightsModified());
}

void MainWindow::updateStatus() {
    const auto& r = m_document->check();
    const auto errors = r.count(core::Severity::Error);
    const auto warnings = r.count(core::Severity::Warning);
    m_statusCounts->setText(tr("%1 nodes · %2 · %3 · checked in %4 ms")
                                .arg(m_document->graph().nodeCount())
                                .arg(tr("%n error(s)", "", static_cast<int>(errors)))
                                .arg(tr("%n warning(s)", "", static_cast<int>(warnings)))
                                .arg(m_document->lastCheckMilliseconds(), 0, 'f', 2));
    m_statusZoom->setText(tr("zoom %1%").arg(qRound(m_view->zoom() * 100)));
}

bool MainWindow::maybeSave() {
    TrainingController* c = m_training->controller();
    const bool running = c->trainingActive();
    const bool edits = m_document->isDirty();
    const bool weights = c->weightsModified() && c->hasWeights();
    const bool weightsDropped =
        c->weightsModified() && !c->hasWeights(); // Reset Weights since the save
    if (!running && !edits && !weights && !weightsDropped)
        return true;
    const QString name = m_document->displayName();
    QStringList what;
    if (edits)
        what << tr("unsaved changes");
    if (weights)
        what << tr("trained weights (step %1) that are not saved").arg(c->step());
    if (weightsDropped && what.isEmpty())
        what << tr("weights reset since the last save");
    QString text = what.isEmpty() ? tr("Training is running on %1.").arg(name)
                                  : tr("%1 has %2.").arg(name, what.join(tr(" and ")));
    QString details;
    if (running)
        details =
            tr("Training stops first; the weights of the last finished step are kept.") + "\n";
    details += c->hasWeights() ? tr("Save writes the project and its weights beside it; Discard "
                                    "loses what is not saved.")
                               : tr("Discard loses what is not saved.");
    const QString question =
        tr("Save the project%1?").arg(c->hasWeights() ? tr(" with its weights") : QString());
    const QString title = running ? tr("Training is running") : tr("Unsaved work");
    QMessageBox::StandardButton answer;
    if (m_savePrompt) {
        answer = m_savePrompt(title, text + "\n\n" + question + "\n" + details);
    } else {
        QMessageBox box(QMessageBox::Warning, title, text + " " + question,
                        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
        box.setObjectName("save-prompt");
        box.setInformativeText(details);
        box.setDefaultButton(QMessageBox::Save);
        box.button(QMessageBox::Discard)->setText(running ? tr("Stop and Discard") : tr("Discard"));
        box.button(QMessageBox::Save)->setText(running ? tr("Stop and Save") : tr("Save"));
        answer = static_cast<QMessageBox::StandardButton>(box.exec());
    }
    if (answer != QMessageBox::Save && answer != QMessageBox::Discard)
        return false;
    if (running)
        m_training->stopTraining(false);
    if (answer == QMessageBox::Save)
        return save();
    return true;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (!maybeSave() || !m_training->stopTraining(false)) {
        event->ignore();
        return;
    }
    m_autosave->stop();
    discardRecovery(); // saved or discarded on purpose: nothing to recover
    m_workspaces->saveCurrent();
    event->accept();
}

bool MainWindow::openFile(const QString& path, QString* error, bool quiet) {
    // Models of other frameworks open as imports: a new, unsaved project.
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "onnx")
        return importOnnx(path, error, quiet);
    if (suffix == "json" || suffix == "keras")
        return importKeras(path, error, quiet);
    if (!m_training->stopTraining(!quiet)) {
        if (error)
            *error = tr("training is running");
        return false;
    }
    QString why;
    if (!m_document->open(path, &why)) {
        if (error)
            *error = why;
        if (!quiet)
            QMessageBox::critical(
                this, tr("Cannot open %1").arg(QFileInfo(path).fileName()),
                tr("The file was not opened; your current document is unchanged.\n\n%1").arg(why));
        statusBar()->showMessage(tr("Could not open %1").arg(path), 6000);
        return false;
    }
    addRecent(m_document->filePath());
    statusBar()->showMessage(tr("Opened %1").arg(path), 4000);
    m_training->restoreSavedWeights();
    return true;
}

void MainWindow::openDialog() {
    if (!maybeSave())
        return;
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open project"), dialogStartFolder(),
        tr("SegForge projects (*%1);;ONNX models (*.onnx);;Keras models (*.json *.keras);;All "
           "files (*)")
            .arg(projectExtension()));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    openFile(path);
}

void MainWindow::importKerasDialog() {
    if (!maybeSave())
        return;
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Import Keras model"), dialogStartFolder(),
                                     tr("Keras models (*.json *.keras);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    importKeras(path);
}

bool MainWindow::importKeras(const QString& path, QString* error, bool quiet) {
    if (!m_training->stopTraining(!quiet)) {
        if (error)
            *error = tr("training is running");
        return false;
    }
    core::KerasImport imported = core::importKerasFile(path.toStdString());
    if (!imported.ok()) {
        QStringList lines;
        for (const auto& e : imported.errors)
            lines << QString::fromStdString(e);
        if (error)
            *error = lines.join('\n');
        if (!quiet)
            QMessageBox::critical(
                this, tr("Cannot import %1").arg(QFileInfo(path).fileName()),
                tr("The model was not imported; your current document is unchanged.\n\n%1")
                    .arg(lines.join('\n')));
        statusBar()->showMessage(tr("Could not import %1").arg(path), 6000);
        return false;
    }
    m_document->resetUnsaved(std::move(*imported.project));
    QString note = tr("Imported %1: %2 layers")
                       .arg(QFileInfo(path).fileName())
                       .arg(m_document->graph().nodeCount());
    if (!imported.warnings.empty())
        note += tr(" — %n warning(s), first: %1", "", static_cast<int>(imported.warnings.size()))
                    .arg(QString::fromStdString(imported.warnings.front()));
    statusBar()->showMessage(note, 10000);
    return true;
}

void MainWindow::importOnnxDialog() {
    if (!maybeSave())
        return;
    const QString path =
        QFileDialog::getOpenFileName(this, tr("Import ONNX model"), dialogStartFolder(),
                                     tr("ONNX models (*.onnx);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    importOnnx(path);
}

bool MainWindow::importOnnx(const QString& path, QString* error, bool quiet) {
    if (!m_training->stopTraining(!quiet)) {
        if (error)
            *error = tr("training is running");
        return false;
    }
    const QString fileName = QFileInfo(path).fileName();
    core::OnnxImport imported = core::importOnnxFile(path.toStdString());
    if (!imported.ok()) {
        QStringList lines;
        for (const auto& e : imported.errors)
            lines << QString::fromStdString(e);
        if (lines.isEmpty())
            lines << tr("%1: the model could not be imported").arg(path);
        if (error)
            *error = lines.join('\n');
        if (!quiet)
            QMessageBox::critical(
                this, tr("Cannot import %1").arg(fileName),
                tr("The model was not imported; your current document is unchanged.\n\n%1")
                    .arg(lines.join('\n')));
        statusBar()->showMessage(tr("Could not import %1").arg(path), 6000);
        return false;
    }
    std::map<std::string, core::Tensor> weights = std::move(imported.weights);
    const std::size_t tensors = weights.size();
    // torch.onnx.export names every graph "torch_jit" (or "main_graph"), the
    // importer a nameless one "onnx_model": the file's name says more (and
    // names the exported script, NAME_train.py).
    std::string& name = imported.project->name;
    if (name.empty() || name == "torch_jit" || name == "main_graph" || name == "onnx_model")
        name = QFileInfo(path).completeBaseName().toStdString();
    m_document->resetUnsaved(std::move(*imported.project)); // the workbench forgets old weights
    QString weightsNote;
    if (tensors > 0) {
        const core::WeightsMatch m = m_training->controller()->adoptWeights(std::move(weights));
        if (m.error.empty())
            weightsNote =
                tr("weights: %1").arg(QString::fromStdString(core::describeWeightsMatch(m)));
        else if (m_training->controller()->hasPendingWeights())
            weightsNote = tr("%n weight tensor(s) wait until the graph compiles", "", int(tensors));
        else
            weightsNote = tr("%n weight tensor(s) not loaded: %1", "", int(tensors))
                              .arg(QString::fromStdString(m.error));
    } else {
        weightsNote = tr("the file holds no weights: they start from the seed");
    }

    // The placeholders, by ONNX op and node, as the canvas marks them:
    // "Gemm (head_fc)", "HardSwish ×5 (enc1_act, enc2_act, bott_act, …)".
    std::map<QString, QStringList> byOp;
    int placeholderCount = 0;
    for (const auto& [id, node] : m_document->graph().nodes()) {
        if (node.op != "OnnxNode")
            continue;
        auto it = node.attrs.find("op_type");
        const std::string* op =
            it == node.attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
        byOp[op && !op->empty() ? QString::fromStdString(*op) : tr("unknown op")]
            << QString::fromStdString(node.name);
        ++placeholderCount;
    }
    QStringList placeholders;
    for (auto& [op, names] : byOp) {
        constexpr int kNamed = 3;
        const int count = static_cast<int>(names.size());
        QStringList shown = names.mid(0, kNamed);
        if (count > kNamed)
            shown << QStringLiteral("…");
        placeholders
            << (count == 1
                    ? QStringLiteral("%1 (%2)").arg(op, names.front())
                    : QStringLiteral("%1 ×%2 (%3)").arg(op).arg(count).arg(shown.join(", ")));
    }
    const int warnings = static_cast<int>(imported.warnings.size());
    QString note = tr("Imported %1: %2 layers — %3")
                       .arg(fileName)
                       .arg(m_document->graph().nodeCount())
                       .arg(weightsNote);
    if (!placeholders.isEmpty())
        note += tr(" — %n placeholder(s)", "", placeholderCount);
    if (warnings > 0)
        note += tr(" — %n warning(s), first: %1", "", warnings)
                    .arg(QString::fromStdString(imported.warnings.front()));
    statusBar()->showMessage(note, 15000);

    if (!quiet && (!placeholders.isEmpty() || warnings > 0)) {
        QString text;
        if (!placeholders.isEmpty())
            text = tr("%n ONNX op(s) have no SegForge equivalent: %1; they are marked on the "
                      "canvas. Replace them with supported layers to train the network.",
                      "", placeholderCount)
                       .arg(placeholders.join(", "));
        else
            text = tr("%1 was imported with %n warning(s).", "", warnings).arg(fileName);
        QStringList all;
        for (const auto& w : imported.warnings)
            all << QString::fromStdString(w);
        auto* box = new QMessageBox(QMessageBox::Information, tr("Imported %1").arg(fileName), text,
                                    QMessageBox::Ok, this);
        box->setObjectName("onnx-import-report");
        box->setAttribute(Qt::WA_DeleteOnClose);
        if (!all.isEmpty()) {
            constexpr int kShown = 6;
            QStringList shown = all.mid(0, kShown);
            if (all.size() > kShown)
                shown << tr("… and %n more (Show Details)", "", int(all.size() - kShown));
            box->setInformativeText(shown.join('\n'));
            box->setDetailedText(all.join('\n'));
        }
        box->setWindowModality(Qt::NonModal); // the canvas stays usable while it is read
        box->show();
    }
    return true;
}

QString MainWindow::defaultScriptPath() const {
    const QFileInfo project(m_document->filePath());
    const QString stem = m_document->filePath().isEmpty()
                             ? QString::fromStdString(m_document->project().name)
                             : project.completeBaseName();
    QString safe = stem.isEmpty() ? QStringLiteral("model") : stem;
    safe.replace(QRegularExpression("[^A-Za-z0-9_.-]+"), "_");
    return QDir(dialogStartFolder()).filePath(safe + "_train.py");
}

void MainWindow::exportTrainingScriptDialog() {
    ExportScriptDialog dialog(defaultScriptPath(), m_training->controller()->hasWeights(), this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    rememberDialogPath(dialog.path());
    QString error;
    const QString done =
        exportTrainingScript(dialog.framework(), dialog.path(), dialog.startFromWeights(), &error);
    if (done.isEmpty())
        QMessageBox::critical(this, tr("Cannot export the training script"), error);
}

namespace {

/// A path as a shell word (quoted when it needs to be).
QString shellWord(const QString& path) {
    static const QRegularExpression plain("^[A-Za-z0-9_./+:=@%-]+$");
    if (plain.match(path).hasMatch())
        return path;
    QString quoted = path;
    quoted.replace("'", "'\\''");
    return "'" + quoted + "'";
}

} // namespace

QString MainWindow::exportTrainingScript(core::ScriptFramework framework, const QString& path,
                                         bool withWeights, QString* error) {
    auto fail = [&](const QString& why) {
        if (error)
            *error = why;
        statusBar()->showMessage(tr("The training script was not written"), 6000);
        return QString();
    };
    if (path.trimmed().isEmpty())
        return fail(tr("No file was chosen for the script."));
    TrainingController* c = m_training->controller();
    if (withWeights && !c->hasWeights())
        return fail(tr("There are no current weights to start from: train, import or load "
                       "weights first, or export without them."));
    const QString scriptPath = QFileInfo(path).absoluteFilePath();
    const QString weightsPath = withWeights ? ExportScriptDialog::weightsPathFor(scriptPath) : "";
    core::Project project = m_document->project();
    if (!m_document->filePath().isEmpty())
        project.sourcePath = m_document->filePath().toStdString();
    const core::ScriptExport e = core::writeTrainingScript(
        project, framework, scriptPath.toStdString(), weightsPath.toStdString());
    if (!e.ok()) {
        QStringList lines;
        for (const auto& l : e.errors)
            lines << QString::fromStdString(l);
        return fail(tr("The script for %1 was not written:\n\n%2")
                        .arg(QString::fromStdString(project.name), lines.join('\n')));
    }
    if (withWeights) {
        if (const QString why = c->exportWeights(weightsPath); !why.isEmpty()) {
            QFile::remove(scriptPath); // it would name weights that are not there
            return fail(
                tr("The weights were not written (%1), so neither was the script.").arg(why));
        }
    }
    const QString script = QFileInfo(scriptPath).fileName();
    const auto folder = core::scriptDataFolder(project, framework);
    const QString dataArg = folder ? shellWord(QString::fromStdString(folder->string()))
                                   : QStringLiteral("<folder with images/ and masks/>");
    const QString run = QStringLiteral("python3 %1 --data %2").arg(shellWord(script), dataArg);
    QString message =
        withWeights
            ? tr("Wrote %1 and %2 — run: %3").arg(script, QFileInfo(weightsPath).fileName(), run)
            : tr("Wrote %1 — run: %2").arg(script, run);
    if (framework == core::ScriptFramework::PyTorch)
        message += tr(" — on N processes or GPUs: torchrun --nproc_per_node N %1 --data %2")
                       .arg(shellWord(script), dataArg);
    if (!e.warnings.empty())
        message += tr(" — %n warning(s), first: %1", "", int(e.warnings.size()))
                       .arg(QString::fromStdString(e.warnings.front()));
    statusBar()->showMessage(message, 30000);
    return message;
}

bool MainWindow::saveFile(const QString& path, QString* error, bool quiet) {
    auto fail = [&](const QString& why) {
        if (error)
            *error = why;
        if (!quiet)
            QMessageBox::critical(this, tr("Save failed"), why);
        statusBar()->showMessage(tr("Save failed: %1").arg(why), 10000);
        return false;
    };
    TrainingController* c = m_training->controller();
    const bool samePlace =
        QFileInfo(path).absoluteFilePath() == QFileInfo(m_document->filePath()).absoluteFilePath();
    std::optional<core::WeightsSection> section = m_document->project().weights;
    QString note;
    if (c->hasWeights()) {
        // Unchanged weights already beside this very file need no second write.
        if (c->weightsModified() || !samePlace || !section) {
            core::SavedWeights saved = c->saveWeights(path);
            if (!saved.section)
                return fail(tr("The weights were not saved, nor the project: %1")
                                .arg(QString::fromStdString(saved.error)));
            section = saved.section;
            note = QString::fromStdString(saved.note);
        }
    } else if (c->hasPendingWeights()) {
        // Imported weights waiting for the graph to compile (placeholders):
        // saved as they are, so that the reopened project has them too.
        if (c->weightsModified() || !samePlace || !section) {
            core::SavedWeights saved =
                core::writeWeightsMap(path.toStdString(), m_document->graph(), c->pendingWeights());
            if (saved.section)
                section = saved.section;
            else
                note = tr("the imported weights were not saved: %1")
                           .arg(QString::fromStdString(saved.error));
        }
    } else if (c->weightsModified() || !samePlace) {
        section.reset(); // reset since the last save, or nothing to put beside the new file
    }
    m_document->setWeights(section);
    QString why;
    if (!m_document->save(path, &why))
        return fail(why);
    if (c->hasWeights() || c->hasPendingWeights() || !section)
        c->markWeightsSaved();
    scheduleAutosave(); // nothing unsaved now: the recovery copy and its weights go
    addRecent(path);
    QString message = section
                          ? tr("Saved %1 with its weights (step %2)").arg(path).arg(section->step)
                          : tr("Saved %1").arg(path);
    if (!note.isEmpty())
        message += " — " + note;
    statusBar()->showMessage(message, 6000);
    return true;
}

bool MainWindow::save() {
    if (m_document->filePath().isEmpty())
        return saveAs();
    return saveFile(m_document->filePath());
}

bool MainWindow::saveAs() {
    // The file's own name in its folder; an untitled project starts in the last folder used.
    const QString name = m_document->filePath().isEmpty()
                             ? tr("untitled") + projectExtension()
                             : QFileInfo(m_document->filePath()).fileName();
    QString path =
        QFileDialog::getSaveFileName(this, tr("Save project"), dialogStartFolder() + "/" + name,
                                     tr("SegForge projects (*%1)").arg(projectExtension()));
    if (path.isEmpty())
        return false;
    rememberDialogPath(path);
    if (!path.endsWith(projectExtension()))
        path += projectExtension();
    return saveFile(path);
}

bool MainWindow::newEmpty() {
    if (!maybeSave() || !m_training->stopTraining(false))
        return false;
    // Untitled: Save asks where, so the project that was open (the sample) is never overwritten.
    m_document->reset(core::Project{}, QString());
    statusBar()->showMessage(
        tr("New empty project: add nodes from the palette, or double-click the canvas"), 8000);
    return true;
}

void MainWindow::newFromTemplate() {
    if (!maybeSave() || !m_training->stopTraining(false))
        return;
    TemplateDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted)
        return;
    auto made = core::makeUNetProject(dialog.options());
    if (auto* project = std::get_if<core::Project>(&made))
        m_document->reset(std::move(*project), QString());
}

void MainWindow::autoLayout() {
    // The document's latest check has the types the levels come from.
    core::EditScript moves = core::groupedLayoutScript(m_document->graph(), m_document->check());
    if (m_document->applyEdits(moves, tr("Auto layout")))
        QTimer::singleShot(0, m_view, &GraphView::fitAll);
}

bool MainWindow::offerFirstRunHint() {
    return m_firstRunHint->offer();
}

QString MainWindow::dialogStartFolder() const {
    return dialogFolder(m_document->filePath());
}

QString MainWindow::recoveryPath() const {
    return m_recovery->path();
}

void MainWindow::scheduleAutosave() {
    if (!m_recoveryDecided)
        return;
    if (!m_document->isDirty()) {
        m_autosave->stop();
        if (m_training->controller()->weightsModified()) {
            // Unsaved weights keep the slot; its copy follows the (now clean) project.
            if (m_autosavedWeights != 0)
                m_recovery->write(m_document->project(), m_document->filePath());
            return;
        }
        discardRecovery();
        return;
    }
    if (!m_autosave->isActive())
        m_unsavedSince.start();
    const qint64 waited = m_unsavedSince.elapsed();
    m_autosave->start(
        static_cast<int>(std::clamp<qint64>(kAutosaveMaxDelayMs - waited, 0, kAutosaveDelayMs)));
}

int MainWindow::autosaveDueInMs() const {
    return m_autosave->isActive() ? m_autosave->remainingTime() : -1;
}

void MainWindow::autosave() {
    if (m_recoveryDecided &&
        m_document->isDirty()) // the copy is serialised and written off the GUI thread
        m_recovery->write(m_document->project(), m_document->filePath());
}

void MainWindow::offerRecovery() {
    if (!m_recovery->hasLeftover()) {
        discardRecovery(); // weights left beside a copy that was discarded
        m_recoveryDecided = true;
        scheduleAutosave(); // edits made before the event loop started
        return;
    }
    QString source;
    QString why;
    std::optional<core::Project> recovered = m_recovery->read(&source, &why);
    std::optional<bool> recover = m_recoveryAnswer;
    if (!recover && QGuiApplication::platformName() == "offscreen")
        return; // nobody to ask: leave the work where it is
    if (!recover) {
        const QString what =
            source.isEmpty() ? tr("an untitled project") : QFileInfo(source).fileName();
        QMessageBox box(
            QMessageBox::Question, tr("Recover unsaved work?"),
            recovered
                ? tr("SegForge did not close cleanly. Unsaved work on %1 was kept (%2).\n\n"
                     "Recover it? It opens as modified; the recovery copy is kept until you "
                     "save.")
                      .arg(what, QFileInfo(recoveryPath()).lastModified().toString())
                : tr("SegForge did not close cleanly, but the recovery copy cannot be read:\n%1")
                      .arg(why),
            QMessageBox::NoButton, this);
        QPushButton* yes =
            recovered ? box.addButton(tr("Recover"), QMessageBox::AcceptRole) : nullptr;
        box.addButton(tr("Discard"), QMessageBox::DestructiveRole);
        if (yes)
            box.setDefaultButton(yes);
        box.exec();
        recover = yes && box.clickedButton() == yes;
    }
    if (*recover && recovered) {
        // Still undecided while the document is replaced: the replacement passes
        // through "clean", which would otherwise forget the copy being recovered.
        m_document->resetUnsaved(std::move(*recovered), source);
        restoreRecoveredWeights();
        statusBar()->showMessage(tr("Recovered unsaved work%1 — save to keep it")
                                     .arg(source.isEmpty() ? QString() : tr(" on %1").arg(source)),
                                 8000);
    } else {
        discardRecovery();
    }
    m_recoveryDecided = true;
    scheduleAutosave();
}

void MainWindow::autosaveWeights() {
    TrainingController* c = m_training->controller();
    if (!m_weightsAutosave || !m_recoveryDecided || m_autosavingWeights || !c->hasWeights() ||
        !c->weightsModified() || c->weightsGeneration() == m_autosavedWeights)
        return;
    // Stepping batch by batch pauses after each one: a copy at most every 10 s
    // then (epoch ends and the end of a run are always written).
    if (c->state() == TrainingController::State::Paused && m_weightsAutosavedAt.isValid() &&
        m_weightsAutosavedAt.elapsed() < 10'000)
        return;
    m_autosavingWeights = true; // the save's own pause is an autosave point too
    const core::SavedWeights saved = c->saveWeights(m_recovery->path());
    m_autosavingWeights = false;
    if (!saved.section) {
        statusBar()->showMessage(
            tr("Autosave of the weights failed: %1").arg(QString::fromStdString(saved.error)),
            8000);
        return;
    }
    m_autosavedWeights = c->weightsGeneration();
    m_weightsAutosavedAt.start();
    // The slot's project copy is what the next start looks for; a clean
    // document has none of its own.
    if (!m_document->isDirty())
        m_recovery->write(m_document->project(), m_document->filePath());
}

void MainWindow::discardRecovery() {
    m_recovery->discard();
    m_autosavedWeights = 0;
}

void MainWindow::restoreRecoveredWeights() {
    if (!QFileInfo::exists(m_recovery->weightsPath())) {
        m_training->restoreSavedWeights(); // the recovered project's own saved weights, if any
        return;
    }
    // Described by the file alone (its metadata names the network it was trained for).
    core::WeightsSection section;
    section.file = QFileInfo(m_recovery->weightsPath()).fileName().toStdString();
    if (QFileInfo::exists(m_recovery->checkpointPath()))
        section.checkpoint = QFileInfo(m_recovery->checkpointPath()).fileName().toStdString();
    m_training->controller()->restoreWeights(m_recovery->path(), section, /*unsaved=*/true);
    m_autosavedWeights = ~std::uint64_t{0}; // in the slot already: keep them until saved
}

void MainWindow::addRecent(const QString& path) {
    QSettings settings;
    QStringList recent = settings.value("recentFiles").toStringList();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > 10)
        recent.removeLast();
    settings.setValue("recentFiles", recent);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
    m_recentMenu->clear();
    const QStringList recent = QSettings().value("recentFiles").toStringList();
    for (const QString& path : recent) {
        m_recentMenu
            ->addAction(QFileInfo(path).fileName(), this,
                        [this, path] {
                            if (maybeSave())
                                openFile(path);
                        })
            ->setToolTip(path);
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

bool MainWindow::saveScreenshot(const QString& path) {
    return grab().save(path);
}

} // namespace segforge::ui
