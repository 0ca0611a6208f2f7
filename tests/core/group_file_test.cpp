// Groups in the project file (format version 2), version-1 files, malformed
// group sections, and the U-Net template's level groups.

#include "check/checker.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>

namespace fs = std::filesystem;
using namespace segforge::core;
using ::testing::HasSubstr;

namespace {

std::string allErrors(const ProjectLoad& load) {
    std::string all;
    for (const auto& e : load.errors)
        all += e + "\n";
    return all;
}

/// Two nodes and a `groups` value spliced in verbatim.
std::string withGroups(const std::string& groups) {
    return R"({"format": "segforge-project", "version": 2, "graph": {"nodes": [
        {"id": 1, "op": "Input", "name": "in"}, {"id": 2, "op": "Conv2D", "name": "c"}],
        "groups": )" +
           groups + "}}";
}

fs::path scratchFile(const std::string& name) {
    const fs::path dir =
        fs::temp_directory_path() / ("segforge_group_file_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

} // namespace

TEST(GroupFile, GroupsRoundTripAsVersion2) {
    auto made = makeUNetProject({});
    ASSERT_TRUE(std::holds_alternative<Project>(made));
    Project project = std::get<Project>(made);
    project.graph.findGroup(1)->collapsed = true;
    const auto json = projectToJson(project);
    EXPECT_EQ(json["version"], 2);
    ASSERT_TRUE(json["graph"].contains("groups"));
    EXPECT_EQ(json["graph"]["groups"][0]["name"], "enc1");
    EXPECT_EQ(json["graph"]["groups"][0]["collapsed"], true);

    ProjectLoad load = parseProject(json.dump(), "t");
    ASSERT_TRUE(load.ok()) << allErrors(load);
    EXPECT_TRUE(load.warnings.empty());
    EXPECT_TRUE(load.project->graph == project.graph);
    EXPECT_EQ(load.project->graph.groups().size(), project.graph.groups().size());
}

TEST(GroupFile, AGraphWithoutGroupsWritesNoGroupsKey) {
    Project project;
    project.graph.addNode("Input", "in");
    EXPECT_FALSE(projectToJson(project)["graph"].contains("groups"));
}

TEST(GroupFile, Version1FileOpensUnchangedAndSavesAsVersion2) {
    const fs::path v1 = fs::path(SEGFORGE_TEST_DATA) / "projects_v1/sample_unet_v1.segforge";
    std::ifstream in(v1);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    ASSERT_THAT(text, HasSubstr("\"version\": 1"));
    ProjectLoad first = loadProject(v1);
    ASSERT_TRUE(first.ok()) << allErrors(first);
    EXPECT_TRUE(first.warnings.empty());
    const Graph& g = first.project->graph;
    EXPECT_EQ(g.nodeCount(), 37u);
    EXPECT_TRUE(g.groups().empty());
    // What the version-1 file says, read back as it was: every node's position and the wires.
    EXPECT_EQ(g.findNodeByName("enc1_conv1")->op, "Conv2D");
    EXPECT_FALSE(checkGraph(g).hasErrors());

    const fs::path saved = scratchFile("v1_resaved.segforge");
    ASSERT_EQ(saveProject(*first.project, saved), "");
    std::ifstream savedIn(saved);
    const std::string savedText((std::istreambuf_iterator<char>(savedIn)), {});
    EXPECT_THAT(savedText, HasSubstr("\"version\": 2"));
    ProjectLoad second = loadProject(saved);
    ASSERT_TRUE(second.ok()) << allErrors(second);
    EXPECT_TRUE(second.project->graph == g);
    EXPECT_EQ(second.project->name, first.project->name);
    EXPECT_EQ(second.project->training.epochs, first.project->training.epochs);
    fs::remove_all(saved.parent_path());
}

struct BadGroups {
    std::string groups;
    std::string expected;
};

void PrintTo(const BadGroups& b, std::ostream* os) {
    *os << b.groups;
}

class MalformedGroups : public ::testing::TestWithParam<BadGroups> {};

TEST_P(MalformedGroups, AreRejectedWithALocatedMessage) {
    ProjectLoad load = parseProject(withGroups(GetParam().groups), "f");
    EXPECT_FALSE(load.ok());
    EXPECT_THAT(allErrors(load), HasSubstr("f:" + GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, MalformedGroups,
    ::testing::Values(
        BadGroups{R"({"id": 1})", "graph.groups: expected a list, got an object"},
        BadGroups{R"([7])", "graph.groups[0]: expected an object, got an integer"},
        BadGroups{R"([{"name": "g", "members": []}])",
                  "graph.groups[0]: missing required field 'id'"},
        BadGroups{R"([{"id": 1, "members": []}])",
                  "graph.groups[0]: missing required field 'name'"},
        BadGroups{R"([{"id": 1, "name": "g"}])",
                  "graph.groups[0]: missing required field 'members'"},
        BadGroups{R"([{"id": "1", "name": "g", "members": []}])",
                  "graph.groups[0].id: expected an integer, got a string"},
        BadGroups{R"([{"id": 1, "name": 5, "members": []}])",
                  "graph.groups[0].name: expected a string, got an integer"},
        BadGroups{R"([{"id": 1, "name": "g", "members": 2}])",
                  "graph.groups[0].members: expected a list of node ids, got an integer"},
        BadGroups{R"([{"id": 1, "name": "g", "members": [1, "2"]}])",
                  "graph.groups[0].members[1]: expected a node id, got a string"},
        BadGroups{R"([{"id": 1, "name": "g", "members": [1, 9]}])",
                  "graph.groups[0].members[1]: no node with id 9"},
        BadGroups{R"([{"id": 1, "name": "g", "members": [1], "collapsed": "yes"}])",
                  "graph.groups[0].collapsed: expected a boolean, got a string"},
        BadGroups{
            R"([{"id": 1, "name": "a", "members": [1]}, {"id": 2, "name": "b", "members": [2, 1]}])",
            "graph.groups[1].members[1]: node 1 is already in group 'a'"},
        BadGroups{
            R"([{"id": 1, "name": "a", "members": [1]}, {"id": 1, "name": "b", "members": [2]}])",
            "graph.groups[1].id: duplicate group id 1"},
        BadGroups{R"([{"id": 0, "name": "a", "members": [1]}])",
                  "graph.groups[0].id: 0 is out of range"}));

TEST(GroupFile, UnknownGroupFieldsAreWarnings) {
    ProjectLoad load =
        parseProject(withGroups(R"([{"id": 3, "name": "g", "members": [2], "colour": 1}])"), "f");
    ASSERT_TRUE(load.ok()) << allErrors(load);
    ASSERT_EQ(load.warnings.size(), 1u);
    EXPECT_EQ(load.warnings[0], "f:graph.groups[0].colour: unknown field, ignored");
    EXPECT_EQ(load.project->graph.findGroup(3)->members, (std::set<NodeId>{2}));
    EXPECT_FALSE(load.project->graph.findGroup(3)->collapsed);
    EXPECT_EQ(load.project->graph.nextGroupId(), 4);
}

class UNetLevelGroups : public ::testing::TestWithParam<std::tuple<int, bool, UNetOptions::Up>> {};

TEST_P(UNetLevelGroups, OneGroupPerLevelHoldingThatLevelsNodes) {
    UNetOptions o;
    o.depth = std::get<0>(GetParam());
    o.batchnorm = std::get<1>(GetParam());
    o.up = std::get<2>(GetParam());
    o.size = 64;
    auto made = makeUNetProject(o);
    ASSERT_TRUE(std::holds_alternative<Project>(made));
    const Graph& g = std::get<Project>(made).graph;
    std::vector<std::string> names;
    for (const auto& [id, group] : g.groups())
        names.push_back(group.name);
    std::vector<std::string> expected;
    for (int l = 1; l <= o.depth; ++l)
        expected.push_back("enc" + std::to_string(l));
    expected.push_back("bottleneck");
    for (int l = o.depth; l >= 1; --l)
        expected.push_back("dec" + std::to_string(l));
    EXPECT_EQ(names, expected);
    const int convsPerBlock = o.batchnorm ? 6 : 2;
    for (const auto& [id, group] : g.groups()) {
        EXPECT_FALSE(group.collapsed);
        for (NodeId m : group.members)
            EXPECT_EQ(g.findNode(m)->name.rfind(group.name + "_", 0), 0u) << group.name;
        std::size_t expectedSize = convsPerBlock;
        if (group.name.starts_with("enc"))
            expectedSize += 1; // the pool
        else if (group.name.starts_with("dec"))
            expectedSize +=
                (o.up == UNetOptions::Up::UpsampleConv ? 2 : 1) + 1; // up (+conv), concat
        EXPECT_EQ(group.members.size(), expectedSize) << group.name;
    }
    // Data, rescales, the output head and the losses stay outside every group.
    for (const char* outside : {"data", "scale_image", "output", "loss"})
        EXPECT_EQ(g.groupOf(g.findNodeByName(outside)->id), kNoGroup) << outside;
}

INSTANTIATE_TEST_SUITE_P(Variants, UNetLevelGroups,
                         ::testing::Values(std::tuple(4, false, UNetOptions::Up::Transpose),
                                           std::tuple(2, true, UNetOptions::Up::UpsampleConv),
                                           std::tuple(1, false, UNetOptions::Up::Upsample)));
