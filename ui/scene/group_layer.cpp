#include "scene/group_layer.hpp"

#include "document/document.hpp"
#include "graph/group_boundary.hpp"
#include "graph/group_script.hpp"
#include "layout/grouped_layout.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/group_item.hpp"
#include "scene/node_item.hpp"
#include "style/theme.hpp"

#include <algorithm>

namespace segforge::ui {

GroupLayer::GroupLayer(GraphScene* scene)
    : QObject(scene)
    , m_scene(scene) {}

GroupItem* GroupLayer::groupItem(core::GroupId id) const {
    auto it = m_items.find(id);
    return it == m_items.end() ? nullptr : it->second;
}

std::vector<GroupItem*> GroupLayer::groupItems() const {
    std::vector<GroupItem*> out;
    for (const auto& [id, item] : m_items)
        out.push_back(item);
    return out;
}

void GroupLayer::sync() {
    const core::Graph& g = m_scene->document()->graph();
    for (auto it = m_items.begin(); it != m_items.end();) {
        const core::Group* group = g.findGroup(it->first);
        if (!group || group->members.empty()) { // an empty group has nothing to frame
            delete it->second;
            it = m_items.erase(it);
        } else {
            ++it;
        }
    }
    m_hidden.clear();
    for (const auto& [id, group] : g.groups())
        if (group.collapsed)
            for (core::NodeId m : group.members)
                m_hidden[m] = id;
    for (const auto& [id, group] : g.groups()) {
        if (group.members.empty())
            continue;
        GroupItem*& item = m_items[id];
        if (!item) {
            item = new GroupItem(id);
            m_scene->addItem(item);
            connect(item, &GroupItem::toggleRequested, this, [this](core::GroupId gid) {
                if (const core::Group* grp = m_scene->document()->graph().findGroup(gid))
                    setCollapsed(gid, !grp->collapsed);
            });
            connect(item, &GroupItem::dragged, this, &GroupLayer::followDrag);
        }
        refreshGroup(item, group);
    }
    for (const auto& [nodeId, node] : g.nodes())
        if (NodeItem* n = m_scene->nodeItem(nodeId))
            n->setVisible(!isHidden(nodeId));
    // Inner wires of a collapsed group vanish with it; crossing wires re-attach.
    for (EdgeItem* e : m_scene->edgeItems()) {
        const core::Edge& edge = e->edge();
        auto from = m_hidden.find(edge.from.node), to = m_hidden.find(edge.to.node);
        const bool inner =
            from != m_hidden.end() && to != m_hidden.end() && from->second == to->second;
        e->setVisible(!inner);
        QPointF a, b;
        if (!inner && attach(edge, a, b))
            e->refresh(a, b, m_scene->document()->check());
    }
}

void GroupLayer::refreshGroup(GroupItem* item, const core::Group& group) {
    const core::Graph& g = m_scene->document()->graph();
    const core::CheckResult& check = m_scene->document()->check();
    const Theme& theme = Theme::current();
    GroupItem::Look look;
    look.name = QString::fromStdString(group.name);
    look.collapsed = group.collapsed;
    look.memberCount = static_cast<int>(group.members.size());
    QRectF rect;
    bool unknown =
        false; // a member whose types the checker could not infer has no known parameter count
    for (core::NodeId m : group.members) {
        look.parameters += check.parameterCount(m);
        if (auto it = check.nodes.find(m);
            it == check.nodes.end() ||
            std::any_of(it->second.outputs.begin(), it->second.outputs.end(),
                        [](const auto& t) { return !t; }))
            unknown = true;
        if (NodeItem* n = m_scene->nodeItem(m))
            rect = rect.isNull() ? n->sceneBodyRect() : rect.united(n->sceneBodyRect());
        for (const core::Diagnostic* d : check.forNode(m)) {
            if (d->severity == core::Severity::Error)
                ++look.errors;
            else if (d->severity == core::Severity::Warning)
                ++look.warnings;
            else
                continue;
            look.messages << QString::fromStdString(d->message);
        }
    }
    if (unknown)
        look.parameters = -1;
    look.membersRect = rect;
    const core::GroupBoundary boundary = core::groupBoundary(g, group);
    auto portOf = [&](const core::PortRef& member, const core::PortRef& producer) {
        GroupItem::Port p;
        p.member = member;
        const core::Node* n = g.findNode(member.node);
        p.label = QString::fromStdString((n ? n->name : std::string("?")) + "." + member.port);
        if (auto type = check.typeOf(producer)) {
            p.typeText = QString::fromStdString(check.label(producer));
            p.color = theme.dtypeColor(type->dtype);
        } else {
            p.typeText = QStringLiteral("?");
            p.color = theme.textDim;
        }
        return p;
    };
    for (const core::PortRef& in : boundary.inputs) {
        // The type an input port receives is its producer's output type.
        const auto producer = g.producerOf(in);
        look.inputs.push_back(portOf(in, producer.value_or(core::PortRef{})));
    }
    for (const core::PortRef& out : boundary.outputs)
        look.outputs.push_back(portOf(out, out));
    item->setLook(look);
}

bool GroupLayer::attach(const core::Edge& edge, QPointF& from, QPointF& to) const {
    // Read from the graph, not from the last sync: the scene re-routes its wires
    // before this layer re-reads the groups.
    const core::Graph& g = m_scene->document()->graph();
    auto hidingBox = [&](core::NodeId node) -> GroupItem* {
        const core::Group* group = g.findGroup(g.groupOf(node));
        return group && group->collapsed ? groupItem(group->id) : nullptr;
    };
    GroupItem* fromBox = hidingBox(edge.from.node);
    GroupItem* toBox = hidingBox(edge.to.node);
    if (!fromBox && !toBox)
        return false;
    NodeItem* src = m_scene->nodeItem(edge.from.node);
    NodeItem* dst = m_scene->nodeItem(edge.to.node);
    if (!src || !dst)
        return false;
    from = src->outputPos(edge.from.port).value_or(src->sceneBodyRect().topRight());
    to = dst->inputPos(edge.to.port).value_or(dst->sceneBodyRect().topLeft());
    if (fromBox)
        from = fromBox->outputPos(edge.from).value_or(from);
    if (toBox)
        to = toBox->inputPos(edge.to).value_or(to);
    return true;
}

void GroupLayer::memberMoved(core::NodeId node) {
    if (m_following)
        return;
    const core::Graph& g = m_scene->document()->graph();
    const core::GroupId id = g.groupOf(node);
    GroupItem* item = groupItem(id);
    if (!item || item->isCollapsed())
        return;
    GroupItem::Look look = item->look();
    QRectF rect;
    for (core::NodeId m : g.findGroup(id)->members)
        if (NodeItem* n = m_scene->nodeItem(m))
            rect = rect.isNull() ? n->sceneBodyRect() : rect.united(n->sceneBodyRect());
    look.membersRect = rect;
    item->setLook(look);
}

void GroupLayer::followDrag(core::GroupId id, QPointF delta) {
    const core::Group* group = m_scene->document()->graph().findGroup(id);
    if (!group)
        return;
    // Selected members move themselves in the same drag: moving them again would double the step.
    m_following = true;
    for (core::NodeId m : group->members)
        if (NodeItem* n = m_scene->nodeItem(m); n && !n->isSelected())
            n->setPos(n->pos() + delta);
    m_following = false;
    if (GroupItem* item = groupItem(id)) {
        GroupItem::Look look = item->look();
        look.membersRect.translate(delta);
        item->setLook(look);
    }
    // Wires crossing a collapsed box follow its ports (hidden members moved with it).
    for (EdgeItem* e : m_scene->edgeItems()) {
        QPointF a, b;
        if (e->isVisible() &&
            (group->members.count(e->edge().from.node) ||
             group->members.count(e->edge().to.node)) &&
            attach(e->edge(), a, b))
            e->refresh(a, b, m_scene->document()->check());
    }
}

std::set<core::GroupId> GroupLayer::selectedGroups() const {
    std::set<core::GroupId> out;
    const core::Graph& g = m_scene->document()->graph();
    for (QGraphicsItem* item : m_scene->selectedItems()) {
        if (item->type() == GroupItem::Type)
            out.insert(static_cast<GroupItem*>(item)->groupId());
        else if (item->type() == NodeItem::Type)
            if (const core::GroupId id = g.groupOf(static_cast<NodeItem*>(item)->nodeId());
                id != core::kNoGroup)
                out.insert(id);
    }
    return out;
}

core::GroupId GroupLayer::groupSelection(const std::string& name) {
    const core::Graph& g = m_scene->document()->graph();
    std::set<core::NodeId> nodes;
    for (core::NodeId id : m_scene->selectedNodes())
        nodes.insert(id);
    for (QGraphicsItem* item : m_scene->selectedItems())
        if (item->type() == GroupItem::Type)
            if (const core::Group* grp = g.findGroup(static_cast<GroupItem*>(item)->groupId()))
                nodes.insert(grp->members.begin(), grp->members.end());
    const core::EditScript script = core::groupNodesScript(g, nodes, name.empty() ? "group" : name);
    if (script.empty())
        return core::kNoGroup;
    const core::GroupId id = std::get<core::AddGroupEdit>(script.back()).group.id;
    if (!m_scene->document()->applyEdits(
            script, tr("Group %n node(s)", nullptr, static_cast<int>(nodes.size()))))
        return core::kNoGroup;
    return id;
}

bool GroupLayer::ungroupSelection() {
    core::EditScript script;
    for (core::GroupId id : selectedGroups()) {
        const core::EditScript one = core::ungroupScript(m_scene->document()->graph(), id);
        script.insert(script.end(), one.begin(), one.end());
    }
    return !script.empty() && m_scene->document()->applyEdits(script, tr("Ungroup"));
}

bool GroupLayer::toggleSelection() {
    const auto ids = selectedGroups();
    if (ids.empty())
        return false;
    const core::Graph& g = m_scene->document()->graph();
    const bool allCollapsed = std::all_of(
        ids.begin(), ids.end(), [&](core::GroupId id) { return g.findGroup(id)->collapsed; });
    std::map<core::GroupId, bool> states;
    for (core::GroupId id : ids)
        states[id] = !allCollapsed;
    return m_scene->document()->applyEdits(core::setGroupsCollapsedScript(g, states),
                                           allCollapsed ? tr("Expand group")
                                                        : tr("Collapse group"));
}

bool GroupLayer::setCollapsed(core::GroupId id, bool collapsed) {
    const core::Group* group = m_scene->document()->graph().findGroup(id);
    if (!group || group->collapsed == collapsed)
        return false;
    return m_scene->document()->applyEdits(
        core::setGroupsCollapsedScript(m_scene->document()->graph(), {{id, collapsed}}),
        (collapsed ? tr("Collapse '%1'") : tr("Expand '%1'"))
            .arg(QString::fromStdString(group->name)));
}

bool GroupLayer::rename(core::GroupId id, const std::string& name) {
    const core::Group* group = m_scene->document()->graph().findGroup(id);
    if (!group || group->name == name)
        return false;
    return m_scene->document()->applyEdits({core::RenameGroupEdit{id, name}}, tr("Rename group"));
}

bool GroupLayer::setAllCollapsed(bool collapsed) {
    std::map<core::GroupId, bool> states;
    for (const auto& [id, group] : m_scene->document()->graph().groups())
        states[id] = collapsed;
    const core::EditScript script =
        core::setGroupsCollapsedScript(m_scene->document()->graph(), states);
    return !script.empty() &&
           m_scene->document()->applyEdits(script, collapsed ? tr("Collapse all groups")
                                                             : tr("Expand all groups"));
}

} // namespace segforge::ui
