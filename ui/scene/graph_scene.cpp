// The canvas as a view of the Document's graph: its items, kept in step with
// the graph and the latest check (sync), selection, and the training look.
// Mouse work is in graph_scene_wire_drag.cpp, the editing commands in
// graph_scene_edits.cpp.
#include "scene/graph_scene.hpp"

#include "document/document.hpp"
#include "ops/op_registry.hpp"
#include "scene/edge_item.hpp"
#include "scene/group_layer.hpp"
#include "scene/node_item.hpp"
#include "style/theme.hpp"

#include <QPainter>
#include <cmath>
#include <limits>
#include <set>

namespace segforge::ui {

GraphScene::GraphScene(Document* document, QObject* parent)
    : QGraphicsScene(parent)
    , m_document(document) {
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
    m_groups->sync();     // after the wires: collapsed groups hide nodes and re-attach wires
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

} // namespace segforge::ui
