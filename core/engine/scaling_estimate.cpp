#include "engine/scaling_estimate.hpp"

#include "util/median.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <tuple>

namespace segforge::core {

namespace {

/// What must match for two steps to be taken as the same step: per stretch its
/// node and loop count, per loop its chunk count.
std::vector<std::int64_t> shapeOf(const StepRecord& step) {
    std::vector<std::int64_t> shape;
    for (const StretchRecord& s : step) {
        shape.push_back(s.node);
        shape.push_back(static_cast<std::int64_t>(s.loops.size()));
        for (const LoopRecord& l : s.loops)
            shape.push_back(static_cast<std::int64_t>(l.chunkMs.size()));
    }
    return shape;
}

/// The steps of the largest group of alike steps (the earliest group on a tie).
std::vector<const StepRecord*> alikeSteps(const std::vector<StepRecord>& steps) {
    std::vector<std::vector<std::int64_t>> shapes;
    for (const StepRecord& s : steps)
        shapes.push_back(shapeOf(s));
    std::size_t best = 0, bestCount = 0;
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const auto count =
            static_cast<std::size_t>(std::count(shapes.begin(), shapes.end(), shapes[i]));
        if (count > bestCount) {
            best = i;
            bestCount = count;
        }
    }
    std::vector<const StepRecord*> out;
    for (std::size_t i = 0; i < steps.size(); ++i)
        if (shapes[i] == shapes[best])
            out.push_back(&steps[i]);
    return out;
}

/// The median over `steps` of what `at` reads from each.
template <typename At> double medianOver(const std::vector<const StepRecord*>& steps, At at) {
    std::vector<double> v;
    v.reserve(steps.size());
    for (const StepRecord* s : steps)
        v.push_back(at(*s));
    return median(std::move(v));
}

/// One step's own bound at `threads`, its chunks as they ran.
double boundOf(const StepRecord& step, int threads) {
    double ms = 0;
    for (const StretchRecord& s : step) {
        ms += s.serialMs;
        for (const LoopRecord& l : s.loops)
            ms += l.overheadMs + makespanMs(l.chunkMs, threads);
    }
    return ms;
}

} // namespace

std::vector<StretchEstimate> typicalStretches(const std::vector<StepRecord>& steps, int threads) {
    if (steps.empty())
        return {};
    const std::vector<const StepRecord*> alike = alikeSteps(steps);
    const StepRecord& first = *alike.front();
    std::vector<StretchEstimate> out;
    for (std::size_t i = 0; i < first.size(); ++i) {
        StretchEstimate e;
        e.node = first[i].node;
        e.serialMs = medianOver(alike, [&](const StepRecord& s) { return s[i].serialMs; });
        e.workMs = e.boundMs = e.serialMs;
        for (std::size_t j = 0; j < first[i].loops.size(); ++j) {
            auto loopOf = [&](const StepRecord& s) -> const LoopRecord& { return s[i].loops[j]; };
            const double overhead =
                medianOver(alike, [&](const StepRecord& s) { return loopOf(s).overheadMs; });
            std::vector<double> chunks(first[i].loops[j].chunkMs.size());
            for (std::size_t k = 0; k < chunks.size(); ++k)
                chunks[k] =
                    medianOver(alike, [&](const StepRecord& s) { return loopOf(s).chunkMs[k]; });
            e.workMs += overhead + std::accumulate(chunks.begin(), chunks.end(), 0.0);
            e.boundMs += overhead + makespanMs(chunks, threads);
            ++e.loops;
        }
        out.push_back(e);
    }
    return out;
}

ScalingProfile::ScalingProfile(Executor& executor, int threads, ScalingRun run)
    : m_executor(executor)
    , m_threads(std::max(1, threads))
    , m_run(run) {}

ScalingProfile::~ScalingProfile() {
    if (m_census)
        m_executor.setObserver(nullptr);
}

void ScalingProfile::closeStretch(NodeId node) {
    const double ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - m_last)
            .count();
    StretchRecord stretch;
    stretch.node = node;
    double loopsMs = 0;
    for (ParallelLoop& loop : m_census->take()) {
        loopsMs += loop.ms;
        // The loop's own time outside its chunks (timing, bookkeeping) stays serial;
        // a measured loop's chunks are untimed, so all of its time is overhead.
        LoopRecord record;
        record.overheadMs =
            loop.ms - std::accumulate(loop.chunkMs.begin(), loop.chunkMs.end(), 0.0);
        record.chunkMs = std::move(loop.chunkMs);
        stretch.loops.push_back(std::move(record));
    }
    // Chunks run inside their loop's time: what is left ran outside any loop.
    stretch.serialMs = std::max(0.0, ms - loopsMs);
    m_step.push_back(std::move(stretch));
    // The profile's own bookkeeping is no part of the step: the next stretch starts after it.
    m_last = std::chrono::steady_clock::now();
}

void ScalingProfile::startStep() {
    if (m_run == ScalingRun::Measured) {
        setEngineThreads(m_threads);
        m_census.emplace(0); // records the real loops (their chunks untimed: makespan 0)
    } else {
        m_census.emplace(m_threads);
    }
    m_executor.setObserver([this](const NodeEvent& e) {
        m_names[e.node] = {e.name, e.op};
        closeStretch(e.node);
    });
    m_step.clear();
    m_last = std::chrono::steady_clock::now();
}

void ScalingProfile::endStep() {
    closeStretch(kNoNode); // the tail after the last node
    m_executor.setObserver(nullptr);
    m_census.reset();
    m_steps.push_back(std::move(m_step));
    m_step.clear();
}

ScalingEstimate ScalingProfile::estimate() const {
    ScalingEstimate out;
    out.threads = m_threads;
    std::vector<double> perStep;
    for (const StepRecord& s : m_steps)
        perStep.push_back(boundOf(s, m_threads));
    out.perStepBoundMs = median(std::move(perStep));
    std::map<NodeId, NodeScaling> nodes;
    for (const StretchEstimate& s : typicalStretches(m_steps, m_threads)) {
        out.workMs += s.workMs;
        out.serialMs += s.serialMs;
        out.boundMs += s.boundMs;
        out.loopsPerStep += s.loops;
        if (s.node == kNoNode)
            continue;
        NodeScaling& n = nodes[s.node];
        n.workMs += s.workMs;
        n.serialMs += s.serialMs;
        n.boundMs += s.boundMs;
    }
    for (NodeId id : m_executor.order()) {
        auto it = nodes.find(id);
        if (it == nodes.end())
            continue;
        NodeScaling n = it->second;
        n.node = id;
        std::tie(n.name, n.op) = m_names.at(id);
        out.nodes.push_back(std::move(n));
    }
    return out;
}

} // namespace segforge::core
