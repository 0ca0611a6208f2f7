// The editor's commands as pure edit scripts: connect (replacing), delete a
// selection, copy and paste — applied to a graph and undone, without Qt.
#include "graph/edit_scripts.hpp"
#include "graph/group_script.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

namespace {

struct Chain {
    Graph g;
    NodeId a, b, c;
    Chain() {
        a = g.addNode("Input", "in", {}, {0, 0});
        b = g.addNode("Conv2D", "conv", {}, {200, 40});
        c = g.addNode("Activation", "act", {}, {400, 80});
        g.connect({a, "output"}, {b, "input"});
        g.connect({b, "output"}, {c, "input"});
    }
};

void applyAndUndo(Graph& g, const EditScript& script, const Graph& expectedAfter) {
    const Graph before = g;
    EditOutcome done = applyEdits(g, script);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_TRUE(g == expectedAfter);
    EditOutcome undone = applyEdits(g, done.inverse);
    ASSERT_TRUE(undone.ok) << undone.error;
    EXPECT_TRUE(g == before);
}

} // namespace

TEST(EditScripts, ConnectReplacingDisconnectsTheOldProducer) {
    Chain t;
    EditScript s = connectReplacing(t.g, {t.a, "output"}, {t.c, "input"});
    Graph expected = t.g;
    expected.disconnect({{t.b, "output"}, {t.c, "input"}});
    expected.connect({t.a, "output"}, {t.c, "input"});
    ASSERT_EQ(s.size(), 2u);
    applyAndUndo(t.g, s, expected);
}

TEST(EditScripts, ConnectingAnExistingWireIsNothingToDo) {
    Chain t;
    EXPECT_TRUE(connectReplacing(t.g, {t.a, "output"}, {t.b, "input"}).empty());
}

TEST(EditScripts, ConnectingAFreeInputOnlyConnects) {
    Chain t;
    NodeId d = t.g.addNode("Activation", "act2");
    EditScript s = connectReplacing(t.g, {t.b, "output"}, {d, "input"});
    ASSERT_EQ(s.size(), 1u);
    EXPECT_TRUE(std::holds_alternative<ConnectEdit>(s[0]));
}

TEST(EditScripts, RemoveSelectionTakesNodesWithTheirWiresAndListsEachWireOnce) {
    Chain t;
    const Edge ab{{t.a, "output"}, {t.b, "input"}};
    const Edge bc{{t.b, "output"}, {t.c, "input"}};
    // bc belongs to the deleted node b, ab is listed twice: one RemoveNode only.
    EditScript s = removeSelection(t.g, {t.b, 999}, {bc, ab, ab});
    Graph expected = t.g;
    expected.removeNode(t.b);
    ASSERT_EQ(s.size(), 1u);
    applyAndUndo(t.g, s, expected);
}

TEST(EditScripts, RemoveSelectionOfWiresOnly) {
    Chain t;
    const Edge ab{{t.a, "output"}, {t.b, "input"}};
    const Edge missing{{t.a, "output"}, {t.c, "input"}};
    EditScript s = removeSelection(t.g, {}, {ab, missing});
    Graph expected = t.g;
    expected.disconnect(ab);
    ASSERT_EQ(s.size(), 1u);
    applyAndUndo(t.g, s, expected);
}

TEST(EditScripts, ExtractSubgraphKeepsOnlyInnerWires) {
    Chain t;
    Graph sub = extractSubgraph(t.g, {t.b, t.c});
    EXPECT_EQ(sub.nodeCount(), 2u);
    ASSERT_EQ(sub.edges().size(), 1u);
    EXPECT_EQ(sub.edges()[0].from.node, t.b);
    EXPECT_EQ(sub.findNode(t.b)->name, "conv");
    EXPECT_DOUBLE_EQ(sub.findNode(t.c)->position.y, 80);
}

TEST(EditScripts, PasteGivesFreshIdsUniqueNamesAndKeepsTheShapeAtTheOrigin) {
    Chain t;
    Graph clip = extractSubgraph(t.g, {t.b, t.c});
    PasteScript p = pasteSubgraph(t.g, clip, {1000, 500});
    ASSERT_EQ(p.ids.size(), 2u);
    Graph g = t.g;
    EditOutcome done = applyEdits(g, p.edits);
    ASSERT_TRUE(done.ok) << done.error;
    ASSERT_EQ(g.nodeCount(), 5u);
    const Node* conv = g.findNode(p.ids.at(t.b));
    const Node* act = g.findNode(p.ids.at(t.c));
    ASSERT_TRUE(conv && act);
    EXPECT_NE(conv->id, t.b);
    EXPECT_EQ(conv->name, "conv_2");
    EXPECT_EQ(act->name, "act_2");
    // The clip's top-left (200, 40) lands on the origin; relative offsets stay.
    EXPECT_DOUBLE_EQ(conv->position.x, 1000);
    EXPECT_DOUBLE_EQ(conv->position.y, 500);
    EXPECT_DOUBLE_EQ(act->position.x, 1200);
    EXPECT_DOUBLE_EQ(act->position.y, 540);
    EXPECT_EQ(g.edgesInto({act->id, "input"}).size(), 1u);
    EXPECT_EQ(g.edgesInto({act->id, "input"})[0].from.node, conv->id);
    // Undo removes exactly what was pasted.
    ASSERT_TRUE(applyEdits(g, done.inverse).ok);
    EXPECT_TRUE(g == t.g);
}

TEST(EditScripts, PastingNothingAddsNothing) {
    Chain t;
    EXPECT_TRUE(pasteSubgraph(t.g, Graph{}, {0, 0}).edits.empty());
}

TEST(EditScripts, RemoveSelectionDropsTheGroupsItEmpties) {
    Chain t;
    ASSERT_TRUE(applyEdits(t.g, groupNodesScript(t.g, {t.b, t.c}, "block")).ok);
    ASSERT_EQ(t.g.groups().size(), 1u);
    Graph expected = t.g;
    EditScript s = removeSelection(t.g, {t.b, t.c}, {});
    Graph g = t.g;
    EditOutcome done = applyEdits(g, s);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_EQ(g.nodeCount(), 1u);
    EXPECT_TRUE(g.groups().empty());
    ASSERT_TRUE(applyEdits(g, done.inverse).ok);
    EXPECT_TRUE(g == expected); // the group comes back with its members
}
