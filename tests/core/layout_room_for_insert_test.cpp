// withRoomFor: a fix's inserted node lands on its wire, overlapping nothing,
// and the nodes after it move right in the same script (one undo step).

#include "check/checker.hpp"
#include "layout/room_for_insert.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace segforge::core;
namespace fs = std::filesystem;

namespace {

std::vector<std::string> overlaps(const Graph& g) {
    std::vector<std::string> out;
    std::vector<std::pair<const Node*, Rect>> rects;
    for (const auto& [id, n] : g.nodes())
        rects.emplace_back(&n, nodeGeometry(n).rectAt(n.position));
    for (std::size_t i = 0; i < rects.size(); ++i)
        for (std::size_t j = i + 1; j < rects.size(); ++j)
            if (rects[i].second.intersects(rects[j].second))
                out.push_back(rects[i].first->name + " / " + rects[j].first->name);
    return out;
}

std::vector<NodeId> addedBy(const EditScript& script) {
    std::vector<NodeId> ids;
    for (const GraphEdit& e : script)
        if (const auto* add = std::get_if<AddNodeEdit>(&e))
            ids.push_back(add->node.id);
    return ids;
}

/// Applies every fix of every diagnostic of `g` (each on its own copy) with
/// room made, and checks what the issue asks. Returns how many fixes inserted a node.
int checkEveryFix(const Graph& g, const std::string& label) {
    const bool cleanBefore = overlaps(g).empty();
    const CheckResult check = checkGraph(g);
    int inserting = 0;
    for (const Diagnostic& d : check.diagnostics)
        for (const FixIt& fix : d.fixes) {
            SCOPED_TRACE(label + ": " + d.code + ": " + fix.description);
            const EditScript script = withRoomFor(g, fix.edits);
            Graph after = g;
            const EditOutcome outcome = applyEdits(after, script);
            EXPECT_TRUE(outcome.ok) << outcome.error;
            if (!outcome.ok)
                continue;
            for (NodeId id : addedBy(script)) {
                ++inserting;
                const Node& n = *after.findNode(id);
                const Rect r = nodeGeometry(n).rectAt(n.position);
                for (const auto& [other, o] : after.nodes()) {
                    if (other != id) {
                        EXPECT_FALSE(r.intersects(nodeGeometry(o).rectAt(o.position)))
                            << n.name << " lands on " << o.name;
                    }
                }
                // On its wire: right of its producer, left of its consumers.
                for (const Edge& e : after.edgesOf(id)) {
                    if (e.to.node == id)
                        EXPECT_LT(after.findNode(e.from.node)->position.x, n.position.x);
                    else
                        EXPECT_LT(n.position.x, after.findNode(e.to.node)->position.x);
                }
            }
            if (cleanBefore) {
                EXPECT_EQ(overlaps(after), std::vector<std::string>{});
            }
            // One step back: the inverse restores every position.
            Graph undone = after;
            EXPECT_TRUE(applyEdits(undone, outcome.inverse).ok);
            EXPECT_TRUE(undone == g);
            for (const auto& [id, n] : g.nodes())
                EXPECT_EQ(undone.findNode(id)->position, n.position) << n.name;
        }
    return inserting;
}

TEST(LayoutRoomForInsert, EveryFixOfTheFixtureProjects) {
    int inserting = 0;
    for (const auto& entry : fs::directory_iterator(fs::path(SEGFORGE_RESOURCES) / "projects")) {
        if (entry.path().extension() != ".segforge")
            continue;
        const ProjectLoad load = loadProject(entry.path());
        ASSERT_TRUE(load.ok()) << entry.path();
        inserting += checkEveryFix(load.project->graph, entry.path().filename().string());
    }
    EXPECT_GE(inserting, 4) << "keras_mistakes alone inserts Rescale, Cast, Cast and Cropping2D";
}

/// The sample U-Net with its image Rescale removed: the fix inserts one on the
/// crowded first row of the U, so the whole encoder row must move right.
TEST(LayoutRoomForInsert, InsertOnACrowdedRowMovesTheRowRight) {
    UNetOptions o;
    o.depth = 3;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    const NodeId scale = g.findNodeByName("scale_image")->id;
    const NodeId data = g.findNodeByName("data")->id;
    const NodeId conv = g.findNodeByName("enc1_conv1")->id;
    g.removeNode(scale);
    g.connect({data, "image"}, {conv, "input"});
    // Close the gap the Rescale left: no room at all between the data and the row.
    g.findNode(conv)->position.x =
        g.findNode(data)->position.x + node_metrics::kWidth + LayoutSpacing{}.columnGap;
    const double convXBefore = g.findNode(conv)->position.x;
    EXPECT_GT(checkEveryFix(g, "unet without rescale"), 0);

    const CheckResult check = checkGraph(g);
    const auto found = check.find("dtype-mismatch");
    ASSERT_FALSE(found.empty());
    const EditScript script = withRoomFor(g, found.front()->fixes.front().edits);
    Graph after = g;
    ASSERT_TRUE(applyEdits(after, script).ok);
    const NodeId inserted = addedBy(script).front();
    const Node& n = *after.findNode(inserted);
    // In line with the wire from the data: its input port level with data.image.
    const NodeGeometry dg = nodeGeometry(*after.findNode(data));
    EXPECT_DOUBLE_EQ(n.position.y + nodeGeometry(n).inputOffset("input")->y,
                     after.findNode(data)->position.y + dg.outputOffset("image")->y);
    EXPECT_GT(after.findNode(conv)->position.x, convXBefore) << "the row moved right";
    // The rest of the U keeps its shape: no wire that ran rightwards turns back.
    for (const Edge& e : g.edges()) {
        if (e.to.node == conv && e.from.node == data)
            continue; // the wire the fix replaced
        const bool rightwards =
            g.findNode(e.from.node)->position.x < g.findNode(e.to.node)->position.x;
        if (rightwards) {
            EXPECT_LT(after.findNode(e.from.node)->position.x,
                      after.findNode(e.to.node)->position.x)
                << after.findNode(e.from.node)->name << " → " << after.findNode(e.to.node)->name;
        }
    }
    // The skip of the first level still runs straight.
    const Node& skipFrom = *after.findNode(after.findNodeByName("enc1_conv2")->id);
    const Node& skipTo = *after.findNode(after.findNodeByName("dec1_concat")->id);
    EXPECT_DOUBLE_EQ(skipFrom.position.y + 54, skipTo.position.y + 54);
    EXPECT_LT(skipFrom.position.x, skipTo.position.x);
}

TEST(LayoutRoomForInsert, FixesOneAfterAnotherNeverPileUp) {
    // As a user clicking Fix down the diagnostics list: each inserted node
    // finds its own place beside the ones inserted before it.
    const ProjectLoad load =
        loadProject(fs::path(SEGFORGE_RESOURCES) / "projects" / "keras_mistakes.segforge");
    ASSERT_TRUE(load.ok());
    Graph g = load.project->graph;
    int applied = 0;
    for (int round = 0; round < 6; ++round) {
        const CheckResult check = checkGraph(g);
        const FixIt* first = nullptr;
        for (const Diagnostic& d : check.diagnostics)
            if (!d.fixes.empty() && !first)
                first = &d.fixes.front();
        if (!first)
            break;
        ASSERT_TRUE(applyEdits(g, withRoomFor(g, first->edits)).ok);
        ++applied;
        EXPECT_EQ(overlaps(g), std::vector<std::string>{})
            << "after fix " << applied << ": " << first->description;
    }
    EXPECT_GE(applied, 3);
}

TEST(LayoutRoomForInsert, ScriptsThatAddNothingComeBackUnchanged) {
    Graph g;
    const NodeId a = g.addNode("Conv2D", "a");
    const EditScript script{SetAttributeEdit{a, "filters", AttrValue{std::int64_t{4}}}};
    EXPECT_EQ(withRoomFor(g, script).size(), 1u);
    const EditScript broken{RemoveNodeEdit{999}};
    EXPECT_EQ(withRoomFor(g, broken).size(), 1u);
}

} // namespace
