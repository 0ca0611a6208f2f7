#include "scene/edge_item.hpp"

#include "scene/theme.hpp"

#include <QFontMetricsF>
#include <QPainter>
#include <QPainterPathStroker>
#include <QStyleOptionGraphicsItem>

#include <algorithm>
#include <cmath>

namespace segforge::ui {

EdgeItem::EdgeItem(core::Edge edge) : m_edge(std::move(edge)) {
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

void EdgeItem::refresh(QPointF from, QPointF to, const core::CheckResult& check) {
    const Theme& t = Theme::current();
    auto type = check.edgeType(m_edge);
    m_known = type.has_value();
    m_label = type ? QString::fromStdString(type->toString()) : QStringLiteral("?");
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
    const QString signature = QString("%1,%2,%3,%4|%5|%6|%7%8|%9")
                                  .arg(from.x()).arg(from.y()).arg(to.x()).arg(to.y())
                                  .arg(m_label, m_color.name())
                                  .arg(m_rejected).arg(m_warned).arg(m_reason);
    if (signature == m_signature)
        return; // nothing visible changed: no geometry change, no repaint
    m_signature = signature;
    prepareGeometryChange();
    m_path = wirePath(from, to);
    setToolTip(m_reason.isEmpty() ? m_label : m_label + "\n\n" + m_reason);

    QFont f;
    f.setPointSizeF(8);
    QFontMetricsF fm(f);
    const QPointF mid = m_path.pointAtPercent(0.5);
    const double w = fm.horizontalAdvance(m_label) + 12;
    m_labelRect = QRectF(mid.x() - w / 2, mid.y() - 9, w, 18);
    update();
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

    // Labels hide when zoomed far out (level of detail) to keep the overview clean.
    if (lod < 0.55)
        return;
    QFont f = painter->font();
    f.setPointSizeF(8);
    f.setBold(m_rejected);
    painter->setFont(f);
    painter->setPen(QPen(m_rejected ? t.error : (m_warned ? t.warning : c.darker(t.dark ? 130 : 100)), 1));
    painter->setBrush(t.wireLabelBack);
    painter->drawRoundedRect(m_labelRect, 9, 9);
    painter->setPen(m_rejected ? t.error : t.text);
    painter->drawText(m_labelRect, Qt::AlignCenter, m_label);
}

} // namespace segforge::ui
