#pragma once

// Where a training step spends its time: the executor's observer fires after
// every node, so the time between two events is the node's own run time.

#include "engine/executor.hpp"

#include <chrono>
#include <map>
#include <string>
#include <vector>

namespace segforge::core {

/// One node's share of a step, medians over the recorded steps.
struct NodeTiming {
    NodeId node = kNoNode;
    std::string name;
    std::string op;
    double forwardMs = 0;
    double backwardMs = 0;
    double totalMs() const { return forwardMs + backwardMs; }
};

/// Records per-node times of the steps run between start() and stop() calls.
/// Installs itself as the executor's observer; the executor must outlive it.
class StepProfile {
public:
    explicit StepProfile(Executor& executor);
    ~StepProfile();
    StepProfile(const StepProfile&) = delete;
    StepProfile& operator=(const StepProfile&) = delete;

    /// Call right before beginStep(): the first node's time counts from here.
    void startStep();
    /// Per node, in execution order, medians over the steps recorded so far.
    std::vector<NodeTiming> medians() const;

private:
    Executor& m_executor;
    std::chrono::steady_clock::time_point m_last;
    double m_lastUpdates = 0; ///< the executor's updateMilliseconds() then
    struct Samples {
        std::string name, op;
        std::vector<double> forward, backward;
    };
    std::map<NodeId, Samples> m_samples;
};

} // namespace segforge::core
