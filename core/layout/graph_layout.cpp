#include "layout/graph_layout.hpp"

#include "check/checker.hpp"
#include "layout/resolution_levels.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace segforge::core {

namespace {

/// The U of the U-Net paper, built in three steps: a column for every node
/// (longest path from the sources, so each level's encoder lies left of its
/// decoder), a row per resolution level holding the nodes that keep their
/// level, and the gaps between rows holding what must not stand on a skip wire:
/// the nodes that change the level, and any node a same-row skip jumps over.
class ULayout {
public:
    ULayout(const Graph& graph, const ResolutionLevels& levels,
            const std::unordered_map<NodeId, UPart>& parts, const LayoutSpacing& spacing)
        : m_graph(graph)
        , m_levels(levels)
        , m_parts(parts)
        , m_spacing(spacing) {
        for (NodeId id : levels.order)
            m_geometry[id] = nodeGeometry(*graph.findNode(id));
        for (const Edge& e : graph.edges()) {
            m_into[e.to.node].push_back(&e);
            m_outOf[e.from.node].push_back(&e);
        }
    }

    std::map<NodeId, Point> run() {
        assignColumns();
        assignRowsAndGaps();
        placeRows();
        placeHeads();
        placeSide();
        return m_pos;
    }

    /// How many level gaps the height has (each holds levelGap twice).
    int levelGaps() const { return m_levelGaps; }

private:
    UPart part(NodeId id) const { return m_parts.at(id); }
    bool isMain(NodeId id) const {
        const UPart p = part(id);
        return p == UPart::Source || p == UPart::Encoder || p == UPart::Bottleneck ||
               p == UPart::Decoder;
    }
    double pitch() const { return node_metrics::kWidth + m_spacing.columnGap; }
    double x(int column) const { return column * pitch(); }
    double outY(const Edge& e) const {
        return m_pos.at(e.from.node).y +
               m_geometry.at(e.from.node).outputOffset(e.from.port).value_or(Point{}).y;
    }
    double inOffset(const Edge& e) const {
        return m_geometry.at(e.to.node).inputOffset(e.to.port).value_or(Point{}).y;
    }

    void assignColumns() {
        std::unordered_map<NodeId, std::size_t> rank;
        for (std::size_t i = 0; i < m_levels.order.size(); ++i)
            rank[m_levels.order[i]] = i;
        for (NodeId id : m_levels.order) {
            if (!isMain(id))
                continue;
            int c = 0;
            for (const Edge* e : m_into[id])
                if (isMain(e->from.node) && rank[e->from.node] < rank[id])
                    c = std::max(c, m_column[e->from.node] + 1);
            m_column[id] = c;
            m_lastColumn = std::max(m_lastColumn, c);
        }
    }

    bool isUSkip(const Edge& e) const {
        const UPart a = part(e.from.node), b = part(e.to.node);
        return (a == UPart::Encoder || a == UPart::Source) &&
               (b == UPart::Decoder || b == UPart::Bottleneck);
    }

    void assignRowsAndGaps() {
        std::vector<NodeId> rowNodes;
        for (NodeId id : m_levels.order) {
            if (!isMain(id))
                continue;
            if (part(id) != UPart::Source && m_levels.changesLevel(id)) {
                // Between the two levels it joins, like the paper's arrows.
                m_gap[id] = std::min(m_levels.inLevel(id), m_levels.outLevel(id));
                continue;
            }
            m_row[id] = m_levels.outLevel(id);
            rowNodes.push_back(id);
        }
        // Spans of same-row wires that jump over a column: whatever stands
        // inside one goes into the gap below its row, off the wire's path.
        std::unordered_set<NodeId> uSkipEnds;
        std::vector<std::tuple<int, int, int>> spans; // row, first column, last column
        for (const Edge& e : m_graph.edges()) {
            auto a = m_row.find(e.from.node), b = m_row.find(e.to.node);
            if (a == m_row.end() || b == m_row.end() || a->second != b->second)
                continue;
            const int ca = m_column[e.from.node], cb = m_column[e.to.node];
            if (cb - ca <= 1)
                continue;
            spans.emplace_back(a->second, ca, cb);
            if (isUSkip(e)) {
                uSkipEnds.insert(e.from.node);
                uSkipEnds.insert(e.to.node);
            }
        }
        for (NodeId id : rowNodes) {
            if (part(id) == UPart::Source || uSkipEnds.count(id))
                continue;
            const int r = m_row[id], c = m_column[id];
            for (const auto& [sr, ca, cb] : spans)
                if (sr == r && ca < c && c < cb) {
                    m_gap[id] = r;
                    break;
                }
        }
        for (const auto& [id, g] : m_gap)
            m_row.erase(id);
    }

    /// Rows top to bottom, each node's port lined up with the wire that feeds
    /// it from its row (a skip first, so skips are horizontal), then the gaps.
    void placeRows() {
        int top = std::numeric_limits<int>::max(), bottom = std::numeric_limits<int>::min();
        for (const auto& [id, r] : m_row) {
            top = std::min(top, r);
            bottom = std::max(bottom, r);
        }
        for (const auto& [id, g] : m_gap) {
            top = std::min(top, g);
            bottom = std::max(bottom, g + 1);
        }
        if (top > bottom)
            return;
        m_levelGaps = bottom - top;

        // Relative y (row baseline = 0) of the row nodes, column by column.
        std::map<int, std::vector<NodeId>> byColumn;
        for (NodeId id : m_levels.order)
            if (m_row.count(id))
                byColumn[m_column[id]].push_back(id);
        std::unordered_map<NodeId, double> rel;
        std::map<std::pair<int, int>, double> cellBottom; // (row, column) → lowest bottom so far
        for (const auto& [c, ids] : byColumn) {
            for (NodeId id : ids) {
                const int r = m_row[id];
                const NodeGeometry& g = m_geometry[id];
                // The feeding wire from this row that jumps furthest decides.
                const Edge* align = nullptr;
                int reach = 0;
                for (const Edge* e : m_into[id]) {
                    auto it = m_row.find(e->from.node);
                    if (it == m_row.end() || it->second != r || !rel.count(e->from.node))
                        continue;
                    const int d = c - m_column[e->from.node];
                    if (d > reach) {
                        reach = d;
                        align = e;
                    }
                }
                double y;
                if (align) {
                    y = rel[align->from.node] +
                        m_geometry[align->from.node]
                            .outputOffset(align->from.port)
                            .value_or(Point{})
                            .y -
                        inOffset(*align);
                } else if (!g.inputs.empty()) {
                    y = -g.inputOffset(0).y;
                } else {
                    y = g.outputs.empty() ? -g.height / 2 : -g.outputOffset(0).y;
                }
                auto key = std::make_pair(r, c);
                if (auto it = cellBottom.find(key); it != cellBottom.end())
                    y = std::max(y, it->second + m_spacing.rowGap);
                rel[id] = y;
                cellBottom[key] = y + g.height;
            }
        }
        std::map<int, std::pair<double, double>>
            extent; // row → (top, bottom) relative to the baseline
        for (const auto& [id, r] : m_row) {
            auto [it, fresh] = extent.try_emplace(r, rel[id], rel[id] + m_geometry[id].height);
            if (!fresh) {
                it->second.first = std::min(it->second.first, rel[id]);
                it->second.second = std::max(it->second.second, rel[id] + m_geometry[id].height);
            }
        }
        // Gap cells: (gap, column) → the nodes stacked there.
        std::map<std::pair<int, int>, std::vector<NodeId>> gapCells;
        for (NodeId id : m_levels.order)
            if (auto it = m_gap.find(id); it != m_gap.end())
                gapCells[{it->second, m_column[id]}].push_back(id);
        std::map<int, double> gapHeight;
        for (const auto& [key, ids] : gapCells) {
            double h = 0;
            for (NodeId id : ids)
                h += m_geometry[id].height;
            h += m_spacing.rowGap * static_cast<double>(ids.size() - 1);
            gapHeight[key.first] = std::max(gapHeight[key.first], h);
        }

        double cursor = 0;
        std::map<int, double> gapTop;
        for (int r = top; r <= bottom; ++r) {
            if (auto it = extent.find(r); it != extent.end()) {
                const double baseline = cursor - it->second.first;
                for (const auto& [id, row] : m_row)
                    if (row == r)
                        m_pos[id] = {x(m_column[id]), std::round(baseline + rel[id])};
                cursor = baseline + it->second.second;
            }
            const double h = gapHeight.count(r) ? gapHeight[r] : 0;
            gapTop[r] = cursor + m_spacing.levelGap;
            cursor += h + 2 * m_spacing.levelGap;
        }
        for (const auto& [key, ids] : gapCells) {
            double stack = 0;
            for (NodeId id : ids)
                stack += m_geometry[id].height;
            stack += m_spacing.rowGap * static_cast<double>(ids.size() - 1);
            double y = gapTop[key.first] + (gapHeight[key.first] - stack) / 2;
            for (NodeId id : ids) {
                m_pos[id] = {x(key.second), std::round(y)};
                y += m_geometry[id].height + m_spacing.rowGap;
            }
        }
    }

    /// Losses and metrics in a column right of everything, from the top, the
    /// first one level with the wire that feeds it.
    void placeHeads() {
        double nextFree = -std::numeric_limits<double>::infinity();
        bool any = false;
        for (NodeId id : m_levels.order) {
            if (part(id) != UPart::Head)
                continue;
            double y = std::numeric_limits<double>::quiet_NaN();
            for (const Edge* e : m_into[id])
                if (m_pos.count(e->from.node)) {
                    y = outY(*e) - inOffset(*e);
                    break;
                }
            if (std::isnan(y))
                y = any ? nextFree : topOfU();
            y = std::round(std::max(y, nextFree));
            m_pos[id] = {x(m_lastColumn + 1), y};
            nextFree = y + m_geometry[id].height + m_spacing.rowGap;
            any = true;
        }
    }

    /// What is neither the U nor a head (a target's Rescale) sits in a band
    /// above the U, just left of the column it feeds.
    void placeSide() {
        std::vector<NodeId> side;
        for (NodeId id : m_levels.order)
            if (part(id) == UPart::Side)
                side.push_back(id);
        if (side.empty())
            return;
        const double bandBottom = topOfU() - 2 * m_spacing.levelGap;
        std::unordered_map<int, double> columnTop; // column → top of its lowest side node
        std::unordered_map<NodeId, int> sideColumn;
        for (auto it = side.rbegin(); it != side.rend(); ++it) {
            const NodeId id = *it;
            int c = m_lastColumn + 1;
            bool fed = false;
            for (const Edge* e : m_outOf[id]) {
                const NodeId to = e->to.node;
                int tc = m_lastColumn + 1;
                if (auto s = sideColumn.find(to); s != sideColumn.end())
                    tc = s->second;
                else if (auto m = m_column.find(to); m != m_column.end())
                    tc = m->second;
                c = fed ? std::min(c, tc) : tc;
                fed = true;
            }
            c = std::max(0, c - 1);
            sideColumn[id] = c;
            const double h = m_geometry[id].height;
            double y = bandBottom - h;
            if (auto t = columnTop.find(c); t != columnTop.end())
                y = t->second - m_spacing.rowGap - h;
            m_pos[id] = {x(c), std::round(y)};
            columnTop[c] = y;
        }
    }

    double topOfU() const {
        double top = std::numeric_limits<double>::infinity();
        for (const auto& [id, p] : m_pos)
            if (part(id) != UPart::Side)
                top = std::min(top, p.y);
        return std::isfinite(top) ? top : 0;
    }

    const Graph& m_graph;
    const ResolutionLevels& m_levels;
    const std::unordered_map<NodeId, UPart>& m_parts;
    const LayoutSpacing& m_spacing;
    std::unordered_map<NodeId, NodeGeometry> m_geometry;
    std::unordered_map<NodeId, std::vector<const Edge*>> m_into, m_outOf;
    std::unordered_map<NodeId, int> m_column;
    std::unordered_map<NodeId, int> m_row; ///< row nodes: their level
    std::unordered_map<NodeId, int> m_gap; ///< gap nodes: the level whose gap below holds them
    int m_lastColumn = 0;
    int m_levelGaps = 0;
    std::map<NodeId, Point> m_pos;
};

/// Width over height a U is spread towards (screens are 16:9 to 16:10; the
/// docks take some of the width).
constexpr double kTargetAspect = 2.5;
constexpr double kMaxLevelGap = 300;

/// Width and height of the laid-out nodes.
std::pair<double, double> extentOf(const Graph& graph, const std::map<NodeId, Point>& positions) {
    double left = 0, top = 0, right = 0, bottom = 0;
    bool first = true;
    for (const auto& [id, p] : positions) {
        const Rect r = nodeGeometry(*graph.findNode(id)).rectAt(p);
        left = first ? r.x : std::min(left, r.x);
        top = first ? r.y : std::min(top, r.y);
        right = first ? r.right() : std::max(right, r.right());
        bottom = first ? r.bottom() : std::max(bottom, r.bottom());
        first = false;
    }
    return {right - left, bottom - top};
}

} // namespace

GraphLayout computeLayout(const Graph& graph, const CheckResult& check,
                          const LayoutSpacing& spacing) {
    GraphLayout layout;
    const ResolutionLevels levels = resolutionLevels(graph, check);
    if (auto parts = classifyUShape(graph, levels)) {
        ULayout u(graph, levels, *parts, spacing);
        layout.positions = u.run();
        layout.uShaped = true;
        // A U is much wider than tall (a node per column, a row per level), so
        // the screen it is fitted to has height to spare: spend some between
        // the levels, where it makes the U read as one and the level-changing
        // nodes stand clear, up to a limit.
        const auto [width, height] = extentOf(graph, layout.positions);
        const double wanted = width / kTargetAspect;
        const int gaps = u.levelGaps();
        if (gaps > 0 && height < wanted) {
            LayoutSpacing roomier = spacing;
            roomier.levelGap =
                std::min(kMaxLevelGap, spacing.levelGap + (wanted - height) / (2.0 * gaps));
            layout.positions = ULayout(graph, levels, *parts, roomier).run();
        }
    } else {
        layout.positions = layeredLayout(graph, levels.order, spacing);
    }
    return layout;
}

EditScript movesTo(const Graph& graph, const std::map<NodeId, Point>& positions) {
    EditScript moves;
    for (const auto& [id, p] : positions) {
        const Node* n = graph.findNode(id);
        if (n && !(n->position == p))
            moves.push_back(MoveNodeEdit{id, p});
    }
    return moves;
}

CheckResult checkTypesForLayout(const Graph& graph) {
    CheckOptions options;
    options.diagnoseInputSize = false; // the sweep explains errors; the layout needs only the types
    options.requireLoss = false;
    options.verifyFixes = false;
    return checkGraph(graph, options);
}

EditScript layoutGraph(const Graph& graph, const CheckResult& check, const LayoutSpacing& spacing) {
    return movesTo(graph, computeLayout(graph, check, spacing).positions);
}

EditScript layoutGraph(const Graph& graph) {
    return layoutGraph(graph, checkTypesForLayout(graph));
}

} // namespace segforge::core
