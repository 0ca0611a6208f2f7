// Fuzz target for checkpoints: the input is loaded as the checkpoint of a
// trainer for a small U-Net (depth 1, 2 filters, 16×16 RGB; 2 batches per
// epoch, 5 epochs: what tests/fuzz/make_seeds.sh trains the seeds with). It
// must be refused, leaving the trainer as it was, or give a consistent
// position and finite parameters — never a crash or undefined behaviour.

#include "engine/executor.hpp"
#include "engine/trainer.hpp"
#include "templates/unet_template.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace {

using namespace segforge::core;

/// The trainer only asks a source how many batches an epoch has when it loads
/// a checkpoint; nothing is trained here.
class NoData final : public BatchSource {
public:
    std::size_t trainBatchCount() const override { return 2; }
    std::size_t validationBatchCount() const override { return 1; }
    void beginEpoch(int) override {}
    Batch trainBatch(std::size_t) override { std::abort(); }
    Batch validationBatch(std::size_t) override { std::abort(); }
};

struct Fixture {
    std::unique_ptr<Executor> executor;
    NoData source;
    std::unique_ptr<Trainer> trainer;

    Fixture() {
        UNetOptions o;
        o.depth = 1;
        o.filters = 2;
        o.size = 16;
        auto made = makeUNetProject(o);
        if (!std::holds_alternative<Project>(made))
            std::abort();
        std::string error;
        executor = Executor::compile(std::get<Project>(made).graph, error);
        if (!executor)
            std::abort();
        TrainerSettings s;
        s.epochs = 5;
        trainer = std::make_unique<Trainer>(*executor, source, s);
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static Fixture f;
    Trainer& t = *f.trainer;
    const int epoch = t.epoch();
    const std::size_t batch = t.batch();
    const std::int64_t step = t.step();
    const std::string error = t.loadCheckpointBytes(
        std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.safetensors");
    if (!error.empty()) {
        // A refusal changes nothing.
        if (t.epoch() != epoch || t.batch() != batch || t.step() != step)
            std::abort();
        return 0;
    }
    if (t.epoch() < 0 || t.epoch() > 5 || t.batch() > 2 || (t.epoch() == 5 && t.batch() != 0) ||
        t.step() != t.epoch() * 2 + static_cast<std::int64_t>(t.batch()) ||
        t.optimizer().iterations() != t.step())
        std::abort();
    for (const Parameter& p : f.executor->parameters())
        for (std::int64_t i = 0; i < p.value.numel(); ++i)
            if (!std::isfinite(p.value.f32()[i]))
                std::abort();
    // The next input starts from a fresh trainer (parameters from the seed, step 0).
    f.trainer = std::make_unique<Trainer>(*f.executor, f.source, f.trainer->settings());
    return 0;
}
