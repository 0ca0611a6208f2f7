#include "scene/node_item.hpp"

#include "layout/graph_layout.hpp"
#include "scene/graph_scene.hpp"
#include "style/theme.hpp"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>
#include <cmath>

namespace segforge::ui {

using namespace metrics;
using semantic_zoom::detailAt;

NodeItem::NodeItem(core::NodeId id)
    : m_id(id) {
    setFlags(ItemIsMovable | ItemIsSelectable | ItemSendsGeometryChanges);
    setAcceptHoverEvents(true);
    setZValue(1);
    setCacheMode(DeviceCoordinateCache);
}

namespace {

/// Short, readable summary of the attributes a user set: "16 · 3×3 · same · relu".
QString summarize(const core::Node& node, const core::OpSchema* schema) {
    if (!schema)
        return QStringLiteral("unknown op");
    QStringList parts;
    for (const auto& spec : schema->attrs) {
        auto it = node.attrs.find(spec.name);
        if (it == node.attrs.end() || spec.type == core::AttrType::String)
            continue;
        const auto value = core::coerceAttribute(spec, it->second);
        if (!value) {
            parts << QString::fromStdString(spec.name + "?");
            continue;
        }
        const QString name = QString::fromStdString(spec.name);
        if (auto* list = std::get_if<std::vector<std::int64_t>>(&*value)) {
            QStringList dims;
            for (auto d : *list)
                dims << QString::number(d);
            const QString joined = dims.join("×");
            parts << (spec.name == "kernel_size" ? joined : name + " " + joined);
        } else if (auto* text = std::get_if<std::string>(&*value)) {
            parts << QString::fromStdString(*text);
        } else if (auto* flag = std::get_if<bool>(&*value)) {
            parts << (*flag ? name : "no " + name);
        } else if (auto* i = std::get_if<std::int64_t>(&*value)) {
            parts << (spec.name == "filters" ? QString::number(*i)
                                             : name + " " + QString::number(*i));
        } else if (auto* d = std::get_if<double>(&*value)) {
            parts << name + " " + QString::number(*d, 'g', 4);
        }
    }
    return parts.join(QStringLiteral(" · "));
}

} // namespace

void NodeItem::refresh(const core::Node& node, const core::OpSchema* schema,
                       const core::CheckResult& check) {
    const double oldHeight = height();
    m_title = QString::fromStdString(node.name);
    m_op = QString::fromStdString(node.op);
    m_subtitle = summarize(node, schema);
    m_category = Theme::current().categoryColor(schema ? QString::fromStdString(schema->category)
                                                       : QString());
    m_geometry = core::nodeGeometry(node, schema);
    const Theme& theme = Theme::current();
    m_inputs.clear();
    for (const auto& name : m_geometry.inputs) {
        PortView p{QString::fromStdString(name), theme.wire, false};
        if (schema && schema->acceptedDTypes(name).size() == 1)
            p.color = theme.dtypeColor(schema->acceptedDTypes(name).front());
        m_inputs.push_back(p);
    }
    m_outputs.clear();
    m_typeLines.clear();
    m_typeColor = theme.textDim;
    const bool several = m_geometry.outputs.size() > 1;
    for (const auto& name : m_geometry.outputs) {
        PortView p{QString::fromStdString(name), theme.wire, false};
        QString type = QStringLiteral("?");
        if (auto t = check.typeOf({node.id, name})) {
            p.color = theme.dtypeColor(t->dtype);
            p.known = true;
            type = QString::fromStdString(check.label({node.id, name}));
            if (m_outputs.empty())
                m_typeColor = p.color;
        }
        m_typeLines << (several ? p.name + ' ' + type : type);
        m_outputs.push_back(p);
    }
    if (m_geometry.outputs.empty())
        m_typeLines << m_op; // a loss or a metric: no tensor leaves it, say what it is
    m_worst = 0;
    int errors = 0, warnings = 0;
    for (const auto* d : check.forNode(node.id)) {
        if (d->severity == core::Severity::Error)
            ++errors;
        else if (d->severity == core::Severity::Warning)
            ++warnings;
    }
    m_worst = errors ? 2 : (warnings ? 1 : 0);
    m_badgeText =
        errors ? QString::number(errors) : (warnings ? QString::number(warnings) : QString());
    QStringList tips;
    for (const auto* d : check.forNode(node.id))
        tips << QString::fromStdString(d->message);
    setToolTip(tips.isEmpty() ? QString::fromStdString(schema ? schema->description : "")
                              : tips.join("\n\n"));
    if (scene()) {
        const QVariant zoom = scene()->property("viewZoom");
        if (zoom.isValid())
            m_viewZoom = zoom.toDouble();
    }
    if (std::abs(oldHeight - height()) > 0.1 || m_signature.isEmpty())
        prepareGeometryChange();
    const QPointF pos(node.position.x, node.position.y);
    if (this->pos() != pos)
        setPos(pos);
    // Repaint (and drop the cached pixmap) only when something visible changed:
    // on a 300-node graph most nodes are untouched by an edit.
    QString signature = m_title + '|' + m_op + '|' + m_subtitle + '|' + m_category.name() + '|' +
                        QString::number(m_worst) + m_badgeText + (theme.dark ? 'd' : 'l') + '|' +
                        m_typeLines.join(',');
    for (const auto& p : m_inputs)
        signature += '|' + p.name + p.color.name();
    for (const auto& p : m_outputs)
        signature += '|' + p.name + p.color.name() + (p.known ? '+' : '-');
    if (signature != m_signature) {
        m_signature = std::move(signature);
        m_plateTextWidths.clear(); // the texts are measured again
        m_elided.clear();
        if (detailAt(m_viewZoom) == Detail::Overview)
            prepareGeometryChange(); // the plate's width follows its text
        update();
    }
}

namespace {

/// Text lines of the zoomed-out summary: the title's and the type's heights
/// relative to their font size.
constexpr double kLine = 1.3;
/// How wide the overview plate may grow on screen beyond a narrow box (pixels):
/// enough for a typical layer name, not so much that neighbours vanish under it.
constexpr double kPlateMaxScreenPx = 112;

/// How many text measurements a node keeps (per font size and width): the
/// sizes of a few dozen zoom steps.
constexpr std::size_t kTextCacheSize = 48;

/// Corner radius of the zoomed-out box: round on screen however small it is.
double summaryRadius(double lod) {
    return std::max(7.0, 4.0 / lod);
}

/// The whole-pixel size a font of `px` canvas pixels is drawn at.
int pixelSize(double px) {
    return std::max(1, static_cast<int>(std::ceil(px - 1e-6)));
}

QFont pixelFont(const QFont& base, double px, bool bold) {
    QFont f = base;
    f.setPixelSize(pixelSize(px));
    f.setBold(bold);
    return f;
}

} // namespace

QRectF NodeItem::plateRect(double zoom) const {
    using namespace semantic_zoom;
    const double z = std::max(zoom, 1e-3);
    // boundingRect() asks for the plate many times a frame, and wheel zooming
    // goes back and forth over the same steps: the text is measured once per
    // pair of font sizes (they change in whole pixels).
    const int titleSize = pixelSize(titlePx(z));
    const int typeSize = pixelSize(textPx(z));
    auto known = std::find_if(m_plateTextWidths.begin(), m_plateTextWidths.end(),
                              [&](const PlateTextWidth& w) {
                                  return w.titleSize == titleSize && w.typeSize == typeSize;
                              });
    if (known == m_plateTextWidths.end()) {
        const QFontMetricsF titleMetrics(pixelFont(QFont(), titlePx(z), true));
        const QFontMetricsF typeMetrics(pixelFont(QFont(), textPx(z), false));
        double width = titleMetrics.horizontalAdvance(m_title);
        for (const QString& line : m_typeLines)
            width = std::max(width, typeMetrics.horizontalAdvance(line));
        if (m_plateTextWidths.size() >= kTextCacheSize)
            m_plateTextWidths.clear();
        m_plateTextWidths.push_back({titleSize, typeSize, width});
        known = m_plateTextWidths.end() - 1;
    }
    const double textWidth = known->width;
    // Never wider than a column of the layout: neighbours' plates must not cover each other.
    const double widest = kNodeWidth + 0.9 * core::LayoutSpacing{}.columnGap;
    const double width =
        std::max(kNodeWidth, std::min({textWidth + 12 / z, kPlateMaxScreenPx / z, widest}));
    const double lines = static_cast<double>(std::max<qsizetype>(1, m_typeLines.size()));
    const double h = std::max(height(), kLine * (titlePx(z) + lines * textPx(z)) + 6 / z);
    return {kNodeWidth / 2 - width / 2, height() / 2 - h / 2, width, h};
}

QString NodeItem::elided(int line, const QFont& font, Qt::TextElideMode mode, double width) const {
    // Zoomed out, the font sizes follow the zoom: eliding (shaping the text)
    // on every paint of every node was a large part of a zoom step. The width
    // is kept to a thousandth of a canvas pixel, far below what can change
    // where the text is cut.
    const auto key = static_cast<qint64>(std::floor(width * 1000));
    for (const Elided& e : m_elided)
        if (e.line == line && e.pixelSize == font.pixelSize() && e.bold == font.bold() &&
            e.width == key)
            return e.text;
    const QString& text = line < 0 ? m_title : m_typeLines[line];
    if (m_elided.size() >= kTextCacheSize)
        m_elided.clear();
    m_elided.push_back(
        {line, font.pixelSize(), font.bold(), key,
         QFontMetricsF(font).elidedText(text, mode, static_cast<double>(key) / 1000)});
    return m_elided.back().text;
}

void NodeItem::setViewZoom(double zoom) {
    if (zoom == m_viewZoom)
        return;
    const bool overview =
        detailAt(zoom) == Detail::Overview || detailAt(m_viewZoom) == Detail::Overview;
    if (overview)
        prepareGeometryChange();
    m_viewZoom = zoom;
}

QRectF NodeItem::boundingRect() const {
    // Room for the ports, the run glow, the breakpoint dot and the halo, which
    // keep a minimum size on screen however far the view zooms out.
    const double z = std::max(m_viewZoom, 0.02);
    const double halo = std::max(14.0, 12.0 / z);
    QRectF r(-kPortRadius, 0, kNodeWidth + 2 * kPortRadius, height());
    if (detailAt(z) == Detail::Overview)
        r = r.united(plateRect(z));
    return r.adjusted(-halo, -halo, halo, halo);
}

QPainterPath NodeItem::shape() const {
    // Clicks hit the box and its ports, not the glow around them.
    QPainterPath path;
    path.addRect(QRectF(-kPortRadius - 2, 0, kNodeWidth + 2 * kPortRadius + 4, height()));
    return path;
}

QRectF NodeItem::sceneBodyRect() const {
    return QRectF(pos(), QSizeF(kNodeWidth, height()));
}

QRectF NodeItem::sceneDrawnRect() const {
    const QRectF body = sceneBodyRect();
    if (detailAt(m_viewZoom) != Detail::Overview)
        return body;
    return body.united(plateRect(m_viewZoom).translated(pos()));
}

QPointF NodeItem::localInput(int i) const {
    const core::Point p = m_geometry.inputOffset(static_cast<std::size_t>(i));
    return {p.x, p.y};
}
QPointF NodeItem::localOutput(int i) const {
    const core::Point p = m_geometry.outputOffset(static_cast<std::size_t>(i));
    return {p.x, p.y};
}

std::optional<QPointF> NodeItem::inputPos(const std::string& port) const {
    if (auto p = m_geometry.inputOffset(port))
        return mapToScene(QPointF(p->x, p->y));
    return std::nullopt;
}

std::optional<QPointF> NodeItem::outputPos(const std::string& port) const {
    if (auto p = m_geometry.outputOffset(port))
        return mapToScene(QPointF(p->x, p->y));
    return std::nullopt;
}

std::optional<PortHit> NodeItem::portAt(const QPointF& scenePos) const {
    const QPointF p = mapFromScene(scenePos);
    const double reach = kPortRadius + 7;
    for (std::size_t i = 0; i < m_geometry.outputs.size(); ++i) {
        if (QLineF(p, localOutput(static_cast<int>(i))).length() <= reach)
            return PortHit{true, m_geometry.outputs[i]};
    }
    for (std::size_t i = 0; i < m_geometry.inputs.size(); ++i) {
        if (QLineF(p, localInput(static_cast<int>(i))).length() <= reach)
            return PortHit{false, m_geometry.inputs[i]};
    }
    return std::nullopt;
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant& value) {
    auto* graphScene = qobject_cast<GraphScene*>(scene());
    if (graphScene && !graphScene->isSyncing()) {
        if (change == ItemPositionChange)
            return graphScene->snapped(value.toPointF());
        if (change == ItemPositionHasChanged)
            graphScene->nodeMoving(m_id);
    }
    return QGraphicsObject::itemChange(change, value);
}

void NodeItem::setDragHighlight(const std::map<std::string, bool>& acceptance) {
    if (acceptance == m_dragAcceptance)
        return;
    m_dragAcceptance = acceptance;
    update();
}

void NodeItem::setRunMark(RunMark mark) {
    if (mark == m_runMark)
        return;
    m_runMark = mark;
    update();
}

void NodeItem::setBreakpoint(bool on) {
    if (on == m_breakpoint)
        return;
    m_breakpoint = on;
    update();
}

void NodeItem::paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget*) {
    const double lod =
        std::max(option->levelOfDetailFromTransform(painter->worldTransform()), 1e-3);
    const Detail detail = detailAt(lod);
    painter->setRenderHint(QPainter::Antialiasing);
    painter->setRenderHint(QPainter::TextAntialiasing);
    const QRectF body(0, 0, kNodeWidth, height());
    if (detail == Detail::Overview) {
        const QRectF plate = plateRect(lod);
        paintMarks(painter, lod, plate, summaryRadius(lod));
        paintSummary(painter, lod, plate, true);
    } else {
        paintMarks(painter, lod, body, detail == Detail::Compact ? summaryRadius(lod) : 7);
        if (detail == Detail::Compact)
            paintSummary(painter, lod, body, false);
        else
            paintDetailed(painter, lod, detail);
    }
}

void NodeItem::paintMarks(QPainter* painter, double lod, const QRectF& box, double boxRadius) {
    // Halos under the box: a run glow, an error or a warning. Their widths have
    // a floor on screen, so a red node is red at every zoom.
    const Theme& t = Theme::current();
    painter->setBrush(Qt::NoBrush);
    if (m_runMark != RunMark::None) {
        const QColor glow = m_runMark == RunMark::Current ? t.running : t.error;
        const double unit = std::max(3.0, 3.0 / lod);
        for (int i = 3; i >= 1; --i) {
            QColor c = glow;
            c.setAlpha(50 + 30 * (3 - i));
            painter->setPen(QPen(c, unit * i));
            painter->drawRoundedRect(box.adjusted(-2, -2, 2, 2), 9, 9);
        }
    } else if (m_worst) {
        QColor c = m_worst == 2 ? t.error : t.warning;
        c.setAlpha(150);
        const double w = std::max(5.0, 5.0 / lod);
        painter->setPen(QPen(c, w));
        painter->drawRoundedRect(box.adjusted(-w / 2, -w / 2, w / 2, w / 2), 9, 9);
    }
    // Shadow. Only its rim below the box shows: the box (opaque, rounded by
    // `boxRadius`) is painted over it. Filling the two outlines even-odd covers
    // that rim (and the box's top strip, painted over next) without filling
    // the whole area twice, which on a zoom step over hundreds of nodes cost
    // more than the rest of their painting.
    QPainterPath shadow;
    shadow.addRoundedRect(box.translated(0, std::max(3.0, 2.0 / lod)), 7, 7);
    shadow.addRoundedRect(box, boxRadius, boxRadius);
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(0, 0, 0, t.dark ? 90 : 35));
    painter->drawPath(shadow);
}

namespace {
/// The title band: `band` with its top corners rounded (radius `r`, at most
/// half its width or height, as QPainterPath::addRoundedRect clamps it) and its
/// bottom corners square. Drawn as one outline: the union of a rounded and a
/// plain rectangle, simplified, cost more than the rest of a node's painting.
QPainterPath titleBand(const QRectF& band, double r) {
    r = std::min({r, band.width() / 2, band.height() / 2});
    QPainterPath path;
    path.moveTo(band.left(), band.bottom());
    path.lineTo(band.left(), band.top() + r);
    path.arcTo(QRectF(band.left(), band.top(), 2 * r, 2 * r), 180, -90);
    path.lineTo(band.right() - r, band.top());
    path.arcTo(QRectF(band.right() - 2 * r, band.top(), 2 * r, 2 * r), 90, -90);
    path.lineTo(band.right(), band.bottom());
    path.closeSubpath();
    return path;
}

QColor borderColor(const Theme& t, NodeItem::RunMark mark, bool selected, int worst) {
    return mark == NodeItem::RunMark::NonFinite ? t.error
           : mark == NodeItem::RunMark::Current ? t.running
           : selected                           ? t.nodeSelected
           : worst == 2                         ? t.error
           : worst == 1                         ? t.warning
                                                : t.nodeBorder;
}
} // namespace

void NodeItem::paintDetailed(QPainter* painter, double lod, Detail detail) {
    using namespace semantic_zoom;
    const Theme& t = Theme::current();
    const QRectF body(0, 0, kNodeWidth, height());
    painter->setBrush(t.nodeBody);
    painter->setPen(
        QPen(borderColor(t, m_runMark, isSelected(), m_worst), m_runMark != RunMark::None ? 3.0
                                                               : isSelected() || m_worst  ? 2.0
                                                                                          : 1.0));
    painter->drawRoundedRect(body, 7, 7);
    painter->fillPath(titleBand(QRectF(0, 0, kNodeWidth, kTitleHeight), 7), m_category);

    const double titleWidth = kNodeWidth - (m_worst ? 40 : 18);
    const QFont title = pixelFont(painter->font(), titlePx(lod), true);
    painter->setFont(title);
    painter->setPen(t.nodeTitleText);
    painter->drawText(QRectF(10, 0, titleWidth, kTitleHeight), Qt::AlignVCenter | Qt::AlignLeft,
                      QFontMetricsF(title).elidedText(m_title, Qt::ElideMiddle, titleWidth));
    m_paintedTitlePx = title.pixelSize() * lod;
    m_paintedType = false;

    const QFont small = pixelFont(painter->font(), textPx(lod), false);
    const QFontMetricsF fm(small);
    painter->setFont(small);
    painter->setPen(t.textDim);
    const QString sub =
        detail == Detail::Full && !m_subtitle.isEmpty() ? m_op + "  " + m_subtitle : m_op;
    painter->drawText(QRectF(10, kTitleHeight, kNodeWidth - 16, kSubtitleHeight),
                      Qt::AlignVCenter | Qt::AlignLeft,
                      fm.elidedText(sub, Qt::ElideRight, kNodeWidth - 18));
    painter->setPen(t.text);
    const double half = kNodeWidth / 2 - 14;
    for (std::size_t i = 0; i < m_inputs.size(); ++i) {
        const QPointF c = localInput(static_cast<int>(i));
        painter->drawText(QRectF(c.x() + 10, c.y() - kPortRow / 2, half, kPortRow),
                          Qt::AlignVCenter | Qt::AlignLeft,
                          fm.elidedText(m_inputs[i].name, Qt::ElideRight, half));
    }
    for (std::size_t i = 0; i < m_outputs.size(); ++i) {
        const QPointF c = localOutput(static_cast<int>(i));
        painter->drawText(QRectF(c.x() - half - 10, c.y() - kPortRow / 2, half, kPortRow),
                          Qt::AlignVCenter | Qt::AlignRight,
                          fm.elidedText(m_outputs[i].name, Qt::ElideRight, half));
    }

    // Ports: filled with the dtype colour; hollow when the type is unknown.
    auto drawPort = [&](QPointF c, const PortView& p, std::optional<bool> accept) {
        if (accept) {
            painter->setPen(Qt::NoPen);
            painter->setBrush(*accept ? t.ok : t.error);
            painter->drawEllipse(c, kPortRadius + 4, kPortRadius + 4);
        }
        painter->setPen(QPen(p.color, 2));
        painter->setBrush(p.known ? p.color : t.nodeBody);
        painter->drawEllipse(c, kPortRadius, kPortRadius);
    };
    for (std::size_t i = 0; i < m_inputs.size(); ++i) {
        std::optional<bool> accept;
        if (auto it = m_dragAcceptance.find(m_geometry.inputs[i]); it != m_dragAcceptance.end())
            accept = it->second;
        PortView p = m_inputs[i];
        p.known = true;
        drawPort(localInput(static_cast<int>(i)), p, accept);
    }
    for (std::size_t i = 0; i < m_outputs.size(); ++i)
        drawPort(localOutput(static_cast<int>(i)), m_outputs[i], std::nullopt);

    if (m_breakpoint) {
        painter->setPen(QPen(t.nodeBody, 1.5));
        painter->setBrush(QColor(0xe5, 0x39, 0x35));
        painter->drawEllipse(QPointF(-8, kTitleHeight / 2 - 14), 6, 6);
    }
    if (m_worst) {
        const double r = 9;
        const QPointF c(kNodeWidth - 15, kTitleHeight / 2);
        painter->setPen(QPen(t.nodeBody, 1.5));
        painter->setBrush(m_worst == 2 ? t.error : t.warning);
        painter->drawEllipse(c, r, r);
        painter->setFont(pixelFont(painter->font(), r * 1.2, true));
        painter->setPen(m_worst == 2 ? Qt::white : Qt::black);
        painter->drawText(QRectF(c.x() - r, c.y() - r, 2 * r, 2 * r), Qt::AlignCenter, m_badgeText);
    }
}

void NodeItem::paintSummary(QPainter* painter, double lod, const QRectF& box, bool plate) {
    // Zoomed out: the name in the title band and the output type below it, at a
    // readable size on screen, inside the box (or the plate that stands in for it).
    using namespace semantic_zoom;
    const Theme& t = Theme::current();
    const double titleSize = titlePx(lod), typeSize = textPx(lod);
    const double bandHeight = std::max(kTitleHeight, kLine * titleSize + 4 / lod);
    const double radius = summaryRadius(lod);
    painter->setBrush(t.nodeBody);
    painter->setPen(QPen(
        borderColor(t, m_runMark, isSelected(), m_worst),
        std::max(1.0, (isSelected() || m_worst || m_runMark != RunMark::None ? 2.0 : 1.0) / lod)));
    painter->drawRoundedRect(box, radius, radius);
    if (plate) {
        // The box itself, under the plate's centre, keeps the ports' anchors visible.
        painter->setPen(Qt::NoPen);
    }
    painter->fillPath(titleBand(QRectF(box.left(), box.top(), box.width(), bandHeight), radius),
                      m_category);

    const double pad = 6 / lod;
    const double badge = m_worst ? std::max(9.0, 8.0 / lod) : 0;
    const double titleWidth = box.width() - 2 * pad - 2 * badge;
    const QFont title = pixelFont(painter->font(), titleSize, true);
    painter->setFont(title);
    painter->setPen(t.nodeTitleText);
    painter->drawText(QRectF(box.left() + pad, box.top(), titleWidth, bandHeight),
                      Qt::AlignVCenter | Qt::AlignLeft,
                      elided(-1, title, Qt::ElideMiddle, titleWidth));
    m_paintedTitlePx = title.pixelSize() * lod;

    const QFont type = pixelFont(painter->font(), typeSize, false);
    painter->setFont(type);
    painter->setPen(m_typeColor == t.textDim ? t.textDim : t.text);
    const double lineHeight = kLine * typeSize;
    const double linesHeight = lineHeight * static_cast<double>(m_typeLines.size());
    double y =
        box.top() + bandHeight + std::max(0.0, (box.height() - bandHeight - linesHeight) / 2);
    for (int i = 0; i < static_cast<int>(m_typeLines.size()); ++i) {
        const QRectF lineRect(box.left() + pad, y, box.width() - 2 * pad, lineHeight);
        painter->drawText(lineRect, Qt::AlignVCenter | Qt::AlignLeft,
                          elided(i, type, Qt::ElideRight, lineRect.width()));
        y += lineHeight;
    }
    m_paintedType = true;

    if (!plate) {
        for (std::size_t i = 0; i < m_inputs.size(); ++i) {
            painter->setPen(QPen(m_inputs[i].color, 2));
            painter->setBrush(m_inputs[i].color);
            painter->drawEllipse(localInput(static_cast<int>(i)), kPortRadius, kPortRadius);
        }
        for (std::size_t i = 0; i < m_outputs.size(); ++i) {
            painter->setPen(QPen(m_outputs[i].color, 2));
            painter->setBrush(m_outputs[i].known ? m_outputs[i].color : t.nodeBody);
            painter->drawEllipse(localOutput(static_cast<int>(i)), kPortRadius, kPortRadius);
        }
    }
    if (m_breakpoint) {
        const double r = std::max(6.0, 5.0 / lod);
        painter->setPen(Qt::NoPen);
        painter->setBrush(QColor(0xe5, 0x39, 0x35));
        painter->drawEllipse(QPointF(box.left() - r * 1.3, box.top() + r), r, r);
    }
    if (m_worst) {
        // The badge keeps a minimum size on screen: an outline alone vanishes when zoomed out.
        const QPointF c(box.right() - badge - pad / 2, box.top() + bandHeight / 2);
        painter->setPen(QPen(t.nodeBody, 1.5 / lod));
        painter->setBrush(m_worst == 2 ? t.error : t.warning);
        painter->drawEllipse(c, badge, badge);
        painter->setFont(pixelFont(painter->font(), badge * 1.2, true));
        painter->setPen(m_worst == 2 ? Qt::white : Qt::black);
        painter->drawText(QRectF(c.x() - badge, c.y() - badge, 2 * badge, 2 * badge),
                          Qt::AlignCenter, m_badgeText);
    }
}

} // namespace segforge::ui
