#include "layout/grouped_layout.hpp"

#include "graph/group_boundary.hpp"
#include "layout/resolution_levels.hpp"

#include <algorithm>
#include <limits>
#include <unordered_map>

namespace segforge::core {

namespace {

/// One box of the block picture: a node, or a collapsed group standing for its members.
struct Block {
    std::vector<NodeId> nodes; ///< the node, or the group's members
    UPart part = UPart::Side;
    int level = 0;
    std::size_t rank = 0; ///< first position in dependency order
    double width = 0;
    double height = 0;
};

/// Columns of the picture, left to right. Sides (a target's Rescale) join the heads.
int columnOf(UPart part) {
    switch (part) {
    case UPart::Source:
        return 0;
    case UPart::Encoder:
        return 1;
    case UPart::Bottleneck:
        return 2;
    case UPart::Decoder:
        return 3;
    case UPart::Head:
    case UPart::Side:
        return 4;
    }
    return 4;
}

std::map<GroupId, const Group*> collapsedGroups(const Graph& graph) {
    std::map<GroupId, const Group*> out;
    for (const auto& [id, g] : graph.groups()) {
        if (g.collapsed && !g.members.empty())
            out[id] = &g;
    }
    return out;
}

/// The level and part a collapsed group shows: those of most of its members,
/// counting only the members that stay on one level (a pooling or upsampling
/// member moves between levels; the block is drawn at the level it works at).
void summarise(Block& block, const ResolutionLevels& levels,
               const std::unordered_map<NodeId, UPart>& parts) {
    std::map<int, int> levelVotes;
    std::map<UPart, int> partVotes;
    for (NodeId id : block.nodes) {
        if (!levels.changesLevel(id))
            ++levelVotes[levels.outLevel(id)];
        if (auto it = parts.find(id); it != parts.end())
            ++partVotes[it->second];
    }
    if (levelVotes.empty()) {
        for (NodeId id : block.nodes)
            ++levelVotes[levels.outLevel(id)];
    }
    auto most = [](const auto& votes) {
        return std::max_element(votes.begin(), votes.end(),
                                [](const auto& a, const auto& b) { return a.second < b.second; })
            ->first;
    };
    block.level = most(levelVotes);
    if (!partVotes.empty())
        block.part = most(partVotes);
}

/// Every collapsed group's members gathered at their top-left corner: where
/// the canvas draws the box.
void gatherMembers(GraphLayout& layout, const std::map<GroupId, const Group*>& collapsed) {
    for (const auto& [id, group] : collapsed) {
        Point corner{std::numeric_limits<double>::max(), std::numeric_limits<double>::max()};
        for (NodeId n : group->members) {
            if (auto it = layout.positions.find(n); it != layout.positions.end()) {
                corner.x = std::min(corner.x, it->second.x);
                corner.y = std::min(corner.y, it->second.y);
            }
        }
        if (corner.x == std::numeric_limits<double>::max())
            continue;
        for (NodeId n : group->members)
            layout.positions[n] = corner;
    }
}

/// Height of a collapsed group's box: one row per boundary port on its taller side.
double boxHeight(const Graph& graph, const Group& group) {
    const GroupBoundary boundary = groupBoundary(graph, group);
    return collapsedGroupHeight(std::max(boundary.inputs.size(), boundary.outputs.size()));
}

} // namespace

GraphLayout computeGroupedLayout(const Graph& graph, const CheckResult& check,
                                 const LayoutSpacing& full) {
    // Blocks sit closer than nodes: the view that needs them is zoomed out
    // past the wire labels the full layout's column gap makes room for.
    LayoutSpacing spacing = full;
    spacing.columnGap = full.columnGap / 2;
    const auto collapsed = collapsedGroups(graph);
    if (collapsed.empty())
        return computeLayout(graph, check, full);
    const ResolutionLevels levels = resolutionLevels(graph, check);
    const auto parts = classifyUShape(graph, levels);
    if (!parts) {
        GraphLayout layout = computeLayout(graph, check, full);
        gatherMembers(layout, collapsed);
        return layout;
    }

    // The blocks: one per collapsed group, one per node outside them.
    std::vector<Block> blocks;
    std::map<GroupId, std::size_t> blockOfGroup;
    for (std::size_t rank = 0; rank < levels.order.size(); ++rank) {
        const NodeId id = levels.order[rank];
        const GroupId g = graph.groupOf(id);
        if (auto it = collapsed.find(g); it != collapsed.end()) {
            auto [slot, fresh] = blockOfGroup.try_emplace(g, blocks.size());
            if (fresh) {
                Block block;
                block.rank = rank;
                block.width = kCollapsedGroupWidth;
                block.height = boxHeight(graph, *it->second);
                blocks.push_back(block);
            }
            blocks[slot->second].nodes.push_back(id);
            continue;
        }
        Block block;
        block.nodes = {id};
        block.rank = rank;
        // A node that changes level stands on the row it leaves from (a pooling)
        // or arrives at (an upsampling): the shallower one, where its group works.
        block.level = std::min(levels.inLevel(id), levels.outLevel(id));
        if (auto p = parts->find(id); p != parts->end())
            block.part = p->second;
        const NodeGeometry geometry = nodeGeometry(*graph.findNode(id));
        block.width = geometry.width;
        block.height = geometry.height;
        blocks.push_back(block);
    }
    for (auto& [g, index] : blockOfGroup)
        summarise(blocks[index], levels, *parts);

    // Cells (column, level) hold their blocks left to right in dependency order;
    // heads and sides stack down their own column instead.
    std::map<std::pair<int, int>, std::vector<const Block*>> cells;
    std::vector<const Block*> heads;
    for (const Block& b : blocks) {
        if (columnOf(b.part) == 4)
            heads.push_back(&b);
        else
            cells[{columnOf(b.part), b.level}].push_back(&b);
    }
    auto cellWidth = [&](const std::vector<const Block*>& cell) {
        double w = 0;
        for (const Block* b : cell)
            w += b->width;
        return w + full.columnGap * static_cast<double>(cell.size() - 1);
    };
    std::map<int, double> columnWidth;
    std::map<int, double> rowHeight;
    for (const auto& [key, cell] : cells) {
        columnWidth[key.first] = std::max(columnWidth[key.first], cellWidth(cell));
        for (const Block* b : cell)
            rowHeight[key.second] = std::max(rowHeight[key.second], b->height);
    }
    for (const Block* b : heads)
        columnWidth[4] = std::max(columnWidth[4], b->width);

    std::map<int, double> columnX;
    double x = 0;
    for (int column = 0; column <= 4; ++column) {
        if (!columnWidth.count(column))
            continue;
        // Single nodes beside the blocks (a source, the output next to the
        // heads) keep the full gap: zoomed out, their name plates are wider than they are.
        if (column == 1 || column == 4)
            x += 1.5 * full.columnGap - spacing.columnGap;
        columnX[column] = x;
        x += columnWidth[column] + spacing.columnGap;
    }
    // Rows wide enough apart for the wire between two stacked blocks to turn.
    const double rowGap = 2 * spacing.rowGap + spacing.levelGap;
    std::map<int, double> rowY;
    double y = 0;
    for (const auto& [level, height] : rowHeight) {
        rowY[level] = y;
        y += height + rowGap;
    }

    GraphLayout layout;
    layout.uShaped = true;
    auto place = [&](const Block& b, Point at) {
        for (NodeId id : b.nodes)
            layout.positions[id] = at;
    };
    for (const auto& [key, cell] : cells) {
        const auto [column, level] = key;
        // The encoder's blocks line up on the column's right edge, next to the
        // bottleneck; everything else on its left edge.
        double cx = columnX[column];
        if (column == 1)
            cx += columnWidth[column] - cellWidth(cell);
        for (const Block* b : cell) {
            place(*b, {cx, rowY[level]});
            cx += b->width + full.columnGap;
        }
    }
    double hy = rowY.empty() ? 0 : rowY.begin()->second;
    for (const Block* b : heads) {
        place(*b, {columnX[4], hy});
        hy += b->height + spacing.rowGap;
    }
    return layout;
}

EditScript groupedLayoutScript(const Graph& graph, const CheckResult& check,
                               const LayoutSpacing& spacing) {
    return movesTo(graph, computeGroupedLayout(graph, check, spacing).positions);
}

EditScript setGroupsCollapsedScript(const Graph& graph, const std::map<GroupId, bool>& collapsed) {
    EditScript script;
    for (const auto& [id, state] : collapsed) {
        const Group* g = graph.findGroup(id);
        if (g && g->collapsed != state && !g->members.empty())
            script.push_back(SetGroupCollapsedEdit{id, state});
    }
    if (script.empty())
        return script;
    Graph after = graph;
    if (!applyEdits(after, script).ok)
        return {};
    EditScript moves = groupedLayoutScript(after, checkTypesForLayout(after));
    script.insert(script.end(), moves.begin(), moves.end());
    return script;
}

double fitZoom(const Graph& graph, double width, double height) {
    double left = std::numeric_limits<double>::max(), top = left;
    double right = std::numeric_limits<double>::lowest(), bottom = right;
    std::map<GroupId, double> heights; // collapsed group → its box's height
    for (const auto& [id, group] : collapsedGroups(graph))
        heights[id] = boxHeight(graph, *group);
    for (const auto& [id, node] : graph.nodes()) {
        Rect r;
        if (auto it = heights.find(graph.groupOf(id)); it != heights.end()) {
            r = {node.position.x, node.position.y, kCollapsedGroupWidth, it->second};
        } else {
            r = nodeGeometry(node).rectAt(node.position);
        }
        left = std::min(left, r.x);
        top = std::min(top, r.y);
        right = std::max(right, r.right());
        bottom = std::max(bottom, r.bottom());
    }
    if (right <= left || bottom <= top)
        return 1;
    return std::min({1.0, width / (right - left), height / (bottom - top)});
}

} // namespace segforge::core
