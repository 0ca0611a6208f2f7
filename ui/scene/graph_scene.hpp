#pragma once

#include "graph/graph.hpp"
#include "scene/node_item.hpp"
#include "scene/wire_layout.hpp"

#include <QGraphicsScene>
#include <QPointer>
#include <map>
#include <optional>
#include <set>

class QGraphicsPathItem;

namespace segforge::ui {

class Document;
class NodeItem;
class EdgeItem;
class HintItem;
class GroupLayer;

/// The canvas: a QGraphicsScene whose items are views of the Document's graph.
/// Every user action becomes a core EditScript applied through the Document
/// (one undoable command); the scene then re-syncs from the graph.
class GraphScene : public QGraphicsScene {
    Q_OBJECT
public:
    explicit GraphScene(Document* document, QObject* parent = nullptr);
    /// Items are destroyed by the base destructor, which emits selectionChanged:
    /// nobody may react to that while the window is being torn down.
    ~GraphScene() override;

    Document* document() const { return m_document; }
    /// The groups: frames, collapsed boxes, Group/Ungroup/Collapse (scene/group_layer.hpp).
    GroupLayer* groups() const { return m_groups; }
    NodeItem* nodeItem(core::NodeId id) const;
    EdgeItem* edgeItem(const core::Edge& edge) const;
    std::vector<EdgeItem*> edgeItems() const;
    std::vector<core::NodeId> selectedNodes() const;
    void selectNode(core::NodeId id);

    /// Adds a node of `op` at a scene position; connects `from` to its first
    /// accepting input when given. Returns the new id (kNoNode on failure).
    core::NodeId addNodeAt(const std::string& op, QPointF scenePos,
                           std::optional<core::PortRef> from = std::nullopt);
    /// Connects an output to an input, replacing the input's current producer.
    bool connectPorts(const core::PortRef& from, const core::PortRef& to);
    /// Why `from` should not feed `to` ("" when it may): cycles are refused, a
    /// dtype the input does not accept is allowed but explained.
    QString connectionProblem(const core::PortRef& from, const core::PortRef& to,
                              bool* refused = nullptr) const;

    void deleteSelection();
    void copySelection();
    void pasteAt(QPointF scenePos);
    void duplicateSelection();

    bool snapToGrid() const { return m_snap; }
    void setSnapToGrid(bool snap) { m_snap = snap; }
    QPointF snapped(QPointF p) const;

    /// Training marks: the node that ran last while stepping or produced NaN
    /// (kNoNode clears), breakpoint dots, and the gradient view (empty: off).
    void setRunMark(core::NodeId node, NodeItem::RunMark mark);
    core::NodeId runMarkNode() const { return m_runMarkNode; }
    void setBreakpoints(const std::set<core::NodeId>& nodes);
    void setGradientNorms(const std::map<core::PortRef, double>& norms);
    /// The single selected wire, if exactly one wire and no node is selected.
    std::optional<core::Edge> selectedEdge() const;

    /// Keeps wires attached while a node is dragged (called by NodeItem).
    void nodeMoving(core::NodeId id);
    bool isSyncing() const { return m_syncing; }

signals:
    /// Single selected node, or kNoNode.
    void currentNodeChanged(core::NodeId id);
    /// Single selected wire, or nullopt.
    void currentEdgeChanged(std::optional<core::Edge> edge);
    /// A wire was dropped on empty canvas (from set) or the user asked to add a node.
    void quickAddRequested(QPointF scenePos, std::optional<core::PortRef> from);
    void statusMessage(const QString& text);
    /// The training mark moved (the view keeps a stepped node in view).
    void runMarkChanged(core::NodeId node, NodeItem::RunMark mark);

public slots:
    void sync();

protected:
    void drawBackground(QPainter* painter, const QRectF& rect) override;
    void mousePressEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseMoveEvent(QGraphicsSceneMouseEvent* event) override;
    void mouseReleaseEvent(QGraphicsSceneMouseEvent* event) override;

private:
    NodeItem* nodeAt(QPointF scenePos) const;
    /// Whether `to` is fed by a wire its node accepts (no error on that input).
    bool hasValidWire(const core::PortRef& to) const;
    void beginWireDrag(const core::PortRef& from, std::optional<core::Edge> detaching,
                       QPointF start);
    void endWireDrag();
    void refreshEdge(EdgeItem* item);
    void commitMoves();

    void applyTrainingLook();

    Document* m_document;
    core::NodeId m_runMarkNode = core::kNoNode;
    NodeItem::RunMark m_runMark = NodeItem::RunMark::None;
    std::set<core::NodeId> m_breakpoints;
    std::map<core::PortRef, double> m_gradNorms;
    std::map<core::NodeId, NodeItem*> m_nodes;
    std::map<core::Edge, EdgeItem*> m_edges;
    bool m_syncing = false;
    bool m_snap = true;
    WireLayout m_wires; ///< routes wires around nodes, places their labels
    GroupLayer* m_groups = nullptr;

    // Wire being dragged from an output port.
    std::optional<core::PortRef> m_dragFrom;
    std::optional<core::Edge> m_detaching;
    QGraphicsPathItem* m_dragWire = nullptr;
    HintItem* m_dragHint = nullptr; ///< why the wire may not go there, legible at any zoom
    QPointF m_dragStart;
};

} // namespace segforge::ui
