// End-to-end: segforge-cli check/import/export on Keras files.

#include "cli_runner.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

using segforge::testing::CliResult;

/// Runs the CLI; `stderrToo` merges stderr into the output.
CliResult run(const std::string& args, bool stderrToo = false) {
    return segforge::testing::runCli(args, stderrToo ? segforge::testing::Stderr::Merge
                                                     : segforge::testing::Stderr::Discard);
}

std::string keras(const std::string& file) {
    return std::string(SEGFORGE_TEST_DATA) + "/keras/" + file;
}

fs::path scratch(const std::string& name) {
    fs::path dir = fs::temp_directory_path() / "segforge_interop_cli_tests";
    fs::create_directories(dir);
    return dir / name;
}

} // namespace

TEST(InteropCli, CheckReadsKerasJsonDirectly) {
    CliResult r = run("check --json " + keras("unet_keras2_concat_bug.json"));
    EXPECT_EQ(r.exitCode, 1);
    auto doc = nlohmann::json::parse(r.out);
    std::vector<std::string> got;
    for (const auto& d : doc["diagnostics"])
        got.push_back(
            d["severity"].get<std::string>() + ":" + d["code"].get<std::string>() + "@" +
            (d["node_name"].is_null() ? std::string("-") : d["node_name"].get<std::string>()));
    EXPECT_THAT(got, ::testing::Contains("error:concat-shape-mismatch@concatenate"));
    EXPECT_THAT(got, ::testing::Contains("warning:no-loss@-"));
    // The sweep names the root cause too: 100 does not survive three poolings.
    EXPECT_THAT(got, ::testing::Contains("error:input-size-indivisible@input_1"));
    EXPECT_EQ(doc["summary"]["errors"], 2);
    bool found = false;
    for (const auto& n : doc["nodes"]) {
        if (n["name"] == "conv2d_transpose") {
            found = true;
            EXPECT_EQ(n["outputs"][0]["shape"], nlohmann::json::parse("[null, 24, 24, 64]"));
        }
    }
    EXPECT_TRUE(found);

    CliResult text = run("check " + keras("unet_keras2_concat_bug.json"));
    EXPECT_THAT(text.out, HasSubstr("error[concat-shape-mismatch] 'concatenate'"));
    EXPECT_THAT(text.out, HasSubstr("A Concatenate layer requires inputs with matching shapes"));
}

TEST(InteropCli, CleanKerasModelAndArchivePass) {
    EXPECT_EQ(run("check " + keras("unet_keras3.json")).exitCode, 0);
    CliResult archive = run("check " + keras("unet_keras3.keras"));
    EXPECT_EQ(archive.exitCode, 0) << archive.out;
    EXPECT_THAT(archive.out, HasSubstr("N×64×64×1 f32"));
}

TEST(InteropCli, BadKerasFileSaysWhere) {
    CliResult r = run("check --json " + keras("bad/dangling.json"));
    EXPECT_EQ(r.exitCode, 2);
    auto doc = nlohmann::json::parse(r.out);
    ASSERT_EQ(doc["errors"].size(), 1u);
    EXPECT_THAT(doc["errors"][0].get<std::string>(),
                HasSubstr("config.layers[4].inbound_nodes[0][0]"));
    CliResult trunc =
        run("import " + keras("bad/truncated.json") + " -o " + scratch("never.segforge").string(),
            true);
    EXPECT_EQ(trunc.exitCode, 2);
    EXPECT_THAT(trunc.out, HasSubstr("not valid JSON"));
    EXPECT_FALSE(fs::exists(scratch("never.segforge")));
}

TEST(InteropCli, ImportWritesAProjectThatKeepsTheMistake) {
    fs::path project = scratch("imported.segforge");
    CliResult r =
        run("import " + keras("unsupported_keras3.json") + " -o " + project.string(), true);
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("1 unsupported layer(s)"));
    EXPECT_THAT(r.out, HasSubstr("LayerNormalization 'enc2_gn' has no SegForge op"));
    CliResult c = run("check --json " + project.string());
    EXPECT_EQ(c.exitCode, 1);
    auto doc = nlohmann::json::parse(c.out);
    std::vector<std::string> codes;
    for (const auto& d : doc["diagnostics"])
        codes.push_back(d["code"].get<std::string>() + "/" + d["severity"].get<std::string>());
    EXPECT_THAT(codes, ::testing::Contains("unsupported-layer/error"));
    // As a project it must train, so here no-loss is an error.
    EXPECT_THAT(codes, ::testing::Contains("no-loss/error"));
}

TEST(InteropCli, ExportScriptsAndKerasJson) {
    fs::path project = scratch("unet.segforge");
    ASSERT_EQ(run("template unet --depth 2 --filters 4 --size 32 -o " + project.string()).exitCode,
              0);
    fs::path torch = scratch("unet_torch.py");
    CliResult t = run("export " + project.string() + " --to pytorch -o " + torch.string());
    ASSERT_EQ(t.exitCode, 0) << t.out;
    EXPECT_EQ(std::system(("python3 -m py_compile " + torch.string()).c_str()), 0);
    fs::path kscript = scratch("unet_keras.py");
    ASSERT_EQ(run("export " + project.string() + " --to keras -o " + kscript.string()).exitCode, 0);
    EXPECT_EQ(std::system(("python3 -m py_compile " + kscript.string()).c_str()), 0);

    fs::path json = scratch("unet_export.json");
    ASSERT_EQ(run("export " + project.string() + " --to keras-json -o " + json.string()).exitCode,
              0);
    CliResult c = run("check --json " + json.string());
    EXPECT_EQ(c.exitCode, 0) << c.out;
    EXPECT_THAT(c.out, HasSubstr("\"enc1_conv1\""));

    // Without --weights, ONNX carries the seeded initial weights (and says so).
    CliResult onnx =
        run("export " + project.string() + " --to onnx -o " + scratch("x.onnx").string(), true);
    EXPECT_EQ(onnx.exitCode, 0) << onnx.out;
    EXPECT_THAT(onnx.out, HasSubstr("initial weights (seed 42)"));
    EXPECT_GT(fs::file_size(scratch("x.onnx")), 1000u);
    EXPECT_EQ(run("export " + project.string() + " --to onnx --weights /no/such.safetensors -o " +
                  scratch("z.onnx").string())
                  .exitCode,
              2);
    EXPECT_EQ(run("export " + project.string() +
                  " --to pytorch --weights /no/such.safetensors -o " + scratch("y.py").string())
                  .exitCode,
              2);
}

TEST(InteropCli, RealKerasFilesOpenAsTheyAre) {
    // Nested models, a channels_first model, a free input size and a flood of
    // regularizers: each is checked clean and imported, none refused.
    for (const std::string file : {"nested_encoder_keras2.json", "nested_encoder_keras3.json",
                                   "channels_first_unet_keras2.json", "free_size_keras3.json",
                                   "regularizer_flood_keras2.json"}) {
        SCOPED_TRACE(file);
        CliResult check = run("check " + keras(file), true);
        EXPECT_EQ(check.exitCode, 0) << check.out;
        fs::path project = scratch(fs::path(file).stem().string() + ".segforge");
        CliResult imported = run("import " + keras(file) + " -o " + project.string(), true);
        EXPECT_EQ(imported.exitCode, 0) << imported.out;
        EXPECT_TRUE(fs::exists(project));
        EXPECT_EQ(run("check " + project.string() + " --no-data").exitCode, 1)
            << "as a project it has no loss yet";
    }
    // 60 layers' regularizers: two lines, not 120.
    CliResult flood = run("check " + keras("regularizer_flood_keras2.json"), true);
    std::size_t lines = 0;
    // (the file's own name holds "regularizer": count the settings, "…_regularizer L2(…)")
    for (std::size_t at = flood.out.find("_regularizer L"); at != std::string::npos;
         at = flood.out.find("_regularizer L", at + 1)) {
        const std::size_t eol = flood.out.find('\n', at);
        ++lines;
        at = eol == std::string::npos ? flood.out.size() - 1 : eol;
    }
    EXPECT_EQ(lines, 2u) << flood.out;
    EXPECT_THAT(flood.out, HasSubstr("ignored on 60 layers"));
}

TEST(InteropCli, CustomLayerWithTwoOutputsIsAFindingNotARefusal) {
    CliResult check = run("check --json " + keras("multi_output_custom_keras2.json"));
    EXPECT_EQ(check.exitCode, 1) << check.out; // findings, not unreadable input (2)
    auto doc = nlohmann::json::parse(check.out);
    std::vector<std::string> codes;
    for (const auto& d : doc["diagnostics"])
        codes.push_back(d["code"].get<std::string>() + "/" + d["severity"].get<std::string>());
    EXPECT_THAT(codes, ::testing::Contains("unsupported-layer/error"));
    EXPECT_THAT(codes, ::testing::Not(::testing::Contains("dangling-edge/error")));
    fs::path project = scratch("split.segforge");
    CliResult imported =
        run("import " + keras("multi_output_custom_keras2.json") + " -o " + project.string(), true);
    EXPECT_EQ(imported.exitCode, 0) << imported.out;
    EXPECT_THAT(imported.out, HasSubstr("1 unsupported layer(s)"));
}
