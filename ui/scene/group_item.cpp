#include "scene/group_item.hpp"

#include "scene/semantic_zoom.hpp"
#include "style/theme.hpp"

#include <QFontMetricsF>
#include <QGraphicsScene>
#include <QGraphicsSceneMouseEvent>
#include <QLocale>
#include <QPainter>
#include <QStyleOptionGraphicsItem>
#include <algorithm>
#include <cmath>

namespace segforge::ui {

using namespace metrics;

namespace {

constexpr double kPad = 16;        ///< frame margin around the members' boxes
constexpr double kFrameTitle = 26; ///< the expanded frame's title bar
constexpr double kRim = 6;         ///< clickable rim of the expanded frame
constexpr double kBoxWidth = core::kCollapsedGroupWidth;
constexpr double kRadius = 8;

QFont pixelFont(double px, bool bold) {
    QFont f;
    f.setPixelSize(std::max(1, static_cast<int>(std::lround(px))));
    f.setBold(bold);
    return f;
}

/// "23,456 params", "1.9M params": the count a user compares with Keras' summary.
QString paramsText(std::int64_t n) {
    if (n < 0)
        return QStringLiteral("? params");
    if (n >= 10'000'000)
        return QStringLiteral("%1M params").arg(static_cast<double>(n) / 1e6, 0, 'f', 1);
    return QStringLiteral("%1 params")
        .arg(QLocale(QLocale::English).toString(static_cast<qlonglong>(n)));
}

} // namespace

GroupItem::GroupItem(core::GroupId id)
    : m_id(id) {
    setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
    setAcceptHoverEvents(true);
}

QSizeF GroupItem::collapsedSize(std::size_t rows) {
    return {kBoxWidth, core::collapsedGroupHeight(rows)};
}

QRectF GroupItem::localRect() const {
    if (m_look.collapsed)
        return QRectF(QPointF(0, 0),
                      collapsedSize(std::max(m_look.inputs.size(), m_look.outputs.size())));
    return QRectF(0, 0, m_look.membersRect.width() + 2 * kPad,
                  m_look.membersRect.height() + 2 * kPad + kFrameTitle);
}

QRectF GroupItem::sceneTitleRect() const {
    if (m_look.collapsed)
        return {};
    return mapRectToScene(QRectF(0, 0, localRect().width(), kFrameTitle));
}

void GroupItem::setLook(const Look& look) {
    prepareGeometryChange();
    m_look = look;
    // Collapsed: the box sits where the members' top-left was; expanded: the
    // frame wraps the members with its title bar above them.
    const QPointF at = look.collapsed
                           ? look.membersRect.topLeft()
                           : look.membersRect.topLeft() - QPointF(kPad, kPad + kFrameTitle);
    m_placing = true;
    setPos(at);
    m_lastPos = at;
    m_placing = false;
    // Expanded frames lie behind nodes and wires; a collapsed box is a node.
    setZValue(look.collapsed ? 1 : -1);
    QStringList tip{QStringLiteral("<b>%1</b> — %2 nodes, %3")
                        .arg(look.name.toHtmlEscaped())
                        .arg(look.memberCount)
                        .arg(paramsText(look.parameters))};
    for (const Port& p : look.inputs)
        tip << QStringLiteral("in: %1 ← %2").arg(p.label.toHtmlEscaped(), p.typeText);
    for (const Port& p : look.outputs)
        tip << QStringLiteral("out: %1 → %2").arg(p.label.toHtmlEscaped(), p.typeText);
    for (const QString& m : look.messages)
        tip << m.toHtmlEscaped();
    tip << (look.collapsed ? tr("Double-click to expand")
                           : tr("Double-click the title to collapse"));
    setToolTip(tip.join("<br>"));
    update();
}

QPointF GroupItem::portCentre(std::size_t row, bool output) const {
    return {output ? kBoxWidth : 0.0,
            kTitleHeight + kSubtitleHeight + (static_cast<double>(row) + 0.5) * kPortRow};
}

std::optional<QPointF> GroupItem::inputPos(const core::PortRef& member) const {
    if (!m_look.collapsed)
        return std::nullopt;
    for (std::size_t i = 0; i < m_look.inputs.size(); ++i)
        if (m_look.inputs[i].member == member)
            return mapToScene(portCentre(i, false));
    return std::nullopt;
}

std::optional<QPointF> GroupItem::outputPos(const core::PortRef& member) const {
    if (!m_look.collapsed)
        return std::nullopt;
    for (std::size_t i = 0; i < m_look.outputs.size(); ++i)
        if (m_look.outputs[i].member == member)
            return mapToScene(portCentre(i, true));
    return std::nullopt;
}

QRectF GroupItem::plateRect(double zoom) const {
    // Zoomed out, the collapsed box is drawn as a plate that keeps its name and
    // parameter count readable on screen (as NodeItem's overview plate does).
    using namespace semantic_zoom;
    const QRectF box = localRect();
    const double z = std::max(zoom, 1e-3);
    if (!m_look.collapsed || detailAt(z) != Detail::Overview)
        return box;
    const double textWidth =
        std::max(QFontMetricsF(pixelFont(titlePx(z), true)).horizontalAdvance("▸ " + m_look.name),
                 QFontMetricsF(pixelFont(textPx(z), false))
                     .horizontalAdvance(paramsText(m_look.parameters)));
    const double width = std::max(box.width(), std::min(textWidth + 30 / z, 112 / z));
    const double height = std::max(box.height(), 1.35 * (titlePx(z) + textPx(z)) + 8 / z);
    return {box.center().x() - width / 2, box.center().y() - height / 2, width, height};
}

QRectF GroupItem::boundingRect() const {
    // Room for the badge, the selection outline and the ports sticking out; the
    // view publishes its zoom on the scene, which decides the overview plate's size.
    const double zoom = scene() ? scene()->property("viewZoom").toDouble() : 1.0;
    const QRectF plate = plateRect(zoom > 0 ? zoom : 1.0);
    return localRect().united(plate).adjusted(-kPortRadius - 4, -14, kPortRadius + 14, 4);
}

QPainterPath GroupItem::shape() const {
    QPainterPath path;
    const QRectF r = localRect();
    if (m_look.collapsed) {
        path.addRoundedRect(r, kRadius, kRadius);
        return path;
    }
    // Only the title bar and the rim: clicks inside the frame reach the canvas,
    // so rubber-band selection and double-click-to-add work within a group.
    path.setFillRule(Qt::OddEvenFill);
    path.addRect(r);
    path.addRect(r.adjusted(kRim, kFrameTitle, -kRim, -kRim));
    return path;
}

QColor GroupItem::accent() const {
    // A stable hue per group so neighbouring levels are told apart.
    const int hue = static_cast<int>((m_id * 67) % 360);
    return QColor::fromHsl(hue, 110, Theme::current().dark ? 150 : 120);
}

void GroupItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const double lod = option->levelOfDetailFromTransform(painter->worldTransform());
    painter->setRenderHint(QPainter::Antialiasing);
    if (m_look.collapsed)
        paintCollapsed(painter, lod);
    else
        paintExpanded(painter, lod);
}

void GroupItem::paintExpanded(QPainter* painter, double lod) {
    const Theme& t = Theme::current();
    const QRectF r = localRect();
    QColor fill = accent();
    fill.setAlpha(t.dark ? 34 : 40);
    QColor rim = accent();
    rim.setAlpha(isSelected() ? 255 : 150);
    painter->setPen(QPen(isSelected() ? t.nodeSelected : rim, std::max(1.5, 1.2 / lod)));
    painter->setBrush(fill);
    painter->drawRoundedRect(r, kRadius, kRadius);
    // The name keeps a readable size on screen as the view zooms out.
    const double titleSize = semantic_zoom::titlePx(lod);
    const double band = std::max(kFrameTitle, titleSize * 1.35);
    QColor bandFill = accent();
    bandFill.setAlpha(t.dark ? 90 : 110);
    QPainterPath bandPath;
    bandPath.addRoundedRect(QRectF(r.left(), r.top(), r.width(), band), kRadius, kRadius);
    bandPath.addRect(QRectF(r.left(), r.top() + band / 2, r.width(), band / 2));
    painter->fillPath(bandPath.simplified(), bandFill);
    const QFont title = pixelFont(titleSize, true);
    painter->setFont(title);
    painter->setPen(t.text);
    const QString text = QStringLiteral("▾ %1  ·  %2 nodes  ·  %3")
                             .arg(m_look.name)
                             .arg(m_look.memberCount)
                             .arg(paramsText(m_look.parameters));
    painter->drawText(QRectF(r.left() + 10, r.top(), r.width() - 20, band),
                      Qt::AlignVCenter | Qt::AlignLeft,
                      QFontMetricsF(title).elidedText(text, Qt::ElideRight, r.width() - 20));
}

void GroupItem::paintCollapsed(QPainter* painter, double lod) {
    using namespace semantic_zoom;
    const Theme& t = Theme::current();
    const bool overview = detailAt(lod) == Detail::Overview;
    const QRectF box = overview ? plateRect(lod) : localRect();
    const int worst = m_look.errors ? 2 : m_look.warnings ? 1 : 0;
    const double radius = std::max(kRadius, 4 / lod);
    const QColor border = isSelected() ? t.nodeSelected
                          : worst == 2 ? t.error
                          : worst == 1 ? t.warning
                                       : accent();
    // A second outline offset behind the box reads as "several nodes stacked".
    painter->setPen(QPen(accent(), std::max(1.0, 1.0 / lod)));
    painter->setBrush(t.nodeBody);
    painter->drawRoundedRect(box.translated(std::max(4.0, 3 / lod), -std::max(4.0, 3 / lod)),
                             radius, radius);
    painter->setPen(QPen(border, std::max(isSelected() || worst ? 2.0 : 1.5, 1.2 / lod)));
    painter->drawRoundedRect(box, radius, radius);

    const double titleSize = titlePx(lod);
    const double band = std::max(kTitleHeight, titleSize * 1.35);
    QPainterPath bandPath;
    bandPath.addRoundedRect(QRectF(box.left(), box.top(), box.width(), band), radius, radius);
    bandPath.addRect(QRectF(box.left(), box.top() + band / 2, box.width(), band / 2));
    painter->fillPath(bandPath.simplified(), accent());
    const QFont title = pixelFont(titleSize, true);
    painter->setFont(title);
    painter->setPen(t.nodeTitleText);
    const double titleWidth =
        box.width() - (overview ? 12 / lod : 20) - (worst ? 2 * std::max(10.0, 9.0 / lod) : 0);
    const double pad = overview ? 6 / lod : 10;
    painter->drawText(
        QRectF(box.left() + pad, box.top(), titleWidth, band), Qt::AlignVCenter | Qt::AlignLeft,
        QFontMetricsF(title).elidedText("▸ " + m_look.name, Qt::ElideRight, titleWidth));

    const QFont small = pixelFont(textPx(lod), false);
    const QFontMetricsF fm(small);
    painter->setFont(small);
    const bool detailed = lod >= kCompactZoom;
    if (overview) {
        painter->setPen(t.text);
        const QString sub = paramsText(m_look.parameters);
        painter->drawText(
            QRectF(box.left() + pad, box.top() + band, box.width() - 2 * pad, box.height() - band),
            Qt::AlignVCenter | Qt::AlignLeft,
            fm.elidedText(sub, Qt::ElideRight, box.width() - 2 * pad));
        if (worst)
            paintBadge(painter, lod, box);
        return; // ports and types collapse into the plate
    }
    // The subtitle only where it clears the first port row's type text (zoomed
    // out the text grows on screen-size floors while the rows stay put).
    const double subtitleBottom = band + std::max(kSubtitleHeight, textPx(lod) * 1.3);
    const double firstRowTop = portCentre(0, false).y() - (detailed ? textPx(lod) / 2 : 0);
    if (band < box.height() && subtitleBottom <= firstRowTop + 0.5) {
        painter->setPen(t.textDim);
        const QString sub = QStringLiteral("%1 nodes · %2")
                                .arg(m_look.memberCount)
                                .arg(paramsText(m_look.parameters));
        painter->drawText(
            QRectF(10, band, box.width() - 20, std::max(kSubtitleHeight, textPx(lod) * 1.3)),
            Qt::AlignVCenter | Qt::AlignLeft, fm.elidedText(sub, Qt::ElideRight, box.width() - 20));
    }
    const double half = box.width() / 2 - 16;
    for (int side = 0; side < 2; ++side) {
        const auto& ports = side == 0 ? m_look.inputs : m_look.outputs;
        for (std::size_t i = 0; i < ports.size(); ++i) {
            const QPointF c = portCentre(i, side == 1);
            if (detailed) {
                painter->setPen(t.text);
                const QRectF rect =
                    side == 0 ? QRectF(c.x() + 10, c.y() - kPortRow / 2, half, kPortRow)
                              : QRectF(c.x() - half - 10, c.y() - kPortRow / 2, half, kPortRow);
                painter->drawText(rect,
                                  Qt::AlignVCenter | (side == 0 ? Qt::AlignLeft : Qt::AlignRight),
                                  fm.elidedText(ports[i].typeText, Qt::ElideRight, half));
            }
            painter->setPen(QPen(ports[i].color, 2));
            painter->setBrush(ports[i].color);
            painter->drawEllipse(c, kPortRadius, kPortRadius);
        }
    }
    if (worst)
        paintBadge(painter, lod, box);
}

void GroupItem::paintBadge(QPainter* painter, double lod, const QRectF& box) {
    // The count of the hidden nodes' diagnostics, at a minimum size on screen.
    const Theme& t = Theme::current();
    const bool error = m_look.errors > 0;
    const double r = std::max(10.0, 9.0 / lod);
    const QPointF c(box.right() - r - 4,
                    box.top() + std::max(kTitleHeight, semantic_zoom::titlePx(lod) * 1.35) / 2);
    painter->setPen(QPen(t.nodeBody, 1.5 / std::max(lod, 0.2)));
    painter->setBrush(error ? t.error : t.warning);
    painter->drawEllipse(c, r, r);
    painter->setFont(pixelFont(r * 1.1, true));
    painter->setPen(error ? Qt::white : Qt::black);
    painter->drawText(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), Qt::AlignCenter,
                      QString::number(error ? m_look.errors : m_look.warnings));
}

void GroupItem::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event) {
    const bool onTitle = m_look.collapsed || event->pos().y() <= std::max(kFrameTitle, 0.0);
    if (event->button() == Qt::LeftButton && onTitle) {
        emit toggleRequested(m_id);
        event->accept();
        return;
    }
    QGraphicsObject::mouseDoubleClickEvent(event);
}

QVariant GroupItem::itemChange(GraphicsItemChange change, const QVariant& value) {
    // After the move, so wires re-attached to the box's ports use its new place.
    if (change == ItemPositionHasChanged && !m_placing) {
        const QPointF delta = pos() - m_lastPos;
        m_lastPos = pos();
        if (!delta.isNull())
            emit dragged(m_id, delta);
    }
    return QGraphicsObject::itemChange(change, value);
}

} // namespace segforge::ui
