#include "engine/scaling_estimate.hpp"

#include "util/median.hpp"

#include <algorithm>
#include <functional>

namespace segforge::core {

namespace {

template <typename T, typename Field> double medianOf(const std::vector<T>& samples, Field field) {
    std::vector<double> v;
    v.reserve(samples.size());
    for (const T& s : samples)
        v.push_back(std::invoke(field, s));
    return median(std::move(v));
}

} // namespace

ScalingProfile::Span& ScalingProfile::Span::operator+=(const Span& o) {
    workMs += o.workMs;
    serialMs += o.serialMs;
    boundMs += o.boundMs;
    loops += o.loops;
    return *this;
}

ScalingProfile::ScalingProfile(Executor& executor, int threads, ScalingRun run)
    : m_executor(executor)
    , m_threads(std::max(1, threads))
    , m_run(run) {}

ScalingProfile::~ScalingProfile() {
    if (m_census)
        m_executor.setObserver(nullptr);
}

ScalingProfile::Span ScalingProfile::spanSinceLastMark() {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_last)
            .count();
    Span span;
    span.workMs = ms;
    double loopsMs = 0;
    for (const ParallelLoop& loop : m_census->take()) {
        loopsMs += loop.ms;
        // The loop's own time outside its chunks (timing, bookkeeping) stays serial.
        double chunksMs = 0;
        for (double chunk : loop.chunkMs)
            chunksMs += chunk;
        span.boundMs += loop.ms - chunksMs + makespanMs(loop.chunkMs, m_threads);
        ++span.loops;
    }
    // Chunks run inside their loop's time: what is left ran outside any loop.
    span.serialMs = std::max(0.0, ms - loopsMs);
    span.boundMs += span.serialMs;
    m_step += span;
    // The profile's own bookkeeping is no part of the step: the next span starts after it.
    m_last = std::chrono::steady_clock::now();
    return span;
}

void ScalingProfile::startStep() {
    if (m_run == ScalingRun::Measured) {
        setEngineThreads(m_threads);
        m_census.emplace(0); // records the real loops (their chunks untimed: makespan 0)
    } else {
        m_census.emplace(m_threads);
    }
    m_executor.setObserver([this](const NodeEvent& e) {
        NodeSpans& node = m_nodes[e.node];
        node.name = e.name;
        node.op = e.op;
        node.ran = true;
        node.step += spanSinceLastMark();
    });
    m_last = std::chrono::steady_clock::now();
    m_step = {};
    for (auto& [id, node] : m_nodes) {
        node.step = {};
        node.ran = false;
    }
}

void ScalingProfile::endStep() {
    spanSinceLastMark(); // the tail after the last node
    m_executor.setObserver(nullptr);
    m_census.reset();
    m_steps.push_back(m_step);
    for (auto& [id, node] : m_nodes)
        if (node.ran)
            node.steps.push_back(node.step);
}

ScalingEstimate ScalingProfile::estimate() const {
    ScalingEstimate out;
    out.threads = m_threads;
    out.workMs = medianOf(m_steps, &Span::workMs);
    out.serialMs = medianOf(m_steps, &Span::serialMs);
    out.boundMs = medianOf(m_steps, &Span::boundMs);
    out.loopsPerStep = static_cast<int>(medianOf(m_steps, &Span::loops));
    for (NodeId id : m_executor.order()) {
        auto it = m_nodes.find(id);
        if (it == m_nodes.end() || it->second.steps.empty())
            continue;
        const NodeSpans& s = it->second;
        out.nodes.push_back({id, s.name, s.op, medianOf(s.steps, &Span::workMs),
                             medianOf(s.steps, &Span::serialMs),
                             medianOf(s.steps, &Span::boundMs)});
    }
    return out;
}

} // namespace segforge::core
