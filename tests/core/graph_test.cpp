#include "graph/graph.hpp"
#include "graph/graph_edit.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

TEST(Graph, IdsAreStableAndNeverReused) {
    Graph g;
    NodeId a = g.addNode("Input", "a");
    NodeId b = g.addNode("Conv2D", "b");
    EXPECT_EQ(a, 1);
    EXPECT_EQ(b, 2);
    g.removeNode(b);
    EXPECT_EQ(g.addNode("Conv2D", "c"), 3);
}

TEST(Graph, RemoveNodeDropsItsEdges) {
    Graph g;
    NodeId a = g.addNode("Input", "a");
    NodeId b = g.addNode("Conv2D", "b");
    NodeId c = g.addNode("Conv2D", "c");
    ASSERT_TRUE(g.connect({a, "output"}, {b, "input"}));
    ASSERT_TRUE(g.connect({b, "output"}, {c, "input"}));
    EXPECT_FALSE(g.connect({b, "output"}, {c, "input"}));  // duplicate
    EXPECT_FALSE(g.connect({a, "output"}, {99, "input"})); // missing node
    g.removeNode(b);
    EXPECT_TRUE(g.edges().empty());
}

TEST(Graph, TopologicalOrderAndCycles) {
    Graph g;
    NodeId a = g.addNode("Input", "a");
    NodeId b = g.addNode("Conv2D", "b");
    NodeId c = g.addNode("Conv2D", "c");
    g.connect({a, "output"}, {c, "input"});
    g.connect({c, "output"}, {b, "input"});
    auto order = g.topologicalOrder();
    ASSERT_TRUE(order);
    EXPECT_EQ(*order, (std::vector<NodeId>{a, c, b}));
    EXPECT_TRUE(g.findCycle().empty());
    g.connect({b, "output"}, {c, "other"});
    EXPECT_FALSE(g.topologicalOrder());
    EXPECT_EQ(g.findCycle(), (std::vector<NodeId>{c, b}));
}

TEST(Graph, LongChainDoesNotOverflowTheStack) {
    Graph g;
    NodeId prev = g.addNode("Input", "in");
    for (int i = 0; i < 20000; ++i) {
        NodeId n = g.addNode("Dropout", "d" + std::to_string(i));
        g.connect({prev, "output"}, {n, "input"});
        prev = n;
    }
    EXPECT_TRUE(g.findCycle().empty());
    EXPECT_EQ(g.topologicalOrder()->size(), 20001u);
}

TEST(Graph, UniqueNames) {
    Graph g;
    g.addNode("Conv2D", "conv");
    g.addNode("Conv2D", "conv_2");
    EXPECT_EQ(g.uniqueName("conv"), "conv_3");
    EXPECT_EQ(g.uniqueName("pool"), "pool");
}

TEST(GraphEdit, EveryEditIsUndoneByItsInverse) {
    Graph g;
    NodeId a = g.addNode("Input", "a", {{"height", std::int64_t{8}}}, {10, 20});
    NodeId b = g.addNode("Conv2D", "b");
    g.connect({a, "output"}, {b, "input"});
    const Graph original = g;

    Node extra;
    extra.id = g.nextNodeId();
    extra.op = "Dropout";
    extra.name = "drop";
    EditScript script{
        SetAttributeEdit{a, "height", AttrValue{std::int64_t{16}}},
        SetAttributeEdit{b, "filters", AttrValue{std::int64_t{4}}},
        MoveNodeEdit{a, {1, 2}},
        RenameNodeEdit{b, "conv"},
        SetOpEdit{b, "Conv2DTranspose"},
        AddNodeEdit{extra},
        ConnectEdit{{{b, "output"}, {extra.id, "input"}}},
        RemoveNodeEdit{a},
    };
    EditOutcome done = applyEdits(g, script);
    ASSERT_TRUE(done.ok) << done.error;
    EXPECT_FALSE(g == original);
    EXPECT_EQ(g.nodeCount(), 2u);

    EditOutcome undone = applyEdits(g, done.inverse);
    ASSERT_TRUE(undone.ok) << undone.error;
    EXPECT_TRUE(g == original);
    // Redo = the inverse of the inverse.
    ASSERT_TRUE(applyEdits(g, undone.inverse).ok);
    EXPECT_EQ(g.nodeCount(), 2u);
    EXPECT_EQ(g.findNode(b)->name, "conv");
}

TEST(GraphEdit, FailingScriptLeavesGraphUnchanged) {
    Graph g;
    NodeId a = g.addNode("Input", "a");
    NodeId b = g.addNode("Conv2D", "b");
    const Graph original = g;
    EditScript script{ConnectEdit{{{a, "output"}, {b, "input"}}}, RemoveNodeEdit{42}};
    EditOutcome r = applyEdits(g, script);
    EXPECT_FALSE(r.ok);
    EXPECT_NE(r.error.find("edit 2"), std::string::npos) << r.error;
    EXPECT_TRUE(g == original);
}

TEST(GraphEdit, InsertNodeOnEdgeSplicesAndPlacesBetween) {
    Graph g;
    NodeId a = g.addNode("Input", "a", {}, {0, 0});
    NodeId b = g.addNode("Conv2D", "b", {}, {200, 0});
    g.connect({a, "output"}, {b, "input"});
    Node n;
    n.op = "Cast";
    n.name = "a"; // taken: must be renamed
    EditScript s = insertNodeOnEdge(g, g.edges().front(), n, "input", "output");
    ASSERT_TRUE(applyEdits(g, s).ok);
    const Node* cast = g.findNodeByName("a_2");
    ASSERT_NE(cast, nullptr);
    EXPECT_DOUBLE_EQ(cast->position.x, 100);
    EXPECT_TRUE(g.producerOf({cast->id, "input"}) == (PortRef{a, "output"}));
    EXPECT_TRUE(g.producerOf({b, "input"}) == (PortRef{cast->id, "output"}));
}

TEST(Graph, DownstreamOfFollowsConsumersOnly) {
    Graph g;
    const NodeId a = g.addNode("Input", "a");
    const NodeId b = g.addNode("Conv2D", "b");
    const NodeId c = g.addNode("Conv2D", "c");
    const NodeId d = g.addNode("Concatenate", "d");
    const NodeId side = g.addNode("Input", "side");
    g.connect({a, "output"}, {b, "input"});
    g.connect({b, "output"}, {c, "input"});
    g.connect({c, "output"}, {d, "input_0"});
    g.connect({side, "output"}, {d, "input_1"});
    EXPECT_EQ(g.downstreamOf(b), (std::unordered_set<NodeId>{b, c, d}));
    EXPECT_EQ(g.downstreamOf(side), (std::unordered_set<NodeId>{side, d}));
    EXPECT_EQ(g.downstreamOf(d), (std::unordered_set<NodeId>{d}));
}

TEST(Graph, SameNetworkIgnoresPositionsButNotAttributes) {
    Graph a;
    const NodeId x = a.addNode("Conv2D", "x", {{"filters", std::int64_t{8}}}, {0, 0});
    Graph b = a;
    b.findNode(x)->position = {100, 50};
    EXPECT_TRUE(sameNetwork(a, b));
    EXPECT_FALSE(a == b);
    b.findNode(x)->attrs["filters"] = std::int64_t{16};
    EXPECT_FALSE(sameNetwork(a, b));
}
