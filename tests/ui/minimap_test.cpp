// The canvas overview: shown only while part of the network is out of view,
// a click on it moves the view there.

#include "document/document.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/minimap.hpp"
#include "templates/unet_template.hpp"

#include <QtTest>

using namespace segforge;
using namespace segforge::ui;

class MinimapTest : public QObject {
    Q_OBJECT
private slots:
    void showsOnlyWhileSomethingIsOutOfViewAndMovesTheView() {
        Document doc;
        GraphScene scene(&doc);
        GraphView view(&scene);
        view.resize(900, 600);
        view.show();
        QVERIFY(QTest::qWaitForWindowExposed(&view));
        doc.reset(std::get<core::Project>(core::makeUNetProject({})), QString());
        QApplication::processEvents();

        view.fitAll();
        QApplication::processEvents();
        Minimap* map = view.minimap();
        QVERIFY(map);
        QVERIFY(map->networkInView());
        QVERIFY(!map->isVisible());

        view.setZoom(1.0);
        view.centerOn(map->networkRect().topLeft());
        QApplication::processEvents();
        QVERIFY(!map->networkInView());
        QVERIFY(map->isVisible());
        // It sits inside the viewport's bottom-right corner.
        QVERIFY(view.viewport()->geometry().contains(map->geometry()));

        // A click at the overview's right edge moves the view to the network's right end.
        const QPointF before = view.mapToScene(view.viewport()->rect().center());
        QTest::mouseClick(map, Qt::LeftButton, {}, QPoint(map->width() - 8, map->height() / 2));
        QApplication::processEvents();
        const QPointF after = view.mapToScene(view.viewport()->rect().center());
        QVERIFY2(
            after.x() > before.x() + map->networkRect().width() / 2,
            qPrintable(QStringLiteral("view centre x %1 → %2").arg(before.x()).arg(after.x())));

        view.fitAll();
        QApplication::processEvents();
        QVERIFY(!map->isVisible());
    }
};

QTEST_MAIN(MinimapTest)
#include "minimap_test.moc"
