// End-to-end: `segforge-cli check --json` names every fix with an "apply"
// handle, and `segforge-cli fix` applies them (or the top fix of each finding
// with --first), re-checks, and writes the project.

#include "cli_runner.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>
#include <sstream>

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using segforge::testing::CliResult;
using segforge::testing::runCli;
using segforge::testing::ScratchDir;
using segforge::testing::Stderr;

namespace {

/// uint8 images into a convolution, int32 masks into the loss, and a 'valid'
/// convolution that makes the prediction 2 px smaller than the target: three
/// errors, each with fixes.
fs::path writeThreeErrors(const fs::path& dir, const std::string& name = "three.segforge") {
    fs::path file = dir / name;
    std::ofstream(file) << R"({"format": "segforge-project", "version": 1, "name": "three",
      "graph": {"nodes": [
        {"id": 1, "op": "Dataset", "name": "data", "attrs": {"mask_dtype": "int32", "mask_max": 1}},
        {"id": 2, "op": "Conv2D", "name": "conv1", "attrs": {"filters": 8, "kernel_size": 3, "activation": "relu"}},
        {"id": 3, "op": "Conv2D", "name": "head", "attrs": {"filters": 1, "kernel_size": 1, "activation": "sigmoid"}},
        {"id": 4, "op": "BinaryCrossentropy", "name": "loss"}],
       "edges": [
        {"from": {"node": 1, "port": "image"}, "to": {"node": 2, "port": "input"}},
        {"from": {"node": 2, "port": "output"}, "to": {"node": 3, "port": "input"}},
        {"from": {"node": 3, "port": "output"}, "to": {"node": 4, "port": "prediction"}},
        {"from": {"node": 1, "port": "mask"}, "to": {"node": 4, "port": "target"}}]}})";
    return file;
}

std::string readAll(const fs::path& file) {
    std::ifstream in(file);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string q(const fs::path& p) {
    return "'" + p.string() + "'";
}

} // namespace

TEST(CliFix, CheckJsonListsEachFixWithItsIndexRankAndApplyHandle) {
    ScratchDir dir("segforge_fix_json_");
    const fs::path file = writeThreeErrors(dir.path());
    CliResult c = runCli("check --json --no-data " + q(file));
    ASSERT_EQ(c.exitCode, 1) << c.out;
    const auto doc = nlohmann::json::parse(c.out);
    ASSERT_EQ(doc["diagnostics"].size(), 3u);
    for (const auto& d : doc["diagnostics"]) {
        ASSERT_FALSE(d["fixes"].empty());
        for (std::size_t k = 0; k < d["fixes"].size(); ++k) {
            const auto& f = d["fixes"][k];
            EXPECT_EQ(f["index"], k + 1);
            EXPECT_TRUE(f["description"].is_string());
            EXPECT_THAT(f["rank"].get<std::string>(),
                        ::testing::AnyOf("cause", "rewire", "direct", "mechanical", "costly"));
            EXPECT_TRUE(f["reason"].is_string());
            EXPECT_EQ(f["apply"], d["code"].get<std::string>() + "@" +
                                      d["node_name"].get<std::string>() + "#" +
                                      std::to_string(k + 1));
        }
    }
}

TEST(CliFix, CheckTextShowsTheRankAndTheHandleBesideEachFix) {
    ScratchDir dir("segforge_fix_text_");
    const fs::path file = writeThreeErrors(dir.path());
    CliResult c = runCli("check --no-data " + q(file));
    EXPECT_EQ(c.exitCode, 1);
    EXPECT_THAT(c.out, HasSubstr("(dtype-mismatch@conv1#1)"));
    EXPECT_THAT(c.out, HasSubstr("(dtype-mismatch@conv1#2)"));
    EXPECT_THAT(c.out, HasSubstr("(loss-shape-mismatch@loss#1)"));
}

TEST(CliFix, TheApplyHandlesFromCheckJsonFixTheProject) {
    ScratchDir dir("segforge_fix_apply_");
    const fs::path file = writeThreeErrors(dir.path());
    const std::string original = readAll(file);
    const auto doc = nlohmann::json::parse(runCli("check --json --no-data " + q(file)).out);
    std::string applies;
    std::vector<std::string> handles;
    for (const auto& d : doc["diagnostics"]) {
        handles.push_back(d["fixes"][0]["apply"].get<std::string>());
        applies += " --apply " + handles.back();
    }
    const fs::path fixed = dir.path() / "out.segforge";
    // The requests before FILE: each --apply takes one value.
    CliResult f = runCli("fix --no-data" + applies + " " + q(file) + " -o " + q(fixed));
    EXPECT_EQ(f.exitCode, 0) << f.out;
    for (const std::string& h : handles)
        EXPECT_THAT(f.out, HasSubstr("applied " + h + ": "));
    EXPECT_THAT(f.out, HasSubstr("ok: 0 errors"));
    EXPECT_THAT(f.out, HasSubstr("wrote " + fixed.string()));
    EXPECT_EQ(readAll(file), original); // -o: the input stays as it was

    CliResult c = runCli("check --no-data " + q(fixed));
    EXPECT_EQ(c.exitCode, 0) << c.out;
    EXPECT_THAT(c.out, HasSubstr("ok: 0 errors"));
}

TEST(CliFix, ErrorsLeftExitOneAndTheFileIsStillWritten) {
    ScratchDir dir("segforge_fix_partial_");
    const fs::path file = writeThreeErrors(dir.path());
    const fs::path out = dir.path() / "partial.segforge";
    CliResult f =
        runCli("fix --no-data " + q(file) + " --apply dtype-mismatch@conv1#2 -o " + q(out));
    EXPECT_EQ(f.exitCode, 1) << f.out;
    EXPECT_THAT(f.out, HasSubstr("applied dtype-mismatch@conv1#2: Insert Cast(float32)"));
    EXPECT_THAT(f.out, HasSubstr("error[dtype-mismatch] 'loss'.target"));
    EXPECT_THAT(f.out, HasSubstr("2 errors"));
    ASSERT_TRUE(fs::exists(out));
    CliResult c = runCli("check --json --no-data " + q(out));
    EXPECT_EQ(nlohmann::json::parse(c.out)["summary"]["errors"], 2);
}

TEST(CliFix, FirstFixesEverythingAndOverwritesTheProject) {
    ScratchDir dir("segforge_fix_first_");
    const fs::path file = writeThreeErrors(dir.path());
    CliResult f = runCli("fix --no-data --first " + q(file));
    EXPECT_EQ(f.exitCode, 0) << f.out;
    EXPECT_THAT(f.out, HasSubstr("applied dtype-mismatch@conv1#1"));
    EXPECT_THAT(f.out, HasSubstr("applied dtype-mismatch@loss#1"));
    EXPECT_THAT(f.out, HasSubstr("applied loss-shape-mismatch@loss#1"));
    EXPECT_THAT(f.out, HasSubstr("wrote " + file.string()));
    EXPECT_EQ(runCli("check --no-data " + q(file)).exitCode, 0);
}

TEST(CliFix, JsonSaysWhatWasAppliedAndWhatIsLeft) {
    ScratchDir dir("segforge_fix_jsonout_");
    const fs::path file = writeThreeErrors(dir.path());
    const std::string original = readAll(file);
    CliResult f =
        runCli("fix --no-data --json --dry-run " + q(file) + " --apply loss-shape-mismatch@loss#1");
    EXPECT_EQ(f.exitCode, 1) << f.out;
    const auto doc = nlohmann::json::parse(f.out);
    ASSERT_EQ(doc["applied"].size(), 1u);
    EXPECT_EQ(doc["applied"][0]["apply"], "loss-shape-mismatch@loss#1");
    EXPECT_TRUE(doc["applied"][0]["rank"].is_string());
    EXPECT_TRUE(doc["written"].is_null()); // --dry-run
    EXPECT_TRUE(doc["stuck"].is_null());
    EXPECT_EQ(doc["summary"]["errors"], 2);
    EXPECT_EQ(doc["diagnostics"].size(), 2u);
    EXPECT_EQ(readAll(file), original);
}

TEST(CliFix, FirstOnAnUnfixableGraphSaysWhereItStopped) {
    ScratchDir dir("segforge_fix_stuck_");
    const fs::path file = dir.path() / "stuck.segforge";
    // A scalar loss fed into a convolution: no fix makes a scalar an image.
    std::ofstream(file) << R"({"format": "segforge-project", "version": 1, "name": "stuck",
      "graph": {"nodes": [
        {"id": 1, "op": "Input", "name": "img", "attrs": {"height": 8, "width": 8, "channels": 1}},
        {"id": 2, "op": "Dice", "name": "loss"},
        {"id": 3, "op": "Conv2D", "name": "c", "attrs": {"filters": 4, "kernel_size": 3}}],
       "edges": [
        {"from": {"node": 1, "port": "output"}, "to": {"node": 2, "port": "prediction"}},
        {"from": {"node": 1, "port": "output"}, "to": {"node": 2, "port": "target"}},
        {"from": {"node": 2, "port": "loss"}, "to": {"node": 3, "port": "input"}}]}})";
    CliResult f = runCli("fix --no-data --first --dry-run " + q(file));
    EXPECT_EQ(f.exitCode, 1) << f.out;
    EXPECT_THAT(f.out, HasSubstr("--first stopped: "));
    EXPECT_THAT(f.out, HasSubstr("rank-mismatch@c"));
    EXPECT_THAT(f.out, HasSubstr("dry run: nothing written"));
}

TEST(CliFix, BadRequestsExitTwoNamingWhatAndWriteNothing) {
    ScratchDir dir("segforge_fix_bad_");
    const fs::path file = writeThreeErrors(dir.path());
    const std::string original = readAll(file);
    struct Case {
        std::string args, says;
    };
    const std::vector<Case> cases = {
        {"--apply dtype-mismatch", "bad fix 'dtype-mismatch': no '@'"},
        {"--apply dtype-mismatch@conv1#0", "fixes are numbered from 1"},
        {"--apply concat-shape-mismatch@conv1",
         "cannot apply 'concat-shape-mismatch@conv1#1': 'conv1' has no finding "
         "'concat-shape-mismatch'; its findings: dtype-mismatch"},
        {"--apply dtype-mismatch@conv1#9", "has 2 fixes; there is no fix #9"},
        {"--apply dtype-mismatch@conv9", "no node named 'conv9' (did you mean 'conv1'?)"},
        // The second request fails: the first is not written either.
        {"--apply dtype-mismatch@conv1 --apply dtype-mismatch@conv1", "nothing was written"},
        {"", "nothing to apply"},
    };
    for (const Case& c : cases) {
        CliResult f = runCli("fix --no-data " + q(file) + " " + c.args, Stderr::Merge);
        EXPECT_EQ(f.exitCode, 2) << c.args << "\n" << f.out;
        EXPECT_THAT(f.out, HasSubstr("segforge-cli fix: ")) << c.args;
        EXPECT_THAT(f.out, HasSubstr(c.says)) << c.args;
        EXPECT_EQ(readAll(file), original) << c.args;
    }
    CliResult missing = runCli("fix --first " + q(dir.path() / "none.segforge"), Stderr::Merge);
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_THAT(missing.out, HasSubstr("cannot open the file"));
}

TEST(CliFix, AKerasModelIsImportedAndNeverOverwritten) {
    ScratchDir dir("segforge_fix_keras_");
    const fs::path model = fs::path(SEGFORGE_TEST_DATA) / "keras" / "unet_keras2_concat_bug.json";
    const std::string original = readAll(model);
    CliResult refused = runCli("fix --first " + q(model), Stderr::Merge);
    EXPECT_EQ(refused.exitCode, 2);
    EXPECT_THAT(refused.out, HasSubstr("is a Keras model, which fix does not overwrite"));
    EXPECT_THAT(refused.out, HasSubstr("-o PROJECT.segforge"));

    const fs::path out = dir.path() / "unet.segforge";
    CliResult f = runCli("fix --first " + q(model) + " -o " + q(out));
    EXPECT_EQ(f.exitCode, 0) << f.out; // a Keras model needs no loss
    EXPECT_THAT(f.out, HasSubstr("applied "));
    EXPECT_THAT(f.out, HasSubstr("ok: 0 errors"));
    EXPECT_EQ(readAll(model), original);
    // The project it wrote opens; as a project it must have a loss, and only that is left.
    const auto doc = nlohmann::json::parse(runCli("check --json --no-data " + q(out)).out);
    ASSERT_EQ(doc["summary"]["errors"], 1) << doc["diagnostics"].dump();
    EXPECT_EQ(doc["diagnostics"][0]["code"], "no-loss");
}

TEST(CliFix, HasItsUsage) {
    CliResult help = runCli("fix --help");
    EXPECT_EQ(help.exitCode, 0);
    EXPECT_THAT(help.out, HasSubstr("--apply"));
    EXPECT_THAT(help.out, HasSubstr("--first"));
    EXPECT_THAT(help.out, HasSubstr("--dry-run"));
    EXPECT_THAT(help.out, HasSubstr("--no-data"));
}

TEST(CliFix, JsonRefusalsAreJsonToo) {
    ScratchDir dir("segforge_fix_jsonbad_");
    const fs::path file = writeThreeErrors(dir.path());
    CliResult f = runCli("fix --json --no-data " + q(file) + " --apply dtype-mismatch@conv1#9");
    EXPECT_EQ(f.exitCode, 2);
    const auto doc = nlohmann::json::parse(f.out);
    ASSERT_EQ(doc["errors"].size(), 1u);
    EXPECT_THAT(doc["errors"][0].get<std::string>(), HasSubstr("there is no fix #9"));
}

TEST(CliFix, TheWeightsSectionIsKeptBesideItsFileAndDroppedElsewhere) {
    ScratchDir dir("segforge_fix_weights_");
    const fs::path file = writeThreeErrors(dir.path());
    // The same project with a weights section naming a file beside it.
    std::string text = readAll(file);
    text.insert(text.rfind('}'),
                R"(, "weights": {"file": "three.weights.safetensors", "graph_revision": )"
                R"("0123456789abcdef", "step": 3})");
    std::ofstream(file) << text;
    std::ofstream(dir.path() / "three.weights.safetensors") << "x";
    fs::create_directories(dir.path() / "elsewhere");
    const fs::path moved = dir.path() / "elsewhere" / "three.segforge";
    CliResult away = runCli("fix --no-data --first " + q(file) + " -o " + q(moved), Stderr::Merge);
    EXPECT_EQ(away.exitCode, 0) << away.out;
    EXPECT_THAT(away.out, HasSubstr("does not name the weights three.weights.safetensors"));
    EXPECT_FALSE(nlohmann::json::parse(readAll(moved)).contains("weights"));

    CliResult here = runCli("fix --no-data --first " + q(file), Stderr::Merge);
    EXPECT_EQ(here.exitCode, 0) << here.out;
    EXPECT_EQ(nlohmann::json::parse(readAll(file))["weights"]["file"], "three.weights.safetensors");
}
