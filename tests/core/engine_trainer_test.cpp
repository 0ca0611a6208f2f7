// The trainer: events, determinism (same seed and threads → same bits),
// checkpoints that resume exactly, the NaN guard, and real image folders.

#include "data/sample_data.hpp"
#include "data_fixtures.hpp"
#include "engine/trainer.hpp"
#include "engine/training_setup.hpp"
#include "engine/weights.hpp"
#include "engine_trainer_fixture.hpp"
#include "templates/unet_template.hpp"

#include <cmath>
#include <cstring>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

TrainerSettings settings(int epochs, int threads = 1, std::uint64_t seed = 7) {
    TrainerSettings s;
    s.epochs = epochs;
    s.seed = seed;
    s.threads = threads;
    s.schedule.base = 0.02;
    return s;
}

struct TrainRun {
    std::vector<TrainEvent> events;
    std::vector<double> batchLosses;
    std::vector<double> valLosses;
    TrainResult result;
    std::vector<Tensor> weights;
};

TrainRun train(const Graph& g, TrainerSettings s, const std::string& resumeFrom = "",
               std::function<void(Trainer&, const TrainEvent&)> hook = {}) {
    auto ex = compileTrainerGraph(g);
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, std::move(s));
    if (!resumeFrom.empty()) {
        EXPECT_EQ(trainer.loadCheckpoint(resumeFrom), "");
    }
    TrainRun run;
    trainer.setCallback([&](const TrainEvent& e) {
        run.events.push_back(e);
        if (e.kind == TrainEventKind::Batch)
            run.batchLosses.push_back(e.trainLoss);
        if (e.kind == TrainEventKind::Epoch)
            run.valLosses.push_back(e.valLoss);
        if (hook)
            hook(trainer, e);
    });
    run.result = trainer.run();
    for (const auto& p : ex->parameters())
        run.weights.push_back(p.value);
    return run;
}

bool sameBits(const std::vector<Tensor>& a, const std::vector<Tensor>& b) {
    if (a.size() != b.size())
        return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].byteSize() != b[i].byteSize() ||
            std::memcmp(a[i].bytes(), b[i].bytes(), a[i].byteSize()) != 0)
            return false;
    return true;
}

std::filesystem::path scratchFile(const std::string& name) {
    return std::filesystem::temp_directory_path() / (std::to_string(::getpid()) + "_" + name);
}

} // namespace

TEST(EngineTrainer, TrainsAndReportsEveryBatchAndEpoch) {
    const TrainRun r = train(trainerGraph(), settings(6));
    EXPECT_EQ(r.result.status, TrainEventKind::Finished);
    EXPECT_EQ(r.result.steps, 6 * 8);
    EXPECT_EQ(r.result.epochsCompleted, 6);
    ASSERT_EQ(r.batchLosses.size(), 48u);
    ASSERT_EQ(r.valLosses.size(), 6u);
    ASSERT_EQ(r.events.back().kind, TrainEventKind::Finished);
    const TrainEvent* firstEpoch = nullptr;
    const TrainEvent* lastEpoch = nullptr;
    for (const auto& e : r.events) {
        if (e.kind == TrainEventKind::Batch) {
            EXPECT_TRUE(std::isfinite(e.trainLoss));
            EXPECT_EQ(e.batches, 8u);
            EXPECT_DOUBLE_EQ(e.learningRate, 0.02);
            EXPECT_GE(e.msPerStep, 0.0);
            ASSERT_EQ(e.trainMetrics.size(), 2u);
            EXPECT_GE(e.trainMetrics.at("dice"), 0.0);
            EXPECT_LE(e.trainMetrics.at("iou"), 1.0);
        }
        if (e.kind == TrainEventKind::Epoch) {
            (firstEpoch ? lastEpoch : firstEpoch) = &e;
            ASSERT_TRUE(e.valMetrics.count("dice") && e.valMetrics.count("iou"));
        }
    }
    ASSERT_TRUE(firstEpoch && lastEpoch);
    EXPECT_EQ(firstEpoch->epoch, 0);
    EXPECT_EQ(lastEpoch->epoch, 5);
    EXPECT_EQ(lastEpoch->step, 48);
    // The epoch's train loss is the mean of its batch losses.
    double sum = 0;
    for (std::size_t i = 0; i < 8; ++i)
        sum += r.batchLosses[i];
    EXPECT_DOUBLE_EQ(firstEpoch->trainLoss, sum / 8);
    EXPECT_LT(lastEpoch->trainLoss, 0.8 * firstEpoch->trainLoss);
    EXPECT_LT(lastEpoch->valLoss, firstEpoch->valLoss);
    EXPECT_GT(lastEpoch->valMetrics.at("dice"), firstEpoch->valMetrics.at("dice"));
    EXPECT_GT(lastEpoch->valMetrics.at("dice"), 0.8);
}

TEST(EngineTrainer, SameSeedAndThreadsGiveBitIdenticalLosses) {
    for (int threads : {1, 2}) {
        const TrainRun a = train(trainerGraph(), settings(3, threads));
        const TrainRun b = train(trainerGraph(), settings(3, threads));
        ASSERT_EQ(a.batchLosses.size(), 24u);
        for (std::size_t i = 0; i < a.batchLosses.size(); ++i)
            ASSERT_EQ(a.batchLosses[i], b.batchLosses[i])
                << "threads " << threads << ", step " << i;
        EXPECT_EQ(a.valLosses, b.valLosses);
        EXPECT_TRUE(sameBits(a.weights, b.weights));
    }
    const TrainRun other = train(trainerGraph(), settings(3, 1, 8));
    const TrainRun base = train(trainerGraph(), settings(3, 1, 7));
    EXPECT_NE(other.batchLosses, base.batchLosses) << "the seed must matter";
}

TEST(EngineTrainer, ResumingFromACheckpointContinuesBitForBit) {
    const TrainRun whole = train(trainerGraph(), settings(4));
    const auto ckpt = scratchFile("trainer_resume.safetensors");
    // Stop in the middle of epoch 1, inside step 11 (after a few nodes of its forward pass).
    int nodesInStep11 = 0;
    TrainerSettings s = settings(4);
    s.checkpointPath = ckpt;
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    Trainer first(*ex, source, s);
    std::vector<double> losses;
    first.setCallback([&](const TrainEvent& e) {
        if (e.kind == TrainEventKind::Batch)
            losses.push_back(e.trainLoss);
    });
    first.setNodeObserver([&](const NodeEvent&) {
        if (first.step() == 11 && ++nodesInStep11 == 3)
            first.requestStop();
    });
    const TrainResult stopped = first.run();
    EXPECT_EQ(stopped.status, TrainEventKind::Stopped);
    EXPECT_EQ(stopped.steps, 11);
    EXPECT_EQ(first.epoch(), 1);
    EXPECT_EQ(first.batch(), 3u);
    ASSERT_TRUE(std::filesystem::exists(ckpt));

    const TrainRun rest = train(trainerGraph(), settings(4), ckpt.string());
    EXPECT_EQ(rest.result.status, TrainEventKind::Finished);
    losses.insert(losses.end(), rest.batchLosses.begin(), rest.batchLosses.end());
    ASSERT_EQ(losses.size(), whole.batchLosses.size());
    for (std::size_t i = 0; i < losses.size(); ++i)
        ASSERT_EQ(losses[i], whole.batchLosses[i]) << "step " << i;
    // Epoch 1's mean mixes batches from before and after the stop.
    EXPECT_EQ(rest.valLosses,
              std::vector<double>(whole.valLosses.begin() + 1, whole.valLosses.end()));
    EXPECT_EQ(rest.events.front().kind, TrainEventKind::Batch);
    EXPECT_EQ(rest.events.front().step, 12);
    double epochMean = 0;
    for (std::size_t i = 8; i < 16; ++i)
        epochMean += whole.batchLosses[i] / 8;
    int checkedEpoch = 0;
    for (const auto& e : rest.events) {
        if (e.kind == TrainEventKind::Epoch && e.epoch == 1) {
            EXPECT_NEAR(e.trainLoss, epochMean, 1e-12);
            ++checkedEpoch;
        }
    }
    EXPECT_EQ(checkedEpoch, 1);
    EXPECT_TRUE(sameBits(rest.weights, whole.weights));
    std::filesystem::remove(ckpt);
}

TEST(EngineTrainer, CheckpointsRefuseWhatDoesNotFit) {
    const auto ckpt = scratchFile("trainer_refuse.safetensors");
    const auto weights = scratchFile("trainer_weights.safetensors");
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, settings(1));
    ASSERT_EQ(trainer.run().status, TrainEventKind::Finished);
    ASSERT_EQ(trainer.saveCheckpoint(ckpt), "");
    ASSERT_EQ(saveWeights(*ex, weights), "");

    auto ex2 = compileTrainerGraph(trainerGraph());
    TrainerSettings sgd = settings(1);
    sgd.optimizer.kind = "sgd";
    Trainer withSgd(*ex2, source, sgd);
    const Tensor before = ex2->parameters().front().value;
    EXPECT_NE(withSgd.loadCheckpoint(ckpt).find("optimizer 'adam'"), std::string::npos);
    EXPECT_NE(withSgd.loadCheckpoint(weights).find("not a SegForge checkpoint"), std::string::npos);
    EXPECT_EQ(
        std::memcmp(before.bytes(), ex2->parameters().front().value.bytes(), before.byteSize()), 0)
        << "a refused checkpoint must change nothing";

    auto ex3 = compileTrainerGraph(trainerGraph("BCEDice", {}, "glorot_uniform"));
    Trainer same(*ex3, source, settings(1));
    EXPECT_EQ(same.loadCheckpoint(ckpt), "") << "initializers do not change the shapes";
    EXPECT_EQ(same.step(), 8);
    EXPECT_EQ(same.epoch(), 1);
    std::filesystem::remove(ckpt);
    std::filesystem::remove(weights);
}

TEST(EngineTrainer, NonFiniteLossStopsAndNamesTheNode) {
    // Dice without epsilon, an all-zero prediction (zeros initializer, ReLU) and an empty mask.
    auto ex = compileTrainerGraph(trainerGraph("Dice", {{"epsilon", 0.0}}, "zeros"));
    SyntheticSource source(40, 4, 8, 3, 20);
    Trainer trainer(*ex, source, settings(2));
    std::optional<TrainEvent> last;
    trainer.setCallback([&](const TrainEvent& e) { last = e; });
    const TrainResult r = trainer.run();
    ASSERT_EQ(r.status, TrainEventKind::NonFinite);
    ASSERT_TRUE(r.nonFinite);
    EXPECT_EQ(r.nonFinite->name, "loss");
    EXPECT_EQ(r.nonFinite->phase, Phase::Forward);
    EXPECT_NE(r.nonFinite->reason.find("set epsilon > 0"), std::string::npos)
        << r.nonFinite->reason;
    ASSERT_TRUE(last && last->kind == TrainEventKind::NonFinite && last->nonFinite);
    EXPECT_EQ(last->nonFinite->message(), r.nonFinite->message());
}

TEST(EngineTrainer, TrainsAUNetOnSampleImageFolders) {
    TempDir t;
    SampleDataOptions data;
    data.count = 20;
    data.size = 32;
    ASSERT_EQ(writeSampleData(t.path(), data), "");
    UNetOptions u;
    u.depth = 2;
    u.filters = 4;
    u.size = 32;
    Project project = std::get<Project>(makeUNetProject(u));
    std::string error;
    const Node* dataset = findDatasetNode(project.graph, error);
    ASSERT_TRUE(dataset) << error;
    TrainingOverrides o;
    o.dataDir = t.path();
    o.batchSize = 4;
    o.epochs = 2;
    o.learningRate = 3e-3;
    const PipelineOptions plain = pipelineOptionsFor(project, *dataset, o);
    EXPECT_FALSE(plain.augment.flips);
    EXPECT_EQ(plain.augment.brightness, 0.0);
    // The Dataset node's augmentation attributes reach the pipeline.
    project.graph.findNode(dataset->id)->attrs["augment_flips"] = true;
    project.graph.findNode(dataset->id)->attrs["augment_rotate90"] = true;
    project.graph.findNode(dataset->id)->attrs["augment_contrast"] = 0.2;
    const PipelineOptions augmented = pipelineOptionsFor(project, *dataset, o);
    EXPECT_TRUE(augmented.augment.flips);
    EXPECT_TRUE(augmented.augment.rotate90);
    EXPECT_DOUBLE_EQ(augmented.augment.contrast, 0.2);
    EXPECT_EQ(augmented.augment.brightness, 0.0);
    ImageFolderSource source(augmented);
    EXPECT_EQ(source.trainSize(), 16u);
    EXPECT_EQ(source.validationSize(), 4u);
    auto ex = compileTrainerGraph(project.graph);
    Trainer trainer(*ex, source, trainerSettingsFor(project.training, o, source.trainBatchCount()));
    std::vector<TrainEvent> epochs;
    trainer.setCallback([&](const TrainEvent& e) {
        if (e.kind == TrainEventKind::Epoch)
            epochs.push_back(e);
    });
    const TrainResult r = trainer.run();
    ASSERT_EQ(r.status, TrainEventKind::Finished);
    EXPECT_EQ(r.steps, 8);
    ASSERT_EQ(epochs.size(), 2u);
    for (const auto& e : epochs) {
        EXPECT_TRUE(std::isfinite(e.trainLoss));
        EXPECT_TRUE(std::isfinite(e.valLoss));
        EXPECT_GE(e.valMetrics.at("dice"), 0.0);
        EXPECT_LE(e.valMetrics.at("dice"), 1.0);
    }
    EXPECT_LT(epochs[1].trainLoss, epochs[0].trainLoss);
}

namespace {

/// Losses of `steps` training steps of a depth-2 U-Net (skip connections: values with
/// two consumers) on sample images, and its parameters at the end.
struct UNetSteps {
    std::vector<double> losses;
    std::vector<std::vector<float>> params;
    bool gradientsAfter = false; ///< gradient() still answers after the last step
};

UNetSteps runUNetSteps(bool keepValueGradients, int steps) {
    TempDir t;
    SampleDataOptions data;
    data.count = 8;
    data.size = 32;
    EXPECT_EQ(writeSampleData(t.path(), data), "");
    UNetOptions u;
    u.depth = 2;
    u.filters = 8;
    u.size = 32;
    u.up = UNetOptions::Up::UpsampleConv;
    Project project = std::get<Project>(makeUNetProject(u));
    std::string error;
    const Node* dataset = findDatasetNode(project.graph, error);
    EXPECT_TRUE(dataset) << error;
    TrainingOverrides o;
    o.dataDir = t.path();
    o.batchSize = 4;
    ImageFolderSource source(pipelineOptionsFor(project, *dataset, o));
    auto ex = compileTrainerGraph(project.graph);
    ex->setKeepIntermediates(keepValueGradients);
    ex->initializeParameters(7);
    auto adam = makeOptimizer({"adam"});
    UNetSteps r;
    source.beginEpoch(0);
    for (int s = 0; s < steps; ++s) {
        EXPECT_EQ(ex->trainStep(source.trainBatch(0), *adam, 1e-3), RunStatus::Finished);
        r.losses.push_back(ex->loss());
    }
    for (const Parameter& p : ex->parameters())
        r.params.emplace_back(p.value.f32(), p.value.f32() + p.value.numel());
    for (NodeId id : ex->order())
        r.gradientsAfter = r.gradientsAfter || ex->gradient(id, "output") != nullptr;
    return r;
}

} // namespace

TEST(EngineExecutor, PooledGradientsGiveTheSameBitsAsKeptOnes) {
    const UNetSteps kept = runUNetSteps(true, 3);
    const UNetSteps pooled = runUNetSteps(false, 3);
    ASSERT_EQ(kept.losses.size(), 3u);
    EXPECT_EQ(kept.losses, pooled.losses);
    ASSERT_EQ(kept.params.size(), pooled.params.size());
    for (std::size_t i = 0; i < kept.params.size(); ++i)
        ASSERT_EQ(kept.params[i], pooled.params[i]) << "parameter " << i;
    EXPECT_NE(kept.losses[0], kept.losses[2]) << "the steps changed something";
    EXPECT_TRUE(kept.gradientsAfter);
    EXPECT_FALSE(pooled.gradientsAfter) << "pooled gradients are not kept after the step";
}
