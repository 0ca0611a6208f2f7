// Keras model JSON import: Keras 2 and 3 forms, Sequential, nested models,
// Keras semantics of every mapped layer, and bad files that must answer with
// a message naming where — never a crash.

#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "ops/op_helpers.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

const std::string kData = std::string(SEGFORGE_TEST_DATA) + "/keras/";

Project importOk(const std::string& file) {
    KerasImport r = importKerasFile(kData + file);
    std::string errors;
    for (const auto& e : r.errors)
        errors += e + "\n";
    EXPECT_TRUE(r.ok()) << errors;
    return r.ok() ? *r.project : Project{};
}

std::string typeOf(const Graph& g, const CheckResult& r, const std::string& name) {
    auto t = r.typeOf({node(g, name).id, "output"});
    return t ? t->toString() : "(none)";
}

std::string producerName(const Graph& g, const std::string& name, const std::string& port) {
    auto from = g.producerOf({node(g, name).id, port});
    return from ? g.findNode(from->node)->name : "(none)";
}

CheckResult checkImported(const Graph& g) {
    CheckOptions options;
    options.requireLoss = false;
    options.diagnoseInputSize = false;
    return checkGraph(g, options);
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

AttrValue ints(std::initializer_list<std::int64_t> values) {
    return AttrValue{std::vector<std::int64_t>(values)};
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    auto at = text.find(from);
    if (at != std::string::npos)
        text.replace(at, from.size(), to);
    return text;
}

} // namespace

TEST(KerasImport, Keras2UNetShowsTheConcatMistakeOnTheWire) {
    Project p = importOk("unet_keras2_concat_bug.json");
    const Graph& g = p.graph;
    EXPECT_EQ(p.name, "unet");
    EXPECT_EQ(g.nodeCount(), 21u);
    EXPECT_EQ(node(g, "input_1").op, "Input");
    EXPECT_EQ(attr(g, "input_1", "height"), AttrValue{std::int64_t{100}});
    EXPECT_EQ(node(g, "conv2d").op, "Conv2D");
    EXPECT_EQ(attr(g, "conv2d", "padding"), AttrValue{std::string("same")});
    EXPECT_EQ(attr(g, "conv2d", "kernel_initializer"), AttrValue{std::string("he_normal")});
    EXPECT_EQ(attr(g, "conv2d", "activation"), AttrValue{std::string("relu")});
    EXPECT_EQ(node(g, "max_pooling2d").op, "MaxPool2D");
    EXPECT_EQ(node(g, "spatial_dropout2d").op, "Dropout");
    EXPECT_EQ(attr(g, "spatial_dropout2d", "rate"), AttrValue{0.1});
    EXPECT_EQ(node(g, "batch_normalization").op, "BatchNormalization");
    EXPECT_EQ(producerName(g, "concatenate", "a"), "conv2d_transpose");
    EXPECT_EQ(producerName(g, "concatenate", "b"), "spatial_dropout2d");

    CheckResult r = checkImported(g);
    EXPECT_EQ(typeOf(g, r, "spatial_dropout2d"), "N×25×25×64 f32");
    EXPECT_EQ(typeOf(g, r, "max_pooling2d_2"), "N×12×12×64 f32");
    EXPECT_EQ(typeOf(g, r, "conv2d_transpose"), "N×24×24×64 f32");
    const Diagnostic& d = expectDiagnostic(r, codes::kConcatShapeMismatch);
    EXPECT_EQ(d.node, node(g, "concatenate").id);
    EXPECT_THAT(d.message, HasSubstr("N×24×24×64"));
    EXPECT_THAT(d.message, HasSubstr("N×25×25×64"));
    EXPECT_THAT(d.message, HasSubstr("A Concatenate layer requires inputs with matching shapes"));
    EXPECT_FALSE(d.fixes.empty());
    EXPECT_EQ(r.count(Severity::Error), 1u) << codesOf(r);
    ASSERT_EQ(r.find(codes::kNoLoss).size(), 1u);
    EXPECT_EQ(r.find(codes::kNoLoss)[0]->severity, Severity::Warning);

    KerasImport raw = importKerasFile(kData + "unet_keras2_concat_bug.json");
    EXPECT_THAT(joined(raw.warnings),
                HasSubstr("SpatialDropout2D 'spatial_dropout2d' is imported as Dropout"));
}

TEST(KerasImport, NoLossIsAnErrorForProjectsAndAWarningWhenAsked) {
    GraphBuilder b;
    b.then("Conv2D", "c", out(b.input(8, 8, 1)), {{"padding", std::string("same")}});
    CheckResult strict = checkGraph(b.graph);
    EXPECT_EQ(expectDiagnostic(strict, codes::kNoLoss).severity, Severity::Error);
    CheckResult lenient = checkImported(b.graph);
    EXPECT_EQ(expectDiagnostic(lenient, codes::kNoLoss).severity, Severity::Warning);
    EXPECT_FALSE(lenient.hasErrors()) << codesOf(lenient);
}

TEST(KerasImport, Keras3FunctionalIsCleanAndKeepsNames) {
    Project p = importOk("unet_keras3.json");
    const Graph& g = p.graph;
    EXPECT_EQ(p.name, "keras3_unet");
    std::set<std::string> names;
    for (const auto& [id, n] : g.nodes())
        names.insert(n.name);
    EXPECT_EQ(names,
              (std::set<std::string>{"image", "rescale", "enc1", "pool1", "enc2", "enc2_bn",
                                     "enc2_act", "up1", "skip1", "dec1", "residual", "head"}));
    EXPECT_EQ(node(g, "rescale").op, "Rescale");
    EXPECT_NEAR(std::get<double>(attr(g, "rescale", "scale")), 1.0 / 255.0, 1e-12);
    EXPECT_EQ(attr(g, "enc2_bn", "momentum"), AttrValue{0.9});
    EXPECT_EQ(node(g, "up1").op, "Conv2DTranspose");
    EXPECT_EQ(attr(g, "up1", "strides"), ints({2, 2}));
    EXPECT_EQ(attr(g, "up1", "padding"), AttrValue{std::string("same")});
    EXPECT_EQ(attr(g, "skip1", "num_inputs"), AttrValue{std::int64_t{2}});
    EXPECT_EQ(producerName(g, "skip1", "a"), "up1");
    EXPECT_EQ(producerName(g, "skip1", "b"), "enc1");
    EXPECT_EQ(producerName(g, "residual", "b"), "enc1");
    // Attributes equal to the schema default are not stored.
    EXPECT_EQ(node(g, "pool1").attrs.count("pool_size"), 0u);

    CheckResult r = checkImported(g);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    EXPECT_EQ(typeOf(g, r, "enc2_act"), "N×32×32×16 f32");
    EXPECT_EQ(typeOf(g, r, "skip1"), "N×64×64×16 f32");
    EXPECT_EQ(typeOf(g, r, "head"), "N×64×64×1 f32");

    // Auto-laid out: the chain spreads over distinct columns.
    std::set<double> xs;
    for (const auto& [id, n] : g.nodes())
        xs.insert(n.position.x);
    EXPECT_GE(xs.size(), 8u);
}

TEST(KerasImport, KerasArchiveReadsItsConfigJson) {
    Project fromJson = importOk("unet_keras3.json");
    Project fromArchive = importOk("unet_keras3.keras");
    EXPECT_TRUE(fromJson.graph == fromArchive.graph);
}

TEST(KerasImport, Keras2SequentialTakesItsShapeFromTheFirstLayer) {
    Project p = importOk("sequential_keras2.json");
    const Graph& g = p.graph;
    EXPECT_EQ(g.nodeCount(), 9u);
    EXPECT_EQ(node(g, "conv2d_input").op, "Input");
    EXPECT_EQ(attr(g, "conv2d_input", "channels"), AttrValue{std::int64_t{1}});
    // The LeakyReLU layer is the LeakyReLU op, with its slope (Keras 2's key alpha).
    EXPECT_EQ(node(g, "leaky_re_lu").op, "LeakyReLU");
    EXPECT_EQ(attr(g, "leaky_re_lu", "alpha"), AttrValue{0.1});
    EXPECT_EQ(attr(g, "max_pooling2d", "strides"), ints({0, 0})); // None = pool_size
    EXPECT_EQ(attr(g, "zero_padding2d", "padding"), ints({1, 1, 2, 2}));
    EXPECT_EQ(attr(g, "cropping2d", "cropping"), ints({0, 1, 1, 0}));
    EXPECT_EQ(node(g, "average_pooling2d").op, "AvgPool2D");
    EXPECT_EQ(attr(g, "re_lu", "activation"), AttrValue{std::string("relu")});
    EXPECT_EQ(attr(g, "activation", "activation"), AttrValue{std::string("sigmoid")});

    CheckResult r = checkImported(g);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    EXPECT_EQ(typeOf(g, r, "max_pooling2d"), "N×16×16×8 f32");
    EXPECT_EQ(typeOf(g, r, "zero_padding2d"), "N×18×20×8 f32");
    EXPECT_EQ(typeOf(g, r, "cropping2d"), "N×17×19×8 f32");
    EXPECT_EQ(typeOf(g, r, "average_pooling2d"), "N×17×19×8 f32");
    EXPECT_EQ(typeOf(g, r, "activation"), "N×17×19×8 f32");
}

TEST(KerasImport, NestedModelsAreInlined) {
    Project p = importOk("nested_keras3.json");
    const Graph& g = p.graph;
    std::set<std::string> names;
    for (const auto& [id, n] : g.nodes())
        names.insert(n.name);
    // A nested model's layers are named after it, so that names stay unique.
    EXPECT_EQ(names, (std::set<std::string>{"x", "stem", "block_block_conv", "block_block_drop",
                                            "merge_block_gate", "out"}));
    EXPECT_EQ(producerName(g, "block_block_conv", "input"), "stem");
    EXPECT_EQ(producerName(g, "merge_block_gate", "a"), "block_block_drop");
    EXPECT_EQ(producerName(g, "merge_block_gate", "b"), "stem");
    EXPECT_EQ(producerName(g, "out", "input"), "merge_block_gate");
    EXPECT_EQ(attr(g, "block_block_drop", "seed"), AttrValue{std::int64_t{7}});
    CheckResult r = checkImported(g);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    EXPECT_EQ(typeOf(g, r, "out"), "N×32×32×2 f32");
}

TEST(KerasImport, UnsupportedLayerBecomesAReportedPlaceholder) {
    KerasImport imported = importKerasFile(kData + "unsupported_keras3.json");
    ASSERT_TRUE(imported.ok()) << joined(imported.errors);
    const Graph& g = imported.project->graph;
    const Node& gn = node(g, "enc2_gn");
    EXPECT_EQ(gn.op, "KerasLayer");
    EXPECT_EQ(gn.attrs.at("class_name"), AttrValue{std::string("LayerNormalization")});
    EXPECT_EQ(producerName(g, "up1", "input"), "enc2_gn");
    EXPECT_THAT(joined(imported.warnings),
                HasSubstr("LayerNormalization 'enc2_gn' has no SegForge op"));

    CheckResult r = checkImported(g);
    const Diagnostic& d = expectDiagnostic(r, codes::kUnsupportedLayer);
    EXPECT_EQ(d.node, gn.id);
    EXPECT_THAT(d.message, HasSubstr("LayerNormalization"));
    EXPECT_EQ(r.count(Severity::Error), 1u) << codesOf(r);
    EXPECT_EQ(typeOf(g, r, "enc2_act"), "N×32×32×16 f32");
    EXPECT_EQ(typeOf(g, r, "up1"), "(none)");
}

TEST(KerasImport, EveryPlaceholderOfAChainIsReported) {
    // Input → UnitNormalization → Dense → LayerNormalization → Conv2D: three
    // unsupported layers in a row; the check must name all three, not only the
    // first (the others see an untyped input).
    const std::string text = R"({"class_name": "Functional", "config": {"name": "chain", "layers": [
      {"class_name": "InputLayer", "name": "in", "inbound_nodes": [],
       "config": {"batch_input_shape": [null, 8, 8, 4], "dtype": "float32", "name": "in"}},
      {"class_name": "UnitNormalization", "name": "gn", "config": {"name": "gn", "axis": -1},
       "inbound_nodes": [[["in", 0, 0, {}]]]},
      {"class_name": "Dense", "name": "dense", "config": {"name": "dense", "units": 4},
       "inbound_nodes": [[["gn", 0, 0, {}]]]},
      {"class_name": "LayerNormalization", "name": "ln", "config": {"name": "ln"},
       "inbound_nodes": [[["dense", 0, 0, {}]]]},
      {"class_name": "Conv2D", "name": "conv", "config": {"name": "conv", "filters": 2, "kernel_size": [1, 1]},
       "inbound_nodes": [[["ln", 0, 0, {}]]]}],
      "input_layers": [["in", 0, 0]], "output_layers": [["conv", 0, 0]]}})";
    KerasImport imported = importKerasJson(text, "chain.json");
    ASSERT_TRUE(imported.ok()) << joined(imported.errors);
    const Graph& g = imported.project->graph;
    CheckResult r = checkImported(g);
    std::vector<std::string> reported;
    for (const Diagnostic* d : r.find(codes::kUnsupportedLayer))
        reported.push_back(g.findNode(d->node)->name);
    EXPECT_THAT(reported, ::testing::UnorderedElementsAre("gn", "dense", "ln")) << codesOf(r);
    EXPECT_EQ(r.count(Severity::Error), 3u) << codesOf(r);
    for (const char* cls : {"UnitNormalization", "Dense", "LayerNormalization"})
        EXPECT_THAT(joined(imported.warnings), HasSubstr(cls));
    EXPECT_EQ(typeOf(g, r, "conv"), "(none)");
}

namespace {

/// A Keras 3 functional model: Input 8×8×4, then `layer` on it.
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

KerasImport importText(const std::string& text) {
    return importKerasJson(text, "m.json");
}

} // namespace

TEST(KerasImport, ReshapeAndPermuteOnlyWhereTheyKeepNHWC) {
    KerasImport same =
        importText(keras3With("Reshape", R"({"name": "l", "target_shape": [8, -1, 4]})"));
    ASSERT_TRUE(same.ok()) << joined(same.errors);
    EXPECT_EQ(node(same.project->graph, "l").op, "Activation");
    EXPECT_EQ(attr(same.project->graph, "l", "activation"), AttrValue{std::string("linear")});

    KerasImport flat =
        importText(keras3With("Reshape", R"({"name": "l", "target_shape": [64, 4]})"));
    ASSERT_TRUE(flat.ok());
    EXPECT_EQ(node(flat.project->graph, "l").op, "KerasLayer");

    KerasImport moved =
        importText(keras3With("Reshape", R"({"name": "l", "target_shape": [4, 16, 4]})"));
    ASSERT_TRUE(moved.ok());
    EXPECT_EQ(node(moved.project->graph, "l").op, "KerasLayer");
    EXPECT_THAT(std::get<std::string>(node(moved.project->graph, "l").attrs.at("reason")),
                HasSubstr("to (4, 16, 4)"));

    // Absurd sizes stay a placeholder (and must not overflow while being resolved).
    KerasImport huge = importText(keras3With(
        "Reshape", R"({"name": "l", "target_shape": [1000000000000000, 1000000000000000, -1]})"));
    ASSERT_TRUE(huge.ok());
    EXPECT_EQ(node(huge.project->graph, "l").op, "KerasLayer");

    KerasImport id = importText(keras3With("Permute", R"({"name": "l", "dims": [1, 2, 3]})"));
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(node(id.project->graph, "l").op, "Activation");
    KerasImport swap = importText(keras3With("Permute", R"({"name": "l", "dims": [3, 1, 2]})"));
    ASSERT_TRUE(swap.ok());
    EXPECT_EQ(node(swap.project->graph, "l").op, "KerasLayer");
}

TEST(KerasImport, KerasDefaultsNotSegForgeDefaults) {
    // Keras' Conv2DTranspose defaults to strides 1 and padding 'valid' (ours: 2, 'same').
    KerasImport t = importText(
        keras3With("Conv2DTranspose", R"({"name": "l", "filters": 2, "kernel_size": 3})"));
    ASSERT_TRUE(t.ok()) << joined(t.errors);
    EXPECT_EQ(attr(t.project->graph, "l", "strides"), ints({1, 1}));
    EXPECT_EQ(attr(t.project->graph, "l", "padding"), AttrValue{std::string("valid")});
    CheckResult r = checkImported(t.project->graph);
    EXPECT_EQ(typeOf(t.project->graph, r, "l"), "N×10×10×2 f32");

    // Keras 3's activation 'leaky_relu' has slope 0.2; the LeakyReLU layer 0.3.
    KerasImport a =
        importText(keras3With("Activation", R"({"name": "l", "activation": "leaky_relu"})"));
    ASSERT_TRUE(a.ok());
    EXPECT_EQ(attr(a.project->graph, "l", "alpha"), AttrValue{0.2});
    KerasImport k = importText(keras3With("LeakyReLU", R"({"name": "l"})"));
    ASSERT_TRUE(k.ok());
    EXPECT_EQ(attr(k.project->graph, "l", "alpha"), AttrValue{0.3});

    KerasImport dil = importText(keras3With(
        "Conv2D", R"({"name": "l", "filters": 2, "kernel_size": 3, "dilation_rate": 2})"));
    ASSERT_TRUE(dil.ok());
    CheckResult rd = checkImported(dil.project->graph);
    EXPECT_EQ(typeOf(dil.project->graph, rd, "l"), "N×4×4×2 f32");

    KerasImport grouped = importText(
        keras3With("Conv2D", R"({"name": "l", "filters": 4, "kernel_size": 3, "groups": 2})"));
    ASSERT_TRUE(grouped.ok());
    EXPECT_EQ(node(grouped.project->graph, "l").op, "KerasLayer");
}

TEST(KerasImport, InitializersOnlyWhereTheAttributeTakesThem) {
    // Seen in a real file: a bias initialised with GlorotUniform. The bias
    // takes zeros or ones only; keeping glorot_uniform made the checker reject
    // the convolution (bad-attribute) and untyped everything after it.
    KerasImport r = importText(keras3With("Conv2D", R"({"name": "l", "filters": 2, "kernel_size": 3,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": 12}},
        "bias_initializer": {"class_name": "GlorotUniform", "config": {"seed": 12}}})"));
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const Graph& g = r.project->graph;
    EXPECT_EQ(attr(g, "l", "bias_initializer"), AttrValue{std::string("zeros")});
    CheckResult c = checkImported(g);
    EXPECT_FALSE(c.hasErrors()) << codesOf(c);
    EXPECT_EQ(typeOf(g, c, "l"), "N×6×6×2 f32");

    // A kernel still gets the initializer it names.
    KerasImport he =
        importText(keras3With("Conv2D", R"({"name": "l", "filters": 2, "kernel_size": 3,
        "kernel_initializer": {"class_name": "HeNormal", "config": {"seed": null}},
        "bias_initializer": {"class_name": "Ones", "config": {}}})"));
    ASSERT_TRUE(he.ok());
    EXPECT_EQ(attr(he.project->graph, "l", "kernel_initializer"),
              AttrValue{std::string("he_normal")});
    EXPECT_EQ(attr(he.project->graph, "l", "bias_initializer"), AttrValue{std::string("ones")});
}

TEST(KerasImport, TrainingOnlyLayersAreIdentityAndKeepTypesFlowing) {
    // Augmentation and noise layers do nothing at inference and keep the shape.
    // As placeholders they untyped the whole network behind them.
    for (const char* cls : {"RandomFlip", "RandomRotation", "RandomZoom", "GaussianNoise"}) {
        SCOPED_TRACE(cls);
        KerasImport r =
            importText(keras3With(cls, R"({"name": "l", "trainable": true, "mode": "vertical",
            "factor": 0.2, "fill_mode": "reflect", "stddev": 0.1, "seed": null})"));
        ASSERT_TRUE(r.ok()) << joined(r.errors);
        const Graph& g = r.project->graph;
        EXPECT_EQ(node(g, "l").op, "Activation");
        EXPECT_EQ(attr(g, "l", "activation"), AttrValue{std::string("linear")});
        CheckResult c = checkImported(g);
        EXPECT_FALSE(c.hasErrors()) << codesOf(c);
        EXPECT_EQ(typeOf(g, c, "l"), "N×8×8×4 f32");
        // One warning that says what was dropped, none about its fields.
        ASSERT_EQ(r.warnings.size(), 1u) << joined(r.warnings);
        EXPECT_THAT(r.warnings[0], HasSubstr("only during training"));
        EXPECT_THAT(r.warnings[0], HasSubstr("image and mask"));
    }
    // RandomCrop changes the size: it stays a placeholder.
    KerasImport crop =
        importText(keras3With("RandomCrop", R"({"name": "l", "height": 4, "width": 4})"));
    ASSERT_TRUE(crop.ok());
    EXPECT_EQ(node(crop.project->graph, "l").op, "KerasLayer");
}

TEST(KerasImport, BadFilesSayWhatAndWhere) {
    struct Bad {
        std::string file;
        std::vector<std::string> expected;
    };
    const std::vector<Bad> cases = {
        {"bad/truncated.json",
         {"bad/truncated.json:1:4563: not valid JSON: syntax error while parsing object key"}},
        {"bad/dangling.json",
         {"config.layers[4].inbound_nodes[0][0]", "'max_pool_2d', which is not a layer"}},
        {"bad/cycle.json", {"the model has a cycle", "'enc1'", "'dec1'"}},
        // One channels_first layer among channels_last ones: no layout to convert to.
        {"bad/channels_first.json",
         {"config.layers[3].config.data_format", "mixes the two layouts"}},
        {"bad/wrong_type.json",
         {"config.layers[2].config.filters", "expected an integer, got a string"}},
        {"bad/not_a_model.json", {"not a Keras model"}},
        {"bad/does_not_exist.json", {"cannot open"}},
    };
    for (const Bad& c : cases) {
        SCOPED_TRACE(c.file);
        KerasImport r = importKerasFile(kData + c.file);
        EXPECT_FALSE(r.ok());
        ASSERT_EQ(r.errors.size(), 1u) << joined(r.errors);
        for (const auto& piece : c.expected)
            EXPECT_THAT(r.errors[0], HasSubstr(piece));
    }
}

TEST(KerasImport, UnknownFieldsAreNamedAndIgnored) {
    KerasImport r = importKerasFile(kData + "bad/unknown_fields.json");
    ASSERT_TRUE(r.ok()) << joined(r.errors);
    const std::string w = joined(r.warnings);
    EXPECT_THAT(
        w,
        HasSubstr("config.layers[0].config.filterz: unknown field 'filterz' of Conv2D 'conv2d'"));
    EXPECT_THAT(w, HasSubstr("extra_root_field: unknown field"));
}

TEST(KerasImport, StructuralMistakesInline) {
    struct Bad {
        std::string text;
        std::string expected;
    };
    const std::vector<Bad> cases = {
        {R"({"class_name": "Functional", "config": {"layers": 3}})",
         "config.layers: a Functional model needs a 'layers' list"},
        {R"({"class_name": "Sequential", "config": {"layers": []}})", "has no layers"},
        // nlohmann throws out_of_range, not parse_error, for this (found by fuzzing).
        {"55555555555555555555555e55555102", "not valid JSON"},
        {R"({"class_name": "Dense", "config": {}})", "expected a model"},
        {keras3With("Conv2D", R"({"name": "l", "kernel_size": 3})"),
         "missing required field 'filters'"},
        {keras3With("Conv2D", R"({"name": "l", "filters": 2, "kernel_size": [1, 2, 3]})"),
         "expected a pair"},
        // A float far outside int64 (undefined to convert; found by fuzzing).
        {keras3With("Conv2D", R"({"name": "l", "filters": 1e112, "kernel_size": 3})"),
         "expected an integer"},
        {replaced(keras3With("Add", R"({"name": "l"})"), R"("keras_history": ["in", 0, 0])",
                  R"("keras_history": ["in", 3, 0])"),
         "call #3 of 'in'"},
        {replaced(keras3With("Add", R"({"name": "l"})"), R"("keras_history": ["in", 0, 0])",
                  R"("keras_history": "in")"),
         "expected [layer_name, node_index, tensor_index]"},
    };
    for (const Bad& c : cases) {
        SCOPED_TRACE(c.text);
        KerasImport r = importText(c.text);
        EXPECT_FALSE(r.ok());
        ASSERT_EQ(r.errors.size(), 1u);
        EXPECT_THAT(r.errors[0], HasSubstr(c.expected));
        EXPECT_THAT(r.errors[0], HasSubstr("m.json"));
    }
}

TEST(KerasImport, DetectsKerasDocumentsByContent) {
    EXPECT_TRUE(
        isKerasModelJson(nlohmann::json::parse(R"({"class_name": "Sequential", "config": []})")));
    EXPECT_FALSE(
        isKerasModelJson(nlohmann::json::parse(R"({"format": "segforge-project", "graph": {}})")));
    EXPECT_FALSE(isKerasModelJson(nlohmann::json::parse("[1, 2]")));
    EXPECT_TRUE(looksLikeKerasFile(kData + "unet_keras3.keras"));
    EXPECT_TRUE(looksLikeKerasFile(kData + "sequential_keras2.json"));
    EXPECT_FALSE(looksLikeKerasFile(kData + "bad/not_a_model.json"));
}
