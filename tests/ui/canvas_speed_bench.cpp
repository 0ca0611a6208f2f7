// Frame times of the canvas on a large graph: panning and zooming must hold
// 60 fps (16.7 ms a frame), an edit (re-check + scene update + repaint) must
// fit in one frame. Reported, never asserted: timings depend on the machine.

#include "document/document.hpp"
#include "graph/edit_scripts.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "templates/unet_template.hpp"

#include <QElapsedTimer>
#include <QScrollBar>
#include <QtTest>
#include <algorithm>

using namespace segforge;

namespace {

/// Four depth-5 BatchNorm U-Nets side by side: a realistic 300-plus-node canvas.
core::Project fourUNets() {
    core::UNetOptions o;
    o.depth = 5;
    o.batchnorm = true;
    auto made = core::makeUNetProject(o);
    const core::Graph one = std::get<core::Project>(made).graph;
    double width = 0;
    for (const auto& [id, n] : one.nodes())
        width = std::max(width, n.position.x);
    core::Project p;
    for (int copy = 0; copy < 4; ++copy) {
        std::vector<core::NodeId> all;
        for (const auto& [id, n] : one.nodes())
            all.push_back(id);
        auto paste =
            core::pasteSubgraph(p.graph, core::extractSubgraph(one, all), {0, copy * 2400.0});
        const auto applied = core::applyEdits(p.graph, paste.edits);
        if (!applied.ok)
            qFatal("paste failed: %s", applied.error.c_str());
    }
    return p;
}

struct Frames {
    std::vector<double> ms;
    void report(const char* what) {
        std::sort(ms.begin(), ms.end());
        qInfo("%s: median %.2f ms, p90 %.2f ms, max %.2f ms (%zu frames)", what, ms[ms.size() / 2],
              ms[ms.size() * 9 / 10], ms.back(), ms.size());
    }
};

} // namespace

class CanvasSpeedBench : public QObject {
    Q_OBJECT
private slots:
    void panZoomAndEditOnALargeGraph() {
        ui::Document doc;
        ui::GraphScene scene(&doc);
        ui::GraphView view(&scene);
        view.resize(1280, 720);
        view.show();
        QElapsedTimer load;
        load.start();
        doc.reset(fourUNets(), QString());
        QApplication::processEvents();
        qInfo("load + check + scene of %zu nodes: %.1f ms", doc.graph().nodeCount(),
              static_cast<double>(load.nsecsElapsed()) / 1e6);
        QVERIFY(doc.graph().nodeCount() >= 300);

        auto frame = [&](Frames& f, auto&& change) {
            QElapsedTimer t;
            t.start();
            change();
            view.viewport()->repaint();
            f.ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        };

        for (double zoom : {1.0, 0.5, 0.15}) {
            view.resetTransform();
            view.scale(zoom, zoom);
            QApplication::processEvents();
            Frames pan;
            QScrollBar* h = view.horizontalScrollBar();
            QScrollBar* v = view.verticalScrollBar();
            for (int i = 0; i < 60; ++i) {
                frame(pan, [&] {
                    h->setValue(h->minimum() + (h->maximum() - h->minimum()) * (i % 30) / 30);
                    v->setValue(v->minimum() + (v->maximum() - v->minimum()) * (i / 30) / 2);
                });
            }
            pan.report(qPrintable(QStringLiteral("pan at %1 %").arg(zoom * 100)));
        }

        // SEGFORGE_BENCH_SHOTS=DIR: what the canvas draws at each semantic-zoom
        // level, to compare renderings before and after a speed change.
        if (const QString dir = qEnvironmentVariable("SEGFORGE_BENCH_SHOTS"); !dir.isEmpty()) {
            const core::Point at = doc.graph().findNodeByName("enc2_conv1")->position;
            const QPointF centre(at.x, at.y);
            for (double z : {1.0, 0.85, 0.6, 0.3, 0.12, 0.05}) {
                view.setZoom(z);
                view.centerOn(centre);
                QApplication::processEvents();
                view.viewport()->grab().save(QStringLiteral("%1/zoom_%2.png").arg(dir).arg(z));
            }
            view.fitAll();
            QApplication::processEvents();
            view.viewport()->grab().save(dir + "/fit.png");
        }

        view.fitAll();
        Frames zoom, zoomItems;
        for (int i = 0; i < 60; ++i) {
            frame(zoom, [&] {
                QElapsedTimer t;
                t.start();
                view.zoomBy(i % 20 < 10 ? 1.15 : 1 / 1.15);
                zoomItems.ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
            });
        }
        zoom.report("wheel zoom steps around the fitted view");
        zoomItems.report("  of which telling the items the zoom (before the repaint)");

        Frames edit;
        const core::NodeId conv = doc.graph().findNodeByName("enc1_conv1")->id;
        std::int64_t filters = 16;
        for (int i = 0; i < 30; ++i) {
            filters = filters == 16 ? 24 : 16;
            frame(edit, [&] {
                doc.applyEdits({core::SetAttributeEdit{conv, "filters", core::AttrValue{filters}}},
                               "edit");
                QApplication::processEvents();
            });
        }
        edit.report("attribute edit (re-check + scene update + repaint)");
        QCOMPARE(doc.check().typeOf({conv, "output"})->shape.channels(), filters);
    }
};

QTEST_MAIN(CanvasSpeedBench)
#include "canvas_speed_bench.moc"
