#pragma once

// How far the engine's cut of a training step into parallel work lets it scale,
// measured on a machine with fewer cores than the target. The steps run under a
// simulating ParallelCensus (kernels/parallel.hpp): kernels cut their work for
// the target thread count, every chunk runs on the caller and is timed, and the
// chunks of each loop are then shared out as the pool would share them. The
// serial time between loops stays as it was (Amdahl). The prediction assumes
// the memory system keeps up with every thread, so it bounds the speed-up from
// above; it answers, on a 2-core machine, which nodes would hold a 16-core one
// back by how their work is cut: too few chunks to go round, chunks of unequal
// size, work that grows with the thread count, or work outside any loop.

#include "engine/executor.hpp"
#include "kernels/parallel.hpp"

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// One node (forward and backward together) in the typical step.
struct NodeScaling {
    NodeId node = kNoNode;
    std::string name;
    std::string op;
    double workMs = 0;   ///< its chunks and serial parts, one after another
    double serialMs = 0; ///< of it, outside any parallel loop
    double boundMs = 0;  ///< predicted at the target thread count
};

/// The typical step at one target thread count (see typicalStretches).
struct ScalingEstimate {
    int threads = 1;     ///< the target
    double workMs = 0;   ///< the step's work cut for the target, run on one core
    double serialMs = 0; ///< of it, outside any parallel loop
    double boundMs = 0;  ///< the step predicted at the target
    /// The median of every recorded step's own bound: the chunks' noise included
    /// (a chunk the machine held up once holds its whole loop up in that step).
    double perStepBoundMs = 0;
    int loopsPerStep = 0;
    std::vector<NodeScaling> nodes; ///< in execution order

    /// The parallel efficiency the bound allows, against the work of the 1-thread
    /// cut: one.workMs / (threads · boundMs).
    double efficiencyAgainst(const ScalingEstimate& one) const {
        return boundMs > 0 ? one.workMs / (threads * boundMs) : 0.0;
    }
};

/// One parallel loop of a recorded step.
struct LoopRecord {
    double overheadMs = 0;       ///< its wall time outside its chunks (dispatch, timing)
    std::vector<double> chunkMs; ///< simulated: each chunk's time, in chunk order
};

/// The stretch of a step between two node events: serial code and the loops it ran,
/// charged to the node whose event ends it (kNoNode: the tail after the last one).
struct StretchRecord {
    NodeId node = kNoNode;
    double serialMs = 0; ///< outside any loop
    std::vector<LoopRecord> loops;
};

/// One recorded step: its stretches in order.
using StepRecord = std::vector<StretchRecord>;

/// A stretch of the typical step.
struct StretchEstimate {
    NodeId node = kNoNode;
    double workMs = 0, serialMs = 0, boundMs = 0;
    int loops = 0;
};

/// The typical step of `steps` at `threads`: every serial time, loop overhead and
/// chunk time is its median over the steps, and each loop's bound is the makespan
/// of its median chunks. A chunk the shared machine held up in one step (a
/// preempted core: 2–10× its usual time) is noise, not the cut of the work, and
/// drops out; a chunk slow in every step (more work, cold data) stays. A training
/// step runs the same loops in the same order every time; steps whose loops differ
/// in number or cut from most of them (by node, loop count and chunk counts) are
/// left out, the largest group of alike steps is used (the earliest on a tie).
std::vector<StretchEstimate> typicalStretches(const std::vector<StepRecord>& steps, int threads);

/// How a ScalingProfile runs its steps.
enum class ScalingRun {
    Simulated, ///< cut for the target count, chunk by chunk on the caller: the bound
    Measured,  ///< really on that many threads: what the machine does
};

/// Records steps for a ScalingEstimate at `threads`. During each recorded step
/// it keeps a ParallelCensus live and is the executor's observer (the executor
/// must outlive it); between its steps it changes nothing, so profiles for
/// several thread counts can take turns step by step, and a machine whose speed
/// drifts slows all of them alike.
///
/// Measured: startStep() sets the engine to `threads` threads (the caller restores
/// its own count when done, and gives a new count a warm-up step: new worker
/// threads start with cold caches and empty scratch); the census only records the
/// real loops, so boundMs is the measured time and serialMs the time spent outside
/// any parallel loop. Set against a simulated estimate at the same count, what is
/// left after the bound's losses is what the cut of the work does not explain:
/// memory bandwidth, dispatch, the machine.
class ScalingProfile {
public:
    ScalingProfile(Executor& executor, int threads, ScalingRun run = ScalingRun::Simulated);
    ~ScalingProfile();
    ScalingProfile(const ScalingProfile&) = delete;
    ScalingProfile& operator=(const ScalingProfile&) = delete;

    /// Around each recorded step (beginStep() through the end of run()); one
    /// profile's step at a time.
    void startStep();
    void endStep();

    ScalingEstimate estimate() const;

private:
    /// Closes the stretch since the last mark, charged to `node`.
    void closeStretch(NodeId node);

    Executor& m_executor;
    int m_threads;
    ScalingRun m_run;
    std::optional<ParallelCensus> m_census;
    std::chrono::steady_clock::time_point m_last;
    StepRecord m_step;                                             ///< the step so far
    std::vector<StepRecord> m_steps;                               ///< finished steps
    std::map<NodeId, std::pair<std::string, std::string>> m_names; ///< name, op
};

} // namespace segforge::core
