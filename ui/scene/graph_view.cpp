#include "scene/graph_view.hpp"

#include "document/document.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/group_item.hpp"
#include "scene/minimap.hpp"
#include "scene/node_item.hpp"
#include "scene/semantic_zoom.hpp"

#include <QKeyEvent>
#include <QMimeData>
#include <QScrollBar>
#include <QWheelEvent>
#include <algorithm>
#include <cmath>

namespace segforge::ui {

GraphView::GraphView(GraphScene* scene, QWidget* parent)
    : QGraphicsView(scene, parent)
    , m_scene(scene) {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing |
                   QPainter::SmoothPixmapTransform);
    setDragMode(QGraphicsView::RubberBandDrag);
    setViewportUpdateMode(QGraphicsView::BoundingRectViewportUpdate);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setAcceptDrops(true);
    setMouseTracking(true);
    setFrameShape(QFrame::NoFrame);
    setSceneRect(-1e5, -1e5, 2e5, 2e5); // a large canvas: panning never hits an edge
    m_minimap = new Minimap(this);
    m_zoomSettle = new QTimer(this);
    m_zoomSettle->setSingleShot(true);
    m_zoomSettle->setInterval(180);
    connect(m_zoomSettle, &QTimer::timeout, this, &GraphView::zoomSettled);
    connect(scene, &GraphScene::runMarkChanged, this,
            [this](core::NodeId node, NodeItem::RunMark mark) {
                if (mark == NodeItem::RunMark::Current)
                    ensureNodeReadable(node);
            });
}

void GraphView::zoomBy(double factor) {
    const double z = zoom() * factor;
    if (z < kMinZoom || z > kMaxZoom)
        return;
    m_fitted = false;
    zoomInteractively();
    scale(factor, factor);
    zoomApplied();
}

void GraphView::zoomInteractively() {
    if (renderHints().testFlag(QPainter::Antialiasing))
        setRenderHints(QPainter::TextAntialiasing);
    m_zoomSettle->start();
}

void GraphView::zoomSettled() {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing |
                   QPainter::SmoothPixmapTransform);
    // The nodes' cached pictures were drawn rough: draw them again.
    for (QGraphicsItem* item : m_scene->items())
        item->update();
}

void GraphView::setZoom(double z) {
    z = std::clamp(z, kMinFitZoom, kMaxZoom);
    const QPointF centre = mapToScene(viewport()->rect().center());
    const auto anchor = transformationAnchor();
    setTransformationAnchor(QGraphicsView::NoAnchor);
    setTransform(QTransform::fromScale(z, z));
    setTransformationAnchor(anchor);
    centerOn(centre);
    zoomApplied();
}

void GraphView::zoomApplied() {
    const double z = zoom();
    m_scene->setProperty("viewZoom", z); // read by nodes created later
    for (QGraphicsItem* item : m_scene->items()) {
        if (item->type() == NodeItem::Type)
            static_cast<NodeItem*>(item)->setViewZoom(z);
    }
    emit zoomChanged(z);
}

namespace {
/// The nodes' boxes (not their glow or plates): what "the whole network" means.
QRectF nodeBounds(const QGraphicsScene* scene) {
    QRectF bounds;
    for (QGraphicsItem* item : scene->items()) {
        if (!item->isVisible())
            continue;
        if (item->type() == NodeItem::Type)
            bounds = bounds.united(static_cast<NodeItem*>(item)->sceneBodyRect());
        else if (item->type() == GroupItem::Type && static_cast<GroupItem*>(item)->isCollapsed())
            bounds = bounds.united(
                static_cast<GroupItem*>(item)->sceneBoxRect()); // stands for its members
    }
    return bounds;
}
} // namespace

void GraphView::fitAll() {
    const QRectF bounds = nodeBounds(scene());
    if (bounds.isEmpty()) {
        setZoom(1);
        centerOn(0, 0);
        return;
    }
    // Margins in screen pixels: room for the ports and halos, and for the
    // name plates that outgrow the boxes when zoomed far out.
    const QRectF target = bounds.adjusted(-12, -12, 12, 12);
    const double marginX = 60, marginY = 24;
    const double w = std::max(40.0, viewport()->width() - 2 * marginX);
    const double h = std::max(40.0, viewport()->height() - 2 * marginY);
    const double z = std::min({w / target.width(), h / target.height(), 1.2});
    setZoom(z);
    centerOn(target.center());
    m_fitted = true;
}

void GraphView::resizeEvent(QResizeEvent* event) {
    QGraphicsView::resizeEvent(event);
    if (m_fitted)
        fitAll();
}

void GraphView::showStart() {
    // A network too large to read whole opens with its groups collapsed
    // (unless something in it is already selected: that must stay in view).
    if (m_scene->selectedItems().isEmpty())
        m_scene->document()->collapseGroupsToFit(viewport()->width(), viewport()->height(),
                                                 semantic_zoom::kCompactZoom);
    fitAll();
}

void GraphView::centerOnNode(qint64 id) {
    NodeItem* item = m_scene->nodeItem(id);
    if (!item)
        return;
    m_fitted = false;
    // The node and the labels of the wires into it, if they fit at a readable zoom.
    const QRectF body = item->sceneBodyRect();
    QRectF wanted = body;
    for (EdgeItem* edge : m_scene->edgeItems()) {
        if (edge->edge().to.node == id && !edge->labelRect().isEmpty())
            wanted = wanted.united(edge->labelRect());
    }
    wanted.adjust(-30, -30, 30, 30);
    const double fit =
        std::min(viewport()->width() / wanted.width(), viewport()->height() / wanted.height());
    setZoom(std::clamp(fit, kReadableZoom, std::max(kReadableZoom, std::min(zoom(), 1.2))));
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    centerOn(visible.width() >= wanted.width() && visible.height() >= wanted.height()
                 ? wanted.center()
                 : body.center());
}

void GraphView::ensureNodeReadable(qint64 id) {
    NodeItem* item = m_scene->nodeItem(id);
    if (!item)
        return;
    m_fitted = false;
    if (zoom() < semantic_zoom::kLabelZoom) {
        setZoom(kReadableZoom);
        centerOn(item->sceneBodyRect().center());
        return;
    }
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    if (!visible.contains(item->sceneBodyRect().adjusted(-20, -20, 20, 20)))
        centerOn(item->sceneBodyRect().center());
}

QPointF GraphView::cursorScenePos() const {
    QPoint p = viewport()->mapFromGlobal(QCursor::pos());
    if (!viewport()->rect().contains(p))
        p = viewport()->rect().center();
    return mapToScene(p);
}

void GraphView::wheelEvent(QWheelEvent* event) {
    const double steps = event->angleDelta().y() / 120.0;
    zoomBy(std::pow(1.15, steps));
    event->accept();
}

void GraphView::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        m_spaceHeld = true;
        viewport()->setCursor(Qt::OpenHandCursor);
        return;
    }
    if (event->key() == Qt::Key_Tab) {
        emit quickAddAt(cursorScenePos());
        return;
    }
    QGraphicsView::keyPressEvent(event);
}

void GraphView::keyReleaseEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Space && !event->isAutoRepeat()) {
        m_spaceHeld = false;
        viewport()->unsetCursor();
        return;
    }
    QGraphicsView::keyReleaseEvent(event);
}

bool GraphView::focusNextPrevChild(bool) {
    return false;
} // Tab opens quick-add instead

void GraphView::mousePressEvent(QMouseEvent* event) {
    if (event->button() == Qt::MiddleButton || (m_spaceHeld && event->button() == Qt::LeftButton)) {
        m_panning = true;
        m_panLast = event->position().toPoint();
        viewport()->setCursor(Qt::ClosedHandCursor);
        event->accept();
        return;
    }
    QGraphicsView::mousePressEvent(event);
}

void GraphView::mouseMoveEvent(QMouseEvent* event) {
    m_lastMouse = event->position().toPoint();
    if (m_panning) {
        m_fitted = false;
        const QPoint delta = event->position().toPoint() - m_panLast;
        m_panLast = event->position().toPoint();
        horizontalScrollBar()->setValue(horizontalScrollBar()->value() - delta.x());
        verticalScrollBar()->setValue(verticalScrollBar()->value() - delta.y());
        event->accept();
        return;
    }
    QGraphicsView::mouseMoveEvent(event);
}

void GraphView::mouseReleaseEvent(QMouseEvent* event) {
    if (m_panning) {
        m_panning = false;
        viewport()->setCursor(m_spaceHeld ? Qt::OpenHandCursor : Qt::ArrowCursor);
        event->accept();
        return;
    }
    QGraphicsView::mouseReleaseEvent(event);
}

void GraphView::mouseDoubleClickEvent(QMouseEvent* event) {
    const QPointF p = mapToScene(event->position().toPoint());
    if (!itemAt(event->position().toPoint())) {
        emit quickAddAt(p);
        event->accept();
        return;
    }
    QGraphicsView::mouseDoubleClickEvent(event);
}

void GraphView::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasFormat(kOpMimeType))
        event->acceptProposedAction();
    else
        QGraphicsView::dragEnterEvent(event);
}

void GraphView::dragMoveEvent(QDragMoveEvent* event) {
    if (event->mimeData()->hasFormat(kOpMimeType))
        event->acceptProposedAction();
    else
        QGraphicsView::dragMoveEvent(event);
}

void GraphView::dropEvent(QDropEvent* event) {
    if (!event->mimeData()->hasFormat(kOpMimeType)) {
        QGraphicsView::dropEvent(event);
        return;
    }
    const std::string op = event->mimeData()->data(kOpMimeType).toStdString();
    m_scene->addNodeAt(op, mapToScene(event->position().toPoint()));
    event->acceptProposedAction();
}

} // namespace segforge::ui
