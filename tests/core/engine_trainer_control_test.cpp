// Pause, step one batch, step one node and stop, requested from another
// thread while the trainer runs on its own: each lands where it should, and a
// stopped run holds exactly the state of an uninterrupted one at that step.

#include "engine/trainer.hpp"
#include "engine_trainer_fixture.hpp"

#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <future>
#include <mutex>
#include <thread>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

/// Events handed from the trainer thread to the test thread.
class EventQueue {
public:
    void push(const TrainEvent& e) {
        std::lock_guard lock(m_mutex);
        m_events.push_back(e);
        m_cv.notify_all();
    }
    /// The next event (failing the test after a generous timeout).
    TrainEvent next() {
        std::unique_lock lock(m_mutex);
        if (!m_cv.wait_for(lock, std::chrono::seconds(20), [&] { return !m_events.empty(); })) {
            ADD_FAILURE() << "no event within 20 s";
            TrainEvent none;
            none.kind = TrainEventKind::Finished;
            return none;
        }
        TrainEvent e = m_events.front();
        m_events.pop_front();
        return e;
    }
    /// Skips events until one of `kind` arrives.
    TrainEvent nextOf(TrainEventKind kind) {
        for (;;) {
            TrainEvent e = next();
            if (e.kind == kind || e.kind == TrainEventKind::Finished)
                return e;
        }
    }

private:
    std::mutex m_mutex;
    std::condition_variable m_cv;
    std::deque<TrainEvent> m_events;
};

TrainerSettings settings() {
    TrainerSettings s;
    s.epochs = 3;
    s.seed = 5;
    s.schedule.base = 0.02;
    return s;
}

} // namespace

TEST(EngineTrainerControl, PauseStepAndStopFromAnotherThread) {
    auto ex = compileTrainerGraph(trainerGraph());
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, settings());
    EventQueue events;
    std::promise<void> gate; // holds the trainer thread after step 3 until this thread has acted
    std::shared_future<void> gateOpen = gate.get_future().share();
    trainer.setCallback([&](const TrainEvent& e) {
        events.push(e);
        if (e.kind == TrainEventKind::Batch && e.step == 3)
            gateOpen.wait();
    });
    trainer.requestPause(); // paused before the first batch
    TrainResult result;
    std::thread worker([&] { result = trainer.run(); });

    TrainEvent e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    EXPECT_EQ(e.step, 0);
    EXPECT_EQ(e.node, "") << "paused between batches";
    EXPECT_TRUE(trainer.paused());

    // One node at a time: the Dataset, then the first convolution.
    trainer.requestStepNode();
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    EXPECT_EQ(e.node, "data");
    EXPECT_EQ(e.phase, Phase::Forward);
    EXPECT_EQ(e.step, 0);
    trainer.requestStepNode();
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    EXPECT_EQ(e.node, "conv");

    // One batch: finishes the step in flight, then pauses between batches.
    trainer.requestStepBatch();
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Batch);
    EXPECT_EQ(e.step, 1);
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    EXPECT_EQ(e.node, "");
    EXPECT_EQ(e.step, 1);
    trainer.requestStepBatch();
    EXPECT_EQ(events.next().kind, TrainEventKind::Batch);
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    EXPECT_EQ(e.step, 2);

    // Resume, then pause again from this thread while it runs.
    trainer.requestResume();
    EXPECT_EQ(events.nextOf(TrainEventKind::Batch).step, 3);
    trainer.requestPause();
    gate.set_value();
    e = events.next();
    ASSERT_EQ(e.kind, TrainEventKind::Paused);
    const std::int64_t pausedAt = e.step;
    EXPECT_EQ(pausedAt, 3);
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    EXPECT_EQ(trainer.step(), pausedAt) << "nothing runs while paused";

    trainer.requestStop();
    e = events.nextOf(TrainEventKind::Stopped);
    EXPECT_EQ(e.kind, TrainEventKind::Stopped);
    worker.join();
    EXPECT_EQ(result.status, TrainEventKind::Stopped);
    EXPECT_EQ(result.steps, pausedAt);

    // The same number of steps without any pausing gives the same weights and
    // BatchNorm-free state, bit for bit.
    auto ex2 = compileTrainerGraph(trainerGraph());
    SyntheticSource source2(40, 4, 8, 3);
    Trainer straight(*ex2, source2, settings());
    straight.setCallback([&](const TrainEvent& ev) {
        if (ev.kind == TrainEventKind::Batch && ev.step == pausedAt)
            straight.requestStop();
    });
    ASSERT_EQ(straight.run().status, TrainEventKind::Stopped);
    ASSERT_EQ(straight.step(), pausedAt);
    for (std::size_t i = 0; i < ex->parameters().size(); ++i) {
        const Tensor& a = ex->parameters()[i].value;
        const Tensor& b = ex2->parameters()[i].value;
        EXPECT_EQ(std::memcmp(a.bytes(), b.bytes(), a.byteSize()), 0) << ex->parameters()[i].name;
    }

    // A stopped trainer continues where it stopped when run again.
    std::int64_t firstStep = -1;
    trainer.setCallback([&](const TrainEvent& ev) {
        if (ev.kind == TrainEventKind::Batch && firstStep < 0)
            firstStep = ev.step;
    });
    EXPECT_EQ(trainer.run().status, TrainEventKind::Finished);
    EXPECT_EQ(firstStep, pausedAt + 1);
    EXPECT_EQ(trainer.step(), 24);
}

TEST(EngineTrainerControl, StopMidStepRestoresBatchNormStatistics) {
    GraphBuilder b;
    const NodeId data = b.add("Dataset", "data",
                              {{"height", std::int64_t{8}},
                               {"width", std::int64_t{8}},
                               {"channels", std::int64_t{2}},
                               {"image_dtype", std::string("float32")},
                               {"mask_dtype", std::string("float32")},
                               {"mask_max", std::int64_t{1}}});
    const NodeId bn = b.then("BatchNormalization", "bn", {data, "image"});
    const NodeId head = b.then("Conv2D", "head", out(bn),
                               {{"filters", std::int64_t{1}},
                                {"kernel_size", std::int64_t{1}},
                                {"activation", std::string("sigmoid")}});
    const NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire({data, "mask"}, {loss, "target"});
    auto ex = compileTrainerGraph(b.graph);
    SyntheticSource source(40, 4, 8, 3);
    Trainer trainer(*ex, source, settings());
    trainer.setNodeObserver([&](const NodeEvent& e) {
        if (trainer.step() == 2 && e.name == "bn" && e.phase == Phase::Forward)
            trainer.requestStop(); // after bn updated its moving statistics for step 2
    });
    ASSERT_EQ(trainer.run().status, TrainEventKind::Stopped);

    auto ex2 = compileTrainerGraph(b.graph);
    SyntheticSource source2(40, 4, 8, 3);
    Trainer straight(*ex2, source2, settings());
    straight.setCallback([&](const TrainEvent& e) {
        if (e.kind == TrainEventKind::Batch && e.step == 2)
            straight.requestStop();
    });
    ASSERT_EQ(straight.run().status, TrainEventKind::Stopped);
    int nonTrainable = 0;
    for (std::size_t i = 0; i < ex->parameters().size(); ++i) {
        const Parameter& p = ex->parameters()[i];
        nonTrainable += p.spec.trainable ? 0 : 1;
        const Tensor& q = ex2->parameters()[i].value;
        EXPECT_EQ(std::memcmp(p.value.bytes(), q.bytes(), q.byteSize()), 0) << p.name;
    }
    EXPECT_GE(nonTrainable, 2) << "moving mean and variance";
}

TEST(EngineTrainerControl, UnderTheLeanPlanAStopAfterTheFirstUpdateFinishesTheStep) {
    // The lean plan updates each node's parameters in the backward pass: a stop asked for
    // before the first update abandons the step, one asked for after it lets the step
    // finish, so that no run stops with half a step applied.
    const Graph graph = trainerGraph(); // data → conv → drop → head → loss

    // Stops at step 2's backward event of `node` (before that node's own update).
    auto stoppedAt = [&](const char* node) {
        auto ex = compileTrainerGraph(graph);
        ex->setKeepIntermediates(false);
        SyntheticSource source(40, 4, 8, 3);
        Trainer trainer(*ex, source, settings());
        trainer.setNodeObserver([&](const NodeEvent& e) {
            if (trainer.step() == 2 && e.name == node && e.phase == Phase::Backward)
                trainer.requestStop();
        });
        const TrainResult result = trainer.run();
        EXPECT_EQ(result.status, TrainEventKind::Stopped);
        return std::pair{std::move(ex), trainer.step()};
    };
    // An uninterrupted lean run, stopped between two batches after `steps` steps.
    auto straightFor = [&](std::int64_t steps) {
        auto ex = compileTrainerGraph(graph);
        ex->setKeepIntermediates(false);
        SyntheticSource source(40, 4, 8, 3);
        Trainer straight(*ex, source, settings());
        straight.setCallback([&](const TrainEvent& e) {
            if (e.kind == TrainEventKind::Batch && e.step == steps)
                straight.requestStop();
        });
        EXPECT_EQ(straight.run().status, TrainEventKind::Stopped);
        return ex;
    };
    auto expectSameParameters = [](Executor& got, Executor& want, const char* what) {
        for (std::size_t i = 0; i < got.parameters().size(); ++i) {
            const Tensor& p = got.parameters()[i].value;
            const Tensor& q = want.parameters()[i].value;
            EXPECT_EQ(std::memcmp(p.bytes(), q.bytes(), q.byteSize()), 0)
                << what << ": " << got.parameters()[i].name;
        }
    };

    auto [beforeUpdates, stepsBefore] = stoppedAt("head"); // the loss has no parameters
    EXPECT_EQ(stepsBefore, 3) << "head was updated right after its event: the step finished";
    expectSameParameters(*beforeUpdates, *straightFor(3), "stopped in head's backward");

    auto [atLoss, stepsAtLoss] = stoppedAt("loss");
    EXPECT_EQ(stepsAtLoss, 2) << "nothing was updated yet: the step was abandoned";
    expectSameParameters(*atLoss, *straightFor(2), "stopped in the loss's backward");
}
