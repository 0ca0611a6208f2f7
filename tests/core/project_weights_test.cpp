// Weights saved with a project: the project file's `weights` section (round
// trip, validation of what it names), the graph revision (what changes it and
// what does not), the run history's JSON, and the weights file beside the
// project: a partial load that names edited and reshaped layers.

#include "engine/executor.hpp"
#include "engine/project_weights.hpp"
#include "engine/weights.hpp"
#include "graph_builder.hpp"
#include "project/graph_revision.hpp"
#include "project/project_file.hpp"
#include "project/run_history.hpp"

#include <cmath>
#include <cstring>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

Graph net(std::int64_t filters = 3) {
    GraphBuilder b;
    const NodeId image = b.input(4, 4, 2, "float32", "image");
    const NodeId target = b.input(4, 4, 1, "float32", "target");
    const NodeId conv = b.then("Conv2D", "conv", out(image),
                               {{"filters", filters}, {"padding", std::string("same")}});
    const NodeId bn = b.then("BatchNormalization", "bn", out(conv));
    const NodeId head = b.then("Conv2D", "head", out(bn),
                               {{"filters", std::int64_t{1}},
                                {"kernel_size", std::int64_t{1}},
                                {"activation", std::string("sigmoid")}});
    const NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(target), {loss, "target"});
    return b.graph;
}

Node* byName(Graph& g, const std::string& name) {
    const Node* n = g.findNodeByName(name);
    return n ? g.findNode(n->id) : nullptr;
}

std::filesystem::path tempDir(const std::string& name) {
    auto dir = std::filesystem::temp_directory_path() / ("segforge_project_weights_" + name);
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    return dir;
}

std::string withWeights(const std::string& weights) {
    return R"({"format": "segforge-project", "version": 1, "graph": {"nodes": []}, "weights": )" +
           weights + "}";
}

} // namespace

TEST(ProjectWeightsSection, RoundTripsThroughTheProjectFile) {
    Project p;
    p.graph = net();
    p.weights = WeightsSection{"net.weights.safetensors", "net.checkpoint.safetensors",
                               graphRevision(p.graph), 120};
    const std::string text = projectToJson(p).dump(2);
    EXPECT_THAT(text, HasSubstr("\"graph_revision\": \"" + graphRevision(p.graph) + "\""));
    ProjectLoad back = parseProject(text, "net.segforge");
    ASSERT_TRUE(back.ok()) << (back.errors.empty() ? "" : back.errors.front());
    EXPECT_TRUE(back.warnings.empty());
    ASSERT_TRUE(back.project->weights);
    EXPECT_EQ(*back.project->weights, *p.weights);

    p.weights->checkpoint.clear(); // optional: weights imported or trained without a checkpoint
    back = parseProject(projectToJson(p).dump(), "net.segforge");
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back.project->weights, *p.weights);
    EXPECT_EQ(projectToJson(p).dump().find("checkpoint"), std::string::npos);

    p.weights.reset(); // a project without weights has no section at all
    EXPECT_EQ(projectToJson(p).dump().find("\"weights\""), std::string::npos);
}

TEST(ProjectWeightsSection, RefusesPathsAndBadRevisionsWithLocatedMessages) {
    const struct {
        const char* section;
        const char* message;
    } cases[] = {
        {R"({"file": "../secret.safetensors", "graph_revision": "0123456789abcdef"})",
         "p.segforge:weights.file: '../secret.safetensors' is not a file name in the project's "
         "folder"},
        {R"({"file": "/etc/passwd", "graph_revision": "0123456789abcdef"})",
         "p.segforge:weights.file:"},
        {R"({"file": "w.safetensors", "checkpoint": "..", "graph_revision": "0123456789abcdef"})",
         "p.segforge:weights.checkpoint:"},
        {R"({"file": "w.safetensors", "graph_revision": "xyz"})",
         "p.segforge:weights.graph_revision: 'xyz' is not 16 hexadecimal digits"},
        {R"({"file": "w.safetensors", "graph_revision": "0123456789abcdef", "step": -1})",
         "p.segforge:weights.step: -1 is out of range"},
        {R"({"graph_revision": "0123456789abcdef"})",
         "p.segforge:weights: missing required field 'file'"},
        {R"("w.safetensors")", "p.segforge:weights: expected an object, got a string"},
    };
    for (const auto& c : cases) {
        ProjectLoad load = parseProject(withWeights(c.section), "p.segforge");
        ASSERT_FALSE(load.ok()) << c.section;
        EXPECT_THAT(load.errors.front(), HasSubstr(c.message)) << c.section;
    }
    ProjectLoad extra = parseProject(
        withWeights(
            R"({"file": "w.safetensors", "graph_revision": "0123456789abcdef", "colour": 1})"),
        "p.segforge");
    ASSERT_TRUE(extra.ok());
    EXPECT_THAT(extra.warnings.front(), HasSubstr("weights.colour: unknown field, ignored"));
}

TEST(GraphRevision, ChangesWithTheNetworkNotWithItsLayoutOrNames) {
    const Graph base = net();
    const std::string r = graphRevision(base);
    EXPECT_TRUE(isGraphRevision(r));
    EXPECT_EQ(r, graphRevision(net())) << "stable";

    Graph moved = base;
    byName(moved, "conv")->position = {500, -20};
    byName(moved, "conv")->name = "first_conv";
    EXPECT_EQ(graphRevision(moved), r) << "positions and names do not change the parameters";

    Graph spelled = base; // [3, 3] is how the schema reads kernel_size 3, and 3 is its default
    byName(spelled, "conv")->attrs["kernel_size"] = std::vector<std::int64_t>{3, 3};
    EXPECT_EQ(graphRevision(spelled), r);

    EXPECT_NE(graphRevision(net(4)), r) << "filters";
    Graph activation = base;
    byName(activation, "head")->attrs["activation"] = std::string("linear");
    EXPECT_NE(graphRevision(activation), r) << "an attribute that keeps the shapes";
    EXPECT_NE(layerSignature(*activation.findNodeByName("head")),
              layerSignature(*base.findNodeByName("head")));
    EXPECT_EQ(layerSignature(*activation.findNodeByName("conv")),
              layerSignature(*base.findNodeByName("conv")));

    Graph rewired = base; // bn bypassed: same nodes, other edges
    const NodeId conv = rewired.findNodeByName("conv")->id, bn = rewired.findNodeByName("bn")->id,
                 head = rewired.findNodeByName("head")->id;
    ASSERT_TRUE(rewired.disconnect(Edge{{bn, "output"}, {head, "input"}}));
    ASSERT_TRUE(rewired.connect({conv, "output"}, {head, "input"}));
    EXPECT_NE(graphRevision(rewired), r) << "edges";
}

TEST(GraphRevision, IgnoresWhereTheDataIsRead) {
    GraphBuilder b;
    const NodeId data = b.add("Dataset", "data",
                              {{"images", std::string("a/images")}, {"height", std::int64_t{32}}});
    (void)data;
    const std::string r = graphRevision(b.graph);
    Graph moved = b.graph;
    byName(moved, "data")->attrs["images"] = std::string("elsewhere/images");
    EXPECT_EQ(graphRevision(moved), r);
    byName(moved, "data")->attrs["height"] = std::int64_t{64};
    EXPECT_NE(graphRevision(moved), r);
}

TEST(RunHistoryJson, RoundTripsWithNaNAndRefusesGarbage) {
    RunHistory h;
    h.steps = {{1, 0.75, 1e-3}, {2, 0.5, 1e-3}};
    h.epochs = {{0, 2, 0.6, std::nan(""), {{"dice", 0.25}}}};
    std::string error;
    auto back = runHistoryFromJson(runHistoryToJson(h), error);
    ASSERT_TRUE(back) << error;
    EXPECT_EQ(back->steps, h.steps);
    ASSERT_EQ(back->epochs.size(), 1u);
    EXPECT_TRUE(std::isnan(back->epochs[0].valLoss));
    EXPECT_EQ(back->epochs[0].metrics, h.epochs[0].metrics);
    EXPECT_FALSE(
        runHistoryFromJson(R"({"steps": [1], "loss": [], "lr": [], "epochs": []})", error));
    EXPECT_THAT(error, HasSubstr("same length"));
    EXPECT_FALSE(runHistoryFromJson("[", error));
    h.truncateAfter(1);
    EXPECT_EQ(h.steps.size(), 1u);
    EXPECT_TRUE(h.epochs.empty());
}

TEST(ProjectWeightsFile, WritesBesideTheProjectAndLoadsBitExact) {
    const auto dir = tempDir("exact");
    const auto projectPath = dir / "net.segforge";
    Graph g = net();
    std::string error;
    auto a = Executor::compile(g, error);
    ASSERT_TRUE(a) << error;
    a->initializeParameters(7);
    RunHistory history;
    history.steps = {{1, 0.5, 0.01}};
    SavedWeights saved = writeProjectWeights(projectPath, {a.get(), &g, &g, 1, &history, nullptr});
    ASSERT_TRUE(saved.section) << saved.error;
    EXPECT_EQ(saved.section->file, "net.weights.safetensors");
    EXPECT_EQ(saved.section->checkpoint, "") << "no trainer, no checkpoint";
    EXPECT_EQ(saved.section->graphRevision, graphRevision(g));
    EXPECT_TRUE(std::filesystem::exists(dir / "net.weights.safetensors"));

    auto b = Executor::compile(g, error);
    b->initializeParameters(99);
    LoadedWeights loaded = readProjectWeights(projectPath, *saved.section, *b, g);
    EXPECT_TRUE(loaded.match.complete()) << describeWeightsMatch(loaded.match);
    EXPECT_TRUE(loaded.sameNetwork);
    EXPECT_TRUE(loaded.notes.empty());
    ASSERT_TRUE(loaded.history);
    EXPECT_EQ(loaded.history->steps, history.steps);
    for (std::size_t i = 0; i < a->parameters().size(); ++i) {
        const Tensor& x = a->parameters()[i].value;
        const Tensor& y = b->parameters()[i].value;
        ASSERT_EQ(x.shape(), y.shape());
        EXPECT_EQ(
            std::memcmp(x.f32(), y.f32(), static_cast<std::size_t>(x.numel()) * sizeof(float)), 0)
            << a->parameters()[i].name;
    }
    // Plain safetensors: the strict loader of `predict --weights` reads it too.
    auto c = Executor::compile(g, error);
    EXPECT_EQ(loadWeights(*c, dir / "net.weights.safetensors"), "");
}

TEST(ProjectWeightsFile, AnEditedLayerIsNamedAndTheOthersKeepTheirWeights) {
    const auto dir = tempDir("edited");
    const auto projectPath = dir / "net.segforge";
    Graph g = net();
    std::string error;
    auto a = Executor::compile(g, error);
    a->initializeParameters(7);
    SavedWeights saved = writeProjectWeights(projectPath, {a.get(), &g, &g, 5, nullptr, nullptr});
    ASSERT_TRUE(saved.section) << saved.error;

    // conv gets more filters (other shapes, also for bn); head another activation (same shapes).
    Graph edited = net(4);
    byName(edited, "head")->attrs["activation"] = std::string("linear");
    auto b = Executor::compile(edited, error);
    ASSERT_TRUE(b) << error;
    b->initializeParameters(99);
    const Tensor headBefore = b->parameters()[0].value;
    LoadedWeights loaded = readProjectWeights(projectPath, *saved.section, *b, edited);
    EXPECT_FALSE(loaded.sameNetwork);
    EXPECT_FALSE(loaded.match.complete());
    const std::string report = describeNotLoaded(loaded.match);
    EXPECT_THAT(report, HasSubstr("head (changed since training)"));
    EXPECT_THAT(report, HasSubstr("conv/kernel (other shape)"));
    EXPECT_THAT(report, HasSubstr("bn/gamma (other shape)"));
    EXPECT_THAT(describeWeightsMatch(loaded.match),
                HasSubstr("other shape: conv/kernel: file 3×3×2×3, graph 3×3×2×4"));

    // A layer unchanged but renamed after training: saved under its new name.
    Graph renamed = g;
    byName(renamed, "head")->name = "classifier";
    SavedWeights again =
        writeProjectWeights(projectPath, {a.get(), &g, &renamed, 5, nullptr, nullptr});
    ASSERT_TRUE(again.section);
    auto c = Executor::compile(renamed, error);
    c->initializeParameters(99);
    LoadedWeights byNewName = readProjectWeights(projectPath, *again.section, *c, renamed);
    EXPECT_TRUE(byNewName.match.complete()) << describeWeightsMatch(byNewName.match);
}

TEST(ProjectWeightsFile, FileNamesFollowTheProject) {
    EXPECT_EQ(weightsFileNameFor("/a/b/net.segforge"), "net.weights.safetensors");
    EXPECT_EQ(checkpointFileNameFor("/a/b/net.segforge"), "net.checkpoint.safetensors");
    EXPECT_EQ(weightsFileNameFor("odd"), "odd.weights.safetensors");
    EXPECT_EQ(projectSibling("/a/b/net.segforge", "w.safetensors"),
              std::filesystem::path("/a/b/w.safetensors"));
    EXPECT_TRUE(isPlainFileName("net.weights.safetensors"));
    EXPECT_FALSE(isPlainFileName("a/b"));
    EXPECT_FALSE(isPlainFileName(".."));
    EXPECT_FALSE(isPlainFileName(""));
}
