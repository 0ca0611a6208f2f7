// Keras files as real projects write them, which the importer once refused or
// misread (issue 15): nested models with Keras' call numbering, custom layers
// with several outputs, channels_first models, free (None) input sizes, and a
// flood of identical regularizer warnings. Fixtures: tests/data/keras/make_fixtures.py.

#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "layout/node_geometry.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_ports.hpp"
#include "ops/op_registry.hpp"
#include "project/project_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

const std::string kData = std::string(SEGFORGE_TEST_DATA) + "/keras/";

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

KerasImport importFile(const std::string& file) {
    KerasImport r = importKerasFile(kData + file);
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    return r;
}

nlohmann::json fixture(const std::string& file) {
    std::ifstream in(kData + file);
    return nlohmann::json::parse(in);
}

CheckResult checkImported(const Graph& g) {
    CheckOptions options;
    options.requireLoss = false;
    options.diagnoseInputSize = false;
    return checkGraph(g, options);
}

std::string typeOf(const Graph& g, const CheckResult& r, const std::string& name,
                   const std::string& port = "output") {
    auto t = r.typeOf({node(g, name).id, port});
    return t ? t->toString() : "(none)";
}

std::string producerName(const Graph& g, const std::string& name, const std::string& port) {
    auto from = g.producerOf({node(g, name).id, port});
    return from ? g.findNode(from->node)->name : "(none)";
}

std::size_t linesWith(const std::vector<std::string>& lines, const std::string& piece) {
    return static_cast<std::size_t>(std::count_if(lines.begin(), lines.end(), [&](const auto& l) {
        return l.find(piece) != std::string::npos;
    }));
}

AttrValue integer(std::int64_t v) {
    return AttrValue{v};
}

} // namespace

// ------------------------------------------------------------ nested models --

TEST(KerasRealFiles, NestedEncoderKeras2CalledFromOne) {
    // [model_4, 1, k]: Keras numbers a nested model's calls from 1; the encoder
    // returns three tensors, and nests a Sequential of its own (two levels).
    KerasImport r = importFile("nested_encoder_keras2.json");
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;
    EXPECT_EQ(producerName(g, "model_4_stem_conv", "input"), "image");
    EXPECT_EQ(producerName(g, "model_4_stem_bn", "input"), "model_4_stem_conv");
    EXPECT_EQ(producerName(g, "model_4_c1", "input"), "model_4_stem_bn");
    EXPECT_EQ(producerName(g, "up2", "input"), "model_4_c3");
    EXPECT_EQ(producerName(g, "cat2", "b"), "model_4_c2");
    EXPECT_EQ(producerName(g, "cat1", "b"), "model_4_c1");
    EXPECT_EQ(g.nodeCount(), 15u); // image, 7 encoder layers, 7 decoder layers
    CheckResult c = checkImported(g);
    EXPECT_FALSE(c.hasErrors()) << codesOf(c);
    EXPECT_EQ(typeOf(g, c, "cat2"), "N×32×32×32 f32");
    EXPECT_EQ(typeOf(g, c, "head"), "N×64×64×2 f32");
    EXPECT_THAT(joined(r.warnings), Not(HasSubstr("already named")));
}

TEST(KerasRealFiles, NestedEncoderKeras3SeveralOutputs) {
    KerasImport r = importFile("nested_encoder_keras3.json");
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;
    EXPECT_EQ(producerName(g, "up", "input"), "encoder_e2");
    EXPECT_EQ(producerName(g, "cat", "b"), "encoder_e1");
    CheckResult c = checkImported(g);
    EXPECT_FALSE(c.hasErrors()) << codesOf(c);
    EXPECT_EQ(typeOf(g, c, "cat"), "N×32×32×24 f32");
    EXPECT_EQ(typeOf(g, c, "out"), "N×32×32×1 f32");
}

TEST(KerasRealFiles, NestedCallsNumberedFromZeroAreReadToo) {
    // Files that number the first call 0 (older writers, hand-made files) mean
    // the same call: the numbering under which every reference exists is used.
    std::string text = fixture("nested_encoder_keras2.json").dump();
    for (std::string from : {"[\"model_4\",1,", "[\"stem\",1,"}) {
        std::string to = from;
        to.replace(to.find('1'), 1, "0");
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
            text.replace(at, from.size(), to);
    }
    KerasImport r = importKerasJson(text, "zero.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const Graph& g = r.project->graph;
    EXPECT_EQ(producerName(g, "up2", "input"), "model_4_c3");
    EXPECT_EQ(producerName(g, "cat1", "b"), "model_4_c1");
    EXPECT_FALSE(checkImported(g).hasErrors());
}

TEST(KerasRealFiles, NestedCallThatDoesNotExistSaysHowCallsAreNumbered) {
    nlohmann::json doc = fixture("nested_encoder_keras2.json");
    // up2 reads call #2 of model_4, which is called once (call #1).
    doc["config"]["layers"][2]["inbound_nodes"][0][0][1] = 2;
    KerasImport r = importKerasModel(doc, "m.json");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0], HasSubstr("config.layers[2].inbound_nodes[0][0]"));
    EXPECT_THAT(r.errors[0], HasSubstr("call #2 of 'model_4', which is called 1 time(s)"));
    EXPECT_THAT(r.errors[0], HasSubstr("numbered from 1"));
}

TEST(KerasRealFiles, NestedModelCalledTwiceIsInlinedTwice) {
    nlohmann::json doc = fixture("nested_encoder_keras3.json");
    auto& layers = doc["config"]["layers"];
    // A second call of the encoder, on the same input; 'twice' adds both bottlenecks.
    layers[1]["inbound_nodes"].push_back(layers[1]["inbound_nodes"][0]);
    nlohmann::json add = layers[2]; // UpSampling2D 'up' as a template for the call format
    add["class_name"] = "Add";
    add["name"] = "twice";
    add["config"] = {{"name", "twice"}};
    nlohmann::json a = add["inbound_nodes"][0]["args"][0];
    nlohmann::json b = a;
    b["config"]["keras_history"] = {"encoder", 2, 1};
    add["inbound_nodes"][0]["args"] = nlohmann::json::array({nlohmann::json::array({a, b})});
    layers.push_back(add);
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const Graph& g = r.project->graph;
    EXPECT_EQ(producerName(g, "twice", "a"), "encoder_e2");
    EXPECT_EQ(producerName(g, "twice", "b"), "encoder_e2_2");
    // One line says the second call has weights of its own.
    EXPECT_EQ(linesWith(r.warnings, "imported once per call"), 1u) << joined(r.warnings);
}

// ------------------------------------------------ multi-output custom layer --

TEST(KerasRealFiles, CustomLayerGetsAsManyOutputsAsTheModelReads) {
    KerasImport r = importFile("multi_output_custom_keras2.json");
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;
    const Node& split = node(g, "split");
    EXPECT_EQ(split.op, "KerasLayer");
    EXPECT_EQ(split.attrs.at("num_outputs"), integer(2));
    EXPECT_EQ(g.producerOf({node(g, "left").id, "input"}), (PortRef{split.id, "output"}));
    EXPECT_EQ(g.producerOf({node(g, "right").id, "input"}), (PortRef{split.id, "output_1"}));
    EXPECT_THAT(joined(r.warnings), HasSubstr("ChannelSplit 'split' has no SegForge op"));
    // The placeholder is reported, once; both of its wires exist for the checker.
    CheckResult c = checkImported(g);
    EXPECT_EQ(c.count(Severity::Error), 1u) << codesOf(c);
    EXPECT_EQ(expectDiagnostic(c, codes::kUnsupportedLayer).node, split.id);
    EXPECT_EQ(c.nodes.at(split.id).outputNames, (std::vector<std::string>{"output", "output_1"}));
    // The canvas draws both ports.
    const OpSchema* schema = OpRegistry::builtin().find(split.op);
    EXPECT_EQ(nodeGeometry(split, schema).outputs,
              (std::vector<std::string>{"output", "output_1"}));
    // A saved and reloaded project keeps the second wire.
    const auto path = std::filesystem::temp_directory_path() / "segforge_split.segforge";
    ASSERT_EQ(saveProject(*r.project, path.string()), "");
    ProjectLoad loaded = loadProject(path.string());
    ASSERT_TRUE(loaded.project) << joined(loaded.errors);
    const Graph& back = loaded.project->graph;
    EXPECT_EQ(producerName(back, "right", "input"), "split");
    EXPECT_EQ(back.producerOf({node(back, "right").id, "input"})->port, "output_1");
    EXPECT_EQ(checkImported(back).count(Severity::Error), 1u);
    std::filesystem::remove(path);
}

TEST(KerasRealFiles, CustomLayerOutputsInKeras3Form) {
    const std::string text = R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
       "config": {"batch_shape": [null, 8, 8, 4], "name": "in"}},
      {"class_name": "TopK", "name": "topk", "config": {"name": "topk", "k": 2},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
         "config": {"keras_history": ["in", 0, 0]}}], "kwargs": {}}]},
      {"class_name": "Add", "name": "sum", "config": {"name": "sum"},
       "inbound_nodes": [{"args": [[
         {"class_name": "__keras_tensor__", "config": {"keras_history": ["topk", 0, 2]}},
         {"class_name": "__keras_tensor__", "config": {"keras_history": ["topk", 0, 0]}}]],
         "kwargs": {}}]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["topk", 0, 1]]}})";
    KerasImport r = importKerasJson(text, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const Graph& g = r.project->graph;
    EXPECT_EQ(node(g, "topk").attrs.at("num_outputs"), integer(3));
    EXPECT_EQ(g.producerOf({node(g, "sum").id, "a"})->port, "output_2");
    EXPECT_EQ(g.producerOf({node(g, "sum").id, "b"})->port, "output");
}

TEST(KerasRealFiles, AMappedLayerStillHasOneOutput) {
    nlohmann::json doc = fixture("multi_output_custom_keras2.json");
    doc["config"]["layers"][3]["inbound_nodes"][0][0] = {"left", 0, 1, nlohmann::json::object()};
    KerasImport r = importKerasModel(doc, "m.json");
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(r.errors.size(), 1u);
    EXPECT_THAT(r.errors[0], HasSubstr("output #1 of 'left', which has 1 output(s)"));
}

TEST(KerasRealFiles, AnOutputPortPastNumOutputsIsADanglingEdge) {
    KerasImport r = importFile("multi_output_custom_keras2.json");
    ASSERT_TRUE(r.ok());
    Graph g = r.project->graph;
    const NodeId split = node(g, "split").id;
    const NodeId right = node(g, "right").id;
    ASSERT_TRUE(g.disconnect({{split, "output_1"}, {right, "input"}}));
    g.connect({split, "output_2"}, {right, "input"});
    CheckResult c = checkImported(g);
    const Diagnostic& d = expectDiagnostic(c, codes::kDanglingEdge);
    EXPECT_EQ(d.node, split);
    EXPECT_THAT(d.message, HasSubstr("no output port 'output_2'"));
}

// ------------------------------------------------------------ channels_first --

TEST(KerasRealFiles, ChannelsFirstUNetIsConvertedToChannelsLast) {
    KerasImport r = importFile("channels_first_unet_keras2.json");
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;
    // (3, 64, 48) → 64×48×3.
    EXPECT_EQ(attr(g, "input_1", "height"), integer(64));
    EXPECT_EQ(attr(g, "input_1", "width"), integer(48));
    EXPECT_EQ(attr(g, "input_1", "channels"), integer(3));
    // Concatenate(axis=1) and BatchNormalization(axis=1) name the channels.
    EXPECT_EQ(attr(g, "cat1", "axis"), integer(-1));
    EXPECT_EQ(node(g, "bn1").op, "BatchNormalization");
    EXPECT_EQ(node(g, "softmax").op, "Activation");
    // Spatial per-axis settings stay: ((1, 1), (0, 0)) pads the height.
    const std::vector<std::int64_t> heightOnly{1, 1, 0, 0};
    EXPECT_EQ(attr(g, "pad", "padding"), AttrValue{heightOnly});
    CheckResult c = checkImported(g);
    EXPECT_FALSE(c.hasErrors()) << codesOf(c);
    EXPECT_EQ(typeOf(g, c, "c1"), "N×64×48×8 f32");
    EXPECT_EQ(typeOf(g, c, "p2"), "N×16×12×16 f32");
    EXPECT_EQ(typeOf(g, c, "cat2"), "N×32×24×48 f32");
    EXPECT_EQ(typeOf(g, c, "cat1"), "N×64×48×16 f32");
    EXPECT_EQ(typeOf(g, c, "pad"), "N×66×48×8 f32");
    EXPECT_EQ(typeOf(g, c, "softmax"), "N×64×48×3 f32");
    // One note says so; nothing else is said about the layout.
    EXPECT_EQ(linesWith(r.warnings, "note: the model is channels_first"), 1u) << joined(r.warnings);
    EXPECT_EQ(linesWith(r.warnings, "data_format"), 1u) << joined(r.warnings);
}

TEST(KerasRealFiles, ChannelsFirstAxesMapToTheSameAxisChannelsLast) {
    // In N×C×H×W, axis 2 is the height and -1 the width.
    nlohmann::json doc = fixture("channels_first_unet_keras2.json");
    auto& layers = doc["config"]["layers"];
    for (auto& l : layers) {
        if (l["name"] == "cat2")
            l["config"]["axis"] = 2;
        if (l["name"] == "cat1")
            l["config"]["axis"] = -1;
    }
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(attr(r.project->graph, "cat2", "axis"), integer(1));
    EXPECT_EQ(attr(r.project->graph, "cat1", "axis"), integer(2));
}

TEST(KerasRealFiles, ChannelsFirstFlattenIsNamedAsOrderDependent) {
    nlohmann::json doc = fixture("channels_first_unet_keras2.json");
    nlohmann::json flatten = {{"class_name", "Flatten"},
                              {"name", "flat"},
                              {"config", {{"name", "flat"}, {"data_format", "channels_first"}}},
                              {"inbound_nodes", {{{"softmax", 0, 0, nlohmann::json::object()}}}}};
    doc["config"]["layers"].push_back(flatten);
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(linesWith(r.warnings, "weight rows permuted"), 1u) << joined(r.warnings);
}

// --------------------------------------------------------------- None sizes --

TEST(KerasRealFiles, FreeInputSizeStaysVariableWithAWorkingExample) {
    KerasImport r = importFile("free_size_keras3.json");
    ASSERT_TRUE(r.ok());
    const Graph& g = r.project->graph;
    EXPECT_EQ(attr(g, "image", "variable_size"), AttrValue{true});
    // The valid first convolution takes 2 pixels before three poolings: the
    // sizes that work are 8k + 2, and the smallest from 128 on is 130.
    EXPECT_EQ(attr(g, "image", "height"), integer(130));
    EXPECT_EQ(attr(g, "image", "width"), integer(130));
    CheckResult c = checkImported(g);
    EXPECT_FALSE(c.hasErrors()) << codesOf(c);
    EXPECT_EQ(typeOf(g, c, "head"), "N×128×128×1 f32");
    // The wires show the size symbolically, not the example's numbers.
    EXPECT_TRUE(c.freeSize);
    const std::string bottom = c.label({node(g, "c4").id, "output"});
    EXPECT_THAT(bottom, HasSubstr("H"));
    EXPECT_THAT(bottom, HasSubstr("W"));
    EXPECT_THAT(bottom, Not(HasSubstr("16×16")));
    EXPECT_EQ(linesWith(r.warnings, "note: input 'image' has a free height and width"), 1u)
        << joined(r.warnings);
    EXPECT_EQ(linesWith(r.warnings, "130×130"), 1u) << joined(r.warnings);
    // variable_size survives a save and a load.
    const auto path = std::filesystem::temp_directory_path() / "segforge_free_size.segforge";
    ASSERT_EQ(saveProject(*r.project, path.string()), "");
    ProjectLoad loaded = loadProject(path.string());
    ASSERT_TRUE(loaded.project) << joined(loaded.errors);
    EXPECT_EQ(attr(loaded.project->graph, "image", "variable_size"), AttrValue{true});
    std::filesystem::remove(path);
}

TEST(KerasRealFiles, OnlyTheFreeAxisTakesTheExampleSize) {
    nlohmann::json doc = fixture("free_size_keras3.json");
    doc["config"]["layers"][0]["config"]["batch_shape"] = {nullptr, 66, nullptr, 3};
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(attr(r.project->graph, "image", "height"), integer(66));
    EXPECT_EQ(attr(r.project->graph, "image", "width"), integer(130));
}

TEST(KerasRealFiles, FreeInputSizeInKeras2Form) {
    // Keras 2 writes the free size on the first layer: batch_input_shape [null, null, null, 1].
    nlohmann::json doc = fixture("sequential_keras2.json");
    doc["config"]["layers"][0]["config"]["batch_input_shape"] = {nullptr, nullptr, nullptr, 1};
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const Graph& g = r.project->graph;
    const Node* input = nullptr;
    for (const auto& [id, n] : g.nodes()) {
        if (n.op == "Input")
            input = &n;
    }
    ASSERT_NE(input, nullptr);
    EXPECT_EQ(ops::resolvedAttr(*input, "variable_size"), AttrValue{true});
    // No skip, one pooling: every size from 128 works, so the example is 128.
    EXPECT_EQ(ops::resolvedAttr(*input, "height"), integer(128));
    EXPECT_EQ(ops::resolvedAttr(*input, "channels"), integer(1));
    EXPECT_FALSE(checkImported(g).hasErrors());
}

// ---------------------------------------------------- aggregated warnings --

TEST(KerasRealFiles, RegularizerFloodIsOneLineAndL2BecomesWeightDecay) {
    KerasImport r = importFile("regularizer_flood_keras2.json");
    ASSERT_TRUE(r.ok());
    // 60 bias regularizers: one line naming three layers and the count of the rest.
    EXPECT_EQ(linesWith(r.warnings, "bias_regularizer"), 1u) << joined(r.warnings);
    EXPECT_THAT(joined(r.warnings),
                HasSubstr("bias_regularizer L2(l2=0.0001) ignored on 60 layers (conv1, conv2, "
                          "conv3, … and 57 more)"));
    // The kernel regularizers are mapped: no line says they are ignored.
    EXPECT_EQ(linesWith(r.warnings, "kernel_regularizer L2(l2=0.0001) ignored"), 0u)
        << joined(r.warnings);
    EXPECT_EQ(linesWith(r.warnings, "note: kernel_regularizer L2(l2=0.0001) on 60 of 60 layers"),
              1u)
        << joined(r.warnings);
    EXPECT_THAT(joined(r.warnings), HasSubstr("weight_decay = 2·l2 = 0.0002"));
    EXPECT_THAT(joined(r.warnings), HasSubstr("not the same training"));
    EXPECT_EQ(r.warnings.size(), 2u) << joined(r.warnings);
    EXPECT_EQ(r.project->training.optimizer, "adamw");
    EXPECT_NEAR(r.project->training.weightDecay, 2e-4, 1e-9);
}

TEST(KerasRealFiles, Keras3RegularizerFormsAreMappedToo) {
    // Keras 3 writes {"module": "keras.regularizers", "class_name": "L2", …}; a bare "l2"
    // is Keras' L2 with its default factor 0.01.
    const nlohmann::json k3 = {{"module", "keras.regularizers"},
                               {"class_name", "L2"},
                               {"config", {{"l2", 0.0005}}},
                               {"registered_name", nullptr}};
    for (const auto& [reg, decay] :
         std::vector<std::pair<nlohmann::json, double>>{{k3, 0.001}, {"l2", 0.02}}) {
        SCOPED_TRACE(reg.dump());
        nlohmann::json doc = fixture("unet_keras3.json");
        int set = 0;
        for (auto& l : doc["config"]["layers"]) {
            if (l["config"].contains("kernel_regularizer")) {
                l["config"]["kernel_regularizer"] = reg;
                ++set;
            }
        }
        EXPECT_EQ(set, 5);
        KerasImport r = importKerasModel(doc, "m.json");
        ASSERT_TRUE(r.ok()) << joined(r.errors);
        EXPECT_EQ(r.project->training.optimizer, "adamw");
        EXPECT_NEAR(r.project->training.weightDecay, decay, 1e-12);
        EXPECT_EQ(linesWith(r.warnings, "on 5 of 5 layers with kernels is mapped"), 1u)
            << joined(r.warnings);
        EXPECT_EQ(linesWith(r.warnings, "kernel_regularizer"), 1u) << joined(r.warnings);
    }
}

TEST(KerasRealFiles, RegularizerThatIsNotL2StaysAnAggregatedWarning) {
    nlohmann::json doc = fixture("regularizer_flood_keras2.json");
    for (auto& l : doc["config"]["layers"]) {
        if (l["class_name"] == "Conv2D")
            l["config"]["kernel_regularizer"] = {{"class_name", "L1L2"},
                                                 {"config", {{"l1", 0.001}, {"l2", 0.0}}}};
    }
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(linesWith(r.warnings, "kernel_regularizer L1L2(l1=0.001) ignored on 60 layers"), 1u)
        << joined(r.warnings);
    EXPECT_EQ(r.project->training.optimizer, TrainingSettings{}.optimizer);
    EXPECT_EQ(r.project->training.weightDecay, TrainingSettings{}.weightDecay);
}

TEST(KerasRealFiles, L2OnFewLayersIsNotMappedAndSaysWhy) {
    nlohmann::json doc = fixture("regularizer_flood_keras2.json");
    int kept = 0;
    for (auto& l : doc["config"]["layers"]) {
        if (l["class_name"] == "Conv2D" && ++kept > 10)
            l["config"]["kernel_regularizer"] = nullptr;
    }
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(linesWith(r.warnings, "kernel_regularizer L2(l2=0.0001) ignored on 10 layers"), 1u)
        << joined(r.warnings);
    EXPECT_EQ(linesWith(r.warnings, "too few"), 1u) << joined(r.warnings);
    EXPECT_EQ(r.project->training.optimizer, TrainingSettings{}.optimizer);
}

TEST(KerasRealFiles, EveryRepeatedWarningKindIsAggregated) {
    // 60 layers, each with an unknown field and a set activity regularizer.
    nlohmann::json doc = fixture("regularizer_flood_keras2.json");
    for (auto& l : doc["config"]["layers"]) {
        if (l["class_name"] != "Conv2D")
            continue;
        l["config"]["filterz"] = 3;
        l["config"]["activity_regularizer"] = {{"class_name", "L1"}, {"config", {{"l1", 0.01}}}};
    }
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(linesWith(r.warnings, "unknown field 'filterz' ignored on 60 layers"), 1u)
        << joined(r.warnings);
    EXPECT_EQ(linesWith(r.warnings, "activity_regularizer L1(l1=0.01) ignored on 60 layers"), 1u)
        << joined(r.warnings);
    EXPECT_EQ(r.warnings.size(), 4u) << joined(r.warnings);
}

TEST(KerasRealFiles, LayersNeverCalledAreOneLine) {
    nlohmann::json doc = fixture("nested_encoder_keras2.json");
    for (const char* name : {"spare1", "spare2", "spare3"}) {
        doc["config"]["layers"].push_back({{"class_name", "Dropout"},
                                           {"name", name},
                                           {"config", {{"name", name}, {"rate", 0.5}}},
                                           {"inbound_nodes", nlohmann::json::array()}});
    }
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_EQ(linesWith(r.warnings, "never called"), 1u) << joined(r.warnings);
    EXPECT_THAT(joined(r.warnings), HasSubstr("not imported on 3 layers (spare1, spare2, spare3)"));
}

TEST(KerasRealFiles, AWarningSaidOfOneLayerKeepsItsPath) {
    nlohmann::json doc = fixture("regularizer_flood_keras2.json");
    doc["config"]["layers"][5]["config"]["filterz"] = 3;
    KerasImport r = importKerasModel(doc, "m.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    EXPECT_THAT(joined(r.warnings),
                HasSubstr("m.json:config.layers[5].config.filterz: unknown field 'filterz' of "
                          "Conv2D 'conv5' is ignored"));
}
