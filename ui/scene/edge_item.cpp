#include "scene/edge_item.hpp"

#include "scene/semantic_zoom.hpp"
#include "style/theme.hpp"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

namespace segforge::ui {

EdgeItem::EdgeItem(core::Edge edge)
    : m_edge(std::move(edge)) {
    setZValue(0);
    setAcceptHoverEvents(true);
    setFlags(ItemIsSelectable);
}

void EdgeItem::setGradient(std::optional<double> norm, double position) {
    if (norm == m_gradNorm && position == m_gradPosition)
        return;
    prepareGeometryChange();
    m_gradNorm = norm;
    m_gradPosition = position;
    QString tip = m_reason.isEmpty() ? m_label : m_label + "\n\n" + m_reason;
    if (norm)
        tip += QStringLiteral("\n‖∂loss/∂x‖ = %1").arg(*norm, 0, 'g', 3);
    setToolTip(tip);
    update();
}

QPainterPath EdgeItem::wirePath(QPointF from, QPointF to) {
    QPainterPath path(from);
    const double dx = std::max(50.0, std::abs(to.x() - from.x()) * 0.5);
    path.cubicTo(from + QPointF(dx, 0), to - QPointF(dx, 0), to);
    return path;
}

QPainterPath EdgeItem::roundedPath(const QPolygonF& route, double radius) {
    QPainterPath path;
    if (route.isEmpty())
        return path;
    path.moveTo(route.front());
    for (qsizetype i = 1; i + 1 < route.size(); ++i) {
        const QPointF a = route[i - 1], b = route[i], c = route[i + 1];
        const double in = QLineF(a, b).length(), out = QLineF(b, c).length();
        const double r = std::min({radius, in / 2, out / 2});
        if (r < 0.5) {
            path.lineTo(b);
            continue;
        }
        const QPointF enter = b + (a - b) * (r / in);
        const QPointF leave = b + (c - b) * (r / out);
        path.lineTo(enter);
        path.quadTo(b, leave);
    }
    path.lineTo(route.back());
    return path;
}

namespace {
QFont labelFont(double px, bool bold) {
    QFont f;
    f.setPixelSize(std::max(1, static_cast<int>(std::ceil(px - 1e-6))));
    f.setBold(bold);
    return f;
}
} // namespace

QSizeF EdgeItem::labelSize() const {
    // Measured once per text: the wire layout asks for every wire on every sync.
    if (m_labelSize.isEmpty() || m_labelSizeFor != m_label + (m_rejected ? "!" : "")) {
        const double px = semantic_zoom::labelPlacementPx();
        const QFontMetricsF fm(labelFont(px, m_rejected));
        m_labelSize = QSizeF(fm.horizontalAdvance(m_label) + px, px * 1.6);
        m_labelSizeFor = m_label + (m_rejected ? "!" : "");
    }
    return m_labelSize;
}

void EdgeItem::refresh(const core::CheckResult& check) {
    const Theme& t = Theme::current();
    auto type = check.edgeType(m_edge);
    m_known = type.has_value();
    // Numbers with a fixed input size; "N×H/16×W/16×256 f32" with a free one.
    m_label = QString::fromStdString(check.label(m_edge.from));
    m_color = type ? t.dtypeColor(type->dtype) : t.textDim;
    m_rejected = false;
    m_warned = false;
    QStringList reasons;
    for (const auto* d : check.forNode(m_edge.to.node)) {
        if (d->port != m_edge.to.port)
            continue;
        if (d->severity == core::Severity::Error)
            m_rejected = true;
        else
            m_warned = true;
        reasons << QString::fromStdString(d->message);
    }
    m_reason = reasons.join("\n");
    const QString signature = QString("%1|%2|%3%4|%5")
                                  .arg(m_label, m_color.name())
                                  .arg(m_rejected)
                                  .arg(m_warned)
                                  .arg(m_reason);
    if (signature == m_signature)
        return; // nothing visible changed: no repaint
    m_signature = signature;
    setToolTip(m_reason.isEmpty() ? m_label : m_label + "\n\n" + m_reason);
    if (m_labelCentre) {
        prepareGeometryChange();
        setLabelAt(m_labelCentre);
    }
    update();
}

void EdgeItem::refresh(QPointF from, QPointF to, const core::CheckResult& check) {
    refresh(check);
    if (from == m_from && to == m_to && !m_route.isEmpty())
        return; // keep the route: the ends did not move
    m_from = from;
    m_to = to;
    prepareGeometryChange();
    m_routed = false;
    m_route = QPolygonF({from, to});
    m_path = wirePath(from, to);
    setLabelAt(m_path.pointAtPercent(0.5));
    update();
}

void EdgeItem::setRoute(const QPolygonF& route, std::optional<QPointF> labelCentre) {
    if (m_routed && route == m_route && labelCentre == m_labelCentre)
        return; // no geometry change, no repaint
    prepareGeometryChange();
    m_routed = true;
    m_route = route;
    m_path = roundedPath(route);
    setLabelAt(labelCentre);
    update();
}

void EdgeItem::setLabelAt(std::optional<QPointF> centre) {
    m_labelCentre = centre;
    m_labelRect = QRectF();
    if (centre) {
        const QSizeF size = labelSize();
        m_labelRect = QRectF(*centre - QPointF(size.width() / 2, size.height() / 2), size);
    }
}

QRectF EdgeItem::boundingRect() const {
    return m_path.boundingRect().united(m_labelRect).adjusted(-6, -6, 6, 6);
}

QPainterPath EdgeItem::shape() const {
    QPainterPathStroker stroker;
    stroker.setWidth(10);
    QPainterPath s = stroker.createStroke(m_path);
    s.addRect(m_labelRect);
    return s;
}

void EdgeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const Theme& t = Theme::current();
    const double lod = option->levelOfDetailFromTransform(painter->worldTransform());
    painter->setRenderHint(QPainter::Antialiasing);
    QColor c = m_rejected ? t.error : m_color;
    double width = m_rejected ? 3.0 : 2.0;
    if (m_gradNorm) {
        // Vanishing gradients thin and blue, exploding ones thick and orange.
        const QColor low(0x3b, 0x82, 0xf6), high(0xf9, 0x73, 0x16);
        const double u = std::clamp(m_gradPosition, 0.0, 1.0);
        c = QColor::fromRgbF(low.redF() + (high.redF() - low.redF()) * u,
                             low.greenF() + (high.greenF() - low.greenF()) * u,
                             low.blueF() + (high.blueF() - low.blueF()) * u);
        width = 1.0 + 7.0 * u;
    }
    if (isSelected()) {
        painter->setPen(QPen(t.nodeSelected, width + 4, Qt::SolidLine, Qt::RoundCap));
        painter->drawPath(m_path);
    }
    QPen pen(c, width, m_known ? Qt::SolidLine : Qt::DashLine, Qt::RoundCap);
    painter->setPen(pen);
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(m_path);

    // Zoomed out, the label collapses into the producer's box (which shows its
    // output type); otherwise it keeps a readable size on screen.
    m_paintedLabel = false;
    if (!semantic_zoom::wireLabelsShown(lod) || m_labelRect.isEmpty())
        return;
    const double px = semantic_zoom::textPx(lod);
    const QFont f = labelFont(px, m_rejected);
    const QFontMetricsF fm(f);
    const QSizeF size(fm.horizontalAdvance(m_label) + px, px * 1.6);
    const QRectF box(m_labelRect.center() - QPointF(size.width() / 2, size.height() / 2), size);
    painter->setFont(f);
    painter->setPen(
        QPen(m_rejected ? t.error : (m_warned ? t.warning : c.darker(t.dark ? 130 : 100)), 1));
    painter->setBrush(t.wireLabelBack);
    painter->drawRoundedRect(box, box.height() / 2, box.height() / 2);
    painter->setPen(m_rejected ? t.error : t.text);
    painter->drawText(box, Qt::AlignCenter, m_label);
    m_paintedLabel = true;
}

} // namespace segforge::ui
