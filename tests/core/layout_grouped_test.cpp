// Collapsed groups laid out as the block picture of a U-Net: one box per
// level group, the encoder stacked down the left, the decoder up the right,
// nothing overlapping, and the whole network readable on a laptop screen.
#include "check/checker.hpp"
#include "layout/grouped_layout.hpp"
#include "templates/unet_template.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

namespace {

Graph unet(int depth, bool batchnorm) {
    UNetOptions o;
    o.depth = depth;
    o.batchnorm = batchnorm;
    return std::get<Project>(makeUNetProject(o)).graph;
}

std::map<GroupId, bool> all(const Graph& g, bool collapsed) {
    std::map<GroupId, bool> out;
    for (const auto& [id, group] : g.groups())
        out[id] = collapsed;
    return out;
}

const Group& groupNamed(const Graph& g, const std::string& name) {
    for (const auto& [id, group] : g.groups()) {
        if (group.name == name)
            return group;
    }
    throw std::runtime_error("no group " + name);
}

/// What the canvas shows: a box per collapsed group, a node box per other node.
std::vector<std::pair<std::string, Rect>> visibleRects(const Graph& g) {
    std::vector<std::pair<std::string, Rect>> out;
    std::set<GroupId> drawn;
    for (const auto& [id, node] : g.nodes()) {
        const GroupId gid = g.groupOf(id);
        const Group* group = g.findGroup(gid);
        if (group && group->collapsed) {
            if (drawn.insert(gid).second)
                out.push_back({group->name,
                               {node.position.x, node.position.y, kCollapsedGroupWidth,
                                collapsedGroupHeight(2)}});
            continue;
        }
        out.push_back({node.name, nodeGeometry(node).rectAt(node.position)});
    }
    return out;
}

Point boxOf(const Graph& g, const std::string& group) {
    return g.findNode(*groupNamed(g, group).members.begin())->position;
}

} // namespace

class GroupedLayout : public ::testing::TestWithParam<std::tuple<int, bool>> {};

TEST_P(GroupedLayout, CollapsedUNetIsABlockUThatFitsALaptopCanvas) {
    const auto [depth, batchnorm] = GetParam();
    Graph g = unet(depth, batchnorm);
    const double expandedZoom = fitZoom(g, 890, 640);
    EditScript collapse = setGroupsCollapsedScript(g, all(g, true));
    ASSERT_FALSE(collapse.empty());
    ASSERT_TRUE(applyEdits(g, collapse).ok);

    // Nothing drawn overlaps.
    const auto rects = visibleRects(g);
    for (std::size_t i = 0; i < rects.size(); ++i) {
        for (std::size_t j = i + 1; j < rects.size(); ++j)
            EXPECT_FALSE(rects[i].second.intersects(rects[j].second))
                << rects[i].first << " overlaps " << rects[j].first;
    }
    // Every member of a collapsed group sits at its box's corner.
    for (const auto& [id, group] : g.groups()) {
        for (NodeId m : group.members)
            EXPECT_EQ(g.findNode(m)->position, boxOf(g, group.name)) << group.name;
    }
    // The U: each encoder block left of and level with its decoder block, each
    // level below the one above, the bottleneck lowest and between the sides.
    double lastY = -1e9;
    for (int level = 1; level <= depth; ++level) {
        const Point enc = boxOf(g, "enc" + std::to_string(level));
        const Point dec = boxOf(g, "dec" + std::to_string(level));
        EXPECT_LT(enc.x + kCollapsedGroupWidth, dec.x) << "level " << level;
        EXPECT_DOUBLE_EQ(enc.y, dec.y) << "level " << level;
        EXPECT_GT(enc.y, lastY) << "level " << level;
        lastY = enc.y;
    }
    const Point bottom = boxOf(g, "bottleneck");
    EXPECT_GT(bottom.y, lastY);
    EXPECT_GT(bottom.x, boxOf(g, "enc1").x);
    EXPECT_LT(bottom.x, boxOf(g, "dec1").x);

    // Readable on a 1280×720 window's canvas: far closer than the expanded network.
    const double collapsedZoom = fitZoom(g, 890, 640);
    EXPECT_GE(collapsedZoom, 0.3);
    EXPECT_GT(collapsedZoom, 2.5 * expandedZoom);
}

INSTANTIATE_TEST_SUITE_P(Templates, GroupedLayout,
                         ::testing::Combine(::testing::Values(3, 4, 5), ::testing::Bool()));

TEST(GroupedLayoutScripts, ExpandingLaysTheMembersOutAgainAndUndoRestores) {
    Graph g = unet(4, false);
    const Graph original = g;
    ASSERT_TRUE(applyEdits(g, setGroupsCollapsedScript(g, all(g, true))).ok);
    const Graph collapsed = g;
    const GroupId enc2 = groupNamed(g, "enc2").id;
    EditOutcome expand = applyEdits(g, setGroupsCollapsedScript(g, {{enc2, false}}));
    ASSERT_TRUE(expand.ok) << expand.error;
    EXPECT_FALSE(g.findGroup(enc2)->collapsed);
    // enc2's members are spread out again, overlapping nothing drawn.
    const auto rects = visibleRects(g);
    for (std::size_t i = 0; i < rects.size(); ++i) {
        for (std::size_t j = i + 1; j < rects.size(); ++j)
            EXPECT_FALSE(rects[i].second.intersects(rects[j].second))
                << rects[i].first << " overlaps " << rects[j].first;
    }
    ASSERT_TRUE(applyEdits(g, expand.inverse).ok);
    EXPECT_TRUE(g == collapsed);
    // Expanding everything gives the full layout back, the same as the template's own.
    ASSERT_TRUE(applyEdits(g, setGroupsCollapsedScript(g, all(g, false))).ok);
    for (const auto& [id, group] : g.groups())
        EXPECT_FALSE(group.collapsed);
    EXPECT_TRUE(sameNetwork(g, original));
}

TEST(GroupedLayoutScripts, NothingToChangeIsAnEmptyScript) {
    Graph g = unet(3, false);
    EXPECT_TRUE(setGroupsCollapsedScript(g, all(g, false)).empty());
    EXPECT_TRUE(setGroupsCollapsedScript(g, {{987654, true}}).empty());
}

TEST(GroupedLayoutScripts, WithoutCollapsedGroupsItIsTheFullLayout) {
    const Graph g = unet(4, true);
    CheckOptions options;
    options.requireLoss = false;
    const CheckResult check = checkGraph(g, options);
    EXPECT_EQ(computeGroupedLayout(g, check).positions, computeLayout(g, check).positions);
}

TEST(GroupedLayoutScripts, OneExpandedLevelAmongCollapsedOnesStaysOnItsRow) {
    Graph g = unet(4, false);
    ASSERT_TRUE(applyEdits(g, setGroupsCollapsedScript(g, all(g, true))).ok);
    const GroupId enc2 = groupNamed(g, "enc2").id;
    ASSERT_TRUE(applyEdits(g, setGroupsCollapsedScript(g, {{enc2, false}})).ok);
    // enc2's members, its pooling included, stay level with each other and
    // clear of the enc3 box below.
    const auto& members = groupNamed(g, "enc2").members;
    const double rowY = g.findNode(*members.begin())->position.y;
    double bottom = -1e18;
    for (NodeId m : members) {
        const Node& n = *g.findNode(m);
        EXPECT_DOUBLE_EQ(n.position.y, rowY) << n.name << " is off enc2's row";
        bottom = std::max(bottom, nodeGeometry(n).rectAt(n.position).bottom());
    }
    EXPECT_GT(rowY, boxOf(g, "enc1").y);
    EXPECT_LT(bottom, boxOf(g, "enc3").y);
}
