// Drives the real editor widgets offscreen: palette drops, wire drags with
// simulated mouse events, the diagnostics panel's Fix button, undo/redo and files.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "ops/op_registry.hpp"
#include "panels/diagnostics_panel.hpp"
#include "panels/palette_panel.hpp"
#include "panels/properties_panel.hpp"
#include "panels/quick_add_popup.hpp"
#include "panels/summary_panel.hpp"
#include "project/project_file.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/node_item.hpp"
#include "templates/unet_template.hpp"
#include "window/main_window.hpp"
#include "window/template_dialog.hpp"

#include <QDockWidget>
#include <QLineEdit>
#include <QMimeData>
#include <QScrollArea>
#include <QScrollBar>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QtTest>
#include <set>

using namespace segforge;
using namespace segforge::ui;

namespace {

core::Project unet(core::UNetOptions::Up up = core::UNetOptions::Up::Upsample) {
    core::UNetOptions o;
    o.depth = 3;
    o.filters = 8;
    o.size = 64;
    o.up = up;
    return std::get<core::Project>(core::makeUNetProject(o));
}

core::NodeId idOf(MainWindow& w, const char* name) {
    const core::Node* n = w.document()->graph().findNodeByName(name);
    return n ? n->id : core::kNoNode;
}

/// Viewport coordinates of a port, after making sure it is on screen.
QPoint portPoint(MainWindow& w, core::NodeId id, const std::string& port, bool output) {
    NodeItem* item = w.scene()->nodeItem(id);
    std::optional<QPointF> p = output ? item->outputPos(port) : item->inputPos(port);
    return w.view()->mapFromScene(*p);
}

/// Press on one port, move, release on another: the way a user wires.
void dragWire(MainWindow& w, QPoint from, QPoint to) {
    QWidget* vp = w.view()->viewport();
    QTest::mousePress(vp, Qt::LeftButton, Qt::NoModifier, from);
    QTest::mouseMove(vp, (from + to) / 2);
    QTest::mouseMove(vp, to);
    QTest::mouseRelease(vp, Qt::LeftButton, Qt::NoModifier, to);
}

EdgeItem* edgeInto(MainWindow& w, core::NodeId node, const std::string& port) {
    for (EdgeItem* e : w.scene()->edgeItems()) {
        if (e->edge().to.node == node && e->edge().to.port == port)
            return e;
    }
    return nullptr;
}

} // namespace

class EditorTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1600, 1000);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }
    void cleanup() {
        m_window->document()->undoStack()->setClean(); // no "save changes?" prompt
        m_window.reset();
    }

    void importKerasModelShowsTheConcatBugOnTheCanvas() {
        QString error;
        QVERIFY2(m_window->importKeras(SEGFORGE_TEST_DATA "/keras/unet_keras2_concat_bug.json",
                                       &error, true),
                 qPrintable(error));
        QVERIFY(m_window->document()->isDirty());            // an import is unsaved work
        QVERIFY(m_window->document()->filePath().isEmpty()); // and has no file yet
        QVERIFY(m_window->document()->graph().nodeCount() > 10);
        const int row = m_window->diagnostics()->rowOf("concat-shape-mismatch");
        QVERIFY(row >= 0);
        // The rejected wire is red on the canvas, with the reason as its tooltip.
        bool red = false;
        for (EdgeItem* e : m_window->scene()->edgeItems())
            red = red || (e->isRejected() && e->reason().contains("Concatenate"));
        QVERIFY(red);
    }

    void importOfABrokenKerasFileKeepsTheDocument() {
        const std::size_t nodes = m_window->document()->graph().nodeCount();
        QTemporaryDir dir;
        const QString bad = dir.path() + "/broken.json";
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"class_name": "Functional", "config": {"layers": [)");
        f.close();
        QString error;
        QVERIFY(!m_window->importKeras(bad, &error, true));
        QVERIFY2(error.contains("broken.json"), qPrintable(error)); // the message names the file
        QCOMPARE(m_window->document()->graph().nodeCount(), nodes);
    }

    void importedCustomLayerWithTwoOutputsDrawsBothPorts() {
        // A Keras layer SegForge lacks, read at output 0 and 1: one placeholder, two ports.
        QString error;
        QVERIFY2(m_window->importKeras(SEGFORGE_TEST_DATA "/keras/multi_output_custom_keras2.json",
                                       &error, true),
                 qPrintable(error));
        const core::Node* split = m_window->document()->graph().findNodeByName("split");
        QVERIFY(split);
        NodeItem* item = m_window->scene()->nodeItem(split->id);
        QVERIFY(item);
        QVERIFY(item->geometry().outputs == (std::vector<std::string>{"output", "output_1"}));
        std::set<std::string> ports;
        for (EdgeItem* e : m_window->scene()->edgeItems()) {
            if (e->edge().from.node == split->id)
                ports.insert(e->edge().from.port);
        }
        QVERIFY(ports == (std::set<std::string>{"output", "output_1"}));
        QVERIFY(m_window->diagnostics()->rowOf("unsupported-layer") >= 0);
        QVERIFY(m_window->diagnostics()->rowOf("dangling-edge") < 0);
    }

    void newFromTemplateHasNoDiagnostics() {
        QTimer::singleShot(0, [] {
            auto* dialog = qobject_cast<TemplateDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            core::UNetOptions o;
            o.depth = 3;
            o.size = 96;
            dialog->setOptions(o);
            QVERIFY2(dialog->previewText().contains("H = 8k, k \u2265 1 (8, 16, 24, …)"),
                     qPrintable(dialog->previewText()));
            dialog->accept();
        });
        m_window->newFromTemplate();
        const auto& check = m_window->document()->check();
        QVERIFY(m_window->document()->graph().nodeCount() > 20);
        // Clean, except that it says it needs data before Train (issue 14: check and train agree).
        QCOMPARE(check.diagnostics.size(), std::size_t{1});
        QCOMPARE(check.diagnostics[0].code, std::string("dataset-empty"));
        QCOMPARE(check.diagnostics[0].severity, core::Severity::Warning);
        QCOMPARE(m_window->diagnostics()->tree()->topLevelItemCount(), 1);
        QVERIFY(m_window->summary()->totals().contains("parameters"));
        // Three poolings: the sizes that work, derived exactly.
        QVERIFY2(m_window->summary()->inputSizes().contains("H = 8k, k ≥ 1"),
                 qPrintable(m_window->summary()->inputSizes()));
        // SEGFORGE_SUMMARY_SHOTS=DIR: the Model summary at both window sizes, to look at.
        if (const QString dir = qEnvironmentVariable("SEGFORGE_SUMMARY_SHOTS"); !dir.isEmpty()) {
            auto* dock = m_window->findChild<QDockWidget*>("summary");
            QVERIFY(dock);
            dock->raise();
            const QSize before = m_window->size();
            for (const QSize size : {QSize(1280, 720), QSize(1920, 1080)}) {
                m_window->resize(size);
                QApplication::processEvents();
                QVERIFY(m_window->grab().save(QStringLiteral("%1/summary_%2x%3.png")
                                                  .arg(dir)
                                                  .arg(size.width())
                                                  .arg(size.height())));
            }
            m_window->resize(before);
        }
    }

    void dragConv2DFromPalette() {
        QTreeWidget* tree = m_window->palette()->tree();
        const auto found = tree->findItems("Conv2D", Qt::MatchExactly | Qt::MatchRecursive);
        QCOMPARE(found.size(), 1);
        std::unique_ptr<QMimeData> mime(
            tree->model()->mimeData({tree->indexFromItem(found.front())}));
        QVERIFY(mime && mime->hasFormat(kOpMimeType));
        QWidget* vp = m_window->view()->viewport();
        const QPoint at = vp->rect().center();
        QDragEnterEvent enter(at, Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &enter);
        QDropEvent drop(QPointF(at), Qt::CopyAction, mime.get(), Qt::LeftButton, Qt::NoModifier);
        QApplication::sendEvent(vp, &drop);
        const core::Node* conv = m_window->document()->graph().findNodeByName("conv2d");
        QVERIFY(conv);
        QCOMPARE(conv->op, std::string("Conv2D"));
        QVERIFY(m_window->scene()->nodeItem(conv->id));
        // The new node is selected and the properties panel shows its schema.
        QCOMPARE(m_window->properties()->node(), conv->id);
        QVERIFY(m_window->properties()->editor("filters"));
        // Palette search filters by name.
        m_window->palette()->searchField()->setText("pool");
        QCOMPARE(m_window->palette()->visibleOps(),
                 (QStringList{"MaxPool2D", "AvgPool2D", "GlobalAvgPool2D"}));
    }

    void connectTwoPortsWithTheMouse() {
        core::Project p;
        core::NodeId in = p.graph.addNode("Input", "image", {}, {0, 0});
        core::NodeId conv =
            p.graph.addNode("Conv2D", "conv", {{"filters", std::int64_t{16}}}, {300, 0});
        m_window->document()->reset(std::move(p), QString());
        m_window->view()->resetTransform();
        m_window->view()->centerOn(230, 40);
        QApplication::processEvents();

        dragWire(*m_window, portPoint(*m_window, in, "output", true),
                 portPoint(*m_window, conv, "input", false));
        QCOMPARE(m_window->document()->graph().edges().size(), std::size_t{1});
        EdgeItem* edge = edgeInto(*m_window, conv, "input");
        QVERIFY(edge);
        QCOMPARE(edge->label(), QString("N×128×128×3 f32"));
        QVERIFY(!edge->isRejected());

        // The label follows the graph the instant an attribute changes.
        m_window->scene()->selectNode(in);
        auto* height = qobject_cast<QSpinBox*>(m_window->properties()->editor("height"));
        QVERIFY(height);
        height->setValue(64);
        QCOMPARE(edgeInto(*m_window, conv, "input")->label(), QString("N×64×128×3 f32"));
        QVERIFY(m_window->properties()->typesText().contains("N×64×128×3 f32"));

        // Grabbing the connected input and dropping it on empty canvas disconnects it.
        const QPoint input = portPoint(*m_window, conv, "input", false);
        dragWire(*m_window, input, input + QPoint(0, 200));
        QCOMPARE(m_window->document()->graph().edges().size(), std::size_t{0});
        QVERIFY(m_window->document()->check().has(core::codes::kUnconnectedInput));
    }

    void unetSkipWithoutUpsamplingIsRedAndFixable() {
        m_window->document()->reset(unet(), QString());
        const core::Graph before = m_window->document()->graph();
        const core::NodeId up = idOf(*m_window, "dec3_up");
        const core::NodeId bottleneck = idOf(*m_window, "bottleneck_conv2");
        const core::NodeId concat = idOf(*m_window, "dec3_concat");
        QVERIFY(up && bottleneck && concat);

        // Delete the UpSampling2D with the Delete key.
        m_window->scene()->selectNode(up);
        m_window->view()->setFocus();
        QTest::keyClick(m_window->view()->viewport(), Qt::Key_Delete);
        QVERIFY(!m_window->document()->graph().hasNode(up));

        // Reconnect its input straight to the Concatenate.
        m_window->view()->resetTransform();
        m_window->view()->scale(0.5, 0.5);
        const auto* a = m_window->document()->graph().findNode(bottleneck);
        const auto* b = m_window->document()->graph().findNode(concat);
        m_window->view()->centerOn((a->position.x + b->position.x) / 2 + 80,
                                   (a->position.y + b->position.y) / 2);
        QApplication::processEvents();
        dragWire(*m_window, portPoint(*m_window, bottleneck, "output", true),
                 portPoint(*m_window, concat, "b", false));

        EdgeItem* wire = edgeInto(*m_window, concat, "b");
        QVERIFY(wire);
        QVERIFY(wire->isRejected());
        QVERIFY(wire->toolTip().contains("N×16×16×32"));
        QVERIFY(wire->toolTip().contains("N×8×8×64"));
        QVERIFY(m_window->scene()->nodeItem(concat)->hasError());
        const int row = m_window->diagnostics()->rowOf("concat-shape-mismatch");
        QVERIFY(row >= 0);
        const core::Graph broken = m_window->document()->graph();

        // One click on Fix: the UpSampling2D is back and the graph is clean.
        QToolButton* fix = m_window->diagnostics()->fixButton(row);
        QVERIFY(fix);
        QVERIFY(fix->toolTip().contains("UpSampling2D"));
        QTest::mouseClick(fix, Qt::LeftButton, Qt::NoModifier, QPoint(8, fix->height() / 2));
        QVERIFY(!m_window->document()->check().hasErrors());
        QCOMPARE(m_window->diagnostics()->tree()->topLevelItemCount(),
                 1); // the unsaved project's data warning
        QCOMPARE(m_window->diagnostics()->rowOf("dataset-empty"), 0);
        QVERIFY(!edgeInto(*m_window, concat, "b")->isRejected());
        const core::Graph fixed = m_window->document()->graph();

        // Undo restores the exact previous graph; redo re-applies.
        QUndoStack* undo = m_window->document()->undoStack();
        undo->undo();
        QVERIFY(m_window->document()->graph() == broken);
        QVERIFY(edgeInto(*m_window, concat, "b")->isRejected());
        undo->redo();
        QVERIFY(m_window->document()->graph() == fixed);
        // All the way back to the template.
        while (undo->canUndo())
            undo->undo();
        QVERIFY(m_window->document()->graph() == before);
    }

    void saveThenOpenGivesTheSameGraph() {
        m_window->document()->reset(unet(core::UNetOptions::Up::Transpose), QString());
        m_window->scene()->selectNode(idOf(*m_window, "enc1_conv1"));
        m_window->scene()->duplicateSelection(); // an edit so the document is dirty
        QVERIFY(m_window->document()->isDirty());
        QVERIFY(m_window->windowTitle().contains("Untitled"));
        QTemporaryDir dir;
        const QString path = dir.filePath("net.segforge");
        QVERIFY(m_window->saveFile(path));
        QVERIFY(!m_window->document()->isDirty());
        const core::Graph saved = m_window->document()->graph();

        MainWindow other;
        QVERIFY(other.openFile(path, nullptr, true));
        QVERIFY(other.document()->graph() == saved);
        QVERIFY(other.windowTitle().startsWith("net.segforge"));
    }

    void malformedFileKeepsTheOpenDocument() {
        m_window->document()->reset(unet(), QString());
        const core::Graph before = m_window->document()->graph();
        QTemporaryDir dir;
        const QString path = dir.filePath("broken.segforge");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"({"format": "segforge-project", "version": 1, "graph": {"nodes": [{"id": 1}]}})");
        f.close();
        QString error;
        QVERIFY(!m_window->openFile(path, &error, /*quiet=*/true));
        QVERIFY2(error.contains(path + ":graph.nodes[0]: missing required field 'op'"),
                 qPrintable(error));
        QVERIFY(m_window->document()->graph() == before);
        QVERIFY(m_window->document()->filePath().isEmpty());
    }

    void quickAddOffersOnlyCompatibleOps() {
        core::Project p;
        core::NodeId in = p.graph.addNode("Input", "mask", {{"dtype", std::string("int32")}});
        m_window->document()->reset(std::move(p), QString());
        // A wire dropped on empty canvas opens quick-add filtered by its dtype.
        emit m_window->scene()->quickAddRequested(QPointF(400, 0), core::PortRef{in, "output"});
        const QStringList ops = m_window->quickAdd()->visibleOps();
        QVERIFY(ops.contains("Cast"));
        QVERIFY(ops.contains("Rescale"));
        QVERIFY(!ops.contains("Conv2D")); // needs float32
        m_window->quickAdd()->searchField()->setText("cast");
        QTest::keyClick(m_window->quickAdd()->searchField(), Qt::Key_Return);
        const core::Node* cast = m_window->document()->graph().findNodeByName("cast");
        QVERIFY(cast);
        QCOMPARE(m_window->document()->graph().producerOf({cast->id, "input"})->node, in);
    }

    /// `segforge --data DIR`: the checker probes DIR, as training reads it, so
    /// the editor and Train agree (issue 14); a missing DIR is an error, as
    /// for `check --data`.
    void dataOverrideIsWhatTheCheckerProbes() {
        QTemporaryDir dir;
        core::SampleDataOptions sample;
        sample.count = 4;
        sample.size = 32;
        QCOMPARE(core::writeSampleData((dir.path() + "/given").toStdString(), sample),
                 std::string());
        core::Project p;
        core::NodeId data = p.graph.addNode(
            "Dataset", "data",
            {{"images", std::string("nowhere/images")}, {"masks", std::string("nowhere/masks")}});
        const QString path = dir.filePath("override.segforge");
        QCOMPARE(core::saveProject(p, path.toStdString()), std::string());
        QVERIFY(m_window->openFile(path, nullptr, true));
        Document* doc = m_window->document();
        auto datasetEmpty = [doc]() -> const core::Diagnostic* {
            for (const auto& d : doc->check().diagnostics)
                if (d.code == "dataset-empty")
                    return &d;
            return nullptr;
        };
        QVERIFY(datasetEmpty() && datasetEmpty()->severity == core::Severity::Warning);

        doc->setDataOverride(std::filesystem::path(dir.filePath("given").toStdString()));
        QVERIFY(!datasetEmpty());
        QVERIFY(doc->probeOf(data));
        QCOMPARE(doc->probeOf(data)->pairCount, std::size_t{4});

        doc->setDataOverride(std::filesystem::path(dir.filePath("missing").toStdString()));
        QVERIFY(datasetEmpty() && datasetEmpty()->severity == core::Severity::Error);
        doc->setDataOverride(std::nullopt);
        QVERIFY(datasetEmpty() && datasetEmpty()->severity == core::Severity::Warning);
    }

    void datasetWiresShowTheRealData() {
        QTemporaryDir dir;
        core::SampleDataOptions sample;
        sample.count = 6;
        sample.size = 32;
        QCOMPARE(core::writeSampleData((dir.path() + "/data").toStdString(), sample),
                 std::string());
        core::Project p;
        // The attributes still say 128×128: the probe must win.
        core::NodeId data = p.graph.addNode(
            "Dataset", "data",
            {{"images", std::string("data/images")}, {"masks", std::string("data/masks")}});
        core::NodeId scale = p.graph.addNode("Rescale", "scale", {}, {300, 0});
        p.graph.connect({data, "image"}, {scale, "input"});
        const QString path = dir.filePath("probe.segforge");
        QCOMPARE(core::saveProject(p, path.toStdString()), std::string());
        QVERIFY(m_window->openFile(path, nullptr, true));
        EdgeItem* wire = edgeInto(*m_window, scale, "input");
        QVERIFY(wire);
        QCOMPARE(wire->label(), QString("N×32×32×3 u8"));
        m_window->scene()->selectNode(data);
        QVERIFY2(m_window->properties()->typesText().contains("6 image/mask pairs"),
                 qPrintable(m_window->properties()->typesText()));
        QVERIFY(m_window->properties()->typesText().contains("{0, 255}"));
    }

    void propertiesOfABigNodeScrollInAShortWindow() {
        core::Project p;
        core::NodeId data = p.graph.addNode("Dataset", "data");
        QTemporaryDir dir;
        const QString path = dir.filePath("short.segforge");
        QCOMPARE(core::saveProject(p, path.toStdString()), std::string());
        QVERIFY(m_window->openFile(path, nullptr, true));
        m_window->resize(1280, 460);
        m_window->scene()->selectNode(data);
        QTest::qWait(100); // let the rebuilt form's layout settle

        // Every attribute has an editor, and no two editors overlap.
        const core::OpSchema* schema = core::OpRegistry::builtin().find("Dataset");
        QVERIFY(schema);
        std::vector<QRect> rects;
        for (const core::AttrSpec& spec : schema->attrs) {
            QWidget* e = m_window->properties()->editor(spec.name);
            QVERIFY2(e, spec.name.c_str());
            rects.push_back(QRect(e->mapTo(m_window->properties(), QPoint(0, 0)), e->size()));
        }
        for (std::size_t i = 0; i < rects.size(); ++i)
            for (std::size_t j = i + 1; j < rects.size(); ++j)
                QVERIFY2(!rects[i].intersects(rects[j]),
                         qPrintable(QString("%1 overlaps %2")
                                        .arg(QString::fromStdString(schema->attrs[i].name),
                                             QString::fromStdString(schema->attrs[j].name))));
        // The dock is shorter than the form: it scrolls, and scrolling reaches the last row.
        auto* scroll = m_window->properties()->findChild<QScrollArea*>();
        QVERIFY(scroll);
        QVERIFY(scroll->verticalScrollBar()->maximum() > 0);
        QWidget* last = m_window->properties()->editor(schema->attrs.back().name);
        scroll->ensureWidgetVisible(last);
        QTest::qWait(20);
        const QRect inViewport(last->mapTo(scroll->viewport(), QPoint(0, 0)), last->size());
        QVERIFY2(scroll->viewport()->rect().contains(inViewport),
                 qPrintable(QString("viewport %1 px tall").arg(scroll->viewport()->height())));
    }

    void copyPasteAndAutoLayout() {
        m_window->document()->reset(unet(), QString());
        const std::size_t count = m_window->document()->graph().nodeCount();
        for (const char* name : {"enc1_conv1", "enc1_conv2"})
            m_window->scene()->nodeItem(idOf(*m_window, name))->setSelected(true);
        m_window->scene()->copySelection();
        m_window->scene()->pasteAt(QPointF(0, 800));
        QCOMPARE(m_window->document()->graph().nodeCount(), count + 2);
        QVERIFY(m_window->document()->graph().findNodeByName("enc1_conv2_2"));
        // The wire between the two copies came along.
        const auto* copy = m_window->document()->graph().findNodeByName("enc1_conv2_2");
        const auto producer = m_window->document()->graph().producerOf({copy->id, "input"});
        QVERIFY(producer);
        QCOMPARE(m_window->document()->graph().findNode(producer->node)->name,
                 std::string("enc1_conv1_2"));
        m_window->document()->undoStack()->undo();
        QCOMPARE(m_window->document()->graph().nodeCount(), count);
    }

private:
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(EditorTest)
#include "editor_test.moc"
