// The canvas as a person sees it: the whole network in view on open, names
// readable at every zoom, nothing hiding anything (measured by the same view
// report `segforge --view-report` writes), wires routed around nodes, a clicked
// diagnostic brought to a readable zoom, a stepped node kept in view.

#include "document/document.hpp"
#include "keras/keras_json_export.hpp"
#include "panels/diagnostics_panel.hpp"
#include "project/project_file.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/group_layer.hpp"
#include "scene/node_item.hpp"
#include "scene/semantic_zoom.hpp"
#include "scene/view_report.hpp"
#include "style/theme.hpp"
#include "templates/unet_template.hpp"
#include "window/main_window.hpp"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <memory>

using namespace segforge;
using namespace segforge::ui;

namespace {

QString describe(const ViewReport& r) {
    return QString(
               "window %1x%2 zoom %3: %4/%5 nodes visible, min title %6 px, %7 overlaps, %8 wires "
               "through nodes, %9 labels hidden%10%11%12")
        .arg(r.window.width())
        .arg(r.window.height())
        .arg(r.zoom, 0, 'f', 3)
        .arg(r.nodesVisible)
        .arg(r.nodesTotal)
        .arg(r.minTitlePx, 0, 'f', 1)
        .arg(r.nodeOverlaps)
        .arg(r.wiresThroughNodes)
        .arg(r.labelsHidden)
        .arg(r.overlapping.isEmpty() ? QString() : "\n overlapping: " + r.overlapping.join(", "))
        .arg(r.wiresThrough.isEmpty() ? QString() : "\n through: " + r.wiresThrough.join(", "))
        .arg(r.hiddenLabels.isEmpty() ? QString()
                                      : "\n hidden labels: " + r.hiddenLabels.join(", "));
}

void settle() {
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
}

core::Project unet(int depth, bool batchnorm) {
    core::UNetOptions options;
    options.depth = depth;
    options.batchnorm = batchnorm;
    auto made = core::makeUNetProject(options);
    if (auto* error = std::get_if<std::string>(&made))
        qFatal("template: %s", error->c_str());
    return std::get<core::Project>(made);
}

/// Every node's name at least this tall on screen.
constexpr double kReadablePx = 9;

} // namespace

class CanvasTest : public QObject {
    Q_OBJECT

private:
    std::unique_ptr<MainWindow> m_window;

    /// The window at `size` showing what opening shows.
    ViewReport openedView(QSize size) {
        m_window->resize(size);
        m_window->show();
        settle();
        m_window->view()->showStart();
        settle();
        return measureView(m_window->view(), m_window.get());
    }

    void verifyReadable(const ViewReport& r) {
        const QByteArray what = describe(r).toUtf8();
        qInfo("%s", what.constData());
        QVERIFY2(r.nodesTotal > 0, what.constData());
        QVERIFY2(r.nodesVisible == r.nodesTotal, what.constData());
        QVERIFY2(r.minTitlePx >= kReadablePx, what.constData());
        QVERIFY2(r.nodeOverlaps == 0, what.constData());
        QVERIFY2(r.wiresThroughNodes == 0, what.constData());
        QVERIFY2(r.labelsHidden == 0, what.constData());
    }

private slots:
    void init() {
        m_window = std::make_unique<MainWindow>();
        m_window->setWeightsAutosave(false);
    }
    void cleanup() {
        m_window->document()->undoStack()->setClean(); // no "save changes?" on close
        m_window.reset();
    }

    void sampleUNetIsReadableOnOpen_data() {
        QTest::addColumn<QSize>("size");
        QTest::newRow("1280x720") << QSize(1280, 720);
        QTest::newRow("1920x1080") << QSize(1920, 1080);
    }
    void sampleUNetIsReadableOnOpen() {
        QFETCH(QSize, size);
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr, true));
        verifyReadable(openedView(size));
    }

    void depth5TemplatesAreReadable_data() {
        QTest::addColumn<bool>("batchnorm");
        QTest::newRow("plain") << false;
        QTest::newRow("batchnorm") << true;
    }
    void depth5TemplatesAreReadable() {
        QFETCH(bool, batchnorm);
        m_window->document()->reset(unet(5, batchnorm), QString());
        verifyReadable(openedView(QSize(1280, 720)));
    }

    /// A network too large to read whole opens as a U of collapsed level
    /// blocks at a zoom where the blocks' text is drawn inside them.
    void largeNetworksOpenAsReadableBlocks_data() {
        QTest::addColumn<bool>("keras");
        QTest::newRow("bundled sample") << false;
        QTest::newRow("84-layer Keras U-Net (depth 5, BatchNorm)") << true;
    }
    void largeNetworksOpenAsReadableBlocks() {
        QFETCH(bool, keras);
        QTemporaryDir dir;
        if (keras) {
            // A Keras model.to_json() of a depth-5 U-Net: imported without positions or groups.
            core::KerasJsonExport json = core::exportKerasJson(unet(5, true).graph, "unet");
            QVERIFY(json.ok());
            const QString file = dir.filePath("unet.json");
            QFile out(file);
            QVERIFY(out.open(QIODevice::WriteOnly));
            out.write(QByteArray::fromStdString(json.model.dump()));
            out.close();
            QString why;
            QVERIFY2(m_window->importKeras(file, &why, true), qPrintable(why));
        } else {
            QVERIFY(m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr,
                                       true));
        }
        const ViewReport r = openedView(QSize(1280, 720));
        verifyReadable(r);
        const core::Graph& g = m_window->document()->graph();
        QVERIFY(g.groups().size() >= 9);
        for (const auto& [id, group] : g.groups())
            QVERIFY2(group.collapsed, group.name.c_str());
        QVERIFY2(r.zoom >= 0.3, qPrintable(describe(r)));
        QVERIFY2(r.clippedWidgets.isEmpty(), qPrintable(r.clippedWidgets.join(", ")));
        // Opening is not an edit: nothing to undo.
        QCOMPARE(m_window->document()->undoStack()->count(), 0);
    }

    /// Zoom steps draw rough (no antialiasing) and the canvas is smooth again once the zoom rests.
    void zoomingDrawsRoughThenSmooth() {
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr, true));
        openedView(QSize(1280, 720));
        GraphView* view = m_window->view();
        QVERIFY(view->renderHints().testFlag(QPainter::Antialiasing));
        const double before = view->zoom();
        view->zoomBy(1.15);
        QVERIFY(std::abs(view->zoom() - before * 1.15) < 1e-9);
        QVERIFY(!view->renderHints().testFlag(QPainter::Antialiasing));
        QVERIFY(view->renderHints().testFlag(QPainter::TextAntialiasing));
        QTRY_VERIFY_WITH_TIMEOUT(view->renderHints().testFlag(QPainter::Antialiasing), 2000);
    }

    void kerasImportsAreReadable_data() {
        QTest::addColumn<QString>("file");
        const QDir dir(SEGFORGE_TEST_DATA "/keras/public");
        for (const QString& name : dir.entryList({"*.json"}, QDir::Files))
            QTest::newRow(qPrintable(name)) << dir.filePath(name);
    }
    void kerasImportsAreReadable() {
        QFETCH(QString, file);
        QString why;
        QVERIFY2(m_window->importKeras(file, &why, true), qPrintable(why));
        verifyReadable(openedView(QSize(1280, 720)));
    }

    /// Zoomed out to 10 %, names still read at ≥ 9 px, wire labels collapse into
    /// the types on the nodes; at 100 % the labels are on the wires.
    void semanticZoomKeepsNamesReadable() {
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr, true));
        openedView(QSize(1280, 720));
        m_window->scene()->groups()->setAllCollapsed(
            false); // the nodes themselves, not their blocks
        GraphView* view = m_window->view();
        const core::NodeId first = m_window->document()->graph().findNodeByName("enc1_conv1")->id;
        for (double zoom : {0.05, 0.1, 0.2, 0.35, 0.5, 0.7, 0.85, 1.0, 2.0}) {
            view->setZoom(zoom);
            view->centerOn(m_window->scene()->nodeItem(first));
            const ViewReport r = measureView(view);
            QVERIFY2(r.nodesVisible > 0, qPrintable(describe(r)));
            QVERIFY2(r.minTitlePx >= kReadablePx,
                     qPrintable(QString("at %1: %2").arg(zoom).arg(describe(r))));
            QCOMPARE(r.labelsCollapsed, zoom < semantic_zoom::kLabelZoom);
            const NodeItem* node = m_window->scene()->nodeItem(first);
            QCOMPARE(node->paintedOutputType(), zoom < semantic_zoom::kLabelZoom);
            int drawnLabels = 0;
            for (EdgeItem* e : m_window->scene()->edgeItems())
                drawnLabels += e->paintedLabel() ? 1 : 0;
            if (zoom >= semantic_zoom::kLabelZoom)
                QVERIFY2(drawnLabels > 0, "labels are drawn on the wires at a readable zoom");
            else
                QCOMPARE(drawnLabels, 0);
        }
        view->setZoom(0.1);
        QVERIFY(view->zoom() > 0.099 && view->zoom() < 0.101);
    }

    /// An error stays visible zoomed far out: red pixels around the node,
    /// many more than its outline alone would leave.
    void errorHaloSurvivesZoomingOut() {
        QVERIFY(m_window->openFile(SEGFORGE_RESOURCES "/projects/keras_mistakes.segforge", nullptr,
                                   true));
        openedView(QSize(1280, 720));
        const NodeItem* bad = nullptr;
        for (const auto& [id, node] : m_window->document()->graph().nodes())
            if (m_window->scene()->nodeItem(id)->severity() == 2)
                bad = m_window->scene()->nodeItem(id);
        QVERIFY2(bad, "the mistakes project has a node with an error");
        GraphView* view = m_window->view();
        view->setZoom(0.08);
        view->centerOn(bad->sceneBodyRect().center());
        settle();
        const QImage shot = view->viewport()->grab().toImage();
        const QRect box =
            view->mapFromScene(bad->sceneDrawnRect()).boundingRect().adjusted(-8, -8, 8, 8);
        const QColor error = Theme::current().error;
        int red = 0;
        for (int y = std::max(0, box.top()); y <= std::min(shot.height() - 1, box.bottom()); ++y)
            for (int x = std::max(0, box.left()); x <= std::min(shot.width() - 1, box.right());
                 ++x) {
                const QColor c = shot.pixelColor(x, y);
                red += std::abs(c.red() - error.red()) + std::abs(c.green() - error.green()) +
                                   std::abs(c.blue() - error.blue()) <
                               120
                           ? 1
                           : 0;
            }
        qInfo("error node at 8 %%: %d reddish pixels around a %dx%d box", red, box.width(),
              box.height());
        QVERIFY2(red >= 60, qPrintable(QString("only %1 reddish pixels").arg(red)));
    }

    /// A click on a diagnostic (DiagnosticsPanel::nodeActivated) from the
    /// fitted view: the node centred at a readable zoom, its inputs' labels in view.
    void diagnosticClickZoomsToReadable_data() {
        QTest::addColumn<bool>("sample");
        QTest::newRow("sample project") << true;
        QTest::newRow("template, laid out as a U") << false;
    }
    void diagnosticClickZoomsToReadable() {
        QFETCH(bool, sample);
        if (sample)
            QVERIFY(m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr,
                                       true));
        else
            m_window->document()->reset(unet(4, false), QString());
        openedView(QSize(1280, 720));
        const core::NodeId concat = m_window->document()->graph().findNodeByName("dec1_concat")->id;
        emit m_window->diagnostics()->nodeActivated(concat);
        settle();
        GraphView* view = m_window->view();
        QVERIFY2(view->zoom() >= 0.8, qPrintable(QString("zoom %1").arg(view->zoom())));
        const QRectF visible = view->mapToScene(view->viewport()->rect()).boundingRect();
        QVERIFY(visible.contains(m_window->scene()->nodeItem(concat)->sceneBodyRect()));
        int inputs = 0;
        for (EdgeItem* e : m_window->scene()->edgeItems()) {
            if (e->edge().to.node != concat)
                continue;
            ++inputs;
            QVERIFY2(!e->labelRect().isEmpty(), "every input wire's label has a place");
            const QRectF l = e->labelRect();
            QVERIFY2(visible.contains(l),
                     qPrintable(QString("%1 label at %2,%3 %4x%5 out of view %6,%7 %8x%9")
                                    .arg(e->label())
                                    .arg(l.x())
                                    .arg(l.y())
                                    .arg(l.width())
                                    .arg(l.height())
                                    .arg(visible.x())
                                    .arg(visible.y())
                                    .arg(visible.width())
                                    .arg(visible.height())));
        }
        QCOMPARE(inputs, 2);
        const ViewReport r = measureView(view);
        QVERIFY2(r.labelsHidden == 0, qPrintable(describe(r)));
        QVERIFY(m_window->scene()->nodeItem(concat)->isSelected());
    }

    /// Stepping a node while training: the glowing node is in view, readable.
    void steppedNodeStaysInView() {
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr, true));
        openedView(QSize(1280, 720));
        GraphView* view = m_window->view();
        view->setZoom(0.1);
        view->centerOn(-5000, -5000); // somewhere else entirely
        const core::NodeId node = m_window->document()->graph().findNodeByName("dec3_conv2")->id;
        m_window->scene()->setRunMark(node, NodeItem::RunMark::Current);
        settle();
        QVERIFY(view->zoom() >= semantic_zoom::kLabelZoom);
        const QRectF visible = view->mapToScene(view->viewport()->rect()).boundingRect();
        QVERIFY(visible.contains(m_window->scene()->nodeItem(node)->sceneBodyRect()));
        // The next node: the view follows without zooming out again.
        const core::NodeId next = m_window->document()->graph().findNodeByName("dec2_up")->id;
        m_window->scene()->setRunMark(next, NodeItem::RunMark::Current);
        settle();
        QVERIFY(view->zoom() >= semantic_zoom::kLabelZoom);
        QVERIFY(view->mapToScene(view->viewport()->rect())
                    .boundingRect()
                    .contains(m_window->scene()->nodeItem(next)->sceneBodyRect()));
    }

    /// A node standing on a straight wire: the wire goes around it.
    void wiresAreRoutedAroundNodes() {
        core::Project p;
        const core::NodeId in = p.graph.addNode(
            "Input", "in", {{"height", std::int64_t{32}}, {"width", std::int64_t{32}}}, {0, 0});
        const core::NodeId a = p.graph.addNode("Activation", "a", {}, {800, 0});
        p.graph.addNode("Activation", "blocker", {}, {400, 0}); // on the direct line, not connected
        p.graph.connect({in, "output"}, {a, "input"});
        m_window->document()->reset(p, QString());
        const ViewReport r = openedView(QSize(1280, 720));
        qInfo("%s", qPrintable(describe(r)));
        QCOMPARE(r.wiresThroughNodes, 0);
        QCOMPARE(r.nodeOverlaps, 0);
        EdgeItem* wire = m_window->scene()->edgeItems().front();
        QVERIFY(wire->isRouted());
        QVERIFY2(wire->route().size() > 2, "the wire bends around the blocker");
        // Dragging the blocker away lets the wire run straight again after the move.
        const core::NodeId blocker = m_window->document()->graph().findNodeByName("blocker")->id;
        m_window->document()->applyEdits({core::MoveNodeEdit{blocker, {400, 300}}}, "move");
        settle();
        QCOMPARE(wire->route().size(), qsizetype{2});
    }

    /// A move on a 300-node graph re-routes every wire and places every label
    /// (the worst case of an edit): timed and reported, not asserted.
    void moveOn300NodesReroutesAll() {
        core::Project p;
        core::NodeId prev = p.graph.addNode(
            "Input", "in", {{"height", std::int64_t{64}}, {"width", std::int64_t{64}}});
        std::vector<core::NodeId> ids{prev};
        for (int i = 1; i < 300; ++i) {
            core::NodeId n = p.graph.addNode("Activation", "n" + std::to_string(i), {},
                                             {(i % 20) * 300.0, (i / 20) * 160.0});
            p.graph.connect({prev, "output"}, {n, "input"});
            if (i % 7 == 0 && i > 40) // long wires across rows, as skips are
                p.graph.addNode("Activation", "x" + std::to_string(i), {},
                                {(i % 20) * 300.0 + 150, (i / 20) * 160.0 + 2400});
            prev = n;
            ids.push_back(n);
        }
        // The canvas alone, as edit_speed_bench measures it: the window's panels are not timed
        // here.
        Document doc;
        GraphScene scene(&doc);
        GraphView view(&scene);
        view.resize(1400, 900);
        view.show();
        doc.reset(p, QString());
        view.fitAll();
        QCoreApplication::processEvents();
        std::vector<double> ms;
        for (int i = 0; i < 30; ++i) {
            const core::NodeId moving = ids[static_cast<std::size_t>(50 + i)];
            const core::Node* n = doc.graph().findNode(moving);
            QElapsedTimer t;
            t.start();
            doc.applyEdits(
                {core::MoveNodeEdit{moving, {n->position.x, n->position.y + (i % 2 ? -20 : 20)}}},
                "move");
            QCoreApplication::processEvents(); // paint what changed
            ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        std::sort(ms.begin(), ms.end());
        qInfo("move on 300 nodes (re-check + re-route all wires + labels + repaint): median %.2f "
              "ms, p90 %.2f ms, max %.2f ms",
              ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back());
        const ViewReport r = measureView(&view);
        QCOMPARE(r.wiresThroughNodes, 0);
        QCOMPARE(r.nodesVisible, r.nodesTotal);
    }

    /// Dropping a wire the input does not accept never replaces the valid one.
    void incompatibleDropKeepsValidWire() {
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/sample_unet.segforge", nullptr, true));
        const core::Graph& g = m_window->document()->graph();
        const core::NodeId data = g.findNodeByName("data")->id;
        const core::NodeId conv = g.findNodeByName("enc1_conv1")->id;
        const auto before = g.edgesInto({conv, "input"});
        QCOMPARE(before.size(), std::size_t{1});
        QVERIFY(!m_window->scene()->connectPorts({data, "image"},
                                                 {conv, "input"})); // uint8 into a float32 input
        QCOMPARE(m_window->document()->graph().edgesInto({conv, "input"}), before);
    }
};

QTEST_MAIN(CanvasTest)
#include "canvas_test.moc"
