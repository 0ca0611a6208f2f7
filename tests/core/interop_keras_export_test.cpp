// Export: our graph → Keras 3 model JSON → our importer gives the same graph
// (modulo positions); the Keras and PyTorch scripts compile and declare every
// layer by name.

#include "export/python_script_export.hpp"
#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "ops/op_helpers.hpp"
#include "templates/unet_template.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

const std::string kData = std::string(SEGFORGE_TEST_DATA) + "/keras/";

/// Every schema attribute of a node, resolved; positions and ids left out.
std::map<std::string, std::string> resolvedAttrs(const Node& n) {
    std::map<std::string, std::string> out;
    const OpSchema* s = OpRegistry::builtin().find(n.op);
    for (const AttrSpec& spec : s->attrs) {
        auto v = ops::resolvedAttr(n, spec.name);
        out[spec.name] = v ? attrToString(*v) : "(invalid)";
    }
    return out;
}

/// The graph as names: "name op {attrs}" per node, "from.port→to.port" per edge.
std::vector<std::string> describe(const Graph& g) {
    std::vector<std::string> lines;
    for (const auto& [id, n] : g.nodes()) {
        std::string line = n.name + " " + n.op;
        for (const auto& [k, v] : resolvedAttrs(n))
            line += " " + k + "=" + v;
        lines.push_back(line);
    }
    for (const Edge& e : g.edges())
        lines.push_back(g.findNode(e.from.node)->name + "." + e.from.port + "→" +
                        g.findNode(e.to.node)->name + "." + e.to.port);
    std::sort(lines.begin(), lines.end());
    return lines;
}

Graph roundTrip(const Graph& g) {
    KerasJsonExport e = exportKerasJson(g, "rt");
    EXPECT_TRUE(e.ok()) << (e.errors.empty() ? "" : e.errors[0]);
    KerasImport back = importKerasJson(e.model.dump(), "rt.json");
    EXPECT_TRUE(back.ok()) << (back.errors.empty() ? "" : back.errors[0]);
    for (const auto& w : back.warnings)
        ADD_FAILURE() << "round trip warns: " << w;
    return back.ok() ? back.project->graph : Graph{};
}

Graph everyOp() {
    using V = std::vector<std::int64_t>;
    GraphBuilder b;
    NodeId in = b.add("Input", "in",
                      {{"height", std::int64_t{33}},
                       {"width", std::int64_t{31}},
                       {"channels", std::int64_t{2}},
                       {"dtype", std::string("uint8")},
                       {"batch_size", std::int64_t{4}}});
    NodeId rs = b.then("Rescale", "rescale", out(in), {{"scale", 0.5}, {"offset", -1.0}});
    NodeId c1 = b.then("Conv2D", "c1", out(rs),
                       {{"filters", std::int64_t{6}},
                        {"kernel_size", V{3, 1}},
                        {"strides", V{2, 1}},
                        {"padding", std::string("same")},
                        {"activation", std::string("leaky_relu")},
                        {"use_bias", false},
                        {"kernel_initializer", std::string("he_normal")}});
    NodeId bn = b.then("BatchNormalization", "bn", out(c1), {{"momentum", 0.8}, {"center", false}});
    NodeId act = b.then("Activation", "act", out(bn),
                        {{"activation", std::string("leaky_relu")}, {"alpha", 0.05}});
    NodeId mp = b.then("MaxPool2D", "mp", out(act), {{"pool_size", V{3, 3}}, {"strides", V{1, 2}}});
    NodeId ap = b.then("AvgPool2D", "ap", out(mp), {{"padding", std::string("same")}});
    NodeId pad = b.then("ZeroPadding2D", "pad", out(ap), {{"padding", V{1, 2, 3, 4}}});
    NodeId crop = b.then("Cropping2D", "crop", out(pad), {{"cropping", V{1, 0, 0, 2}}});
    NodeId dil = b.then("Conv2D", "dil", out(crop),
                        {{"filters", std::int64_t{6}},
                         {"dilation_rate", V{2, 2}},
                         {"padding", std::string("same")}});
    NodeId up = b.then("UpSampling2D", "up", out(dil),
                       {{"size", V{2, 3}}, {"interpolation", std::string("bilinear")}});
    NodeId tr = b.then("Conv2DTranspose", "tr", out(crop),
                       {{"filters", std::int64_t{6}},
                        {"kernel_size", V{3, 3}},
                        {"strides", V{2, 3}},
                        {"padding", std::string("valid")}});
    NodeId cr2 = b.then("Cropping2D", "cr2", out(tr), {{"cropping", V{0, 1, 0, 0}}});
    NodeId cat = b.add("Concatenate", "cat", {{"num_inputs", std::int64_t{3}}});
    b.wire(out(up), {cat, "a"});
    b.wire(out(cr2), {cat, "b"});
    b.wire(out(up), {cat, "c"});
    NodeId drop = b.then("Dropout", "drop", out(cat), {{"rate", 0.25}, {"seed", std::int64_t{9}}});
    NodeId head = b.then("Conv2D", "head", out(drop),
                         {{"filters", std::int64_t{18}},
                          {"kernel_size", V{1, 1}},
                          {"activation", std::string("sigmoid")}});
    NodeId add = b.add("Add", "add");
    b.wire(out(head), {add, "a"});
    b.wire(out(cat), {add, "b"});
    NodeId mul = b.add("Multiply", "mul");
    b.wire(out(add), {mul, "a"});
    b.wire(out(head), {mul, "b"});
    b.then("Activation", "soft", out(mul), {{"activation", std::string("softmax")}});
    return b.graph;
}

} // namespace

TEST(KerasJsonExport, EveryOpRoundTrips) {
    Graph g = everyOp();
    CheckResult r = checkGraph(g, CheckOptions{.diagnoseInputSize = false, .requireLoss = false});
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    EXPECT_EQ(describe(roundTrip(g)), describe(g));
}

TEST(KerasJsonExport, FixturesRoundTrip) {
    for (const char* file : {"unet_keras2_concat_bug.json", "unet_keras3.json",
                             "sequential_keras2.json", "nested_keras3.json"}) {
        SCOPED_TRACE(file);
        KerasImport first = importKerasFile(kData + file);
        ASSERT_TRUE(first.ok());
        EXPECT_EQ(describe(roundTrip(first.project->graph)), describe(first.project->graph));
    }
}

TEST(KerasJsonExport, WritesKeras3FunctionalForm) {
    KerasImport first = importKerasFile(kData + "unet_keras3.json");
    ASSERT_TRUE(first.ok());
    KerasJsonExport e = exportKerasJson(first.project->graph, "m");
    ASSERT_TRUE(e.ok());
    const auto& layers = e.model["config"]["layers"];
    EXPECT_EQ(e.model["class_name"], "Functional");
    EXPECT_EQ(layers[0]["class_name"], "InputLayer");
    EXPECT_EQ(layers[0]["config"]["batch_shape"], nlohmann::json::parse("[null, 64, 64, 3]"));
    const auto* skip = &layers[0];
    for (const auto& l : layers)
        if (l["name"] == "skip1")
            skip = &l;
    EXPECT_EQ((*skip)["class_name"], "Concatenate");
    const auto& args = (*skip)["inbound_nodes"][0]["args"][0];
    ASSERT_EQ(args.size(), 2u);
    EXPECT_EQ(args[0]["config"]["keras_history"], nlohmann::json::parse(R"(["up1", 0, 0])"));
    EXPECT_EQ(args[1]["config"]["shape"], nlohmann::json::parse("[null, 64, 64, 8]"));
    EXPECT_EQ(e.model["config"]["output_layers"], nlohmann::json::parse(R"([["head", 0, 0]])"));
}

TEST(KerasJsonExport, PlaceholdersAndCyclesCannotLeave) {
    KerasImport imported = importKerasFile(kData + "unsupported_keras3.json");
    ASSERT_TRUE(imported.ok());
    KerasJsonExport e = exportKerasJson(imported.project->graph, "m");
    ASSERT_EQ(e.errors.size(), 1u);
    EXPECT_THAT(e.errors[0],
                HasSubstr("'enc2_gn' is a placeholder for the Keras layer LayerNormalization"));
    ScriptExport s = exportPyTorchScript(*imported.project, "");
    EXPECT_FALSE(s.ok());

    GraphBuilder b;
    NodeId a = b.then("Activation", "a", out(b.input(4, 4, 1)));
    NodeId c = b.add("Add", "c");
    b.wire(out(a), {c, "a"});
    b.wire(out(c), {c, "b"});
    EXPECT_FALSE(exportKerasJson(b.graph, "m").ok());
}

namespace {

fs::path writeScript(const std::string& name, const std::string& text) {
    fs::path dir = fs::temp_directory_path() / "segforge_interop_tests";
    fs::create_directories(dir);
    fs::path file = dir / name;
    std::ofstream(file) << text;
    return file;
}

bool pyCompiles(const fs::path& file) {
    const std::string cmd = "python3 -m py_compile '" + file.string() + "'";
    return std::system(cmd.c_str()) == 0;
}

Project unet() {
    UNetOptions o;
    o.depth = 2;
    o.filters = 4;
    o.size = 32;
    o.batchnorm = true;
    auto made = makeUNetProject(o);
    return std::get<Project>(made);
}

void expectDeclaresEveryLayer(const std::string& text, const Graph& g) {
    for (const auto& [id, n] : g.nodes()) {
        const OpSchema* s = OpRegistry::builtin().find(n.op);
        if (s->role == OpRole::Loss || s->role == OpRole::Metric || n.op == "Cast" ||
            n.name == "scale_mask")
            continue;
        EXPECT_THAT(text, HasSubstr("\"" + n.name + "\"")) << n.name;
    }
}

} // namespace

TEST(PythonScripts, KerasScriptCompilesAndDeclaresEveryLayer) {
    Project p = unet();
    ScriptExport s = exportKerasScript(p, "weights.safetensors");
    ASSERT_TRUE(s.ok()) << s.errors.at(0);
    expectDeclaresEveryLayer(s.text, p.graph);
    EXPECT_THAT(s.text, HasSubstr("layers.Conv2D(4, kernel_size=(3, 3)"));
    EXPECT_THAT(s.text, HasSubstr("bce_dice_loss("));
    EXPECT_THAT(s.text, HasSubstr("default=\"weights.safetensors\""));
    EXPECT_THAT(s.text, HasSubstr("\"enc1_conv1\": [\"kernel\"]"));
    EXPECT_THAT(s.text, HasSubstr("\"dec1_up\": [\"kernel\", \"bias\"]"));
    EXPECT_THAT(
        s.text,
        HasSubstr("\"enc1_bn1\": [\"gamma\", \"beta\", \"moving_mean\", \"moving_variance\"]"));
    // The mask's Rescale prepares targets: not a layer of the network.
    EXPECT_THAT(s.text, HasSubstr("outputs=[t_output]"));
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("scale_mask")));
    EXPECT_TRUE(pyCompiles(writeScript("unet_keras.py", s.text)));
}

TEST(PythonScripts, PyTorchScriptCompilesAndDeclaresEveryLayer) {
    Project p = unet();
    ScriptExport s = exportPyTorchScript(p, "");
    ASSERT_TRUE(s.ok()) << s.errors.at(0);
    expectDeclaresEveryLayer(s.text, p.graph);
    EXPECT_THAT(s.text, HasSubstr("self.layers[\"enc1_conv1\"] = KerasConv2d(3, 4, (3, 3)"));
    EXPECT_THAT(s.text, HasSubstr("make_loss(\"BCEDice\""));
    EXPECT_THAT(s.text, HasSubstr("        return t_output\n"));
    EXPECT_THAT(s.text, ::testing::Not(HasSubstr("scale_mask")));
    EXPECT_TRUE(pyCompiles(writeScript("unet_torch.py", s.text)));
}

TEST(PythonScripts, EveryOpCompilesInBothScripts) {
    Project p;
    p.name = "every op";
    p.graph = everyOp();
    for (bool torch : {false, true}) {
        ScriptExport s = torch ? exportPyTorchScript(p, "") : exportKerasScript(p, "");
        ASSERT_TRUE(s.ok()) << s.errors.at(0);
        expectDeclaresEveryLayer(s.text, p.graph);
        EXPECT_TRUE(pyCompiles(writeScript(torch ? "every_torch.py" : "every_keras.py", s.text)));
    }
}
