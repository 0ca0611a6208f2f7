#pragma once

// What the trainer tells whoever listens (the GUI's plots, the CLI's progress
// bar): plain values, copied across threads, no references into the engine.

#include "engine/executor.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <optional>
#include <string>

namespace segforge::core {

enum class TrainEventKind {
    Batch,     ///< one training step finished (optimizer applied)
    Epoch,     ///< an epoch's training and validation finished
    Paused,    ///< the trainer is waiting (between batches, or before node `node`)
    NonFinite, ///< the NaN/Inf guard fired; training has stopped
    Stopped,   ///< stop was requested; state is that of the last finished step
    Finished,  ///< every epoch ran
};

std::string_view trainEventKindName(TrainEventKind kind);

/// "12.3s", "1m05s", "2h03m"; "?" when not finite (an ETA before the first step).
std::string formatDuration(double seconds);

struct TrainEvent {
    TrainEventKind kind = TrainEventKind::Batch;
    std::int64_t step = 0;   ///< optimizer steps completed so far (whole run, resumes included)
    int epoch = 0;           ///< 0-based epoch the event belongs to
    int epochs = 0;          ///< epochs in the run
    std::size_t batch = 0;   ///< Batch: index within the epoch; Paused: next batch
    std::size_t batches = 0; ///< training batches per epoch
    double learningRate = 0; ///< Batch: the rate this step used
    /// Batch: this batch's loss. Epoch: mean over the epoch's batches.
    double trainLoss = std::numeric_limits<double>::quiet_NaN();
    /// Epoch: sample-weighted mean over the validation set (NaN without validation data).
    double valLoss = std::numeric_limits<double>::quiet_NaN();
    /// Metric nodes by node name. Batch: this batch. Epoch: mean over the epoch.
    std::map<std::string, double> trainMetrics;
    /// Epoch: metric nodes by node name, sample-weighted over the validation set.
    std::map<std::string, double> valMetrics;
    double msPerStep = 0;      ///< Batch: this step; Epoch: mean over the epoch (pauses excluded)
    double epochSeconds = 0;   ///< Epoch: wall time of training + validation (pauses excluded)
    double elapsedSeconds = 0; ///< since run() started (pauses excluded)
    /// Paused inside a step: the node that ran last and in which pass ("" between
    /// batches); whether that step is a validation step.
    std::string node;
    Phase phase = Phase::Forward;
    bool validation = false;
    /// NonFinite: which node, phase, sample, and the op's explanation.
    std::optional<NonFiniteReport> nonFinite;
};

} // namespace segforge::core
