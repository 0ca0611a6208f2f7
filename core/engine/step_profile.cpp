#include "engine/step_profile.hpp"

#include "util/median.hpp"

#include <algorithm>

namespace segforge::core {

StepProfile::StepProfile(Executor& executor)
    : m_executor(executor)
    , m_last(std::chrono::steady_clock::now())
    , m_lastUpdates(executor.updateMilliseconds()) {
    m_executor.setObserver([this](const NodeEvent& e) {
        const auto now = std::chrono::steady_clock::now();
        // Parameter updates in the backward pass (Executor::updateInBackward) are the
        // optimizer's time, not the next node's.
        const double updates = m_executor.updateMilliseconds();
        const double ms = std::chrono::duration<double, std::milli>(now - m_last).count() -
                          (updates - m_lastUpdates);
        m_lastUpdates = updates;
        Samples& s = m_samples[e.node];
        s.name = e.name;
        s.op = e.op;
        (e.phase == Phase::Forward ? s.forward : s.backward).push_back(ms);
        // The observer's own time counts toward the next node; it is tiny.
        m_last = std::chrono::steady_clock::now();
    });
}

StepProfile::~StepProfile() {
    m_executor.setObserver(nullptr);
}

void StepProfile::startStep() {
    m_last = std::chrono::steady_clock::now();
    m_lastUpdates = m_executor.updateMilliseconds();
}

std::vector<NodeTiming> StepProfile::medians() const {
    std::vector<NodeTiming> out;
    for (NodeId id : m_executor.order()) {
        auto it = m_samples.find(id);
        if (it == m_samples.end())
            continue;
        out.push_back({id, it->second.name, it->second.op, median(it->second.forward),
                       median(it->second.backward)});
    }
    return out;
}

} // namespace segforge::core
