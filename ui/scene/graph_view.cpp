#include "scene/graph_view.hpp"

#include "scene/graph_scene.hpp"
#include "scene/node_item.hpp"

#include <QKeyEvent>
#include <QMimeData>
#include <QScrollBar>
#include <QWheelEvent>

namespace segforge::ui {

GraphView::GraphView(GraphScene* scene, QWidget* parent) : QGraphicsView(scene, parent), m_scene(scene) {
    setRenderHints(QPainter::Antialiasing | QPainter::TextAntialiasing | QPainter::SmoothPixmapTransform);
    setDragMode(QGraphicsView::RubberBandDrag);
    setViewportUpdateMode(QGraphicsView::BoundingRectViewportUpdate);
    setTransformationAnchor(QGraphicsView::AnchorUnderMouse);
    setResizeAnchor(QGraphicsView::AnchorViewCenter);
    setAcceptDrops(true);
    setMouseTracking(true);
    setFrameShape(QFrame::NoFrame);
    setSceneRect(-1e5, -1e5, 2e5, 2e5); // a large canvas: panning never hits an edge
}

void GraphView::zoomBy(double factor) {
    const double z = zoom() * factor;
    if (z < 0.08 || z > 4.0)
        return;
    scale(factor, factor);
    emit zoomChanged(zoom());
}

void GraphView::fitAll() {
    QRectF bounds;
    for (QGraphicsItem* item : scene()->items()) {
        if (item->type() == NodeItem::Type)
            bounds = bounds.united(item->sceneBoundingRect());
    }
    if (bounds.isEmpty()) {
        resetTransform();
        centerOn(0, 0);
        return;
    }
    fitInView(bounds.adjusted(-60, -60, 60, 60), Qt::KeepAspectRatio);
    if (zoom() > 1.5) {
        const double f = 1.5 / zoom();
        scale(f, f);
    }
    emit zoomChanged(zoom());
}

void GraphView::showStart() {
    fitAll();
    constexpr double kReadable = 0.66; // wire labels still show (they hide below 0.55)
    if (zoom() >= 0.6)
        return;
    QRectF bounds;
    for (QGraphicsItem* item : scene()->items()) {
        if (item->type() == NodeItem::Type)
            bounds = bounds.united(item->sceneBoundingRect());
    }
    resetTransform();
    scale(kReadable, kReadable);
    const QRectF visible = mapToScene(viewport()->rect()).boundingRect();
    centerOn(bounds.left() - 40 + visible.width() / 2, bounds.top() - 60 + visible.height() / 2);
    emit zoomChanged(zoom());
}

void GraphView::centerOnNode(qint64 id) {
    if (NodeItem* item = m_scene->nodeItem(id))
        centerOn(item);
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

bool GraphView::focusNextPrevChild(bool) { return false; } // Tab opens quick-add instead

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
