// The ops ONNX import needs beyond the Keras set: the OnnxNode placeholder
// (its diagnostic, and the declared output shapes it passes on), LeakyReLU
// with its own slope, and GlobalAvgPool2D in a squeeze-excitation block
// (types, free input sizes, and whole-graph gradients through the broadcast).

#include "engine/executor.hpp"
#include "engine_op_harness.hpp"
#include "export/export_graph.hpp"
#include "export/python_script_export.hpp"
#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "op_shape_cases.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_registry.hpp"
#include "whole_graph_gradient.hpp"

#include <cmath>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

/// The type on a wire as text, "?" when it has none.
std::string typeText(const CheckResult& r, PortRef port) {
    auto t = r.typeOf(port);
    return t ? t->toString() : std::string("?");
}

std::vector<const Diagnostic*> unsupported(const CheckResult& r) {
    return r.find(codes::kUnsupportedOp);
}

NodeId onnxNode(GraphBuilder& b, PortRef from, const std::string& name, AttrMap attrs) {
    NodeId id = b.add(ops::kOnnxNodeOp, name, std::move(attrs));
    b.wire(from, {id, "a"});
    return id;
}

TEST(OnnxNode, ReportsTheOnnxOpAndNodeNameAndPassesTheDeclaredType) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 3);
    NodeId gemm = onnxNode(b, out(in), "head_gemm",
                           {{"op_type", std::string("Gemm")},
                            {"onnx_name", std::string("/head/Gemm")},
                            {"reason", std::string("a dense layer over a flattened tensor")},
                            {"output_shapes", std::string("1,1,10")}});
    NodeId act = b.then("Activation", "probs", out(gemm), {{"activation", std::string("sigmoid")}});
    CheckResult r = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    auto found = unsupported(r);
    ASSERT_EQ(found.size(), 1u) << codesOf(r);
    EXPECT_EQ(found[0]->severity, Severity::Error);
    EXPECT_EQ(found[0]->node, gemm);
    EXPECT_THAT(found[0]->message,
                HasSubstr("ONNX op Gemm (node '/head/Gemm') has no SegForge equivalent (a dense "
                          "layer over a flattened tensor); replace it with supported layers"));
    // The rest of the network is still checked, with the declared type.
    EXPECT_EQ(typeText(r, out(gemm)), "N×1×1×10 f32");
    EXPECT_EQ(typeText(r, out(act)), "N×1×1×10 f32");
}

TEST(OnnxNode, WithoutDeclaredShapesTheTensorsAfterItHaveNoTypeAndAreStillReported) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 3);
    NodeId first = onnxNode(b, out(in), "resize",
                            {{"op_type", std::string("Resize")},
                             {"output_shapes", std::string("?,?,3")},
                             {"num_outputs", std::int64_t{2}}});
    NodeId conv = b.then("Conv2D", "conv", out(first), {{"filters", std::int64_t{4}}});
    // Behind another placeholder, and without an onnx_name: the node's own name.
    NodeId second = onnxNode(b, out(conv), "topk", {{"op_type", std::string("TopK")}});
    CheckResult r = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    auto found = unsupported(r);
    ASSERT_EQ(found.size(), 2u) << codesOf(r);
    EXPECT_FALSE(r.typeOf(out(first)).has_value());
    EXPECT_FALSE(r.typeOf(out(first, "output_1")).has_value());
    EXPECT_FALSE(r.typeOf(out(conv)).has_value());
    EXPECT_FALSE(r.typeOf(out(second)).has_value());
    bool named = false;
    for (const Diagnostic* d : found)
        named = named || (d->node == second &&
                          d->message.find("ONNX op TopK (node 'topk')") != std::string::npos);
    EXPECT_TRUE(named);
}

TEST(OnnxNode, SecondOutputGetsItsOwnDeclaredShapeAndBadEntriesAreNamed) {
    GraphBuilder b;
    NodeId in = b.input(6, 4, 2);
    NodeId split = onnxNode(b, out(in), "split",
                            {{"op_type", std::string("Split")},
                             {"num_outputs", std::int64_t{2}},
                             {"output_dtype", std::string("int32")},
                             {"output_shapes", std::string("6,4,1;6, 4 ,1")}});
    CheckResult r = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    EXPECT_EQ(typeText(r, out(split)), "N×6×4×1 i32");
    EXPECT_EQ(typeText(r, out(split, "output_1")), "N×6×4×1 i32");

    b.graph.findNode(split)->attrs["output_shapes"] = std::string("6,4,0;x,1,1;1,1,1");
    CheckResult bad = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    std::vector<std::string> messages;
    for (const Diagnostic* d : bad.find(codes::kBadAttribute))
        messages.push_back(d->message);
    EXPECT_THAT(messages, ::testing::Contains(HasSubstr("lists 3 shapes for 2 output(s)")));
    EXPECT_THAT(messages, ::testing::Contains(HasSubstr("entry 1 '6,4,0'")));
    EXPECT_THAT(messages, ::testing::Contains(HasSubstr("entry 2 'x,1,1'")));
    EXPECT_EQ(unsupported(bad).size(), 1u);
}

TEST(OnnxNode, IsAPlaceholderThatNeitherTrainsNorExports) {
    const OpSchema* s = OpRegistry::builtin().find(ops::kOnnxNodeOp);
    ASSERT_NE(s, nullptr);
    EXPECT_TRUE(s->traits.placeholder);
    EXPECT_TRUE(OpRegistry::builtin().find(ops::kKerasLayerOp)->traits.placeholder);
    EXPECT_FALSE(s->forward);
    EXPECT_FALSE(s->keras.placeholder) << "the Keras importer's placeholder is KerasLayer";
    EXPECT_EQ(s->category, "Interop");

    GraphBuilder b;
    NodeId in = b.input(8, 8, 3);
    NodeId gemm =
        onnxNode(b, out(in), "g",
                 {{"op_type", std::string("Gemm")}, {"output_shapes", std::string("8,8,1")}});
    NodeId target = b.input(8, 8, 1, "float32", "target");
    NodeId loss = b.add("BinaryCrossentropy", "loss", {{"from_logits", true}});
    b.wire(out(gemm), {loss, "prediction"});
    b.wire(out(target), {loss, "target"});
    std::string error;
    EXPECT_FALSE(Executor::compile(b.graph, error));
    EXPECT_THAT(error, HasSubstr("ONNX op Gemm"));

    interop::ExportGraph e = interop::collectExportGraph(b.graph);
    EXPECT_THAT(e.errors,
                ::testing::Contains(HasSubstr("'g' is a placeholder for the ONNX op Gemm")));
}

// ---- LeakyReLU -------------------------------------------------------------

TEST(LeakyReLU, AppliesItsOwnSlope) {
    const std::vector<float> values{-2.0f, -0.5f, 0.0f, 0.25f, 3.0f, -1e-3f};
    for (double alpha : {0.3, 0.01, 1.5, -0.5}) {
        Tensor x(Shape{1, 1, 3, 2}, DType::Float32);
        for (std::size_t i = 0; i < values.size(); ++i)
            x.f32()[i] = values[i];
        OpHarness h(ops::kLeakyReLUOp, {{"alpha", alpha}}, {x});
        ASSERT_TRUE(h.ok());
        h.forward();
        const Tensor& y = h.outputs().at(0);
        for (std::size_t i = 0; i < values.size(); ++i) {
            const float want = values[i] > 0 ? values[i] : static_cast<float>(alpha) * values[i];
            EXPECT_FLOAT_EQ(y.f32()[i], want) << "alpha " << alpha << " x " << values[i];
        }
    }
}

TEST(GlobalAvgPool2D, IsTheMeanOfEachChannel) {
    Tensor x(Shape{2, 2, 3, 2}, DType::Float32);
    for (std::int64_t i = 0; i < x.numel(); ++i)
        x.f32()[i] = static_cast<float>(i);
    OpHarness h(ops::kGlobalAvgPool2DOp, {}, {x});
    ASSERT_TRUE(h.ok());
    h.forward();
    const Tensor& y = h.outputs().at(0);
    ASSERT_EQ(y.shape().toString(), (Shape{2, 1, 1, 2}).toString());
    // Sample 0, channel 0: 0, 2, …, 10 → 5; channel 1: 6. Sample 1: +12.
    EXPECT_FLOAT_EQ(y.f32()[0], 5.0f);
    EXPECT_FLOAT_EQ(y.f32()[1], 6.0f);
    EXPECT_FLOAT_EQ(y.f32()[2], 17.0f);
    EXPECT_FLOAT_EQ(y.f32()[3], 18.0f);
}

/// A Keras 3 functional model: Input 8×8×4, then one layer `l` of class `cls`.
std::string keras3With(const std::string& cls, const std::string& config) {
    return R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
       "config": {"batch_shape": [null, 8, 8, 4], "dtype": "float32", "name": "in"}},
      {"class_name": ")" +
           cls + R"(", "name": "l", "config": )" + config + R"(,
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
         "config": {"shape": [null, 8, 8, 4], "dtype": "float32", "keras_history": ["in", 0, 0]}}],
         "kwargs": {}}]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["l", 0, 0]]}})";
}

const Node& layerL(const KerasImport& k) {
    return *k.project->graph.findNodeByName("l");
}

std::string joined(const std::vector<std::string>& lines) {
    std::string text;
    for (const auto& l : lines)
        text += l + "\n";
    return text;
}

TEST(LeakyReLU, KerasLayersOfEitherVersionImportWithTheirSlope) {
    KerasImport k3 = importKerasJson(
        keras3With("LeakyReLU", R"({"name": "l", "negative_slope": 1.5})"), "m.json");
    ASSERT_TRUE(k3.ok()) << joined(k3.errors);
    EXPECT_EQ(layerL(k3).op, ops::kLeakyReLUOp);
    EXPECT_EQ(layerL(k3).attrs.at("alpha"), AttrValue{1.5});
    KerasImport k2 =
        importKerasJson(keras3With("LeakyReLU", R"({"name": "l", "alpha": 0.01})"), "m.json");
    ASSERT_TRUE(k2.ok()) << joined(k2.errors);
    EXPECT_EQ(layerL(k2).attrs.at("alpha"), AttrValue{0.01});
    // ReLU(negative_slope) stays Activation('leaky_relu') with that slope; a plain ReLU is relu.
    KerasImport relu =
        importKerasJson(keras3With("ReLU", R"({"name": "l", "negative_slope": 0.1})"), "m.json");
    ASSERT_TRUE(relu.ok()) << joined(relu.errors);
    EXPECT_EQ(layerL(relu).op, "Activation");
    EXPECT_EQ(layerL(relu).attrs.at("activation"), AttrValue{std::string("leaky_relu")});
    EXPECT_EQ(layerL(relu).attrs.at("alpha"), AttrValue{0.1});
    KerasImport plain = importKerasJson(keras3With("ReLU", R"({"name": "l"})"), "m.json");
    ASSERT_TRUE(plain.ok()) << joined(plain.errors);
    EXPECT_EQ(ops::resolvedAttr(layerL(plain), "activation"), AttrValue{std::string("relu")});
    EXPECT_EQ(layerL(plain).attrs.count("alpha"), 0u);
}

TEST(LeakyReLU, KerasExportKeepsEverySlope) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4, "float32", "in");
    NodeId leaky = b.then(ops::kLeakyReLUOp, "leaky", out(in), {{"alpha", 0.01}});
    // The Activation's leaky_relu, with a slope of its own, is Keras' ReLU(negative_slope).
    b.then("Activation", "act", out(leaky),
           {{"activation", std::string("leaky_relu")}, {"alpha", 0.05}});
    KerasJsonExport e = exportKerasJson(b.graph, "m");
    ASSERT_TRUE(e.ok()) << joined(e.errors);
    std::map<std::string, nlohmann::ordered_json> layers;
    for (const auto& layer : e.model["config"]["layers"])
        layers[layer["name"].get<std::string>()] = layer;
    EXPECT_EQ(layers["leaky"]["class_name"], "LeakyReLU");
    EXPECT_EQ(layers["leaky"]["config"]["negative_slope"].get<double>(), 0.01);
    EXPECT_EQ(layers["act"]["class_name"], "ReLU");
    EXPECT_EQ(layers["act"]["config"]["negative_slope"].get<double>(), 0.05);

    KerasImport back = importKerasJson(e.model.dump(), "m.json");
    ASSERT_TRUE(back.ok()) << joined(back.errors);
    const Graph& g = back.project->graph;
    EXPECT_EQ(g.findNodeByName("leaky")->op, ops::kLeakyReLUOp);
    EXPECT_EQ(g.findNodeByName("leaky")->attrs.at("alpha"), AttrValue{0.01});
    EXPECT_EQ(g.findNodeByName("act")->op, "Activation");
    EXPECT_EQ(g.findNodeByName("act")->attrs.at("activation"),
              AttrValue{std::string("leaky_relu")});
    EXPECT_EQ(g.findNodeByName("act")->attrs.at("alpha"), AttrValue{0.05});
}

// ---- GlobalAvgPool2D and squeeze-excitation --------------------------------

TEST(GlobalAvgPool2D, KerasKeepdimsTrueImportsAndFalseIsReadAsTrueWithAWarning) {
    KerasImport kept = importKerasJson(
        keras3With("GlobalAveragePooling2D",
                   R"({"name": "l", "data_format": "channels_last", "keepdims": true})"),
        "m.json");
    ASSERT_TRUE(kept.ok()) << joined(kept.errors);
    EXPECT_EQ(layerL(kept).op, ops::kGlobalAvgPool2DOp);
    EXPECT_EQ(joined(kept.warnings).find("keepdims"), std::string::npos) << joined(kept.warnings);
    CheckResult r = checkGraph(kept.project->graph, CheckOptions::withoutInputSizeSweep());
    EXPECT_EQ(typeText(r, out(layerL(kept).id)), "N×1×1×4 f32");

    for (const char* config : {R"({"name": "l", "keepdims": false})", R"({"name": "l"})"}) {
        KerasImport flat = importKerasJson(keras3With("GlobalAvgPool2D", config), "m.json");
        ASSERT_TRUE(flat.ok()) << joined(flat.errors);
        EXPECT_EQ(layerL(flat).op, ops::kGlobalAvgPool2DOp);
        EXPECT_THAT(joined(flat.warnings),
                    HasSubstr("keepdims=False (N×C) imported as keepdims=True (N×1×1×C)"))
            << config;
    }

    // Keras' squeeze-excitation: GAP (N×C) → Reshape((1, 1, C)), which is then the identity.
    const std::string se = R"({"class_name": "Functional", "config": {"name": "m", "layers": [
      {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
       "config": {"batch_shape": [null, 8, 8, 4], "dtype": "float32", "name": "in"}},
      {"class_name": "GlobalAveragePooling2D", "name": "gap", "config": {"name": "gap"},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
         "config": {"shape": [null, 8, 8, 4], "dtype": "float32", "keras_history": ["in", 0, 0]}}],
         "kwargs": {}}]},
      {"class_name": "Reshape", "name": "r", "config": {"name": "r", "target_shape": [1, 1, 4]},
       "inbound_nodes": [{"args": [{"class_name": "__keras_tensor__",
         "config": {"shape": [null, 4], "dtype": "float32", "keras_history": ["gap", 0, 0]}}],
         "kwargs": {}}]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["r", 0, 0]]}})";
    KerasImport seImport = importKerasJson(se, "m.json");
    ASSERT_TRUE(seImport.ok()) << joined(seImport.errors);
    CheckResult seCheck =
        checkGraph(seImport.project->graph, CheckOptions::withoutInputSizeSweep());
    const Node* reshape = seImport.project->graph.findNodeByName("r");
    ASSERT_NE(reshape, nullptr);
    EXPECT_EQ(reshape->op, "Activation") << "a Reshape that keeps N×1×1×C is the identity";
    EXPECT_EQ(typeText(seCheck, out(reshape->id)), "N×1×1×4 f32") << codesOf(seCheck);

    GraphBuilder b;
    NodeId in = b.input(8, 8, 4, "float32", "in");
    b.then(ops::kGlobalAvgPool2DOp, "gap", out(in));
    KerasJsonExport e = exportKerasJson(b.graph, "m");
    ASSERT_TRUE(e.ok()) << joined(e.errors);
    bool written = false;
    for (const auto& layer : e.model["config"]["layers"]) {
        if (layer["name"] == "gap") {
            EXPECT_EQ(layer["class_name"], "GlobalAveragePooling2D");
            EXPECT_EQ(layer["config"]["keepdims"], true);
            written = true;
        }
    }
    EXPECT_TRUE(written);
}

struct SeNet {
    GraphBuilder b;
    NodeId image = 0, target = 0, feat = 0, gap = 0, gate = 0, scaled = 0, head = 0;
};

// image(5×6×3) → Conv2D(4, same, relu) = feat → GAP → Conv1×1(2, relu) →
// Conv1×1(4, sigmoid) = gate → Multiply(gate, feat) → Conv1×1(1, sigmoid) → BCE.
SeNet seNet(bool gateFirst) {
    SeNet n;
    n.image = n.b.input(5, 6, 3, "float32", "image");
    n.target = n.b.input(5, 6, 1, "float32", "target");
    n.feat = n.b.then("Conv2D", "feat", out(n.image),
                      {{"filters", std::int64_t{4}},
                       {"padding", std::string("same")},
                       {"activation", std::string("relu")},
                       {"kernel_initializer", std::string("he_normal")}});
    n.gap = n.b.then(ops::kGlobalAvgPool2DOp, "squeeze", out(n.feat));
    NodeId reduce = n.b.then("Conv2D", "reduce", out(n.gap),
                             {{"filters", std::int64_t{2}},
                              {"kernel_size", std::int64_t{1}},
                              {"activation", std::string("relu")},
                              {"kernel_initializer", std::string("he_normal")}});
    n.gate = n.b.then("Conv2D", "expand", out(reduce),
                      {{"filters", std::int64_t{4}},
                       {"kernel_size", std::int64_t{1}},
                       {"activation", std::string("sigmoid")}});
    n.scaled = n.b.add("Multiply", "excite");
    n.b.wire(out(gateFirst ? n.gate : n.feat), {n.scaled, "a"});
    n.b.wire(out(gateFirst ? n.feat : n.gate), {n.scaled, "b"});
    n.head = n.b.then("Conv2D", "head", out(n.scaled),
                      {{"filters", std::int64_t{1}},
                       {"kernel_size", std::int64_t{1}},
                       {"activation", std::string("sigmoid")}});
    NodeId loss = n.b.add("BinaryCrossentropy", "loss");
    n.b.wire(out(n.head), {loss, "prediction"});
    n.b.wire(out(n.target), {loss, "target"});
    return n;
}

TEST(SqueezeExcitation, TypesAndFreeInputSizesGoThroughTheBroadcast) {
    for (bool gateFirst : {false, true}) {
        SCOPED_TRACE(gateFirst ? "gate first" : "gate second");
        SeNet n = seNet(gateFirst);
        CheckResult r = checkGraph(n.b.graph);
        EXPECT_FALSE(r.hasErrors()) << codesOf(r);
        EXPECT_EQ(typeText(r, out(n.gap)), "N×1×1×4 f32");
        EXPECT_EQ(typeText(r, out(n.gate)), "N×1×1×4 f32");
        EXPECT_EQ(typeText(r, out(n.scaled)), "N×5×6×4 f32");

        n.b.graph.findNode(n.image)->attrs["variable_size"] = true;
        n.b.graph.findNode(n.target)->attrs["variable_size"] = true;
        CheckResult free = checkGraph(n.b.graph);
        EXPECT_FALSE(free.hasErrors()) << codesOf(free);
        EXPECT_EQ(free.label(out(n.gap)), "N×1×1×4 f32");
        EXPECT_EQ(free.label(out(n.scaled)), "N×H×W×4 f32");
        // The gate's 1×1 does not pin the input to 1×1: every size works.
        EXPECT_EQ(free.freeSizes[0].describe("H"), "any H");
        EXPECT_EQ(free.freeSizes[1].describe("W"), "any W");
    }
}

TEST(SqueezeExcitation, WholeGraphGradientMatchesFiniteDifferences) {
    for (bool gateFirst : {false, true}) {
        SCOPED_TRACE(gateFirst ? "gate first" : "gate second");
        SeNet n = seNet(gateFirst);
        std::string error;
        auto ex = Executor::compile(n.b.graph, error);
        ASSERT_TRUE(ex) << error;
        ex->initializeParameters(7);
        Tensor image = uniformTensor({2, 5, 6, 3}, -1, 1, 3);
        Tensor target(Shape{2, 5, 6, 1}, DType::Float32);
        for (std::int64_t i = 0; i < target.numel(); ++i)
            target.f32()[i] = image.f32()[3 * i] > 0 ? 1.0f : 0.0f;
        ex->feedInput("image", image);
        ex->feedInput("target", target);
        ex->beginStep(true);
        ASSERT_EQ(ex->run(), RunStatus::Finished);
        const int checked = expectParameterGradientsMatchLoss(*ex, 3);
        EXPECT_GT(checked, 15);
    }
}

TEST(ImportOps, KerasScriptWritesTheSlopesAndKeepdims) {
    Project p;
    p.name = "m";
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4, "float32", "in");
    NodeId leaky = b.then(ops::kLeakyReLUOp, "leaky", out(in), {{"alpha", 0.01}});
    NodeId act = b.then("Activation", "act", out(leaky),
                        {{"activation", std::string("leaky_relu")}, {"alpha", 0.05}});
    b.then(ops::kGlobalAvgPool2DOp, "gap", out(act));
    p.graph = b.graph;
    ScriptExport s = exportKerasScript(p, "");
    ASSERT_TRUE(s.ok()) << joined(s.errors);
    EXPECT_THAT(s.text, HasSubstr("layers.LeakyReLU(negative_slope=0.01"));
    EXPECT_THAT(s.text, HasSubstr("layers.ReLU(negative_slope=0.05"));
    EXPECT_THAT(s.text, HasSubstr("layers.GlobalAveragePooling2D(keepdims=True, "));
}

// The two traits these ops brought, against what the ops do.
TEST(ImportOps, PlaceholderAndBroadcastsTraitsAreWhatTheOpsDo) {
    int placeholders = 0, broadcasting = 0;
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        EXPECT_EQ(s.traits.placeholder, s.inferWithUnknownInputs);
        if (s.traits.placeholder) {
            ++placeholders;
            EXPECT_FALSE(s.forward);
            EXPECT_FALSE(s.backward);
            EXPECT_EQ(s.category, "Interop");
            EXPECT_FALSE(s.pytorch.module);
            EXPECT_FALSE(s.onnx.write);
        }
        // A valid shape case whose inputs differ in height: only a broadcasting op has one.
        bool mixed = false;
        for (const ShapeCase& c : shapeCases()) {
            if (c.op != s.name || !c.expectedCode.empty() || c.inputs.size() < 2)
                continue;
            for (const ShapeIn& in : c.inputs)
                mixed = mixed || in.h != c.inputs.front().h;
        }
        if (s.role == OpRole::Layer && s.inputs.size() == 1 && s.variadicInputs &&
            !s.traits.placeholder && s.name != "Concatenate") {
            EXPECT_EQ(s.traits.broadcasts, mixed);
        }
        broadcasting += s.traits.broadcasts;
    }
    EXPECT_EQ(placeholders, 2); // KerasLayer, OnnxNode
    EXPECT_EQ(broadcasting, 2); // Add, Multiply
}

} // namespace
