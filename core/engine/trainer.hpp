#pragma once

// Epochs of training steps over a BatchSource, validation after each epoch,
// checkpoints and resume, and control from another thread. Reads as micrograd:
// feed, forward, loss, backward, optimizer step — run node by node so that a
// pause or a stop can land between any two nodes.

#include "data/batch_source.hpp"
#include "engine/executor.hpp"
#include "engine/optimizer.hpp"
#include "engine/train_event.hpp"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace segforge::core {

struct SafetensorsData;

struct TrainerSettings {
    int epochs = 1;
    std::uint64_t seed = 42; ///< initial weights and per-step randomness (Dropout)
    int threads = 1;         ///< engine threads; 0: all cores. Same seed + threads → same bits
    OptimizerSettings optimizer;
    /// The rate per step. For cosine, totalSteps is set to epochs × batches per epoch.
    LrSchedule schedule;
    bool nanGuard = true;
    /// Written after every epoch and when stopped, if not empty.
    std::filesystem::path checkpointPath;
};

struct TrainResult {
    TrainEventKind status = TrainEventKind::Finished; ///< Finished, Stopped or NonFinite
    std::int64_t steps = 0;                           ///< optimizer steps completed, in total
    int epochsCompleted = 0;
    std::optional<NonFiniteReport> nonFinite;
    std::string checkpointError; ///< a checkpoint that could not be written; training went on
};

/// Trains `executor` on `source`. The constructor initialises the parameters
/// from the seed; load weights or a checkpoint afterwards to start elsewhere.
/// run() blocks and belongs on a worker thread; the request*() functions are
/// safe from any thread and take effect between two nodes or two batches.
class Trainer {
public:
    Trainer(Executor& executor, BatchSource& source, TrainerSettings settings);
    ~Trainer();
    Trainer(const Trainer&) = delete;
    Trainer& operator=(const Trainer&) = delete;

    /// Receives every TrainEvent, on the thread that runs run().
    void setCallback(std::function<void(const TrainEvent&)> callback) {
        m_callback = std::move(callback);
    }
    /// Receives every node's output/gradient (see Executor::setObserver).
    void setNodeObserver(std::function<void(const NodeEvent&)> observer) {
        m_nodeObserver = std::move(observer);
    }

    /// Trains from the current position to the last epoch, or until stopped or
    /// NaN/Inf. Data errors from the source propagate as exceptions. Can be called
    /// again after a stop to continue.
    TrainResult run();

    /// Pause before the next node (or batch); resume; while paused, run exactly
    /// one more training batch, or one more node; stop (the step in flight is
    /// abandoned and the state is that of the last finished step).
    void requestPause();
    void requestResume();
    void requestStepBatch();
    void requestStepNode();
    void requestStop();
    bool paused() const;

    /// Weights, optimizer state and position (epoch, batch, step) as safetensors.
    /// Not while run() is inside a step: between runs, or from the callback.
    /// Returns "" or an error message.
    std::string saveCheckpoint(const std::filesystem::path& path) const;
    /// Restores what saveCheckpoint wrote. Every field is validated first: the
    /// position (epoch, batch, step, optimizer iterations, batches) must be whole
    /// numbers in range for this run and consistent with each other, the sums
    /// finite, the tensors those of this graph and optimizer and finite. Nothing
    /// changes unless the whole file passes. Returns "" or a message naming the
    /// file and the field ("checkpoint.safetensors: metadata 'epoch' = 'nan' is
    /// not a whole number in [0, 20]").
    std::string loadCheckpoint(const std::filesystem::path& path);
    /// The same from the bytes of a checkpoint file; `name` stands for the file in messages.
    std::string loadCheckpointBytes(std::string_view bytes, const std::string& name);

    int epoch() const { return m_epoch; }         ///< epoch in progress (== epochs when done)
    std::size_t batch() const { return m_batch; } ///< next training batch of that epoch
    std::int64_t step() const { return m_step; }  ///< optimizer steps completed
    Optimizer& optimizer() { return *m_optimizer; }
    const TrainerSettings& settings() const { return m_settings; }

private:
    enum class Flow { Continue, Stop };
    struct StepOutcome;
    struct Accumulator {
        double lossSum = 0;
        std::map<std::string, double> metricSums;
        double msSum = 0;
        double seconds = 0;
        std::size_t batches = 0;
    };

    /// One step, node by node; with an `updater`, the executor updates the parameters
    /// in the backward pass (Executor::updateInBackward).
    StepOutcome runStep(const Batch& batch, bool training, std::uint64_t counter,
                        Optimizer* updater, double learningRate);
    /// Between nodes (insideStep) or batches: waits while paused; Stop when asked to.
    Flow control(bool insideStep, bool validation);
    void publish(const TrainEvent& event);
    TrainEvent baseEvent(TrainEventKind kind) const;
    std::map<std::string, double> metrics() const;
    double seconds() const;
    TrainResult finish(TrainEventKind status, std::optional<NonFiniteReport> report = std::nullopt);
    std::string restoreCheckpoint(SafetensorsData data, const std::string& file);

    Executor& m_executor;
    BatchSource& m_source;
    TrainerSettings m_settings;
    std::unique_ptr<Optimizer> m_optimizer;
    std::function<void(const TrainEvent&)> m_callback;
    std::function<void(const NodeEvent&)> m_nodeObserver;

    int m_epoch = 0;
    std::size_t m_batch = 0;
    std::int64_t m_step = 0;
    int m_epochsCompleted = 0;
    Accumulator m_acc; ///< this epoch's training batches so far (kept in checkpoints)
    std::string m_lastNode;
    Phase m_lastPhase = Phase::Forward;

    mutable std::mutex m_mutex; ///< guards the control flags below
    std::condition_variable m_wake;
    bool m_paused = false;
    bool m_stop = false;
    int m_stepBatches = 0;
    int m_stepNodes = 0;

    double m_pausedSeconds = 0; ///< time spent waiting, excluded from timings
    std::int64_t m_runStartNs = 0;
    std::string m_checkpointError;
};

} // namespace segforge::core
