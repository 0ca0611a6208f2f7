#include "scene/minimap.hpp"

#include "scene/graph_view.hpp"
#include "scene/group_item.hpp"
#include "scene/node_item.hpp"
#include "style/theme.hpp"

#include <QEvent>
#include <QGraphicsScene>
#include <QMouseEvent>
#include <QPainter>
#include <QScrollBar>

namespace segforge::ui {

namespace {
constexpr int kWidth = 200;
constexpr int kHeight = 130;
constexpr int kMargin = 10;
constexpr int kInset = 6;
} // namespace

Minimap::Minimap(GraphView* view)
    : QWidget(view)
    , m_view(view) {
    setObjectName(QStringLiteral("minimap"));
    setFixedSize(kWidth, kHeight);
    setCursor(Qt::PointingHandCursor);
    setToolTip(tr("Overview: click or drag to move the view"));
    m_refresh.setSingleShot(true);
    m_refresh.setInterval(120); // a burst of edits or a drag redraws the overview once
    connect(&m_refresh, &QTimer::timeout, this, &Minimap::refresh);
    connect(view->scene(), &QGraphicsScene::changed, this, &Minimap::scheduleRefresh);
    connect(view->horizontalScrollBar(), &QScrollBar::valueChanged, this, [this] { refresh(); });
    connect(view->verticalScrollBar(), &QScrollBar::valueChanged, this, [this] { refresh(); });
    connect(view, &GraphView::zoomChanged, this, [this] { refresh(); });
    view->viewport()->installEventFilter(this);
    hide();
    scheduleRefresh();
}

bool Minimap::eventFilter(QObject* watched, QEvent* event) {
    if (m_view && watched == m_view->viewport() && event->type() == QEvent::Resize)
        refresh();
    return QWidget::eventFilter(watched, event);
}

void Minimap::scheduleRefresh() {
    m_refresh.start();
}

QRectF Minimap::viewRect() const {
    if (!m_view)
        return {};
    return m_view->mapToScene(m_view->viewport()->rect()).boundingRect();
}

bool Minimap::networkInView() const {
    return m_network.isEmpty() || viewRect().contains(m_network);
}

void Minimap::refresh() {
    if (!m_view)
        return;
    m_boxes.clear();
    m_network = QRectF();
    for (QGraphicsItem* item : m_view->scene()->items()) {
        if (!item->isVisible())
            continue;
        if (item->type() == NodeItem::Type) {
            const auto* node = static_cast<const NodeItem*>(item);
            m_boxes.push_back({node->sceneBodyRect(), node->hasError()});
        } else if (item->type() == GroupItem::Type &&
                   static_cast<GroupItem*>(item)->isCollapsed()) {
            const auto* group = static_cast<const GroupItem*>(item);
            m_boxes.push_back({group->sceneBoxRect(), group->look().errors > 0});
        } else {
            continue;
        }
        m_network = m_network.united(m_boxes.back().rect);
    }
    const bool show = !networkInView();
    if (show)
        place();
    setVisible(show);
    if (show)
        update();
}

void Minimap::place() {
    const QRect vp = m_view->viewport()->geometry();
    move(vp.right() - kWidth - kMargin, vp.bottom() - kHeight - kMargin);
    raise();
}

Minimap::Mapping Minimap::mapping() const {
    Mapping m;
    // The network, and the view frame where it sticks out (within one network size of it)...
    m.world = m_network.united(viewRect().intersected(m_network.adjusted(
        -m_network.width(), -m_network.height(), m_network.width(), m_network.height())));
    // ...scaled into the widget, aspect kept.
    const QRectF inner = QRectF(rect()).adjusted(kInset, kInset, -kInset, -kInset);
    if (m.world.isEmpty()) {
        m.area = inner;
        return m;
    }
    m.scale = std::min(inner.width() / m.world.width(), inner.height() / m.world.height());
    const QSizeF size(m.world.width() * m.scale, m.world.height() * m.scale);
    m.area = QRectF(inner.center() - QPointF(size.width() / 2, size.height() / 2), size);
    return m;
}

QRectF Minimap::Mapping::toWidget(const QRectF& r) const {
    if (world.isEmpty())
        return {};
    return QRectF(area.left() + (r.left() - world.left()) * scale,
                  area.top() + (r.top() - world.top()) * scale, r.width() * scale,
                  r.height() * scale);
}

QPointF Minimap::Mapping::toScene(QPointF p) const {
    if (world.isEmpty() || scale <= 0)
        return world.center();
    return {world.left() + (p.x() - area.left()) / scale,
            world.top() + (p.y() - area.top()) / scale};
}

void Minimap::paintEvent(QPaintEvent*) {
    const Theme& theme = Theme::current();
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    QColor back = theme.canvas;
    back.setAlpha(225);
    p.setPen(QPen(theme.nodeBorder, 1));
    p.setBrush(back);
    p.drawRoundedRect(QRectF(rect()).adjusted(0.5, 0.5, -0.5, -0.5), 6, 6);
    p.setPen(Qt::NoPen);
    const Mapping map = mapping(); // once per paint, not per box
    for (const Box& box : m_boxes) {
        QRectF r = map.toWidget(box.rect);
        if (r.width() < 2)
            r.setWidth(2);
        if (r.height() < 2)
            r.setHeight(2);
        p.setBrush(box.error ? theme.error : theme.textDim);
        p.drawRect(r);
    }
    QColor frame = theme.nodeSelected;
    p.setPen(QPen(frame, 1.5));
    frame.setAlpha(40);
    p.setBrush(frame);
    p.drawRect(map.toWidget(viewRect()).intersected(QRectF(rect()).adjusted(1, 1, -1, -1)));
}

void Minimap::mousePressEvent(QMouseEvent* event) {
    if (m_view && event->button() == Qt::LeftButton)
        m_view->centerOn(mapping().toScene(event->position()));
    event->accept();
}

void Minimap::mouseMoveEvent(QMouseEvent* event) {
    if (m_view && (event->buttons() & Qt::LeftButton))
        m_view->centerOn(mapping().toScene(event->position()));
    event->accept();
}

} // namespace segforge::ui
