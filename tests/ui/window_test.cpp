// The real MainWindow offscreen at laptop and desktop sizes: every workspace
// fits without clipping and leaves the canvas most of the window, training
// never makes the window grow, and the conveniences (Ctrl+1/2/3, fixed undo
// label, File → New, merged attribute edits, shortcuts list) do what they say.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "panels/diagnostic_detail.hpp"
#include "panels/diagnostics_panel.hpp"
#include "panels/properties_panel.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "templates/unet_template.hpp"
#include "training/training_controller.hpp"
#include "training/training_panel.hpp"
#include "window/dialog_folder.hpp"
#include "window/first_run_hint.hpp"
#include "window/gradient_legend.hpp"
#include "window/main_window.hpp"
#include "window/shortcuts_dialog.hpp"
#include "window/training_workbench.hpp"
#include "window/workspaces.hpp"

#include <QAbstractButton>
#include <QAbstractSpinBox>
#include <QCheckBox>
#include <QComboBox>
#include <QDockWidget>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMenuBar>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSettings>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QTreeWidget>
#include <QtTest>
#include <cmath>
#include <functional>

using namespace segforge;
using namespace segforge::ui;

namespace {

QString sampleProject() {
    return QStringLiteral(SEGFORGE_RESOURCES "/projects/sample_unet.segforge");
}

/// Whether `w` is on screen: visible, and not on a page of a tab group or a
/// scroll area's content that is scrolled out of view.
bool showing(const QWidget* w) {
    return w->isVisible() && !w->visibleRegion().isEmpty();
}

/// The widgets a person would call cut off: docks and bars reaching past the
/// window's edge, buttons and one-line labels narrower than their text.
QStringList clippedWidgets(QMainWindow& window) {
    QStringList clipped;
    const QRect inside = window.rect();
    auto name = [](const QWidget* w) {
        QString n = w->metaObject()->className();
        if (!w->objectName().isEmpty())
            n += "#" + w->objectName();
        if (auto* b = qobject_cast<const QAbstractButton*>(w))
            n += " '" + b->text() + "'";
        if (auto* l = qobject_cast<const QLabel*>(w))
            n += " '" + l->text().left(40) + "'";
        return n;
    };
    auto box = [&](const QWidget* w) { return QRect(w->mapTo(&window, QPoint(0, 0)), w->size()); };
    for (QWidget* w : window.findChildren<QWidget*>()) {
        if (!showing(w) || w->isWindow())
            continue;
        if (w->objectName() == "qt_toolbar_ext_button") { // the toolbar ran out of room
            clipped << "toolbar overflow (») button";
            continue;
        }
        if (qobject_cast<QDockWidget*>(w) || qobject_cast<QToolBar*>(w) ||
            w == window.centralWidget()) {
            if (!inside.contains(box(w)))
                clipped << name(w) + " outside the window";
            continue;
        }
        if (!window.isAncestorOf(w))
            continue;
        const bool button = qobject_cast<QAbstractButton*>(w) != nullptr &&
                            !qobject_cast<QAbstractButton*>(w)->text().isEmpty();
        auto* label = qobject_cast<QLabel*>(w);
        const bool oneLineLabel =
            label && !label->wordWrap() && !label->text().isEmpty() && label->pixmap().isNull();
        if (!button && !oneLineLabel)
            continue;
        // Inside a scroll area a widget may lie outside the viewport on purpose.
        bool scrolled = false;
        for (QWidget* p = w->parentWidget(); p; p = p->parentWidget())
            if (qobject_cast<QScrollArea*>(p))
                scrolled = true;
        if (!scrolled && !inside.contains(box(w)))
            clipped << name(w) + " outside the window";
        if (w->width() < w->sizeHint().width() - 1)
            clipped << name(w) + QStringLiteral(" elided (%1 < %2 px)")
                                     .arg(w->width())
                                     .arg(w->sizeHint().width());
    }
    return clipped;
}

/// Each dock's place and minimum, for the log when a size is wrong.
void dumpDocks(MainWindow& window) {
    for (QDockWidget* d : window.findChildren<QDockWidget*>())
        if (d->isVisible())
            qInfo("%s at %d,%d %dx%d, minimum %dx%d", qPrintable(d->objectName()), d->x(), d->y(),
                  d->width(), d->height(), d->minimumSizeHint().width(),
                  d->minimumSizeHint().height());
}

double canvasShare(MainWindow& window) {
    const QSize c = window.view()->size();
    return double(c.width()) * c.height() / (double(window.width()) * window.height());
}

void settle() {
    for (int i = 0; i < 5; ++i) {
        QApplication::processEvents();
        QTest::qWait(10);
    }
}

/// The Training dock's controls (buttons, fields, progress bar) not wholly in
/// view, and the dock's scroll range if it has one; `count` gets how many were looked at.
QStringList trainingControlsOutOfView(MainWindow& window, int* count) {
    QStringList out;
    auto* area = qobject_cast<QScrollArea*>(window.training()->trainingDock()->widget());
    if (!area)
        return {"no scroll area"};
    if (area->verticalScrollBar()->maximum() != 0)
        out << QStringLiteral("the dock scrolls by %1 px")
                   .arg(area->verticalScrollBar()->maximum());
    QWidget* viewport = area->viewport();
    const QRect visible = viewport->rect();
    *count = 0;
    for (QWidget* w : window.training()->panel()->findChildren<QWidget*>()) {
        const bool control = qobject_cast<QAbstractButton*>(w) ||
                             qobject_cast<QAbstractSpinBox*>(w) || qobject_cast<QComboBox*>(w) ||
                             qobject_cast<QProgressBar*>(w);
        if (!control || !w->isVisible())
            continue;
        ++*count;
        const QRect r(w->mapTo(viewport, QPoint(0, 0)), w->size());
        if (!visible.contains(r))
            out << QStringLiteral("%1 '%2' at %3,%4 %5x%6 outside %7x%8")
                       .arg(w->metaObject()->className(), w->toolTip().section('\n', 0, 0).left(30))
                       .arg(r.x())
                       .arg(r.y())
                       .arg(r.width())
                       .arg(r.height())
                       .arg(visible.width())
                       .arg(visible.height());
    }
    return out;
}

/// A U-Net whose deepest skip goes straight into its Concatenate: one
/// concat-shape-mismatch with a fix (the resize the checker proposes).
void breakTheUNet(MainWindow& window) {
    core::UNetOptions o;
    o.depth = 3;
    o.filters = 8;
    o.size = 64;
    window.document()->reset(std::get<core::Project>(core::makeUNetProject(o)), QString());
    const core::Graph& g = window.document()->graph();
    const core::NodeId up = g.findNodeByName("dec3_up")->id;
    const core::NodeId bottleneck = g.findNodeByName("bottleneck_conv2")->id;
    const core::NodeId concat = g.findNodeByName("dec3_concat")->id;
    QVERIFY(window.document()->applyEdits({core::RemoveNodeEdit{up}}, "Delete"));
    QVERIFY(window.document()->applyEdits(
        {core::ConnectEdit{core::Edge{{bottleneck, "output"}, {concat, "b"}}}}, "Connect"));
}

/// The sample project, training on 16 generated images in `data` (its Dataset
/// node's size, so the data fits), shown at 1280×720.
void openSampleWithData(MainWindow& window, const QTemporaryDir& data) {
    core::SampleDataOptions options;
    options.count = 16;
    QCOMPARE(core::writeSampleData(data.path().toStdString(), options), std::string());
    QVERIFY(window.openFile(sampleProject(), nullptr, true));
    window.document()->setDataOverride(data.path().toStdString());
    core::TrainingOverrides overrides;
    overrides.dataDir = data.path().toStdString();
    window.training()->controller()->setDefaultOverrides(overrides);
    window.resize(1280, 720);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
}

} // namespace

class WindowTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() {
        QApplication::setOrganizationName("SegForgeWindowTest");
        QApplication::setApplicationName("SegForgeWindowTest");
        QSettings().clear(); // the default layouts, not a previous run's
    }
    void init() { QSettings().clear(); }

    void workspacesFitAndLeaveTheCanvasMostOfTheWindow_data() {
        QTest::addColumn<QSize>("size");
        QTest::addColumn<int>("workspace");
        for (QSize size : {QSize(1280, 720), QSize(1920, 1080)})
            for (Workspace w : {Workspace::Build, Workspace::Train, Workspace::Inspect})
                QTest::addRow("%dx%d %s", size.width(), size.height(),
                              qPrintable(Workspaces::name(w)))
                    << size << static_cast<int>(w);
    }
    void workspacesFitAndLeaveTheCanvasMostOfTheWindow() {
        QFETCH(QSize, size);
        QFETCH(int, workspace);
        MainWindow window;
        QVERIFY(window.openFile(sampleProject(), nullptr, true));
        window.resize(size);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.workspaces()->switchTo(static_cast<Workspace>(workspace));
        settle();
        if (window.size() != size)
            dumpDocks(window);
        QCOMPARE(window.size(), size);
        const QStringList clipped = clippedWidgets(window);
        if (!clipped.isEmpty())
            qWarning().noquote() << clipped.join("\n");
        QVERIFY(clipped.isEmpty());
        qInfo("canvas %dx%d = %.1f %% of the window", window.view()->width(),
              window.view()->height(), 100 * canvasShare(window));
        QVERIFY2(canvasShare(window) >= 0.60, qPrintable(QString::number(canvasShare(window))));
        // The workspace shows its own docks.
        auto* w = window.training();
        switch (static_cast<Workspace>(workspace)) {
        case Workspace::Build:
            QVERIFY(showing(window.findChild<QDockWidget*>("properties")));
            QVERIFY(showing(window.findChild<QDockWidget*>("diagnostics")));
            QVERIFY(!w->plotsDock()->isVisible());
            break;
        case Workspace::Train:
            QVERIFY(showing(w->trainingDock()));
            QVERIFY(showing(w->plotsDock()));
            // On a short screen the predictions are a tab beside the plots.
            QVERIFY(showing(w->overlaysDock()) ||
                    window.tabifiedDockWidgets(w->plotsDock()).contains(w->overlaysDock()));
            QCOMPARE(showing(w->overlaysDock()), size.height() >= 1000);
            QVERIFY(!window.findChild<QDockWidget*>("properties")->isVisible());
            break;
        case Workspace::Inspect:
            QVERIFY(showing(w->inspectorDock()));
            QVERIFY(!w->plotsDock()->isVisible());
            break;
        }
    }

    void ctrlNumberSwitchesWorkspaces() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.workspaces()->current(), Workspace::Build);
        QTest::keyClick(&window, Qt::Key_2, Qt::ControlModifier);
        QCOMPARE(window.workspaces()->current(), Workspace::Train);
        QCOMPARE(window.workspaces()->tabBar()->currentIndex(), 1);
        QVERIFY(window.training()->plotsDock()->isVisible());
        QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
        QCOMPARE(window.workspaces()->current(), Workspace::Inspect);
        QVERIFY(window.training()->inspectorDock()->isVisible());
        QVERIFY(!window.training()->plotsDock()->isVisible());
        QTest::keyClick(&window, Qt::Key_1, Qt::ControlModifier);
        QCOMPARE(window.workspaces()->current(), Workspace::Build);
        // A tab click does the same.
        window.workspaces()->tabBar()->setCurrentIndex(2);
        QCOMPARE(window.workspaces()->current(), Workspace::Inspect);
    }

    void aWorkspaceKeepsTheLayoutItWasLeftIn() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.workspaces()->switchTo(Workspace::Train);
        settle();
        QDockWidget* plots = window.training()->plotsDock();
        plots->hide(); // the user closes the plots in Train
        window.workspaces()->switchTo(Workspace::Build);
        QVERIFY(window.findChild<QDockWidget*>("properties")->isVisible());
        window.workspaces()->switchTo(Workspace::Train);
        QVERIFY(!plots->isVisible());
        QVERIFY(window.training()->overlaysDock()->isVisible());
        // Saved per user: a new window restores it.
        window.workspaces()->saveCurrent();
        MainWindow again;
        again.resize(1280, 720);
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        again.workspaces()->switchTo(Workspace::Train);
        QVERIFY(!again.training()->plotsDock()->isVisible());
        again.workspaces()->resetLayout();
        QVERIFY(again.training()->plotsDock()->isVisible());
    }

    void startingTrainingSwitchesToTrainAndNeverGrowsTheWindow() {
        QTemporaryDir data;
        MainWindow window;
        openSampleWithData(window, data);
        if (QTest::currentTestFailed())
            return;
        settle();
        QCOMPARE(window.workspaces()->current(), Workspace::Build);
        TrainingController* c = window.training()->controller();
        QSignalSpy batches(c, &TrainingController::batchDone);
        c->setStopAtStep(2);
        QString why;
        QVERIFY2(c->start(false, &why), qPrintable(why));
        QVERIFY(batches.wait(30000));
        QTRY_VERIFY_WITH_TIMEOUT(!c->trainingActive(), 30000);
        settle();
        QCOMPARE(window.workspaces()->current(), Workspace::Train);
        if (window.size() != QSize(1280, 720))
            dumpDocks(window);
        QCOMPARE(window.size(), QSize(1280, 720));
        const QStringList clipped = clippedWidgets(window);
        if (!clipped.isEmpty())
            qWarning().noquote() << clipped.join("\n");
        QVERIFY(clipped.isEmpty());
        // The run's lines (the data it read, where it stopped) leave the controls in view.
        int controls = 0;
        const QStringList hidden = trainingControlsOutOfView(window, &controls);
        QVERIFY2(hidden.isEmpty(), qPrintable(hidden.join("\n")));
        QCOMPARE(controls, 15);
        c->waitForIdle(30000);
        window.document()->undoStack()->setClean();
        c->markWeightsSaved();
    }

    void trainingStaysInItsWorkspaceWhenSwitchingIsOff() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.workspaces()->autoTrainAction()->setChecked(false);
        window.workspaces()->trainingStarted();
        QCOMPARE(window.workspaces()->current(), Workspace::Build);
        window.workspaces()->autoTrainAction()->setChecked(true);
        window.workspaces()->trainingStarted();
        QCOMPARE(window.workspaces()->current(), Workspace::Train);
    }

    void undoLabelStaysFixedAfterAFix() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        core::UNetOptions o;
        o.depth = 3;
        o.filters = 8;
        o.size = 64;
        window.document()->reset(std::get<core::Project>(core::makeUNetProject(o)), QString());
        auto* toolbar = window.findChild<QToolBar*>("main-toolbar");
        QVERIFY(toolbar);
        QAction* undo = window.findChild<QAction*>("undo");
        QVERIFY(undo);
        QWidget* undoButton = toolbar->widgetForAction(undo);
        QVERIFY(undoButton);
        QList<QRect> before;
        for (QAction* a : toolbar->actions())
            if (QWidget* b = toolbar->widgetForAction(a))
                before << b->geometry();

        // Break the U-Net (the skip straight into the Concatenate) and apply the checker's fix.
        const core::Graph& g = window.document()->graph();
        const core::NodeId up = g.findNodeByName("dec3_up")->id;
        const core::NodeId bottleneck = g.findNodeByName("bottleneck_conv2")->id;
        const core::NodeId concat = g.findNodeByName("dec3_concat")->id;
        QVERIFY(window.document()->applyEdits({core::RemoveNodeEdit{up}}, "Delete"));
        QVERIFY(window.document()->applyEdits(
            {core::ConnectEdit{core::Edge{{bottleneck, "output"}, {concat, "b"}}}}, "Connect"));
        const core::FixIt* fix = nullptr;
        for (const core::Diagnostic& d : window.document()->check().diagnostics)
            if (!d.fixes.empty() && d.code == "concat-shape-mismatch")
                fix = &d.fixes.front();
        QVERIFY(fix);
        const QString description = QString::fromStdString(fix->description);
        QVERIFY(window.document()->applyFix(*fix));
        settle();

        QCOMPARE(undo->iconText(), QStringLiteral("Undo"));
        QVERIFY(undo->toolTip().contains(description));
        QList<QRect> after;
        for (QAction* a : toolbar->actions())
            if (QWidget* b = toolbar->widgetForAction(a))
                after << b->geometry();
        QCOMPARE(after, before); // no button moved
        QVERIFY(clippedWidgets(window).isEmpty());
    }

    void newGivesAnEmptyUntitledProject() {
        MainWindow window;
        QVERIFY(window.openFile(sampleProject(), nullptr, true));
        QVERIFY(window.document()->graph().nodeCount() > 0);
        // Unsaved edits: the usual question; Cancel keeps everything.
        QVERIFY(window.document()->applyEdits(
            {core::MoveNodeEdit{window.document()->graph().nodes().begin()->first, {1, 2}}},
            "Move"));
        int asked = 0;
        window.setSavePrompt([&](const QString&, const QString&) {
            ++asked;
            return QMessageBox::Cancel;
        });
        QVERIFY(!window.newEmpty());
        QCOMPARE(asked, 1);
        QVERIFY(window.document()->graph().nodeCount() > 0);
        window.setSavePrompt([&](const QString&, const QString&) {
            ++asked;
            return QMessageBox::Discard;
        });
        QVERIFY(window.newEmpty());
        QCOMPARE(asked, 2);
        QCOMPARE(window.document()->graph().nodeCount(), std::size_t{0});
        QVERIFY(window.document()->filePath().isEmpty()); // Save asks for a path
        QVERIFY(!window.document()->isDirty());
        QVERIFY(!window.document()->undoStack()->canUndo());
        QVERIFY(window.windowTitle().startsWith("Untitled"));
        // Ctrl+N is New; Ctrl+Shift+N is New from Template.
        auto* newAct = window.findChild<QAction*>("new-empty");
        auto* templ = window.findChild<QAction*>("new-from-template");
        QVERIFY(newAct && templ);
        QCOMPARE(newAct->shortcut(), QKeySequence(QKeySequence::New));
        QCOMPARE(templ->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_N));
    }

    void spinBoxEditsOfOneAttributeAreOneUndoStep() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(sampleProject(), nullptr, true));
        const core::Node* conv = window.document()->graph().findNodeByName("enc1_conv1");
        QVERIFY(conv);
        const core::NodeId id = conv->id;
        const auto filtersBefore = conv->attrs.at("filters");
        window.scene()->selectNode(id);
        settle();
        QCOMPARE(window.properties()->node(), id);
        auto* box = qobject_cast<QSpinBox*>(window.properties()->editor("filters"));
        QVERIFY(box);
        QUndoStack* stack = window.document()->undoStack();
        const int count = stack->count();
        QWidget* rowBefore = box->parentWidget();
        const QRect geometryBefore = box->geometry();
        box->setValue(box->value() + 1);
        box->setValue(box->value() + 1);
        box->stepBy(14);
        QCOMPARE(stack->count(), count + 1); // three edits, one step
        QCOMPARE(
            std::get<std::int64_t>(window.document()->graph().findNode(id)->attrs.at("filters")),
            std::get<std::int64_t>(filtersBefore) + 16);
        // The same editor, in the same place: the panel was not rebuilt.
        QCOMPARE(window.properties()->editor("filters"), box);
        QCOMPARE(box->parentWidget(), rowBefore);
        QCOMPARE(box->geometry(), geometryBefore);
        stack->undo();
        QVERIFY(window.document()->graph().findNode(id)->attrs.at("filters") == filtersBefore);
        QCOMPARE(box->value(), static_cast<int>(std::get<std::int64_t>(filtersBefore)));
        // Another attribute is a step of its own.
        stack->redo();
        auto* kernel = window.properties()->editor("kernel_size");
        QVERIFY(kernel);
        const int afterFilters = stack->count();
        for (QSpinBox* k : kernel->findChildren<QSpinBox*>()) {
            k->setValue(k->value() + 2);
            break;
        }
        QCOMPARE(stack->count(), afterFilters + 1);
        // Back to where it started: the merged step disappears.
        box->setValue(box->value() + 1);
        box->setValue(box->value() - 1);
        QCOMPARE(stack->count(), afterFilters + 1);
        window.document()->undoStack()->setClean();
    }

    void aTypedPathSurvivesAClickOnItsNode() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QVERIFY(window.openFile(sampleProject(), nullptr, true));
        const core::Node* data = window.document()->graph().findNodeByName("data");
        QVERIFY(data);
        window.scene()->selectNode(data->id);
        settle();
        auto* images = qobject_cast<QLineEdit*>(window.properties()->editor("images"));
        QVERIFY(images);
        QVERIFY(window.properties()->findChild<QPushButton*>("browse_images"));
        QVERIFY(window.properties()->findChild<QPushButton*>("browse_masks"));
        images->setFocus();
        images->selectAll();
        QTest::keyClicks(images, "some/typed/path");
        window.properties()->showNode(data->id); // the node is clicked again while typing
        QCOMPARE(window.properties()->editor("images"), images);
        QCOMPARE(images->text(), QStringLiteral("some/typed/path"));
        // Another node selected before Enter: the typed path still lands on its node.
        const core::NodeId other = window.document()->graph().findNodeByName("enc1_conv1")->id;
        window.properties()->showNode(other);
        QCOMPARE(std::get<std::string>(
                     window.document()->graph().findNode(data->id)->attrs.at("images")),
                 std::string("some/typed/path"));
        window.document()->undoStack()->setClean();
    }

    void chosenPathsAreRelativeToTheProjectWhenBesideIt() {
        QCOMPARE(PropertiesPanel::projectRelative("/p/data/images", "/p/x.segforge"),
                 QStringLiteral("data/images"));
        QCOMPARE(PropertiesPanel::projectRelative("/q/images", "/p/x.segforge"),
                 QStringLiteral("/q/images"));
        QCOMPARE(PropertiesPanel::projectRelative("/q/images/", QString()),
                 QStringLiteral("/q/images"));
    }

    void shortcutsDialogListsTheRealActions() {
        MainWindow window;
        const auto rows = ShortcutsDialog::collect(&window);
        auto keysOf = [&](const QString& action) {
            for (const auto& r : rows)
                if (r.action == action)
                    return r.keys;
            return QString();
        };
        QCOMPARE(keysOf("Undo"),
                 QKeySequence(QKeySequence::Undo).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf("New"), QKeySequence(QKeySequence::New).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf("Train Workspace"),
                 QKeySequence(Qt::CTRL | Qt::Key_2).toString(QKeySequence::NativeText));
        QCOMPARE(keysOf("Train"), QStringLiteral("F5"));
        QCOMPARE(keysOf("Keyboard Shortcuts"),
                 QKeySequence(Qt::CTRL | Qt::Key_Slash).toString(QKeySequence::NativeText));
        // Every menu action with a shortcut is listed.
        int withKeys = 0;
        for (QAction* a : window.findChildren<QAction*>())
            if (!a->shortcut().isEmpty() && !a->menu())
                ++withKeys;
        QVERIFY(rows.size() >= 20);
        QVERIFY(rows.size() <= withKeys);
    }

    void aCostlyTopFixIsNotOneClickAway() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        // Two separate inputs, 64×64 and 8×8, concatenated: every repair
        // resamples by 8, which changes what the network computes (costly).
        core::Project project;
        core::Graph& g = project.graph;
        auto input = [&g](const char* name, std::int64_t size) {
            return g.addNode("Input", name,
                             {{"height", size}, {"width", size}, {"channels", std::int64_t{4}}});
        };
        const core::NodeId big = input("big", 64);
        const core::NodeId small = input("small", 8);
        const core::NodeId cat = g.addNode("Concatenate", "cat", {});
        QVERIFY(g.connect({big, "output"}, {cat, "a"}));
        QVERIFY(g.connect({small, "output"}, {cat, "b"}));
        window.document()->reset(project, QString());
        settle();
        const int row = window.diagnostics()->rowOf("concat-shape-mismatch");
        QVERIFY(row >= 0);
        QToolButton* fix = window.diagnostics()->fixButton(row);
        QVERIFY(fix);
        QCOMPARE(fix->text(), QStringLiteral("Fix…"));
        QCOMPARE(fix->popupMode(), QToolButton::InstantPopup);
        QVERIFY(fix->toolTip().contains("changes what the network computes"));
        QVERIFY(fix->menu() && !fix->menu()->actions().isEmpty());
        QVERIFY(fix->menu()->actions().front()->text().contains("(costly)"));
        // A click opens the list; it applies nothing.
        const int steps = window.document()->undoStack()->count();
        QTimer::singleShot(0, fix->menu(), &QMenu::close);
        fix->click();
        settle();
        QCOMPARE(window.document()->undoStack()->count(), steps);
        window.document()->undoStack()->setClean();
    }

    void theDetailPaneShowsTheWholeMessageAndItsFixApplies() {
        MainWindow window;
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        breakTheUNet(window);
        settle();
        DiagnosticsPanel* panel = window.diagnostics();
        DiagnosticDetail* detail = panel->detail();
        QVERIFY(showing(detail));
        // Nothing chosen: the first row.
        const core::Diagnostic& first = window.document()->check().diagnostics.front();
        QCOMPARE(detail->messageText(), QString::fromStdString(first.message));
        // The mismatch, chosen in the table: its whole message, its node, a button per fix.
        const int row = panel->rowOf("concat-shape-mismatch");
        QVERIFY(row >= 0);
        panel->tree()->setCurrentItem(panel->tree()->topLevelItem(row));
        const core::Diagnostic* mismatch = nullptr;
        for (const core::Diagnostic& d : window.document()->check().diagnostics)
            if (d.code == "concat-shape-mismatch")
                mismatch = &d;
        QVERIFY(mismatch);
        QVERIFY(!mismatch->fixes.empty());
        const std::string message = mismatch->message;
        const std::size_t fixes = mismatch->fixes.size();
        QCOMPARE(detail->messageText(), QString::fromStdString(message));
        QVERIFY(detail->whereText().contains("dec3_concat"));
        QCOMPARE(detail->fixButtons().size(), fixes);
        // Each fix says why it stands where it does: its rank, then its reason.
        for (std::size_t i = 0; i < fixes; ++i) {
            auto* why = detail->findChild<QLabel*>(QStringLiteral("detail-fix-reason-%1").arg(i));
            QVERIFY(why);
            const core::FixIt& fix = mismatch->fixes[i];
            QVERIFY(why->text().startsWith(
                QString::fromStdString(std::string(core::fixRankName(fix.rank)))));
            QVERIFY(why->text().contains(QString::fromStdString(fix.reason)));
        }
        settle();
        // Cut in the table's column at 1280×720, whole here: wrapped, never wider than the dock.
        auto* label = detail->findChild<QLabel*>("diagnostic-message");
        QVERIFY(label && label->wordWrap());
        QVERIFY(label->textInteractionFlags() & Qt::TextSelectableByMouse);
        auto* dock = window.findChild<QDockWidget*>("diagnostics");
        QVERIFY(QRect(QPoint(0, 0), dock->size())
                    .contains(QRect(label->mapTo(dock, QPoint(0, 0)), label->size())));
        QVERIFY(label->height() >= label->heightForWidth(label->width()));
        QCOMPARE(window.size(), QSize(1280, 720));
        QVERIFY(clippedWidgets(window).isEmpty());
        // Its Fix applies the fix, as one undoable step.
        QUndoStack* stack = window.document()->undoStack();
        const int steps = stack->count();
        QTest::mouseClick(detail->fixButtons().front(), Qt::LeftButton);
        settle();
        QCOMPARE(stack->count(), steps + 1);
        QCOMPARE(panel->rowOf("concat-shape-mismatch"), -1);
        stack->undo();
        settle();
        QVERIFY(panel->rowOf("concat-shape-mismatch") >= 0);
        stack->setClean();
    }

    void theFirstRunHintShowsOnceAndNotAfterDismissal() {
        {
            MainWindow window;
            window.resize(1280, 720);
            window.show();
            QVERIFY(QTest::qWaitForWindowExposed(&window));
            FirstRunHint* hint = window.firstRunHint();
            QVERIFY(!hint->isVisible()); // only a normal start offers it
            QVERIFY(window.offerFirstRunHint());
            QVERIFY(showing(hint));
            for (int step = 1; step <= 3; ++step)
                QVERIFY(hint->findChild<QLabel*>(QStringLiteral("first-run-step-%1").arg(step)));
            QVERIFY(hint->findChild<QLabel*>("first-run-step-3")->text().contains("Train"));
            // Over the canvas, inside it.
            QVERIFY(window.view()->viewport()->rect().contains(hint->geometry()));
            QVERIFY(clippedWidgets(window).isEmpty());
            QVERIFY(hint->dontShowAgain()->isChecked());
            QTest::mouseClick(hint->closeButton(), Qt::LeftButton);
            QVERIFY(!hint->isVisible());
        }
        {
            MainWindow again; // the next start: not again
            again.resize(1280, 720);
            again.show();
            QVERIFY(QTest::qWaitForWindowExposed(&again));
            QVERIFY(!again.offerFirstRunHint());
            QVERIFY(!again.firstRunHint()->isVisible());
            // Help shows it on request.
            auto* help = again.findChild<QAction*>("first-run-hint");
            QVERIFY(help);
            help->trigger();
            QVERIFY(showing(again.firstRunHint()));
            // Closed with "Don't show again" cleared: offered at the next start.
            again.firstRunHint()->dontShowAgain()->setChecked(false);
            QTest::mouseClick(again.firstRunHint()->closeButton(), Qt::LeftButton);
        }
        MainWindow third;
        QVERIFY(third.offerFirstRunHint());
    }

    void theGradientLegendShowsTheStepsExtremes() {
        QTemporaryDir data;
        MainWindow window;
        openSampleWithData(window, data);
        if (QTest::currentTestFailed())
            return;
        GradientLegend* legend = window.training()->gradientLegend();
        QAction* view = window.training()->panel()->gradientViewAction();
        QVERIFY(!legend->isVisible());
        view->setChecked(true);
        QVERIFY(showing(legend));
        QVERIFY(!legend->range()); // no step yet: it says so
        TrainingController* c = window.training()->controller();
        QSignalSpy batches(c, &TrainingController::batchDone);
        c->setStopAtStep(1);
        QString why;
        QVERIFY2(c->start(false, &why), qPrintable(why));
        QVERIFY(batches.wait(30000));
        QTRY_VERIFY_WITH_TIMEOUT(!c->trainingActive(), 30000);
        c->waitForIdle(30000);
        settle();
        // The extremes the wires are drawn between, as numbers.
        double lo = 1e300, hi = 0;
        for (const auto& [port, norm] : c->gradientNorms())
            if (norm > 0 && std::isfinite(norm)) {
                lo = std::min(lo, norm);
                hi = std::max(hi, norm);
            }
        QVERIFY(hi > lo);
        QVERIFY(legend->range());
        QCOMPARE(legend->range()->first, lo);
        QCOMPARE(legend->range()->second, hi);
        QCOMPARE(legend->minText(), GradientLegend::formatNorm(lo));
        QCOMPARE(legend->maxText(), GradientLegend::formatNorm(hi));
        QVERIFY(showing(legend));
        QVERIFY(window.view()->viewport()->rect().contains(legend->geometry()));
        QVERIFY(clippedWidgets(window).isEmpty());
        view->setChecked(false);
        QVERIFY(!legend->isVisible());
        window.document()->undoStack()->setClean();
        c->markWeightsSaved();
    }

    void fileDialogsOpenInTheProjectFolderElseTheLastOne() {
        QTemporaryDir project, other;
        const QString path = project.path() + "/unet.segforge";
        QVERIFY(QFile::copy(sampleProject(), path));
        QFile::setPermissions(path, QFile::ReadOwner | QFile::WriteOwner);
        MainWindow window;
        QVERIFY(window.openFile(path, nullptr, true));
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const QString folder = QFileInfo(project.path()).absoluteFilePath();
        QCOMPARE(window.dialogStartFolder(), folder);
        // Untitled: the folder a file was last chosen in.
        window.setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        QVERIFY(window.newEmpty());
        rememberDialogPath(other.path() + "/model.json");
        QCOMPARE(window.dialogStartFolder(), QFileInfo(other.path()).absoluteFilePath());
        // Saved again: its own folder wins over the last one.
        QVERIFY(window.saveFile(path, nullptr, true));
        QCOMPARE(window.dialogStartFolder(), folder);
    }

    void trainingControlsShowWholeAt1280x720() {
        MainWindow window;
        QVERIFY(window.openFile(sampleProject(), nullptr, true));
        window.resize(1280, 720);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.workspaces()->switchTo(Workspace::Train);
        settle();
        QCOMPARE(window.size(), QSize(1280, 720));
        int controls = 0;
        const QStringList hidden = trainingControlsOutOfView(window, &controls);
        QVERIFY2(hidden.isEmpty(), qPrintable(hidden.join("\n")));
        QCOMPARE(controls, 6 + 8 + 1); // run buttons, settings, progress
        QVERIFY(showing(window.training()->plotsDock()));
        QVERIFY(clippedWidgets(window).isEmpty());
    }
};

QTEST_MAIN(WindowTest)
#include "window_test.moc"
