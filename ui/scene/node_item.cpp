#include "scene/node_item.hpp"

#include "scene/graph_scene.hpp"
#include "scene/theme.hpp"

#include <QFontMetricsF>
#include <QPainter>
#include <QStyleOptionGraphicsItem>

#include <cmath>

namespace segforge::ui {

using namespace metrics;

NodeItem::NodeItem(core::NodeId id) : m_id(id) {
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
            parts << (spec.name == "filters" ? QString::number(*i) : name + " " + QString::number(*i));
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
    m_inputNames = schema ? schema->inputNames(node) : std::vector<std::string>{};
    m_outputNames.clear();
    if (schema) {
        for (const auto& o : schema->outputs)
            m_outputNames.push_back(o.name);
    }
    const Theme& theme = Theme::current();
    m_inputs.clear();
    for (const auto& name : m_inputNames) {
        PortView p{QString::fromStdString(name), theme.wire, false};
        if (schema && schema->acceptedDTypes(name).size() == 1)
            p.color = theme.dtypeColor(schema->acceptedDTypes(name).front());
        m_inputs.push_back(p);
    }
    m_outputs.clear();
    for (const auto& name : m_outputNames) {
        PortView p{QString::fromStdString(name), theme.wire, false};
        if (auto t = check.typeOf({node.id, name})) {
            p.color = theme.dtypeColor(t->dtype);
            p.known = true;
        }
        m_outputs.push_back(p);
    }
    m_worst = 0;
    int errors = 0, warnings = 0;
    for (const auto* d : check.forNode(node.id)) {
        if (d->severity == core::Severity::Error)
            ++errors;
        else if (d->severity == core::Severity::Warning)
            ++warnings;
    }
    m_worst = errors ? 2 : (warnings ? 1 : 0);
    m_badgeText = errors ? QString::number(errors) : (warnings ? QString::number(warnings) : QString());
    QStringList tips;
    for (const auto* d : check.forNode(node.id))
        tips << QString::fromStdString(d->message);
    setToolTip(tips.isEmpty() ? QString::fromStdString(schema ? schema->description : "")
                              : tips.join("\n\n"));
    if (std::abs(oldHeight - height()) > 0.1)
        prepareGeometryChange();
    const QPointF pos(node.position.x, node.position.y);
    if (this->pos() != pos)
        setPos(pos);
    // Repaint (and drop the cached pixmap) only when something visible changed:
    // on a 300-node graph most nodes are untouched by an edit.
    QString signature = m_title + '|' + m_op + '|' + m_subtitle + '|' + m_category.name() + '|' +
                        QString::number(m_worst) + m_badgeText + (theme.dark ? 'd' : 'l');
    for (const auto& p : m_inputs)
        signature += '|' + p.name + p.color.name();
    for (const auto& p : m_outputs)
        signature += '|' + p.name + p.color.name() + (p.known ? '+' : '-');
    if (signature != m_signature) {
        m_signature = std::move(signature);
        update();
    }
}

double NodeItem::height() const {
    const std::size_t rows = std::max(m_inputs.size(), m_outputs.size());
    return kTitleHeight + 18 + static_cast<double>(rows) * kPortRow + 6;
}

QRectF NodeItem::boundingRect() const {
    // Room for the ports, the run glow and the breakpoint dot.
    return QRectF(-kPortRadius - 14, -14, kNodeWidth + 2 * kPortRadius + 28, height() + 28);
}

QPointF NodeItem::localInput(int i) const { return {0, kTitleHeight + 18 + kPortRow * (i + 0.5)}; }
QPointF NodeItem::localOutput(int i) const {
    return {kNodeWidth, kTitleHeight + 18 + kPortRow * (i + 0.5)};
}

std::optional<QPointF> NodeItem::inputPos(const std::string& port) const {
    for (std::size_t i = 0; i < m_inputNames.size(); ++i) {
        if (m_inputNames[i] == port)
            return mapToScene(localInput(static_cast<int>(i)));
    }
    return std::nullopt;
}

std::optional<QPointF> NodeItem::outputPos(const std::string& port) const {
    for (std::size_t i = 0; i < m_outputNames.size(); ++i) {
        if (m_outputNames[i] == port)
            return mapToScene(localOutput(static_cast<int>(i)));
    }
    return std::nullopt;
}

std::optional<PortHit> NodeItem::portAt(const QPointF& scenePos) const {
    const QPointF p = mapFromScene(scenePos);
    const double reach = kPortRadius + 7;
    for (std::size_t i = 0; i < m_outputNames.size(); ++i) {
        if (QLineF(p, localOutput(static_cast<int>(i))).length() <= reach)
            return PortHit{true, m_outputNames[i]};
    }
    for (std::size_t i = 0; i < m_inputNames.size(); ++i) {
        if (QLineF(p, localInput(static_cast<int>(i))).length() <= reach)
            return PortHit{false, m_inputNames[i]};
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
    const Theme& t = Theme::current();
    const double lod = option->levelOfDetailFromTransform(painter->worldTransform());
    const QRectF body(0, 0, kNodeWidth, height());
    painter->setRenderHint(QPainter::Antialiasing);

    // Shadow, body, title band.
    painter->setPen(Qt::NoPen);
    painter->setBrush(QColor(0, 0, 0, t.dark ? 90 : 35));
    painter->drawRoundedRect(body.translated(0, 3), 7, 7);
    if (m_runMark != RunMark::None) {
        const QColor glow = m_runMark == RunMark::Current ? t.running : t.error;
        for (int i = 3; i >= 1; --i) {
            QColor c = glow;
            c.setAlpha(40 + 25 * (3 - i));
            painter->setBrush(Qt::NoBrush);
            painter->setPen(QPen(c, 3.0 * i));
            painter->drawRoundedRect(body.adjusted(-2, -2, 2, 2), 9, 9);
        }
    }
    painter->setBrush(t.nodeBody);
    QColor border = m_runMark == RunMark::NonFinite ? t.error
                    : m_runMark == RunMark::Current ? t.running
                    : isSelected()                  ? t.nodeSelected
                    : m_worst == 2                  ? t.error
                    : m_worst == 1                  ? t.warning
                                                    : t.nodeBorder;
    painter->setPen(QPen(border, m_runMark != RunMark::None ? 3.0 : isSelected() || m_worst ? 2.0 : 1.0));
    painter->drawRoundedRect(body, 7, 7);
    QPainterPath title;
    title.addRoundedRect(QRectF(0, 0, kNodeWidth, kTitleHeight), 7, 7);
    title.addRect(QRectF(0, kTitleHeight - 8, kNodeWidth, 8));
    painter->fillPath(title.simplified(), m_category);

    if (lod >= 0.35) {
        QFont f = painter->font();
        f.setPointSizeF(9.5);
        f.setBold(true);
        painter->setFont(f);
        painter->setPen(t.nodeTitleText);
        QFontMetricsF fm(f);
        painter->drawText(QRectF(10, 0, kNodeWidth - 40, kTitleHeight), Qt::AlignVCenter | Qt::AlignLeft,
                          fm.elidedText(m_title, Qt::ElideRight, kNodeWidth - 44));
        f.setBold(false);
        f.setPointSizeF(8);
        painter->setFont(f);
        painter->setPen(t.textDim);
        QFontMetricsF small(f);
        const QString sub = m_op + (m_subtitle.isEmpty() ? QString() : "  " + m_subtitle);
        painter->drawText(QRectF(10, kTitleHeight + 1, kNodeWidth - 16, 16), Qt::AlignVCenter | Qt::AlignLeft,
                          small.elidedText(sub, Qt::ElideRight, kNodeWidth - 18));
        painter->setPen(t.text);
        for (std::size_t i = 0; i < m_inputs.size(); ++i) {
            QPointF c = localInput(static_cast<int>(i));
            painter->drawText(QRectF(c.x() + 10, c.y() - 9, kNodeWidth / 2, 18),
                              Qt::AlignVCenter | Qt::AlignLeft, m_inputs[i].name);
        }
        for (std::size_t i = 0; i < m_outputs.size(); ++i) {
            QPointF c = localOutput(static_cast<int>(i));
            painter->drawText(QRectF(c.x() - kNodeWidth / 2 - 10, c.y() - 9, kNodeWidth / 2, 18),
                              Qt::AlignVCenter | Qt::AlignRight, m_outputs[i].name);
        }
    }

    // Ports: filled with the dtype colour; hollow when the type is unknown.
    auto drawPort = [&](QPointF c, const PortView& p, std::optional<bool> accept) {
        if (accept) {
            painter->setPen(Qt::NoPen);
            painter->setBrush(QColor(*accept ? t.ok : t.error).lighter(100));
            painter->drawEllipse(c, kPortRadius + 4, kPortRadius + 4);
        }
        painter->setPen(QPen(p.color, 2));
        painter->setBrush(p.known ? p.color : t.nodeBody);
        painter->drawEllipse(c, kPortRadius, kPortRadius);
    };
    for (std::size_t i = 0; i < m_inputs.size(); ++i) {
        std::optional<bool> accept;
        if (auto it = m_dragAcceptance.find(m_inputNames[i]); it != m_dragAcceptance.end())
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

    // Error/warning badge in the title's corner.
    if (m_worst) {
        const QPointF c(kNodeWidth - 15, kTitleHeight / 2);
        painter->setPen(QPen(t.nodeBody, 1.5));
        painter->setBrush(m_worst == 2 ? t.error : t.warning);
        painter->drawEllipse(c, 9, 9);
        QFont f = painter->font();
        f.setBold(true);
        f.setPointSizeF(8);
        painter->setFont(f);
        painter->setPen(m_worst == 2 ? Qt::white : Qt::black);
        painter->drawText(QRectF(c.x() - 9, c.y() - 9, 18, 18), Qt::AlignCenter, m_badgeText);
    }
}

} // namespace segforge::ui
