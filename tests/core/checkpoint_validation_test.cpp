// Checkpoints are validated field by field before anything changes: a corrupt
// one is refused with the field named, never trained from (a nan epoch used to
// become INT_MIN and train ~2^31 epochs).

#include "engine/trainer.hpp"
#include "engine_trainer_fixture.hpp"
#include "io/safetensors.hpp"
#include "templates/unet_template.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <gtest/gtest.h>
#include <iterator>
#include <limits>
#include <unistd.h>
#include <variant>

using namespace segforge::core;
using namespace segforge::core::testing;
namespace fs = std::filesystem;

namespace {

constexpr const char* kFile = "checkpoint.safetensors";

TrainerSettings settings3() {
    TrainerSettings s;
    s.epochs = 3;
    s.seed = 7;
    s.threads = 1;
    s.schedule.base = 0.02;
    return s;
}

/// A file in a folder of this process: messages name the file alone.
fs::path scratch(const std::string& name) {
    const fs::path dir =
        fs::temp_directory_path() / ("segforge_ckval_" + std::to_string(::getpid()));
    fs::create_directories(dir);
    return dir / name;
}

std::string readAll(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// A checkpoint of the fixture's network stopped at epoch 1, batch 3 (step 11),
/// with 8 batches per epoch and 3 epochs: every field is non-trivial.
const std::string& goodCheckpoint() {
    static const std::string bytes = [] {
        auto ex = compileTrainerGraph(trainerGraph());
        SyntheticSource source(40, 4, 8, 3);
        Trainer trainer(*ex, source, settings3());
        trainer.setCallback([&](const TrainEvent& e) {
            if (e.kind == TrainEventKind::Batch && e.step == 11)
                trainer.requestStop();
        });
        EXPECT_EQ(trainer.run().status, TrainEventKind::Stopped);
        const fs::path file = scratch("good.safetensors");
        EXPECT_EQ(trainer.saveCheckpoint(file), "");
        std::string out = readAll(file);
        fs::remove(file);
        return out;
    }();
    return bytes;
}

/// The good checkpoint with `edit` applied to its contents, as bytes.
std::string edited(const std::function<void(SafetensorsData&)>& edit) {
    std::string error;
    SafetensorsData data = readSafetensors(goodCheckpoint(), kFile, error);
    EXPECT_EQ(error, "");
    edit(data);
    std::vector<std::pair<std::string, const Tensor*>> tensors;
    for (const auto& [name, t] : data.tensors)
        tensors.emplace_back(name, &t);
    const fs::path file = scratch("edited.safetensors");
    EXPECT_EQ(saveSafetensors(file, tensors, data.metadata), "");
    std::string out = readAll(file);
    fs::remove(file);
    return out;
}

std::string withMeta(const std::string& key, const std::string& value) {
    return edited([&](SafetensorsData& d) { d.metadata[key] = value; });
}

/// Loads `bytes` into a fresh trainer (3 epochs, 8 batches per epoch) and checks
/// that a refusal changed nothing. Returns the message ("" when accepted).
std::string load(const std::string& bytes) {
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, settings3());
    const Tensor before = ex->parameters().front().value;
    const std::string error = trainer.loadCheckpointBytes(bytes, kFile);
    if (!error.empty()) {
        EXPECT_EQ(trainer.epoch(), 0);
        EXPECT_EQ(trainer.batch(), 0u);
        EXPECT_EQ(trainer.step(), 0);
        EXPECT_EQ(trainer.optimizer().iterations(), 0);
        EXPECT_EQ(
            std::memcmp(before.bytes(), ex->parameters().front().value.bytes(), before.byteSize()),
            0);
    }
    return error;
}

std::string notWhole(const std::string& key, const std::string& value, const std::string& range) {
    return std::string(kFile) + ": metadata '" + key + "' = '" + value +
           "' is not a whole number in " + range;
}

} // namespace

TEST(CheckpointValidation, TheUntouchedCheckpointLoads) {
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, settings3());
    ASSERT_EQ(trainer.loadCheckpointBytes(goodCheckpoint(), kFile), "");
    EXPECT_EQ(trainer.epoch(), 1);
    EXPECT_EQ(trainer.batch(), 3u);
    EXPECT_EQ(trainer.step(), 11);
    EXPECT_EQ(trainer.optimizer().iterations(), 11);
    EXPECT_EQ(trainer.run().status, TrainEventKind::Finished);
    EXPECT_EQ(trainer.step(), 24);
}

TEST(CheckpointValidation, EpochMustBeAWholeNumberWithinTheRun) {
    const std::string range = "[0, 3] (this run has 3 epochs)";
    for (const char* bad : {"nan", "inf", "-inf", "1e300", "2147483648", "-5", "99", "4", "1.5",
                            "1.0", " 1", "1 ", "+1", "0x1", "", "one"})
        EXPECT_EQ(load(withMeta("epoch", bad)), notWhole("epoch", bad, range)) << bad;
    EXPECT_EQ(
        load(edited([](SafetensorsData& d) { d.metadata.erase("epoch"); })),
        "checkpoint.safetensors: metadata 'epoch' is missing (not a complete SegForge checkpoint)");
    // Values are quoted bounded and printable.
    EXPECT_EQ(load(withMeta("epoch", std::string(100, '9') + "\n")),
              notWhole("epoch", std::string(40, '9') + "…", range));
}

TEST(CheckpointValidation, BatchMustLieInTheEpoch) {
    const std::string range = "[0, 8] (an epoch here has 8 batches; different data or --batch?)";
    for (const char* bad : {"-1", "nan", "9", "3.0", "18446744073709551616"})
        EXPECT_EQ(load(withMeta("batch", bad)), notWhole("batch", bad, range)) << bad;
    // A finished run rests at batch 0.
    EXPECT_EQ(load(edited([](SafetensorsData& d) {
                  d.metadata["epoch"] = "3";
                  d.metadata["step"] = "27";
              })),
              notWhole("batch", "3", "[0, 0] (every epoch is finished)"));
}

TEST(CheckpointValidation, StepIterationsAndBatchesMustAgreeWithThePosition) {
    for (const char* bad : {"nan", "-1", "1e3", "9007199254740993"})
        EXPECT_EQ(load(withMeta("step", bad)), notWhole("step", bad, "[0, 9007199254740992]"))
            << bad;
    EXPECT_EQ(load(withMeta("step", "12")),
              "checkpoint.safetensors: metadata 'step' = '12' does not match epoch 1, batch 3 at 8 "
              "batches per epoch "
              "(expected 11; was it written with different data or --batch?)");
    for (const char* bad : {"nan", "-3", "2.5"})
        EXPECT_EQ(load(withMeta("optimizer_iterations", bad)),
                  notWhole("optimizer_iterations", bad, "[0, 9007199254740992]"))
            << bad;
    EXPECT_EQ(load(withMeta("optimizer_iterations", "10")),
              "checkpoint.safetensors: metadata 'optimizer_iterations' = '10' must equal step 11");
    EXPECT_EQ(load(withMeta("batches", "nan")),
              notWhole("batches", "nan", "[0, 9007199254740992]"));
    EXPECT_EQ(load(withMeta("batches", "2")),
              "checkpoint.safetensors: metadata 'batches' = '2' must equal batch 3");
}

TEST(CheckpointValidation, SumsMustBeFinite) {
    for (const char* key : {"loss_sum", "metric_sum/dice", "metric_sum/iou"})
        for (const char* bad : {"nan", "inf", "-inf", "0x1p+1024", "1e999", "", " 1", "1x"})
            EXPECT_EQ(load(withMeta(key, bad)), std::string(kFile) + ": metadata '" + key +
                                                    "' = '" + bad + "' is not a finite number")
                << key << " " << bad;
    EXPECT_EQ(load(withMeta("ms_sum", "-1")),
              "checkpoint.safetensors: metadata 'ms_sum' = '-1' is not a finite number ≥ 0");
    EXPECT_EQ(load(withMeta("seconds", "nan")),
              "checkpoint.safetensors: metadata 'seconds' = 'nan' is not a finite number ≥ 0");
    EXPECT_EQ(load(withMeta("metric_sum/bogus", "0x1p+0")),
              "checkpoint.safetensors: metadata 'metric_sum/bogus' = '0x1p+0' names no metric of "
              "this graph");
    EXPECT_EQ(load(edited([](SafetensorsData& d) { d.metadata.erase("metric_sum/dice"); })),
              "checkpoint.safetensors: metadata 'metric_sum/dice' is missing (the sum of metric "
              "'dice' over this "
              "epoch's 3 batches)");
    EXPECT_EQ(load(withMeta("loss_sum", "0x1.8p+1")), "") << "any finite sum is accepted";
}

TEST(CheckpointValidation, TensorsMustBeFiniteAndFitTheOptimizer) {
    std::string first;
    {
        auto ex = compileTrainerGraph(trainerGraph());
        first = ex->parameters().front().name;
    }
    EXPECT_EQ(
        load(edited([&](SafetensorsData& d) { d.tensors.at(first).f32()[2] = std::nanf(""); })),
        "checkpoint.safetensors: tensor '" + first +
            "' holds NaN at element 2; a checkpoint is written only from finite training states");
    EXPECT_EQ(load(edited([](SafetensorsData& d) {
                  d.tensors.at("optimizer/m/1").f32()[0] = std::numeric_limits<float>::infinity();
              })),
              "checkpoint.safetensors: tensor 'optimizer/m/1' holds Inf at element 0; a checkpoint "
              "is written only "
              "from finite training states");
    EXPECT_EQ(
        load(edited([](SafetensorsData& d) { d.tensors.at("optimizer/v/0").f32()[1] = -1.0f; })),
        "checkpoint.safetensors: tensor 'optimizer/v/0' holds a negative second moment at element "
        "1");
    EXPECT_EQ(load(edited([](SafetensorsData& d) {
                  for (int i = 0; i < 4; ++i)
                      d.tensors.erase("optimizer/m/" + std::to_string(i));
              })),
              "checkpoint.safetensors: optimizer state 'm' covers 0 of 4 parameters, but after 11 "
              "optimizer steps it "
              "must cover 4");
    EXPECT_EQ(load(edited([](SafetensorsData& d) {
                  d.tensors.emplace("extra", Tensor(Shape{1}, DType::Float32));
              })),
              "checkpoint.safetensors holds 1 tensor(s) this graph and optimizer do not have (a "
              "different network?)");
    EXPECT_EQ(load(edited([](SafetensorsData& d) { d.metadata["optimizer"] = "sgd\x01"; })),
              "checkpoint.safetensors was written with optimizer 'sgd?', but this run uses 'adam'");
}

TEST(CheckpointValidation, ACheckpointOfAFinishedRunLoadsAtTheEnd) {
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    TrainerSettings one = settings3();
    one.epochs = 1;
    Trainer trainer(*ex, source, one);
    ASSERT_EQ(trainer.run().status, TrainEventKind::Finished);
    const fs::path file = scratch("finished.safetensors");
    ASSERT_EQ(trainer.saveCheckpoint(file), "");
    // Resumed by a longer run it continues; by a shorter one it is refused.
    EXPECT_EQ(load(readAll(file)), "");
    auto ex2 = compileTrainerGraph(trainerGraph());
    TrainerSettings none = settings3();
    none.epochs = 0;
    Trainer shorter(*ex2, source, none);
    EXPECT_EQ(shorter.loadCheckpoint(file), "finished.safetensors: metadata 'epoch' = '1' is not a "
                                            "whole number in [0, 0] (this run has 0 epochs)");
    fs::remove(file);
}

// The fuzz seeds (tests/fuzz/make_seeds.sh) are what their names say, in the
// trainer checkpoint_fuzz.cpp loads them into: a small U-Net, 2 batches per
// epoch, 5 epochs. A seed that no longer fits (the template or the format
// changed) would quietly stop exercising the code behind the validation.
TEST(CheckpointValidation, FuzzSeedsAreWhatTheirNamesSay) {
    class TwoBatches final : public BatchSource {
    public:
        std::size_t trainBatchCount() const override { return 2; }
        std::size_t validationBatchCount() const override { return 1; }
        void beginEpoch(int) override {}
        Batch trainBatch(std::size_t) override { return {}; }
        Batch validationBatch(std::size_t) override { return {}; }
    };
    UNetOptions o;
    o.depth = 1;
    o.filters = 2;
    o.size = 16;
    auto made = makeUNetProject(o);
    ASSERT_TRUE(std::holds_alternative<Project>(made));
    const fs::path dir = fs::path(SEGFORGE_TEST_DATA) / ".." / "fuzz" / "checkpoint";
    int valid = 0, bad = 0;
    for (const auto& entry : fs::directory_iterator(dir)) {
        const std::string name = entry.path().filename().string();
        auto ex = compileTrainerGraph(std::get<Project>(made).graph);
        TwoBatches source;
        TrainerSettings s;
        s.epochs = 5;
        Trainer trainer(*ex, source, s);
        const std::string error = trainer.loadCheckpointBytes(readAll(entry.path()), name);
        if (name.rfind("valid_", 0) == 0) {
            EXPECT_EQ(error, "") << name;
            ++valid;
        } else if (name.rfind("bad_", 0) == 0) {
            EXPECT_NE(error, "") << name;
            ++bad;
        }
    }
    EXPECT_GE(valid, 2);
    EXPECT_GE(bad, 10);
}
