// Groups in the graph: the one-group-per-node rule, invertible group edits,
// the scripts the UI sends (group, ungroup, remove nodes) and the boundary a
// collapsed group shows.

#include "graph/graph.hpp"
#include "graph/graph_edit.hpp"
#include "graph/group_boundary.hpp"
#include "graph/group_script.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

namespace {

/// in → a → b → c → out, with b also feeding out2: a three-node middle to group.
struct Chain {
    Graph g;
    NodeId in, a, b, c, out, out2;
    Chain() {
        in = g.addNode("Input", "in", {}, {0, 0});
        a = g.addNode("Conv2D", "a", {}, {100, 0});
        b = g.addNode("Conv2D", "b", {}, {200, 0});
        c = g.addNode("Conv2D", "c", {}, {300, 0});
        out = g.addNode("Conv2D", "out", {}, {400, 0});
        out2 = g.addNode("Conv2D", "out2", {}, {400, 100});
        g.connect({in, "output"}, {a, "input"});
        g.connect({a, "output"}, {b, "input"});
        g.connect({b, "output"}, {c, "input"});
        g.connect({c, "output"}, {out, "input"});
        g.connect({b, "output"}, {out2, "input"});
    }
};

/// Applies `script`, then its inverse, and checks the graph is back where it was.
Graph applyAndUndo(Graph& g, const EditScript& script) {
    const Graph before = g;
    EditOutcome done = applyEdits(g, script);
    EXPECT_TRUE(done.ok) << done.error;
    Graph after = g;
    EditOutcome undone = applyEdits(g, done.inverse);
    EXPECT_TRUE(undone.ok) << undone.error;
    EXPECT_TRUE(g == before);
    return after;
}

} // namespace

TEST(Group, ANodeBelongsToAtMostOneGroup) {
    Chain c;
    const GroupId first = c.g.addGroup({kNoGroup, "first", {c.a, c.b}, false});
    const GroupId second = c.g.addGroup({kNoGroup, "second", {c.b, c.c, 999}, false});
    EXPECT_EQ(c.g.findGroup(first)->members, (std::set<NodeId>{c.a}));
    EXPECT_EQ(c.g.findGroup(second)->members, (std::set<NodeId>{c.b, c.c})); // 999 does not exist
    EXPECT_EQ(c.g.groupOf(c.b), second);
    EXPECT_EQ(c.g.groupOf(c.in), kNoGroup);
    EXPECT_EQ(c.g.nextGroupId(), second + 1);
}

TEST(Group, RemovingANodeTakesItOutOfItsGroup) {
    Chain c;
    const GroupId id = c.g.addGroup({kNoGroup, "mid", {c.a, c.b}, false});
    c.g.removeNode(c.a);
    EXPECT_EQ(c.g.findGroup(id)->members, (std::set<NodeId>{c.b}));
}

TEST(Group, EqualityComparesGroupsButSameNetworkIgnoresThem) {
    Chain c;
    Graph grouped = c.g;
    grouped.addGroup({kNoGroup, "mid", {c.a, c.b}, true});
    EXPECT_FALSE(grouped == c.g);
    EXPECT_TRUE(sameNetwork(grouped, c.g));
    Graph collapsedDifferently = grouped;
    collapsedDifferently.findGroup(1)->collapsed = false;
    EXPECT_FALSE(collapsedDifferently == grouped);
}

TEST(GroupEdit, EachEditAppliesAndInverts) {
    Chain c;
    Graph after = applyAndUndo(c.g, {AddGroupEdit{{7, "mid", {c.a, c.b}, false}}});
    ASSERT_NE(after.findGroup(7), nullptr);
    EXPECT_EQ(after.findGroup(7)->members, (std::set<NodeId>{c.a, c.b}));
    EXPECT_EQ(after.nextGroupId(), 8);

    ASSERT_TRUE(applyEdits(c.g, {AddGroupEdit{{7, "mid", {c.a, c.b}, false}}}).ok);
    after = applyAndUndo(c.g, {RenameGroupEdit{7, "block"}});
    EXPECT_EQ(after.findGroup(7)->name, "block");
    after = applyAndUndo(c.g, {SetGroupCollapsedEdit{7, true}});
    EXPECT_TRUE(after.findGroup(7)->collapsed);
    after = applyAndUndo(c.g, {SetGroupMembersEdit{7, {c.b, c.c}}});
    EXPECT_EQ(after.findGroup(7)->members, (std::set<NodeId>{c.b, c.c}));
    after = applyAndUndo(c.g, {RemoveGroupEdit{7}});
    EXPECT_EQ(after.findGroup(7), nullptr);
    EXPECT_TRUE(after.hasNode(c.a)); // ungrouping keeps the nodes
}

TEST(GroupEdit, RemovingAGroupedNodeIsUndoneWithItsMembership) {
    Chain c;
    ASSERT_TRUE(applyEdits(c.g, {AddGroupEdit{{1, "mid", {c.a, c.b, c.c}, false}}}).ok);
    // Two members removed in one script: undo must put both back into the group.
    Graph after = applyAndUndo(c.g, {RemoveNodeEdit{c.a}, RemoveNodeEdit{c.b}});
    EXPECT_EQ(after.findGroup(1)->members, (std::set<NodeId>{c.c}));
    EXPECT_EQ(c.g.findGroup(1)->members, (std::set<NodeId>{c.a, c.b, c.c}));
    EXPECT_EQ(c.g.groupOf(c.a), 1);
}

TEST(GroupEdit, InvalidEditsFailAndLeaveTheGraphUnchanged) {
    Chain c;
    ASSERT_TRUE(applyEdits(c.g, {AddGroupEdit{{1, "mid", {c.a, c.b}, false}}}).ok);
    const Graph before = c.g;
    struct Case {
        GraphEdit edit;
        std::string error;
    };
    const std::vector<Case> cases{
        {AddGroupEdit{{1, "again", {c.c}, false}}, "group id 1 is not free"},
        {AddGroupEdit{{2, "other", {c.b, c.c}, false}}, "'b' is already in group 'renamed'"},
        {AddGroupEdit{{2, "other", {42}, false}}, "no node 42"},
        {SetGroupMembersEdit{1, {c.a, 42}}, "no node 42"},
        {RemoveGroupEdit{5}, "no group 5"},
        {RenameGroupEdit{5, "x"}, "no group 5"},
        {SetGroupCollapsedEdit{5, true}, "no group 5"},
    };
    for (const Case& k : cases) {
        // A valid edit first, so the rollback is exercised too.
        EditOutcome outcome = applyEdits(c.g, {RenameGroupEdit{1, "renamed"}, k.edit});
        EXPECT_FALSE(outcome.ok) << describeEdit(c.g, k.edit);
        EXPECT_NE(outcome.error.find(k.error), std::string::npos) << outcome.error;
        EXPECT_TRUE(c.g == before) << describeEdit(c.g, k.edit);
    }
}

TEST(GroupEdit, DescribeNamesTheGroup) {
    Chain c;
    c.g.addGroup({3, "enc1", {c.a}, false});
    EXPECT_EQ(describeEdit(c.g, AddGroupEdit{{4, "dec1", {c.b, c.c}, false}}),
              "group 2 nodes as 'dec1'");
    EXPECT_EQ(describeEdit(c.g, RemoveGroupEdit{3}), "ungroup group 'enc1'");
    EXPECT_EQ(describeEdit(c.g, RenameGroupEdit{3, "x"}), "rename group 'enc1' to 'x'");
    EXPECT_EQ(describeEdit(c.g, SetGroupCollapsedEdit{3, true}), "collapse group 'enc1'");
    EXPECT_EQ(describeEdit(c.g, SetGroupCollapsedEdit{3, false}), "expand group 'enc1'");
    EXPECT_EQ(describeEdit(c.g, SetGroupMembersEdit{3, {c.a, c.b}}),
              "set the members of group 'enc1' (2 nodes)");
    EXPECT_EQ(describeEdit(c.g, RemoveGroupEdit{9}), "ungroup group #9");
}

TEST(GroupEdit, OnlyGroupAndMoveEditsArePresentation) {
    EXPECT_TRUE(isPresentationEdit(SetGroupCollapsedEdit{1, true}));
    EXPECT_TRUE(isPresentationEdit(AddGroupEdit{}));
    EXPECT_TRUE(isPresentationEdit(MoveNodeEdit{1, {0, 0}}));
    EXPECT_FALSE(isPresentationEdit(RemoveNodeEdit{1}));
    EXPECT_FALSE(isPresentationEdit(RenameNodeEdit{1, "x"}));
}

TEST(GroupScript, GroupingTakesNodesFromTheirOldGroupAndDropsEmptiedOnes) {
    Chain c;
    c.g.addGroup({1, "left", {c.a}, false});
    c.g.addGroup({2, "right", {c.b, c.c}, false});
    const EditScript script = groupNodesScript(c.g, {c.a, c.b, 999}, "left");
    Graph after = applyAndUndo(c.g, script);
    EXPECT_EQ(after.findGroup(1), nullptr); // emptied
    EXPECT_EQ(after.findGroup(2)->members, (std::set<NodeId>{c.c}));
    ASSERT_NE(after.findGroup(3), nullptr);
    EXPECT_EQ(after.findGroup(3)->name, "left_2"); // unique among groups
    EXPECT_EQ(after.findGroup(3)->members, (std::set<NodeId>{c.a, c.b}));
    EXPECT_TRUE(groupNodesScript(c.g, {999}, "x").empty());
}

TEST(GroupScript, UngroupAndRemoveNodes) {
    Chain c;
    c.g.addGroup({1, "mid", {c.a, c.b}, false});
    EXPECT_EQ(ungroupScript(c.g, 2).size(), 0u);
    Graph after = applyAndUndo(c.g, ungroupScript(c.g, 1));
    EXPECT_TRUE(after.groups().empty());
    EXPECT_EQ(after.nodeCount(), c.g.nodeCount());

    after = applyAndUndo(c.g, removeNodesScript(c.g, {c.a}));
    EXPECT_EQ(after.findGroup(1)->members, (std::set<NodeId>{c.b}));
    after = applyAndUndo(c.g, removeNodesScript(c.g, {c.a, c.b, c.in}));
    EXPECT_TRUE(after.groups().empty()); // the emptied group goes with its nodes
    EXPECT_EQ(after.nodeCount(), 3u);
}

TEST(GroupBoundary, ListsThePortsWiresCrossTopToBottom) {
    Chain c;
    const Group& mid = c.g.findGroup(c.g.addGroup({kNoGroup, "mid", {c.a, c.b, c.c}, false}))[0];
    const GroupBoundary boundary = groupBoundary(c.g, mid);
    EXPECT_EQ(boundary.inputs, (std::vector<PortRef>{{c.a, "input"}}));
    // b feeds out2 (outside), c feeds out: two output ports, b's above c's? Same y:
    // then by x, so b (x 200) before c (x 300).
    EXPECT_EQ(boundary.outputs, (std::vector<PortRef>{{c.b, "output"}, {c.c, "output"}}));
    EXPECT_EQ(boundary.crossing.size(), 3u); // in→a, b→out2, c→out; a→b, b→c are inside
}
