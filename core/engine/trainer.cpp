#include "engine/trainer.hpp"

#include "kernels/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace segforge::core {

namespace {

std::int64_t nowNs() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::int64_t samplesIn(const Batch& batch) {
    return batch.image.shape().rank() > 0 ? batch.image.shape()[0] : 1;
}

/// Distinct per (step, phase), independent of how often the run was paused or resumed.
std::uint64_t trainCounter(std::int64_t step) {
    return 2 * static_cast<std::uint64_t>(step) + 1;
}
std::uint64_t validationCounter(int epoch, std::size_t batch) {
    return (static_cast<std::uint64_t>(epoch) << 40) + 2 * batch;
}

} // namespace

struct Trainer::StepOutcome {
    RunStatus status = RunStatus::Finished;
    bool stopped = false;
};

Trainer::Trainer(Executor& executor, BatchSource& source, TrainerSettings settings)
    : m_executor(executor)
    , m_source(source)
    , m_settings(std::move(settings))
    , m_optimizer(makeOptimizer(m_settings.optimizer)) {
    m_executor.initializeParameters(m_settings.seed);
    m_executor.setSeed(m_settings.seed);
    m_executor.setNanGuard(m_settings.nanGuard);
    if (m_settings.schedule.kind == "cosine")
        m_settings.schedule.totalSteps = std::max<std::int64_t>(
            1, m_settings.epochs * static_cast<std::int64_t>(m_source.trainBatchCount()));
    learningRateAt(m_settings.schedule, 0); // throws now for an unknown schedule, not mid-run
}

Trainer::~Trainer() {
    m_executor.setObserver(nullptr);
}

void Trainer::requestPause() {
    std::lock_guard lock(m_mutex);
    m_paused = true;
    m_wake.notify_all();
}

void Trainer::requestResume() {
    std::lock_guard lock(m_mutex);
    m_paused = false;
    m_stepBatches = 0;
    m_stepNodes = 0;
    m_wake.notify_all();
}

void Trainer::requestStepBatch() {
    std::lock_guard lock(m_mutex);
    m_paused = true;
    ++m_stepBatches;
    m_wake.notify_all();
}

void Trainer::requestStepNode() {
    std::lock_guard lock(m_mutex);
    m_paused = true;
    ++m_stepNodes;
    m_wake.notify_all();
}

void Trainer::requestStop() {
    std::lock_guard lock(m_mutex);
    m_stop = true;
    m_wake.notify_all();
}

bool Trainer::paused() const {
    std::lock_guard lock(m_mutex);
    return m_paused;
}

double Trainer::seconds() const {
    return static_cast<double>(nowNs() - m_runStartNs) * 1e-9 - m_pausedSeconds;
}

void Trainer::publish(const TrainEvent& event) {
    if (m_callback)
        m_callback(event);
}

TrainEvent Trainer::baseEvent(TrainEventKind kind) const {
    TrainEvent e;
    e.kind = kind;
    e.step = m_step;
    e.epoch = m_epoch;
    e.epochs = m_settings.epochs;
    e.batch = m_batch;
    e.batches = m_source.trainBatchCount();
    e.elapsedSeconds = seconds();
    return e;
}

std::map<std::string, double> Trainer::metrics() const {
    const auto all = m_executor.scalars();
    std::map<std::string, double> out;
    for (const auto& name : m_executor.metricNames())
        out[name] = all.at(name);
    return out;
}

Trainer::Flow Trainer::control(bool insideStep, bool validation) {
    std::unique_lock lock(m_mutex);
    bool announced = false;
    for (;;) {
        if (m_stop)
            return Flow::Stop;
        if (!m_paused || m_stepBatches > 0)
            return Flow::Continue;
        if (m_stepNodes > 0) {
            if (insideStep)
                --m_stepNodes;
            return Flow::Continue;
        }
        if (!announced) { // tell listeners once per wait, then re-check: the callback may act
            announced = true;
            TrainEvent e = baseEvent(TrainEventKind::Paused);
            e.node = insideStep ? m_lastNode : "";
            e.phase = m_lastPhase;
            e.validation = validation;
            lock.unlock();
            publish(e);
            lock.lock();
            continue;
        }
        const std::int64_t t0 = nowNs();
        m_wake.wait(lock);
        m_pausedSeconds += static_cast<double>(nowNs() - t0) * 1e-9;
    }
}

Trainer::StepOutcome Trainer::runStep(const Batch& batch, bool training, std::uint64_t counter,
                                      Optimizer* updater, double learningRate) {
    m_lastNode.clear(); // a pause before this step's first node names no node of the last step
    m_lastPhase = Phase::Forward;
    m_executor.feed(batch);
    m_executor.setStepCounter(counter);
    m_executor.beginStep(training);
    if (updater)
        m_executor.updateInBackward(*updater, learningRate);
    while (!m_executor.stepDone()) {
        // Once parameters have taken this step's update, a stop waits for the step's end
        // (the next batch's check), so that no run stops with half a step applied.
        if (control(true, !training) == Flow::Stop && !m_executor.updatesBegun())
            return {RunStatus::Finished, true};
        const RunStatus status = m_executor.stepNode();
        if (status == RunStatus::NonFinite)
            return {status, false};
        if (status == RunStatus::Breakpoint) {
            std::lock_guard lock(m_mutex);
            m_paused = true;
        }
    }
    return {RunStatus::Finished, false};
}

TrainResult Trainer::finish(TrainEventKind status, std::optional<NonFiniteReport> report) {
    if (status == TrainEventKind::Stopped && !m_settings.checkpointPath.empty())
        if (std::string err = saveCheckpoint(m_settings.checkpointPath); !err.empty())
            m_checkpointError = err;
    TrainEvent e = baseEvent(status);
    e.nonFinite = report;
    publish(e);
    {
        std::lock_guard lock(m_mutex);
        m_stop = false;
        m_paused = false;
        m_stepBatches = m_stepNodes = 0;
    }
    m_executor.setObserver(nullptr);
    TrainResult r;
    r.status = status;
    r.steps = m_step;
    r.epochsCompleted = m_epochsCompleted;
    r.nonFinite = std::move(report);
    r.checkpointError = m_checkpointError;
    return r;
}

TrainResult Trainer::run() {
    setEngineThreads(m_settings.threads);
    m_runStartNs = nowNs();
    m_pausedSeconds = 0;
    m_epochsCompleted = 0;
    m_checkpointError.clear();
    m_executor.setObserver([this](const NodeEvent& e) {
        m_lastNode = e.name;
        m_lastPhase = e.phase;
        if (m_nodeObserver)
            m_nodeObserver(e);
    });
    const std::size_t batches = m_source.trainBatchCount();
    while (m_epoch < m_settings.epochs) {
        m_source.beginEpoch(m_epoch);
        const double epochStart = seconds() - m_acc.seconds;
        for (; m_batch < batches; ++m_batch) {
            if (control(false, false) == Flow::Stop)
                return finish(TrainEventKind::Stopped);
            const Batch batch = m_source.trainBatch(m_batch);
            // Forward updates non-trainable state (BatchNorm statistics): keep it so that an
            // abandoned step leaves no trace.
            std::vector<Tensor> frozen;
            for (const Parameter& p : m_executor.parameters())
                if (!p.spec.trainable)
                    frozen.push_back(p.value);
            const double pausedBefore = m_pausedSeconds;
            const std::int64_t t0 = nowNs();
            const double lr = learningRateAt(m_settings.schedule, m_step);
            // The lean plan updates each node's parameters in the backward pass.
            Optimizer* updater = m_executor.keepsIntermediates() ? nullptr : m_optimizer.get();
            const StepOutcome out = runStep(batch, true, trainCounter(m_step), updater, lr);
            if (out.stopped || out.status == RunStatus::NonFinite) {
                std::size_t k = 0;
                for (Parameter& p : m_executor.parameters())
                    if (!p.spec.trainable)
                        p.value = std::move(frozen[k++]);
                if (out.stopped)
                    return finish(TrainEventKind::Stopped);
                return finish(TrainEventKind::NonFinite, m_executor.nonFinite());
            }
            if (!updater)
                m_optimizer->step(m_executor.trainableParameters(), lr);
            const double ms =
                static_cast<double>(nowNs() - t0) * 1e-6 - (m_pausedSeconds - pausedBefore) * 1e3;
            ++m_step;
            TrainEvent e = baseEvent(TrainEventKind::Batch);
            e.learningRate = lr;
            e.trainLoss = m_executor.loss();
            e.trainMetrics = metrics();
            e.msPerStep = ms;
            m_acc.lossSum += e.trainLoss;
            for (const auto& [name, value] : e.trainMetrics)
                m_acc.metricSums[name] += value;
            m_acc.msSum += ms;
            ++m_acc.batches;
            m_acc.seconds = seconds() - epochStart;
            {
                std::lock_guard lock(m_mutex);
                if (m_paused && m_stepBatches > 0)
                    --m_stepBatches;
            }
            publish(e);
        }
        double valLoss = 0;
        std::map<std::string, double> valMetrics;
        std::int64_t valSamples = 0;
        for (std::size_t v = 0; v < m_source.validationBatchCount(); ++v) {
            if (control(false, true) == Flow::Stop)
                return finish(TrainEventKind::Stopped);
            const Batch batch = m_source.validationBatch(v);
            const StepOutcome out =
                runStep(batch, false, validationCounter(m_epoch, v), nullptr, 0.0);
            if (out.stopped)
                return finish(TrainEventKind::Stopped);
            if (out.status == RunStatus::NonFinite)
                return finish(TrainEventKind::NonFinite, m_executor.nonFinite());
            const auto n = samplesIn(batch);
            valLoss += m_executor.loss() * static_cast<double>(n);
            for (const auto& [name, value] : metrics())
                valMetrics[name] += value * static_cast<double>(n);
            valSamples += n;
        }
        TrainEvent e = baseEvent(TrainEventKind::Epoch);
        const double perBatch = 1.0 / static_cast<double>(std::max<std::size_t>(1, m_acc.batches));
        e.trainLoss = m_acc.batches ? m_acc.lossSum * perBatch : std::nan("");
        for (const auto& [name, sum] : m_acc.metricSums)
            e.trainMetrics[name] = sum * perBatch;
        if (valSamples > 0) {
            e.valLoss = valLoss / static_cast<double>(valSamples);
            for (const auto& [name, sum] : valMetrics)
                e.valMetrics[name] = sum / static_cast<double>(valSamples);
        }
        e.msPerStep = m_acc.msSum * perBatch;
        e.epochSeconds = seconds() - epochStart;
        ++m_epoch;
        ++m_epochsCompleted;
        m_batch = 0;
        m_acc = Accumulator{};
        // Listeners record the epoch (metrics.csv) before the checkpoint that
        // claims it is renamed into place: a crash between the two leaves a record
        // the resumed run drops and repeats, never a finished epoch without one.
        publish(e);
        if (!m_settings.checkpointPath.empty())
            if (std::string err = saveCheckpoint(m_settings.checkpointPath); !err.empty())
                m_checkpointError = err;
    }
    return finish(TrainEventKind::Finished);
}

} // namespace segforge::core
