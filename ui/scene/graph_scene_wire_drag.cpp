// The canvas's mouse work: dragging wires from output ports (with the
// connection rules shown while dragging), dropping them, and committing node drags.
#include "document/document.hpp"
#include "ops/op_registry.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/group_item.hpp"
#include "scene/hint_item.hpp"
#include "scene/node_item.hpp"
#include "style/theme.hpp"

#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>

namespace segforge::ui {

/// Whether `to` is fed by a wire its node accepts (no error on that input):
/// a drop there must not silently replace it.
bool GraphScene::hasValidWire(const core::PortRef& to) const {
    if (m_document->graph().edgesInto(to).empty())
        return false;
    for (const auto* d : m_document->check().forNode(to.node)) {
        if (d->port == to.port && d->severity == core::Severity::Error)
            return false;
    }
    return true;
}

NodeItem* GraphScene::nodeAt(QPointF scenePos) const {
    // Ports stick out of the node's body, so test with a little slack.
    for (QGraphicsItem* item : items(QRectF(scenePos - QPointF(10, 10), QSizeF(20, 20)))) {
        if (item->type() == NodeItem::Type)
            return static_cast<NodeItem*>(item);
    }
    return nullptr;
}

void GraphScene::mousePressEvent(QGraphicsSceneMouseEvent* event) {
    if (event->button() == Qt::LeftButton) {
        if (NodeItem* node = nodeAt(event->scenePos())) {
            if (auto hit = node->portAt(event->scenePos())) {
                core::PortRef port{node->nodeId(), hit->port};
                if (hit->output) {
                    beginWireDrag(port, std::nullopt, event->scenePos());
                    event->accept();
                    return;
                }
                // Grabbing a connected input picks its wire up again.
                auto edges = m_document->graph().edgesInto(port);
                if (!edges.empty()) {
                    beginWireDrag(edges.front().from, edges.front(), event->scenePos());
                    event->accept();
                    return;
                }
            }
        }
    }
    QGraphicsScene::mousePressEvent(event);
}

void GraphScene::beginWireDrag(const core::PortRef& from, std::optional<core::Edge> detaching,
                               QPointF start) {
    m_dragFrom = from;
    m_detaching = std::move(detaching);
    m_dragStart = start;
    NodeItem* src = nodeItem(from.node);
    const QPointF a = src ? src->outputPos(from.port).value_or(start) : start;
    m_dragWire = new QGraphicsPathItem(EdgeItem::wirePath(a, start));
    m_dragWire->setPen(QPen(Theme::current().nodeSelected, 2.5, Qt::DashLine, Qt::RoundCap));
    m_dragWire->setZValue(5);
    addItem(m_dragWire);
    m_dragHint = new HintItem();
    m_dragHint->setZValue(6);
    m_dragHint->setBrush(Theme::current().text);
    addItem(m_dragHint);
    // Highlight every input: green where the wire may go, red where it may not.
    for (auto& [id, item] : m_nodes) {
        const core::Node* n = m_document->graph().findNode(id);
        const core::OpSchema* s = n ? core::OpRegistry::builtin().find(n->op) : nullptr;
        std::map<std::string, bool> accept;
        if (s) {
            for (const auto& port : s->inputNames(*n))
                accept[port] = connectionProblem(from, {id, port}).isEmpty();
        }
        item->setDragHighlight(accept);
    }
}

void GraphScene::mouseMoveEvent(QGraphicsSceneMouseEvent* event) {
    if (!m_dragFrom) {
        QGraphicsScene::mouseMoveEvent(event);
        return;
    }
    NodeItem* src = nodeItem(m_dragFrom->node);
    QPointF a = src ? src->outputPos(m_dragFrom->port).value_or(m_dragStart) : m_dragStart;
    QPointF b = event->scenePos();
    QString hint;
    QColor color = Theme::current().nodeSelected;
    if (NodeItem* target = nodeAt(b)) {
        if (auto hit = target->portAt(b); hit && !hit->output) {
            b = target->inputPos(hit->port).value_or(b);
            bool refused = false;
            hint = connectionProblem(*m_dragFrom, {target->nodeId(), hit->port}, &refused);
            if (!hint.isEmpty() && !refused && hasValidWire({target->nodeId(), hit->port})) {
                hint += tr(" — the wire connected there stays");
                refused = true;
            }
            color = hint.isEmpty() ? Theme::current().ok
                                   : (refused ? Theme::current().error : Theme::current().warning);
        }
    }
    m_dragWire->setPath(EdgeItem::wirePath(a, b));
    m_dragWire->setPen(QPen(color, 2.5, Qt::DashLine, Qt::RoundCap));
    m_dragHint->setText(hint);
    m_dragHint->setAccent(color);
    m_dragHint->setPos(event->scenePos()); // the hint keeps its own distance from the cursor
    emit statusMessage(hint);
    event->accept();
}

void GraphScene::mouseReleaseEvent(QGraphicsSceneMouseEvent* event) {
    if (!m_dragFrom) {
        QGraphicsScene::mouseReleaseEvent(event);
        commitMoves();
        return;
    }
    const core::PortRef from = *m_dragFrom;
    const auto detaching = m_detaching;
    const QPointF pos = event->scenePos();
    endWireDrag();
    event->accept();
    if (NodeItem* target = nodeAt(pos)) {
        if (auto hit = target->portAt(pos); hit && !hit->output) {
            core::PortRef to{target->nodeId(), hit->port};
            if (detaching && detaching->to == to)
                return; // dropped back where it was
            connectPorts(from, to);
            return;
        }
    }
    if (detaching) {
        m_document->applyEdits({core::DisconnectEdit{*detaching}}, tr("Disconnect"));
        return;
    }
    if (QLineF(pos, m_dragStart).length() > 8)
        emit quickAddRequested(pos, from);
}

void GraphScene::endWireDrag() {
    delete m_dragWire;
    m_dragWire = nullptr;
    delete m_dragHint;
    m_dragHint = nullptr;
    m_dragFrom.reset();
    m_detaching.reset();
    for (auto& [id, item] : m_nodes)
        item->setDragHighlight({});
    emit statusMessage(QString());
}

void GraphScene::commitMoves() {
    core::EditScript moves;
    for (auto& [id, item] : m_nodes) {
        const core::Node* n = m_document->graph().findNode(id);
        if (!n)
            continue;
        const QPointF p = item->pos();
        if (std::abs(p.x() - n->position.x) > 0.01 || std::abs(p.y() - n->position.y) > 0.01)
            moves.push_back(core::MoveNodeEdit{id, {p.x(), p.y()}});
    }
    if (!moves.empty())
        m_document->applyEdits(moves, moves.size() == 1 ? tr("Move node")
                                                        : tr("Move %1 nodes").arg(moves.size()));
}

QString GraphScene::connectionProblem(const core::PortRef& from, const core::PortRef& to,
                                      bool* refused) const {
    if (refused)
        *refused = false;
    const core::Graph& g = m_document->graph();
    auto refuse = [&](QString why) {
        if (refused)
            *refused = true;
        return why;
    };
    if (from.node == to.node)
        return refuse(tr("A node cannot feed itself"));
    if (g.downstreamOf(to.node).count(from.node))
        return refuse(tr("This connection would create a cycle"));
    const core::Node* target = g.findNode(to.node);
    const core::OpSchema* schema = target ? core::OpRegistry::builtin().find(target->op) : nullptr;
    auto type = m_document->check().typeOf(from);
    if (schema && type) {
        const auto& ok = schema->acceptedDTypes(to.port);
        if (!ok.empty() && std::find(ok.begin(), ok.end(), type->dtype) == ok.end()) {
            QStringList names;
            for (auto d : ok)
                names << QString::fromUtf8(core::dtypeName(d).data());
            return tr("%1 '%2' needs %3 on '%4', this wire carries %5 — add a Rescale or Cast")
                .arg(QString::fromStdString(target->op), QString::fromStdString(target->name),
                     names.join(" or "), QString::fromStdString(to.port),
                     QString::fromStdString(type->toString()));
        }
    }
    return {};
}

} // namespace segforge::ui
