#include "scene/graph_scene.hpp"

#include "document/document.hpp"
#include "graph/edit_scripts.hpp"
#include "ops/op_registry.hpp"
#include "project/project_file.hpp"
#include "scene/edge_item.hpp"
#include "scene/hint_item.hpp"
#include "scene/group_item.hpp"
#include "scene/group_layer.hpp"
#include "scene/node_item.hpp"
#include "style/theme.hpp"

#include <QApplication>
#include <QClipboard>
#include <QGraphicsPathItem>
#include <QGraphicsSceneMouseEvent>
#include <QMimeData>
#include <QPainter>

#include <cmath>
#include <limits>
#include <set>

namespace segforge::ui {

namespace {
const char* kClipboardMime = "application/x-segforge-nodes";

/// Whether `to` is fed by a wire its node accepts (no error on that input).
bool hasValidWire(const Document& document, const core::PortRef& to) {
    if (document.graph().edgesInto(to).empty())
        return false;
    for (const auto* d : document.check().forNode(to.node)) {
        if (d->port == to.port && d->severity == core::Severity::Error)
            return false;
    }
    return true;
}

/// "Conv2DTranspose" → "conv2d_transpose": default names read like the template's.
std::string snakeCase(const std::string& op) {
    std::string out;
    for (std::size_t i = 0; i < op.size(); ++i) {
        const char c = op[i];
        if (std::isupper(static_cast<unsigned char>(c)) && i > 0 &&
            (std::islower(static_cast<unsigned char>(op[i - 1])) ||
             (i + 1 < op.size() && std::islower(static_cast<unsigned char>(op[i + 1])) &&
              !std::isdigit(static_cast<unsigned char>(op[i - 1])))))
            out += '_';
        out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
    return out;
}
} // namespace

GraphScene::GraphScene(Document* document, QObject* parent)
    : QGraphicsScene(parent), m_document(document) {
    setItemIndexMethod(QGraphicsScene::NoIndex); // items move constantly; BSP rebuilds cost more
    connect(document, &Document::changed, this, &GraphScene::sync);
    connect(this, &QGraphicsScene::selectionChanged, this, [this] {
        auto nodes = selectedNodes();
        emit currentNodeChanged(nodes.size() == 1 ? nodes.front() : core::kNoNode);
        emit currentEdgeChanged(selectedEdge());
    });
    m_groups = new GroupLayer(this);
    sync();
}

GraphScene::~GraphScene() {
    blockSignals(true);
}

NodeItem* GraphScene::nodeItem(core::NodeId id) const {
    auto it = m_nodes.find(id);
    return it == m_nodes.end() ? nullptr : it->second;
}

EdgeItem* GraphScene::edgeItem(const core::Edge& edge) const {
    auto it = m_edges.find(edge);
    return it == m_edges.end() ? nullptr : it->second;
}

std::vector<EdgeItem*> GraphScene::edgeItems() const {
    std::vector<EdgeItem*> out;
    for (const auto& [e, item] : m_edges)
        out.push_back(item);
    return out;
}

std::vector<core::NodeId> GraphScene::selectedNodes() const {
    std::vector<core::NodeId> out;
    for (QGraphicsItem* item : selectedItems()) {
        if (item->type() == NodeItem::Type)
            out.push_back(static_cast<NodeItem*>(item)->nodeId());
    }
    std::sort(out.begin(), out.end());
    return out;
}

void GraphScene::selectNode(core::NodeId id) {
    // A node hidden in a collapsed group is revealed: its group expands.
    if (m_groups->isHidden(id))
        m_groups->setCollapsed(m_document->graph().groupOf(id), false);
    clearSelection();
    if (NodeItem* item = nodeItem(id))
        item->setSelected(true);
}

QPointF GraphScene::snapped(QPointF p) const {
    if (!m_snap)
        return p;
    const double g = metrics::kGrid;
    return {std::round(p.x() / g) * g, std::round(p.y() / g) * g};
}

void GraphScene::sync() {
    m_syncing = true;
    const core::Graph& g = m_document->graph();
    const core::CheckResult& r = m_document->check();
    const auto& registry = core::OpRegistry::builtin();

    for (auto it = m_nodes.begin(); it != m_nodes.end();) {
        if (!g.hasNode(it->first)) {
            delete it->second;
            it = m_nodes.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& [id, node] : g.nodes()) {
        NodeItem*& item = m_nodes[id];
        if (!item) {
            item = new NodeItem(id);
            addItem(item);
        }
        item->refresh(node, registry.find(node.op), r);
    }

    std::set<core::Edge> present(g.edges().begin(), g.edges().end());
    for (auto it = m_edges.begin(); it != m_edges.end();) {
        if (!present.count(it->first)) {
            delete it->second;
            it = m_edges.erase(it);
        } else {
            ++it;
        }
    }
    for (const core::Edge& e : g.edges()) {
        EdgeItem*& item = m_edges[e];
        if (!item) {
            item = new EdgeItem(e);
            addItem(item);
        }
        refreshEdge(item);
    }
    m_groups->sync(); // after the wires: collapsed groups hide nodes and re-attach wires
    m_wires.update(this); // around the boxes as they now stand
    applyTrainingLook();
    m_syncing = false;
}

std::optional<core::Edge> GraphScene::selectedEdge() const {
    std::optional<core::Edge> found;
    for (QGraphicsItem* item : selectedItems()) {
        if (item->type() == NodeItem::Type)
            return std::nullopt;
        if (item->type() == EdgeItem::Type) {
            if (found)
                return std::nullopt;
            found = static_cast<EdgeItem*>(item)->edge();
        }
    }
    return found;
}

void GraphScene::setRunMark(core::NodeId node, NodeItem::RunMark mark) {
    m_runMarkNode = mark == NodeItem::RunMark::None ? core::kNoNode : node;
    m_runMark = mark;
    applyTrainingLook();
    emit runMarkChanged(node, mark);
}

void GraphScene::setBreakpoints(const std::set<core::NodeId>& nodes) {
    m_breakpoints = nodes;
    applyTrainingLook();
}

void GraphScene::setGradientNorms(const std::map<core::PortRef, double>& norms) {
    m_gradNorms = norms;
    applyTrainingLook();
}

void GraphScene::applyTrainingLook() {
    for (auto& [id, item] : m_nodes) {
        item->setRunMark(id == m_runMarkNode ? m_runMark : NodeItem::RunMark::None);
        item->setBreakpoint(m_breakpoints.count(id) != 0);
    }
    // Gradient norms span decades: place each on a log scale between the extremes.
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& [port, norm] : m_gradNorms)
        if (norm > 0 && std::isfinite(norm)) {
            lo = std::min(lo, norm);
            hi = std::max(hi, norm);
        }
    for (auto& [edge, item] : m_edges) {
        auto it = m_gradNorms.find(edge.from);
        if (it == m_gradNorms.end()) {
            item->setGradient(std::nullopt);
            continue;
        }
        const double n = it->second;
        double u = 0;
        if (n > 0 && std::isfinite(n) && hi > lo)
            u = (std::log10(n) - std::log10(lo)) / (std::log10(hi) - std::log10(lo));
        else if (!std::isfinite(n))
            u = 1;
        item->setGradient(n, u);
    }
}

void GraphScene::refreshEdge(EdgeItem* item) {
    const core::Edge& e = item->edge();
    NodeItem* from = nodeItem(e.from.node);
    NodeItem* to = nodeItem(e.to.node);
    if (!from || !to)
        return;
    QPointF a = from->outputPos(e.from.port).value_or(from->mapToScene(metrics::kNodeWidth, 10));
    QPointF b = to->inputPos(e.to.port).value_or(to->mapToScene(0, 10));
    m_groups->attach(e, a, b); // a collapsed group's box stands in for its hidden nodes
    item->refresh(a, b, m_document->check());
}

void GraphScene::nodeMoving(core::NodeId id) {
    if (m_syncing)
        return;
    m_groups->memberMoved(id);
    std::vector<EdgeItem*> moved;
    for (auto& [e, item] : m_edges) {
        if (e.from.node == id || e.to.node == id) {
            refreshEdge(item);
            if (item->isVisible())
                moved.push_back(item);
        }
    }
    m_wires.wiresMoved(this, moved); // the rest are routed again when the drag ends
}

void GraphScene::drawBackground(QPainter* painter, const QRectF& rect) {
    const Theme& t = Theme::current();
    painter->fillRect(rect, t.canvas);
    const double scale = painter->worldTransform().m11();
    const double g = metrics::kGrid;
    auto lines = [&](double step, const QColor& color) {
        QVector<QLineF> v;
        const double left = std::floor(rect.left() / step) * step;
        const double top = std::floor(rect.top() / step) * step;
        for (double x = left; x < rect.right(); x += step)
            v.append(QLineF(x, rect.top(), x, rect.bottom()));
        for (double y = top; y < rect.bottom(); y += step)
            v.append(QLineF(rect.left(), y, rect.right(), y));
        painter->setPen(QPen(color, 0));
        painter->drawLines(v);
    };
    if (scale > 0.6)
        lines(g, t.gridMinor);
    if (scale > 0.15)
        lines(g * 5, t.gridMajor);
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
            if (!hint.isEmpty() && !refused && hasValidWire(*m_document, {target->nodeId(), hit->port})) {
                hint += tr(" — the wire connected there stays");
                refused = true;
            }
            color = hint.isEmpty() ? Theme::current().ok : (refused ? Theme::current().error
                                                                    : Theme::current().warning);
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
        m_document->applyEdits(moves, moves.size() == 1 ? tr("Move node") : tr("Move %1 nodes").arg(moves.size()));
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

bool GraphScene::connectPorts(const core::PortRef& from, const core::PortRef& to) {
    bool refused = false;
    QString problem = connectionProblem(from, to, &refused);
    if (refused) {
        emit statusMessage(problem);
        return false;
    }
    if (!problem.isEmpty() && hasValidWire(*m_document, to)) {
        // An incompatible wire never silently replaces a valid connection.
        emit statusMessage(problem + tr(" — the wire connected there stays"));
        return false;
    }
    const core::EditScript edits = core::connectReplacing(m_document->graph(), from, to);
    if (edits.empty())
        return false; // already connected
    return m_document->applyEdits(edits, tr("Connect"));
}

core::NodeId GraphScene::addNodeAt(const std::string& op, QPointF scenePos,
                                   std::optional<core::PortRef> from) {
    const core::OpSchema* schema = core::OpRegistry::builtin().find(op);
    if (!schema)
        return core::kNoNode;
    const core::Graph& g = m_document->graph();
    core::Node node;
    node.id = g.nextNodeId();
    node.op = op;
    node.name = g.uniqueName(snakeCase(op));
    const QPointF p = snapped(scenePos);
    node.position = {p.x(), p.y()};
    core::EditScript edits{core::AddNodeEdit{node}};
    if (from) {
        auto type = m_document->check().typeOf(*from);
        for (const auto& port : schema->inputNames(node)) {
            const auto& ok = schema->acceptedDTypes(port);
            if (!type || std::find(ok.begin(), ok.end(), type->dtype) != ok.end()) {
                edits.push_back(core::ConnectEdit{{*from, {node.id, port}}});
                break;
            }
        }
    }
    if (!m_document->applyEdits(edits, tr("Add %1").arg(QString::fromStdString(op))))
        return core::kNoNode;
    selectNode(node.id);
    return node.id;
}

void GraphScene::deleteSelection() {
    auto nodes = selectedNodes();
    std::vector<core::Edge> wires;
    for (QGraphicsItem* item : selectedItems()) {
        if (item->type() == EdgeItem::Type)
            wires.push_back(static_cast<EdgeItem*>(item)->edge());
        // A collapsed group's box stands for its members: deleting it deletes them.
        if (item->type() == GroupItem::Type && static_cast<GroupItem*>(item)->isCollapsed()) {
            if (const core::Group* g = m_document->graph().findGroup(static_cast<GroupItem*>(item)->groupId()))
                nodes.insert(nodes.end(), g->members.begin(), g->members.end());
        }
    }
    const core::EditScript edits = core::removeSelection(m_document->graph(), nodes, wires);
    if (!edits.empty())
        m_document->applyEdits(edits, nodes.empty() ? tr("Delete wire") : tr("Delete"));
}

void GraphScene::copySelection() {
    auto ids = selectedNodes();
    if (ids.empty())
        return;
    core::Project clip;
    clip.graph = core::extractSubgraph(m_document->graph(), ids);
    auto* mime = new QMimeData;
    const QByteArray json = QByteArray::fromStdString(core::projectToJson(clip).dump());
    mime->setData(kClipboardMime, json);
    mime->setText(QString::fromUtf8(json));
    QApplication::clipboard()->setMimeData(mime);
}

void GraphScene::pasteAt(QPointF scenePos) {
    const QMimeData* mime = QApplication::clipboard()->mimeData();
    if (!mime || !mime->hasFormat(kClipboardMime))
        return;
    core::ProjectLoad load = core::parseProject(mime->data(kClipboardMime).toStdString(), "clipboard");
    if (!load.ok() || load.project->graph.nodeCount() == 0)
        return;
    const QPointF origin = snapped(scenePos);
    const core::PasteScript paste =
        core::pasteSubgraph(m_document->graph(), load.project->graph, {origin.x(), origin.y()});
    if (m_document->applyEdits(paste.edits, tr("Paste"))) {
        clearSelection();
        for (auto [old, fresh] : paste.ids) {
            if (NodeItem* item = nodeItem(fresh))
                item->setSelected(true);
        }
    }
}

void GraphScene::duplicateSelection() {
    auto ids = selectedNodes();
    if (ids.empty())
        return;
    const core::Node* first = m_document->graph().findNode(ids.front());
    double minX = first->position.x, minY = first->position.y;
    for (core::NodeId id : ids) {
        minX = std::min(minX, m_document->graph().findNode(id)->position.x);
        minY = std::min(minY, m_document->graph().findNode(id)->position.y);
    }
    copySelection();
    pasteAt(QPointF(minX + 40, minY + 60));
}

} // namespace segforge::ui
