#pragma once

#include "graph/graph.hpp"

#include <QObject>
#include <QPointF>
#include <map>
#include <set>

namespace segforge::ui {

class GraphScene;
class GroupItem;

/// The groups on the canvas: keeps one GroupItem per group of the Document's
/// graph, hides the nodes and inner wires of collapsed groups, attaches the
/// wires that cross a collapsed group's boundary to its ports, and turns the
/// Group / Ungroup / Collapse actions into undoable edits through the Document.
/// GraphScene owns it and calls it from sync(), refreshEdge() and nodeMoving().
class GroupLayer : public QObject {
    Q_OBJECT
public:
    explicit GroupLayer(GraphScene* scene);

    /// Re-reads the groups after the scene refreshed its nodes and wires.
    void sync();
    GroupItem* groupItem(core::GroupId id) const;
    std::vector<GroupItem*> groupItems() const;

    /// Moves a wire's ends onto a collapsed group's ports when the group hides
    /// the node at that end; false when neither end is hidden.
    bool attach(const core::Edge& edge, QPointF& from, QPointF& to) const;
    /// Whether a collapsed group hides this node.
    bool isHidden(core::NodeId node) const { return m_hidden.count(node) != 0; }
    /// A member was dragged: its frame follows.
    void memberMoved(core::NodeId node);

    /// The groups the selection names: selected frames and boxes, and the groups
    /// of selected nodes.
    std::set<core::GroupId> selectedGroups() const;
    /// Makes the selected nodes (and the members of selected groups) one new
    /// group named `name` (empty: "group", made unique). Returns its id or kNoGroup.
    core::GroupId groupSelection(const std::string& name = {});
    /// Dissolves the selected groups, keeping their nodes. False if none.
    bool ungroupSelection();
    /// Collapses the selected groups, or expands them when all are collapsed. False if none.
    bool toggleSelection();
    /// Collapses (or expands) one group as one undoable step.
    bool setCollapsed(core::GroupId id, bool collapsed);
    /// Renames a group as one undoable step. False if absent or unchanged.
    bool rename(core::GroupId id, const std::string& name);
    /// Collapses or expands every group as one undoable step.
    bool setAllCollapsed(bool collapsed);

private:
    void refreshGroup(GroupItem* item, const core::Group& group);
    void followDrag(core::GroupId id, QPointF delta);

    GraphScene* m_scene;
    std::map<core::GroupId, GroupItem*> m_items;
    std::map<core::NodeId, core::GroupId> m_hidden; ///< node → the collapsed group hiding it
    bool m_following = false; ///< moving members after their group: frames stay put
};

} // namespace segforge::ui
