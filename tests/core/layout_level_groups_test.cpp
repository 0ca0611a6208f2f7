// Level groups found from the structure: what the template creates by name,
// found for imported and hand-built U-Nets from the inferred levels alone.
#include "keras/keras_import.hpp"
#include "layout/level_groups.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <gtest/gtest.h>

using namespace segforge::core;

namespace {

std::map<std::string, std::set<std::string>> groupsByName(const Graph& g) {
    std::map<std::string, std::set<std::string>> out;
    for (const auto& [id, group] : g.groups()) {
        for (NodeId m : group.members)
            out[group.name].insert(g.findNode(m)->name);
    }
    return out;
}

std::vector<std::string> groupOrder(const Graph& g) {
    std::vector<std::string> out;
    for (const auto& [id, group] : g.groups())
        out.push_back(group.name);
    return out;
}

Graph withoutGroups(Graph g) {
    std::vector<GroupId> ids;
    for (const auto& [id, group] : g.groups())
        ids.push_back(id);
    for (GroupId id : ids)
        g.removeGroup(id);
    return g;
}

} // namespace

class LevelGroups : public ::testing::TestWithParam<std::tuple<int, bool, UNetOptions::Up>> {};

TEST_P(LevelGroups, MatchTheTemplatesOwnGroupsWithoutReadingNames) {
    const auto [depth, batchnorm, up] = GetParam();
    UNetOptions o;
    o.depth = depth;
    o.batchnorm = batchnorm;
    o.up = up;
    const Graph templ = std::get<Project>(makeUNetProject(o)).graph;
    Graph g = withoutGroups(templ);
    // Rename every node: the grouping must come from the structure alone.
    for (const auto& [id, node] : templ.nodes())
        g.findNode(id)->name = "n" + std::to_string(id);
    const EditScript script = levelGroupsScript(g);
    ASSERT_FALSE(script.empty());
    ASSERT_TRUE(applyEdits(g, script).ok);
    EXPECT_EQ(groupOrder(g), groupOrder(templ));
    // Same members as the template's groups, except that the structure puts
    // the input's Rescale into the first encoder level and the output layer
    // into the last decoder level (the template leaves them out by their names).
    for (const auto& [gid, group] : templ.groups()) {
        const Group* found = nullptr;
        for (const auto& [id, candidate] : g.groups())
            found = candidate.name == group.name ? &candidate : found;
        ASSERT_TRUE(found) << group.name;
        std::set<NodeId> expected = group.members;
        if (group.name == "dec1")
            expected.insert(templ.findNodeByName("output")->id);
        if (group.name == "enc1")
            expected.insert(templ.findNodeByName("scale_image")->id);
        EXPECT_EQ(found->members, expected) << group.name;
    }
}

INSTANTIATE_TEST_SUITE_P(Templates, LevelGroups,
                         ::testing::Combine(::testing::Values(2, 4, 5), ::testing::Bool(),
                                            ::testing::Values(UNetOptions::Up::Transpose,
                                                              UNetOptions::Up::Upsample,
                                                              UNetOptions::Up::UpsampleConv)));

TEST(LevelGroupsScript, ExistingGroupsAreNeverReplaced) {
    const Graph templ = std::get<Project>(makeUNetProject({})).graph;
    EXPECT_TRUE(levelGroupsScript(templ).empty());
}

TEST(LevelGroupsScript, ANetworkThatIsNotAUGetsNone) {
    Graph g;
    NodeId in =
        g.addNode("Input", "in", {{"height", std::int64_t{32}}, {"width", std::int64_t{32}}});
    NodeId conv = g.addNode("Conv2D", "conv", {{"padding", std::string("same")}});
    NodeId pool = g.addNode("MaxPool2D", "pool");
    g.connect({in, "output"}, {conv, "input"});
    g.connect({conv, "output"}, {pool, "input"});
    EXPECT_TRUE(levelGroupsScript(g).empty());
}

TEST(LevelGroupsScript, AnImportedKerasUNetArrivesWithItsLevelGroups) {
    const std::filesystem::path file =
        std::filesystem::path(SEGFORGE_TEST_DATA) / "keras" / "unet_keras3.json";
    KerasImport imported = importKerasFile(file);
    ASSERT_TRUE(imported.project) << (imported.errors.empty() ? "" : imported.errors.front());
    const auto groups = groupsByName(imported.project->graph);
    ASSERT_TRUE(groups.count("enc1"));
    ASSERT_TRUE(groups.count("bottleneck"));
    ASSERT_TRUE(groups.count("dec1"));
    // The first encoder level holds the first pooling, the first decoder level an upsampling.
    bool pooling = false;
    for (const std::string& name : groups.at("enc1"))
        pooling = pooling || name.find("pool") != std::string::npos;
    EXPECT_TRUE(pooling) << ::testing::PrintToString(groups);
}
