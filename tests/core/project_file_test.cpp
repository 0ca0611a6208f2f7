#include "check/checker.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>

using namespace segforge::core;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

fs::path tempDir(const std::string& name) {
    fs::path dir = fs::temp_directory_path() /
                   ("segforge_test_" + name + "_" +
                    std::to_string(::testing::UnitTest::GetInstance()->random_seed()));
    fs::remove_all(dir);
    fs::create_directories(dir);
    return dir;
}

std::string allErrors(const ProjectLoad& load) {
    std::string out;
    for (const auto& e : load.errors)
        out += e + "\n";
    return out;
}

} // namespace

TEST(ProjectFile, TemplateRoundTripsExactly) {
    UNetOptions o;
    o.batchnorm = true;
    Project p = std::get<Project>(makeUNetProject(o));
    p.training.epochs = 7;
    p.training.optimizer = "adamw";
    p.view = {{"zoom", 1.5}};
    fs::path dir = tempDir("roundtrip");
    fs::path file = dir / "unet.segforge";
    ASSERT_EQ(saveProject(p, file), "");
    ProjectLoad load = loadProject(file);
    ASSERT_TRUE(load.ok()) << allErrors(load);
    EXPECT_TRUE(load.warnings.empty());
    EXPECT_TRUE(load.project->graph == p.graph);
    EXPECT_EQ(load.project->training, p.training);
    EXPECT_EQ(load.project->name, p.name);
    EXPECT_EQ(load.project->view["zoom"], 1.5);
    // Saving what was loaded gives the same bytes.
    fs::path again = dir / "again.segforge";
    ASSERT_EQ(saveProject(*load.project, again), "");
    std::ifstream a(file), b(again);
    std::string ta((std::istreambuf_iterator<char>(a)), {}),
        tb((std::istreambuf_iterator<char>(b)), {});
    EXPECT_EQ(ta, tb);
    // No temp files are left behind.
    int files = 0;
    for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir))
        ++files;
    EXPECT_EQ(files, 2);
    fs::remove_all(dir);
}

TEST(ProjectFile, SaveIntoMissingFolderFailsWithMessage) {
    Project p;
    std::string err = saveProject(p, "/nonexistent/folder/x.segforge");
    EXPECT_THAT(err, HasSubstr("/nonexistent/folder/x.segforge"));
}

TEST(ProjectFile, BundledSampleLoadsAndIsClean) {
    ProjectLoad load = loadProject(fs::path(SEGFORGE_RESOURCES) / "projects/sample_unet.segforge");
    ASSERT_TRUE(load.ok()) << allErrors(load);
    CheckResult r = checkGraph(load.project->graph);
    EXPECT_FALSE(r.hasErrors());
    EXPECT_EQ(r.count(Severity::Warning), 0u);
}

TEST(ProjectFile, AttributesKeepTheirTypes) {
    const std::string text = R"({"format": "segforge-project", "version": 1,
      "graph": {"nodes": [{"id": 5, "op": "Cropping2D", "name": "crop",
        "attrs": {"cropping": [[1, 2], [3, 4]], "scale": 0.5, "flag": true, "n": 3, "s": "x"}}]}})";
    ProjectLoad load = parseProject(text, "inline");
    ASSERT_TRUE(load.ok()) << allErrors(load);
    const Node* n = load.project->graph.findNode(5);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(std::get<std::vector<std::int64_t>>(n->attrs.at("cropping")),
              (std::vector<std::int64_t>{1, 2, 3, 4}));
    EXPECT_EQ(std::get<double>(n->attrs.at("scale")), 0.5);
    EXPECT_EQ(std::get<bool>(n->attrs.at("flag")), true);
    EXPECT_EQ(std::get<std::int64_t>(n->attrs.at("n")), 3);
    EXPECT_EQ(std::get<std::string>(n->attrs.at("s")), "x");
    // Unknown attributes load (the checker reports them, so the user can fix them in place).
    EXPECT_TRUE(checkGraph(load.project->graph).has(codes::kBadAttribute));
}

TEST(ProjectFile, UnknownFieldsAreWarningsNotErrors) {
    ProjectLoad load = parseProject(
        R"({"format": "segforge-project", "version": 1, "extra": 1, "graph": {"nodes": []}})", "f");
    ASSERT_TRUE(load.ok());
    ASSERT_EQ(load.warnings.size(), 1u);
    EXPECT_EQ(load.warnings[0], "f:extra: unknown field, ignored");
}

struct BadFile {
    std::string file;
    std::string expected;
};

void PrintTo(const BadFile& f, std::ostream* os) {
    *os << f.file;
}

class BadProjectFiles : public ::testing::TestWithParam<BadFile> {};

TEST_P(BadProjectFiles, AreRejectedWithALocatedMessage) {
    const fs::path path = fs::path(SEGFORGE_TEST_DATA) / "bad_projects" / GetParam().file;
    ProjectLoad load = loadProject(path);
    EXPECT_FALSE(load.ok());
    ASSERT_FALSE(load.errors.empty());
    EXPECT_THAT(allErrors(load), HasSubstr(path.string() + ":" + GetParam().expected));
}

INSTANTIATE_TEST_SUITE_P(
    Folder, BadProjectFiles,
    ::testing::Values(
        BadFile{"truncated.segforge", "3:1: not valid JSON"},
        BadFile{"empty.segforge", "1:1: not valid JSON"},
        BadFile{"root_array.segforge", "(root): expected a JSON object, got a list"},
        BadFile{"wrong_format.segforge",
                "format: expected \"segforge-project\", got \"keras-model\""},
        BadFile{"future_version.segforge", "version: the file has format version 7"},
        BadFile{"node_missing_op.segforge", "graph.nodes[1]: missing required field 'op'"},
        BadFile{"bad_attr_value.segforge",
                "graph.nodes[0].attrs.filters: expected a number, string"},
        BadFile{"dangling_edge.segforge", "graph.edges[0].to.node: no node with id 99"},
        BadFile{"duplicate_id.segforge", "graph.nodes[1].id: duplicate node id 1"},
        BadFile{"bad_training.segforge",
                "training.optimizer: 'rmsprop' is not one of sgd, adam, adamw"},
        BadFile{"bad_position.segforge", "graph.nodes[0].position: expected [x, y] numbers"},
        BadFile{"does_not_exist.segforge", " cannot open the file (no such file)"}),
    [](const ::testing::TestParamInfo<BadFile>& param) {
        std::string name = param.param.file.substr(0, param.param.file.find('.'));
        return name;
    });

TEST(ProjectFile, ReportsEveryBadTrainingField) {
    ProjectLoad load =
        loadProject(fs::path(SEGFORGE_TEST_DATA) / "bad_projects/bad_training.segforge");
    EXPECT_EQ(load.errors.size(), 3u) << allErrors(load);
    EXPECT_THAT(allErrors(load), HasSubstr("training.epochs: 0 is out of range"));
    EXPECT_THAT(allErrors(load),
                HasSubstr("training.learning_rate: expected a number, got a string"));
}
