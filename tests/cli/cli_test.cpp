// End-to-end: run the real segforge-cli binary and check exit codes and output.

#include "cli_runner.hpp"
#include "ops/op_registry.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>
#include <set>

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

namespace {

using CliRun = segforge::testing::CliResult;

/// stdout only.
CliRun cli(const std::string& args) {
    return segforge::testing::runCli(args);
}
/// stdout and stderr.
CliRun cliWithStderr(const std::string& args) {
    return segforge::testing::runCli(args, segforge::testing::Stderr::Merge);
}

fs::path scratch(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / "segforge_cli_tests";
    fs::create_directories(dir);
    return dir / name;
}

/// The Keras fixture as a project file: uint8 images, int32 masks, a valid conv.
fs::path writeFixture() {
    fs::path file = scratch("fixture.segforge");
    std::ofstream(file) << R"({"format": "segforge-project", "version": 1, "name": "fixture",
      "graph": {"nodes": [
        {"id": 1, "op": "Dataset", "name": "data", "attrs": {"mask_dtype": "int32", "mask_max": 1}},
        {"id": 2, "op": "Conv2D", "name": "conv1", "attrs": {"filters": 32, "kernel_size": 3, "activation": "relu"}},
        {"id": 3, "op": "Conv2D", "name": "head", "attrs": {"filters": 1, "kernel_size": 1, "activation": "sigmoid"}},
        {"id": 4, "op": "BinaryCrossentropy", "name": "loss"}],
       "edges": [
        {"from": {"node": 1, "port": "image"}, "to": {"node": 2, "port": "input"}},
        {"from": {"node": 2, "port": "output"}, "to": {"node": 3, "port": "input"}},
        {"from": {"node": 3, "port": "output"}, "to": {"node": 4, "port": "prediction"}},
        {"from": {"node": 1, "port": "mask"}, "to": {"node": 4, "port": "target"}}]}})";
    return file;
}

} // namespace

TEST(Cli, TemplateThenCheckIsClean) {
    fs::path file = scratch("unet.segforge");
    CliRun t = cli("template unet --depth 3 --filters 8 --size 64 --batchnorm --up upsample -o " +
                   file.string());
    ASSERT_EQ(t.exitCode, 0) << t.out;
    EXPECT_THAT(t.out, HasSubstr("wrote"));
    // The graph alone (--no-data): without it, the template's missing data folder
    // is a dataset-empty warning (CheckProbesTheDatasetFolders).
    CliRun c = cli("check --no-data " + file.string());
    EXPECT_EQ(c.exitCode, 0) << c.out;
    EXPECT_THAT(c.out, HasSubstr("enc1_conv1.output"));
    EXPECT_THAT(c.out, HasSubstr("N×64×64×8 f32"));
    EXPECT_THAT(c.out, HasSubstr("input sizes that work: H = 8k, k ≥ 1; W = 8k, k ≥ 1"));
    EXPECT_THAT(c.out, HasSubstr("ok: 0 errors, 0 warnings"));
}

TEST(Cli, CheckJsonIsTheStableInterface) {
    CliRun c = cli("check --json --no-data " + writeFixture().string());
    EXPECT_EQ(c.exitCode, 1);
    auto doc = nlohmann::json::parse(c.out);
    ASSERT_TRUE(doc["nodes"].is_array());
    const auto& conv = doc["nodes"][1];
    EXPECT_EQ(conv["name"], "conv1");
    EXPECT_EQ(conv["op"], "Conv2D");
    EXPECT_EQ(conv["outputs"][0]["port"], "output");
    EXPECT_EQ(conv["outputs"][0]["shape"], nlohmann::json::parse("[null, 126, 126, 32]"));
    EXPECT_EQ(conv["outputs"][0]["dtype"], "float32");
    ASSERT_EQ(doc["diagnostics"].size(), 3u);
    std::vector<std::string> got;
    for (const auto& d : doc["diagnostics"]) {
        got.push_back(d["code"].get<std::string>() + "@" + d["node_name"].get<std::string>());
        EXPECT_EQ(d["severity"], "error");
        EXPECT_FALSE(d["fixes"].empty());
        EXPECT_TRUE(d["fixes"][0]["description"].is_string());
    }
    EXPECT_THAT(got, ::testing::UnorderedElementsAre("dtype-mismatch@conv1", "dtype-mismatch@loss",
                                                     "loss-shape-mismatch@loss"));
    EXPECT_EQ(doc["summary"]["errors"], 3);
    EXPECT_TRUE(doc["input_sizes"].is_object());
}

TEST(Cli, CheckHumanOutputIsCompilerStyle) {
    fs::path file = writeFixture();
    CliRun c = cli("check --no-data " + file.string());
    EXPECT_EQ(c.exitCode, 1);
    EXPECT_THAT(c.out,
                HasSubstr(file.string() + ": error[loss-shape-mismatch] 'loss'.prediction:"));
    EXPECT_THAT(c.out, HasSubstr("fix 1: Set padding='same'"));
    EXPECT_THAT(c.out, HasSubstr("3 errors, 0 warnings"));
}

TEST(Cli, UnreadableInputExitsTwoWithLocation) {
    CliRun missing = cliWithStderr("check /nonexistent.segforge");
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_THAT(missing.out, HasSubstr("/nonexistent.segforge: cannot open the file"));
    CliRun bad = cliWithStderr("check " + std::string(SEGFORGE_TEST_DATA) +
                               "/bad_projects/dangling_edge.segforge");
    EXPECT_EQ(bad.exitCode, 2);
    EXPECT_THAT(bad.out, HasSubstr("graph.edges[0].to.node: no node with id 99"));
}

TEST(Cli, UsageErrors) {
    EXPECT_EQ(cli("").exitCode, 2);
    EXPECT_EQ(cli("frobnicate").exitCode, 2);
    EXPECT_EQ(cli("check").exitCode, 2);
    EXPECT_EQ(cli("check a b").exitCode, 2);
    EXPECT_EQ(cli("template unet").exitCode, 2); // no -o
    CliRun r = cliWithStderr("template unet --size 100 -o " + scratch("x.segforge").string());
    EXPECT_EQ(r.exitCode, 2);
    EXPECT_THAT(r.out, HasSubstr("try 96 or 112"));
    CliRun typo = cliWithStderr("template unet --dept 3 -o x.segforge");
    EXPECT_EQ(typo.exitCode, 2);
    EXPECT_THAT(typo.out, HasSubstr("unknown option --dept"));
    CliRun notInt = cliWithStderr("template unet --depth three -o x.segforge");
    EXPECT_THAT(notInt.out, HasSubstr("--depth expects an integer, got 'three'"));
    EXPECT_EQ(cli("--help").exitCode, 0);
}

TEST(Cli, VersionIsTheCMakeProjectVersion) {
    CliRun r = cli("--version");
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_EQ(r.out, std::string("segforge-cli ") + SEGFORGE_PROJECT_VERSION + "\n");
}

TEST(Cli, EveryCommandHasItsUsage) {
    CliRun all = cli("--help");
    EXPECT_EQ(all.exitCode, 0);
    for (const char* command : {"check", "template", "ops", "sample-data", "train", "bench",
                                "predict", "import", "export"})
        EXPECT_THAT(all.out, HasSubstr(std::string("\n  ") + command + " ")) << command;
    CliRun train = cli("train --help");
    EXPECT_EQ(train.exitCode, 0);
    EXPECT_THAT(train.out, HasSubstr("segforge-cli train [OPTIONS] PROJECT"));
    for (const char* option :
         {"--data DIR", "--epochs INT", "--lr NUMBER", "-o,--out DIR", "--resume", "--overwrite"})
        EXPECT_THAT(train.out, HasSubstr(option)) << option;
    EXPECT_THAT(train.out, Not(HasSubstr("--weights"))) << "predict's option, not train's";
    EXPECT_THAT(cli("predict --help").out, HasSubstr("--threshold NUMBER"));
}

TEST(Cli, ABadOptionNamesTheOptionAndTheCommand) {
    CliRun range = cliWithStderr("train x.segforge --epochs 0");
    EXPECT_EQ(range.exitCode, 2);
    EXPECT_THAT(range.out, HasSubstr("segforge-cli train: option --epochs must be ≥ 1, got '0'"));
    CliRun lr = cliWithStderr("train x.segforge --lr 0");
    EXPECT_EQ(lr.exitCode, 2);
    EXPECT_THAT(lr.out, HasSubstr("segforge-cli train: option --lr must be > 0, got '0'"));
    CliRun share = cliWithStderr("sample-data -o x --empty 1.5");
    EXPECT_EQ(share.exitCode, 2);
    EXPECT_THAT(
        share.out,
        HasSubstr("segforge-cli sample-data: option --empty must be ≥ 0 and ≤ 1, got '1.5'"));
    CliRun unknown = cliWithStderr("bench x.segforge --frob");
    EXPECT_EQ(unknown.exitCode, 2);
    EXPECT_THAT(unknown.out, HasSubstr("segforge-cli bench: unknown option --frob"));
    CliRun missing = cliWithStderr("predict x.segforge --images dir");
    EXPECT_EQ(missing.exitCode, 2);
    EXPECT_THAT(missing.out, HasSubstr("segforge-cli predict: --out is required"));
    CliRun to = cliWithStderr("export x.segforge --to caffe -o y");
    EXPECT_EQ(to.exitCode, 2);
    EXPECT_THAT(
        to.out,
        HasSubstr("segforge-cli export: --to: caffe not in {keras,pytorch,keras-json,onnx}"));
    CliRun command = cliWithStderr("frobnicate");
    EXPECT_THAT(command.out, HasSubstr("segforge-cli: unknown command 'frobnicate'"));
    EXPECT_EQ(cliWithStderr("train x.segforge --resume --overwrite").exitCode, 2);
}

TEST(Cli, ARepeatedOptionTakesTheLastValue) {
    CliRun r = cli("template unet --depth 9 --depth 1 --filters 2 --size 16 -o " +
                   scratch("a.segforge").string() + " -o " + scratch("repeated.segforge").string());
    EXPECT_EQ(r.exitCode, 0);
    EXPECT_THAT(r.out, HasSubstr("repeated.segforge: U-Net depth 1, 2 filters"));
}

TEST(Cli, OpsListsEveryOpAsJson) {
    CliRun r = cli("ops --json");
    ASSERT_EQ(r.exitCode, 0);
    auto ops = nlohmann::json::parse(r.out);
    // Every registered op (the KerasLayer import placeholder included), each once.
    std::set<std::string> listed, registered;
    for (const auto& op : ops)
        listed.insert(op["name"].get<std::string>());
    for (const auto& s : segforge::core::OpRegistry::builtin().all())
        registered.insert(s.name);
    EXPECT_EQ(ops.size(), registered.size());
    EXPECT_EQ(listed, registered);
    EXPECT_GE(registered.size(), 28u);
    bool sawConv = false;
    for (const auto& op : ops) {
        if (op["name"] != "Conv2D")
            continue;
        sawConv = true;
        EXPECT_EQ(op["inputs"][0]["dtypes"], nlohmann::json::parse(R"(["float32"])"));
        bool padding = false;
        for (const auto& a : op["attributes"])
            padding = padding || (a["name"] == "padding" && a["default"] == "valid");
        EXPECT_TRUE(padding);
    }
    EXPECT_TRUE(sawConv);
}

TEST(Cli, CheckProbesTheDatasetFolders) {
    const fs::path dir = scratch("probe_data");
    fs::remove_all(dir);
    ASSERT_EQ(cli("sample-data -o " + dir.string() + " --count 4 --size 24").exitCode, 0);
    const fs::path file = scratch("probe_unet.segforge");
    ASSERT_EQ(cli("template unet --depth 4 --filters 4 --size 64 -o " + file.string()).exitCode, 0);
    // The template's own folder does not exist: the warning that train will
    // refuse (same code, same folder), and the attributes' types.
    CliRun plain = cliWithStderr("check " + file.string());
    EXPECT_EQ(plain.exitCode, 0) << plain.out;
    EXPECT_THAT(
        plain.out,
        HasSubstr("warning[dataset-empty] 'data': Dataset 'data' has no data yet: folder '"));
    CliRun train =
        cliWithStderr("train " + file.string() + " --out " + scratch("probe_run").string());
    EXPECT_EQ(train.exitCode, 2) << train.out;
    EXPECT_THAT(
        train.out,
        HasSubstr("error[dataset-empty] 'data': Dataset 'data' has no image/mask pairs: folder '"));
    EXPECT_THAT(plain.out, HasSubstr("N×64×64×3 u8"));
    // With the data: its real size, which four poolings cannot take.
    CliRun probed = cli("check " + file.string() + " --data " + dir.string());
    EXPECT_EQ(probed.exitCode, 1) << probed.out;
    EXPECT_THAT(probed.out, HasSubstr("N×24×24×3 u8"));
    EXPECT_THAT(probed.out, HasSubstr("error[concat-shape-mismatch] 'dec4_concat'"));
    EXPECT_THAT(probed.out, HasSubstr("input sizes that work: H = 16k, k ≥ 1"));
    CliRun skipped = cli("check " + file.string() + " --data " + dir.string() + " --no-data");
    EXPECT_EQ(skipped.exitCode, 0) << skipped.out;
}
