#pragma once

#include <QRectF>
#include <cstddef>

class QGraphicsScene;

namespace segforge::ui {

class EdgeItem;

/// Routes the scene's wires around the boxes on it (nodes, collapsed groups)
/// with core::WireRouter and places their labels with core::placeWireLabels,
/// so no wire runs behind a node and no label hides behind one.
///
/// update() re-routes everything, but only when a box, a wire's ends or a
/// label's size changed since the last call: an edit that changes none of
/// them costs one pass over the items. While a node is dragged, wiresMoved()
/// re-routes only the wires that follow it.
class WireLayout {
public:
    /// Routes every visible wire and places every label if anything they
    /// depend on changed. Returns whether it did.
    bool update(QGraphicsScene* scene);
    /// Re-routes `wires` (those of a node being dragged) around the boxes as
    /// they are now; their labels go where they fit among the nodes.
    void wiresMoved(QGraphicsScene* scene, const std::vector<EdgeItem*>& wires);

private:
    std::size_t m_signature = 0;
};

} // namespace segforge::ui
