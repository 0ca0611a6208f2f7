// How long does one edit take on a large graph: re-check plus scene update?
// Target: under 16 ms (one frame) for 300 nodes.

#include "document/document.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"

#include <QElapsedTimer>
#include <QtTest>
#include <algorithm>

using namespace segforge;

namespace {

/// A chain of ~300 Conv2D / BatchNorm / Activation nodes from one Input.
core::Project bigGraph(int nodes) {
    core::Project p;
    core::NodeId prev =
        p.graph.addNode("Input", "in", {{"height", std::int64_t{64}}, {"width", std::int64_t{64}}});
    for (int i = 1; i < nodes; ++i) {
        const char* op = i % 3 == 1 ? "Conv2D" : (i % 3 == 2 ? "BatchNormalization" : "Activation");
        core::AttrMap attrs;
        if (i % 3 == 1)
            attrs = {{"filters", std::int64_t{16}}, {"padding", std::string("same")}};
        core::NodeId n =
            p.graph.addNode(op, "n" + std::to_string(i), attrs, {i * 300.0, (i % 7) * 40.0});
        p.graph.connect({prev, "output"}, {n, "input"});
        prev = n;
    }
    return p;
}

} // namespace

class EditSpeedBench : public QObject {
    Q_OBJECT
private slots:
    void attributeEditOn300Nodes() {
        ui::Document doc;
        ui::GraphScene scene(&doc);
        ui::GraphView view(&scene);
        view.resize(1400, 900);
        view.show();
        doc.reset(bigGraph(300), QString());
        QCOMPARE(doc.graph().nodeCount(), std::size_t{300});
        QVERIFY(!doc.check().hasErrors() || doc.check().has(core::codes::kNoLoss));
        const core::NodeId conv = doc.graph().findNodeByName("n1")->id;
        std::vector<double> ms;
        std::int64_t filters = 16;
        for (int i = 0; i < 40; ++i) {
            filters = filters == 16 ? 32 : 16;
            QElapsedTimer t;
            t.start();
            doc.applyEdits({core::SetAttributeEdit{conv, "filters", core::AttrValue{filters}}},
                           "edit");
            QApplication::processEvents(); // paint what changed
            ms.push_back(static_cast<double>(t.nsecsElapsed()) / 1e6);
        }
        std::sort(ms.begin(), ms.end());
        qInfo("edit on 300 nodes (re-check + scene update + repaint): median %.2f ms, p90 %.2f ms, "
              "max %.2f ms",
              ms[ms.size() / 2], ms[ms.size() * 9 / 10], ms.back());
        QCOMPARE(doc.check().typeOf({conv, "output"})->shape.channels(), filters);
    }
};

QTEST_MAIN(EditSpeedBench)
#include "edit_speed_bench.moc"
