// `predict` and `export` without --weights use the weights saved with the
// project (its `weights` section): the same masks as with the file given
// explicitly; a project without saved weights, or one whose graph was edited
// since, is refused with a message that says why.

#include "cli_runner.hpp"
#include "engine/executor.hpp"
#include "engine/project_weights.hpp"
#include "project/graph_revision.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <unistd.h>

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace segforge;

namespace {

segforge::testing::CliResult cli(const std::string& args) {
    return segforge::testing::runCli(args, segforge::testing::Stderr::Merge);
}

std::string readAll(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

class ProjectWeightsCli : public ::testing::Test {
protected:
    void SetUp() override {
        m_dir = fs::temp_directory_path() /
                ("segforge_project_weights_cli_" + std::to_string(::getpid()));
        fs::remove_all(m_dir);
        fs::create_directories(m_dir);
        ASSERT_EQ(
            cli("sample-data -o " + (m_dir / "data").string() + " --count 4 --size 32").exitCode,
            0);
        core::UNetOptions o;
        o.depth = 2;
        o.filters = 4;
        o.size = 32;
        m_project = std::get<core::Project>(core::makeUNetProject(o));
        for (auto& [id, n] : m_project.graph.nodes())
            if (n.op == "Dataset") {
                m_project.graph.findNode(id)->attrs["images"] = std::string("data/images");
                m_project.graph.findNode(id)->attrs["masks"] = std::string("data/masks");
            }
    }
    void TearDown() override { fs::remove_all(m_dir); }

    /// Saves the project with weights from `seed` beside it, and the same weights as
    /// plain.safetensors.
    void saveTrained(std::uint64_t seed) {
        std::string error;
        auto ex = core::Executor::compile(m_project.graph, error);
        ASSERT_TRUE(ex) << error;
        ex->initializeParameters(seed);
        const fs::path path = m_dir / "net.segforge";
        core::SavedWeights saved = core::writeProjectWeights(
            path, {ex.get(), &m_project.graph, &m_project.graph, 7, nullptr, nullptr});
        ASSERT_TRUE(saved.section) << saved.error;
        m_project.weights = saved.section;
        ASSERT_EQ(core::saveProject(m_project, path), "");
        ASSERT_EQ(core::saveWeights(*ex, m_dir / "plain.safetensors"), "");
    }

    fs::path m_dir;
    core::Project m_project;
};

} // namespace

TEST_F(ProjectWeightsCli, PredictUsesTheProjectsSavedWeights) {
    saveTrained(11);
    const std::string common =
        (m_dir / "net.segforge").string() + " --images " + (m_dir / "data/images").string();
    const auto implicit = cli("predict " + common + " --out " + (m_dir / "a").string());
    ASSERT_EQ(implicit.exitCode, 0) << implicit.out;
    EXPECT_THAT(
        implicit.out,
        HasSubstr("using the weights saved with the project: net.weights.safetensors (step 7)"));
    const auto explicitRun =
        cli("predict " + common + " --weights " + (m_dir / "plain.safetensors").string() +
            " --out " + (m_dir / "b").string());
    ASSERT_EQ(explicitRun.exitCode, 0) << explicitRun.out;
    int compared = 0;
    for (const auto& entry : fs::directory_iterator(m_dir / "a")) {
        EXPECT_EQ(readAll(entry.path()), readAll(m_dir / "b" / entry.path().filename()))
            << entry.path();
        ++compared;
    }
    EXPECT_EQ(compared, 8); // a mask and an overlay per image

    // Other weights give other masks: the implicit run did not just fall back to some default.
    saveTrained(12);
    ASSERT_EQ(cli("predict " + common + " --out " + (m_dir / "c").string()).exitCode, 0);
    bool differs = false;
    for (const auto& entry : fs::directory_iterator(m_dir / "c"))
        differs =
            differs || readAll(entry.path()) != readAll(m_dir / "a" / entry.path().filename());
    EXPECT_TRUE(differs);
}

TEST_F(ProjectWeightsCli, PredictRefusesMissingOrStaleWeightsWithAReason) {
    ASSERT_EQ(core::saveProject(m_project, m_dir / "bare.segforge"), "");
    const auto bare = cli("predict " + (m_dir / "bare.segforge").string() + " --images " +
                          (m_dir / "data/images").string() + " --out " + (m_dir / "o").string());
    EXPECT_EQ(bare.exitCode, 2);
    EXPECT_THAT(bare.out, HasSubstr("has no saved weights; give --weights W"));

    saveTrained(11);
    // The first convolution gets more filters after the weights were saved.
    for (auto& [id, n] : m_project.graph.nodes())
        if (n.op == "Conv2D") {
            m_project.graph.findNode(id)->attrs["filters"] = std::int64_t{6};
            break;
        }
    ASSERT_EQ(core::saveProject(m_project, m_dir / "net.segforge"), "");
    const auto stale = cli("predict " + (m_dir / "net.segforge").string() + " --images " +
                           (m_dir / "data/images").string() + " --out " + (m_dir / "o").string());
    EXPECT_EQ(stale.exitCode, 2) << stale.out;
    EXPECT_THAT(stale.out, HasSubstr("the saved weights do not fit the graph"));
    EXPECT_THAT(stale.out, HasSubstr("(other shape)"));

    fs::remove(m_dir / "net.weights.safetensors");
    const auto missing = cli("predict " + (m_dir / "net.segforge").string() + " --images " +
                             (m_dir / "data/images").string() + " --out " + (m_dir / "o").string());
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_THAT(missing.out, HasSubstr("net.weights.safetensors"));
}

TEST_F(ProjectWeightsCli, ExportToOnnxUsesTheSavedWeights) {
    saveTrained(11);
    const auto run = cli("export " + (m_dir / "net.segforge").string() + " --to onnx -o " +
                         (m_dir / "m.onnx").string());
    ASSERT_EQ(run.exitCode, 0) << run.out;
    EXPECT_THAT(run.out,
                HasSubstr("using the weights saved with the project: net.weights.safetensors"));
    EXPECT_THAT(run.out, ::testing::Not(HasSubstr("initial weights")));
    const auto given =
        cli("export " + (m_dir / "net.segforge").string() + " --to onnx -o " +
            (m_dir / "n.onnx").string() + " --weights " + (m_dir / "plain.safetensors").string());
    ASSERT_EQ(given.exitCode, 0) << given.out;
    EXPECT_EQ(readAll(m_dir / "m.onnx"), readAll(m_dir / "n.onnx"));
}

// `train --resume` into a new run folder continues the run saved with the
// project (its checkpoint), and ends where an uninterrupted run ends.
TEST_F(ProjectWeightsCli, TrainResumeContinuesTheRunSavedWithTheProject) {
    const fs::path plain = m_dir / "plain.segforge";
    ASSERT_EQ(core::saveProject(m_project, plain), "");
    const std::string common = " --batch 2 --seed 5 --threads 1";
    const auto first =
        cli("train " + plain.string() + " --epochs 2 --out " + (m_dir / "first").string() + common);
    ASSERT_EQ(first.exitCode, 0) << first.out;
    const auto whole =
        cli("train " + plain.string() + " --epochs 3 --out " + (m_dir / "whole").string() + common);
    ASSERT_EQ(whole.exitCode, 0) << whole.out;

    // The project as the app saves it after those two epochs.
    fs::copy_file(m_dir / "first/weights.safetensors", m_dir / "net.weights.safetensors");
    fs::copy_file(m_dir / "first/checkpoint.safetensors", m_dir / "net.checkpoint.safetensors");
    m_project.weights =
        core::WeightsSection{"net.weights.safetensors", "net.checkpoint.safetensors",
                             core::graphRevision(m_project.graph), 2};
    ASSERT_EQ(core::saveProject(m_project, m_dir / "net.segforge"), "");

    const auto resumed = cli("train " + (m_dir / "net.segforge").string() +
                             " --epochs 3 --resume --out " + (m_dir / "resumed").string() + common);
    ASSERT_EQ(resumed.exitCode, 0) << resumed.out;
    EXPECT_THAT(resumed.out, HasSubstr("continuing the run saved with the project"));
    EXPECT_THAT(resumed.out, HasSubstr("resumed at step 2")); // one batch of 2 per epoch
    EXPECT_EQ(readAll(m_dir / "resumed/weights.safetensors"),
              readAll(m_dir / "whole/weights.safetensors"));
}
