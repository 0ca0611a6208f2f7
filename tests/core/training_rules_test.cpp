// The training findings of issue 15: dice-only-loss, batchnorm-partial-batch
// and batchnorm-single-value. Each fires on a graph built for it (its first
// fix applied and the graph re-checked) and stays silent on the bundled sample.

#include "check/training_rules.hpp"
#include "data/data_probe.hpp"
#include "data_fixtures.hpp"
#include "graph_builder.hpp"
#include "ops/builtin_ops.hpp"
#include "project/project_file.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

struct TrainGraph {
    GraphBuilder b;
    NodeId data = kNoNode;
    NodeId pool = kNoNode;
    NodeId bn = kNoNode;
    NodeId loss = kNoNode;
};

/// Dataset (binary masks, `size`×`size`) → Rescale → Conv2D(8) → MaxPool2D(`pool`)
/// → BatchNormalization → UpSampling2D(`pool`) → Conv2D(1, sigmoid) → `lossOp`.
TrainGraph bnGraph(const TempDir& t, int size, int pool, int batch,
                   const std::string& lossOp = "BCEDice") {
    TrainGraph g;
    g.data = g.b.add("Dataset", "data",
                     {{"images", (t / "images").string()},
                      {"masks", (t / "masks").string()},
                      {"height", std::int64_t{size}},
                      {"width", std::int64_t{size}},
                      {"batch_size", std::int64_t{batch}},
                      {"mask_mode", std::string("binary")}});
    NodeId s = g.b.then("Rescale", "scale", out(g.data, "image"), {{"scale", 1.0 / 255.0}});
    NodeId c1 = g.b.then("Conv2D", "enc", out(s),
                         {{"filters", std::int64_t{8}},
                          {"kernel_size", std::int64_t{3}},
                          {"padding", std::string("same")}});
    g.pool = g.b.then("MaxPool2D", "pool", out(c1),
                      {{"pool_size", std::vector<std::int64_t>{pool, pool}}});
    g.bn = g.b.then("BatchNormalization", "bn", out(g.pool));
    NodeId up = g.b.then("UpSampling2D", "up", out(g.bn),
                         {{"size", std::vector<std::int64_t>{pool, pool}}});
    NodeId head = g.b.then("Conv2D", "head", out(up),
                           {{"filters", std::int64_t{1}},
                            {"kernel_size", std::int64_t{1}},
                            {"activation", std::string("sigmoid")}});
    g.loss = g.b.add(lossOp, "loss");
    g.b.wire(out(head), {g.loss, "prediction"});
    NodeId cast =
        g.b.then("Cast", "mask_f32", out(g.data, "mask"), {{"dtype", std::string("float32")}});
    g.b.wire(out(cast), {g.loss, "target"});
    return g;
}

CheckOptions probed(const TempDir& t, NodeId data) {
    CheckOptions o;
    o.dataProbes[data] = probeDataset({(t / "images").string(), (t / "masks").string()});
    return o;
}

CheckResult applyFirst(Graph& graph, const Diagnostic& d, const CheckOptions& o) {
    EXPECT_FALSE(d.fixes.empty()) << d.code;
    if (d.fixes.empty())
        return checkGraph(graph, o);
    EditOutcome outcome = applyEdits(graph, d.fixes.front().edits);
    EXPECT_TRUE(outcome.ok) << outcome.error;
    return checkGraph(graph, o);
}

} // namespace

// ---- dice-only-loss ---------------------------------------------------------

TEST(TrainingRules, DiceOnlyLossOnBinaryDiceOffersBCEDice) {
    TempDir t;
    TrainGraph g = bnGraph(t, 16, 2, 8, "Dice");
    const CheckResult r = checkGraph(g.b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDiceOnlyLoss);
    EXPECT_EQ(d.severity, Severity::Info);
    EXPECT_EQ(d.node, g.loss);
    EXPECT_THAT(d.message, HasSubstr("only loss"));
    EXPECT_THAT(d.message, HasSubstr("nnU-Net"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("to BCEDice"));
    const CheckResult after = applyFirst(g.b.graph, d, {});
    EXPECT_FALSE(after.has(codes::kDiceOnlyLoss)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(g.b.graph.findNode(g.loss)->op, ops::kBCEDiceOp);
}

TEST(TrainingRules, DiceOnlyLossOnMultiClassSoftmaxSaysWhatToPair) {
    GraphBuilder b;
    NodeId in = b.input(16, 16, 3);
    NodeId head = b.then("Conv2D", "head", out(in),
                         {{"filters", std::int64_t{3}},
                          {"kernel_size", std::int64_t{1}},
                          {"activation", std::string("softmax")}});
    NodeId onehot = b.input(16, 16, 3, "float32", "onehot");
    NodeId loss = b.add("Dice", "dice");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(onehot), {loss, "target"});
    const CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDiceOnlyLoss);
    EXPECT_THAT(d.message, HasSubstr("3-class softmax"));
    EXPECT_THAT(d.message, HasSubstr("CategoricalCrossentropy"));
    EXPECT_TRUE(d.fixes.empty()); // BCEDice would want a sigmoid
    // Softmax over 3 exclusive classes is what a multi-class Dice reads: no sigmoid advice.
    EXPECT_FALSE(r.has(codes::kLossActivation)) << codesOf(r);
}

TEST(TrainingRules, DiceOnlyLossSilentWithCrossEntropyBeside) {
    TempDir t;
    TrainGraph g = bnGraph(t, 16, 2, 8, "Dice");
    NodeId bce = g.b.add("BinaryCrossentropy", "bce");
    g.b.wire(*g.b.graph.producerOf({g.loss, "prediction"}), {bce, "prediction"});
    g.b.wire(*g.b.graph.producerOf({g.loss, "target"}), {bce, "target"});
    const CheckResult r = checkGraph(g.b.graph);
    EXPECT_FALSE(r.has(codes::kDiceOnlyLoss)) << codesOf(r);
}

// ---- batchnorm-single-value ---------------------------------------------------

TEST(TrainingRules, BatchNormOnOneByOneMapWithBatchOne) {
    TempDir t;
    TrainGraph g = bnGraph(t, 16, 16, 1); // 16×16 pooled to 1×1, batch_size 1
    const CheckResult r = checkGraph(g.b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormSingleValue);
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_EQ(d.node, g.bn);
    EXPECT_THAT(d.message, HasSubstr("N×1×1×8"));
    EXPECT_THAT(d.message, HasSubstr("N·H·W = 1"));
    EXPECT_THAT(d.message, HasSubstr("Expected more than 1 value per channel when training"));
    // One situation, one finding: batchnorm-small-batch leaves it to this one.
    EXPECT_FALSE(r.has(codes::kBatchNormSmallBatch)) << codesOf(r);
    ASSERT_GE(d.fixes.size(), 2u);
    EXPECT_THAT(d.fixes[0].description, HasSubstr("Move 'bn' before 'pool'"));
    EXPECT_EQ(d.fixes[0].rank, FixRank::Cause);
    EXPECT_THAT(d.fixes[1].description, HasSubstr("Set batch_size=8 on 'data'"));

    const CheckResult after = applyFirst(g.b.graph, d, {});
    EXPECT_FALSE(after.has(codes::kBatchNormSingleValue)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    // Now a 16×16 map with batch 1: the ordinary small-batch advice.
    EXPECT_TRUE(after.has(codes::kBatchNormSmallBatch)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(g.bn))->toString(), "N×16×16×8 f32");
}

TEST(TrainingRules, BatchNormOnOneByOneMapWithOneTrainingSample) {
    TempDir t;
    writeBinarySet(t, 2, 16, 16, 1); // validation_split 0.2 keeps one of two
    TrainGraph g = bnGraph(t, 16, 16, 8);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormSingleValue);
    EXPECT_THAT(d.message, HasSubstr("training split of one sample"));
    EXPECT_FALSE(r.has(codes::kBatchNormPartialBatch)) << codesOf(r);
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("Move 'bn' before 'pool'"));
}

TEST(TrainingRules, BatchNormOnOneByOneMapInTheExportedScriptsLastBatch) {
    // 17 pairs in batches of 8: SegForge drops the last sample, the exported
    // scripts do not — a warning (train is not blocked), fixed by batch size 7.
    TempDir t;
    writeBinarySet(t, 17, 8, 8, 1);
    TrainGraph g = bnGraph(t, 8, 8, 8);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormSingleValue);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_THAT(d.message, HasSubstr("exported Keras training script's last batch"));
    EXPECT_FALSE(r.has(codes::kBatchNormPartialBatch)) << codesOf(r); // said once
    ASSERT_EQ(d.fixes.size(), 2u);
    EXPECT_THAT(d.fixes[1].description, HasSubstr("Set batch_size=7 on 'data'"));
    EditOutcome outcome = applyEdits(g.b.graph, d.fixes[1].edits);
    ASSERT_TRUE(outcome.ok) << outcome.error;
    const CheckResult after = checkGraph(g.b.graph, o);
    EXPECT_FALSE(after.has(codes::kBatchNormSingleValue)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TrainingRules, BatchNormOnOneByOneMapWithBatchEightIsFine) {
    TempDir t;
    TrainGraph g = bnGraph(t, 16, 16, 8);
    const CheckResult r = checkGraph(g.b.graph);
    EXPECT_FALSE(r.has(codes::kBatchNormSingleValue)) << codesOf(r);
}

// ---- batchnorm-partial-batch --------------------------------------------------

TEST(TrainingRules, EpochBatchesFollowThePipeline) {
    // 17 pairs, split 0.2: 3 validate, 14 train; the scripts batch all 17.
    const EpochBatches e = epochBatches(17, 17, 0.2, 8);
    EXPECT_EQ(e.train, 14);
    EXPECT_EQ(e.smallest, 8);
    EXPECT_EQ(e.scriptLast, 1);
    const EpochBatches two = epochBatches(2, 2, 0.2, 8);
    EXPECT_EQ(two.train, 1); // a split of two always validates one
    EXPECT_EQ(two.smallest, 1);
    const EpochBatches none = epochBatches(16, 16, 0.0, 8);
    EXPECT_EQ(none.train, 16);
    EXPECT_EQ(none.scriptLast, 8);
}

TEST(TrainingRules, PartialLastBatchOfOneSample) {
    TempDir t;
    writeBinarySet(t, 17, 8, 8, 1);
    TrainGraph g = bnGraph(t, 8, 2, 8);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormPartialBatch);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_EQ(d.node, g.data);
    EXPECT_THAT(d.message, HasSubstr("17 pairs in batches of 8"));
    EXPECT_THAT(d.message, HasSubstr("'bn'"));
    EXPECT_THAT(d.message,
                HasSubstr("SegForge's own trainer and the exported PyTorch script drop"));
    EXPECT_THAT(d.message, HasSubstr("14-sample training split, 6 samples sit out"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("Set batch_size=7 on 'data'"));
    EXPECT_THAT(d.fixes.front().description, HasSubstr("17 pairs = 2×7 + 3"));
    const CheckResult after = applyFirst(g.b.graph, d, o);
    EXPECT_FALSE(after.has(codes::kBatchNormPartialBatch)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TrainingRules, TrainingSplitOfOneSample) {
    TempDir t;
    writeBinarySet(t, 2, 8, 8, 1);
    TrainGraph g = bnGraph(t, 8, 2, 8);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormPartialBatch);
    EXPECT_THAT(d.message, HasSubstr("training split holds one sample"));
    EXPECT_TRUE(d.fixes.empty()); // no batch size helps; the split or the data must change
    // Without a split every sample trains: two samples, one batch of two.
    CheckOptions all = o;
    all.validationSplit = 0;
    EXPECT_FALSE(checkGraph(g.b.graph, all).has(codes::kBatchNormPartialBatch));
}

TEST(TrainingRules, NoPartialBatchWhenBatchesDivideEvenly) {
    TempDir t;
    writeBinarySet(t, 16, 8, 8, 1);
    TrainGraph g = bnGraph(t, 8, 2, 8);
    const CheckResult r = checkGraph(g.b.graph, probed(t, g.data));
    EXPECT_FALSE(r.has(codes::kBatchNormPartialBatch)) << codesOf(r);
    EXPECT_FALSE(r.has(codes::kBatchNormSingleValue)) << codesOf(r);
}

// ---- the clean sample -------------------------------------------------------------

TEST(TrainingRules, SilentOnTheBundledSample) {
    ProjectLoad load =
        loadProject(std::filesystem::path(SEGFORGE_RESOURCES) / "projects/sample_unet.segforge");
    ASSERT_TRUE(load.ok());
    CheckOptions o;
    o.validationSplit = load.project->training.validationSplit;
    const CheckResult r = checkGraph(load.project->graph, o);
    EXPECT_FALSE(r.has(codes::kDiceOnlyLoss)) << codesOf(r);
    EXPECT_FALSE(r.has(codes::kBatchNormPartialBatch)) << codesOf(r);
    EXPECT_FALSE(r.has(codes::kBatchNormSingleValue)) << codesOf(r);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
}
