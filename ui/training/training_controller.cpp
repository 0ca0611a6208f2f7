#include "training/training_controller.hpp"

#include "check/checker.hpp"
#include "data/image_pipeline.hpp"
#include "document/document.hpp"
#include "engine/trainer.hpp"
#include "engine/training_setup.hpp"
#include "tensor/tensor.hpp"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>
#include <cmath>
#include <utility>

namespace segforge::ui {

namespace {

double l2(const core::Tensor& t) {
    if (t.dtype() != core::DType::Float32)
        return 0;
    double sum = 0;
    const float* p = t.f32();
    for (std::int64_t i = 0; i < t.numel(); ++i)
        sum += static_cast<double>(p[i]) * p[i];
    return std::sqrt(sum);
}

/// The node's op and attributes are those its parameters were trained for.
bool sameLayer(const core::Node* a, const core::Node* b) {
    return a && b && a->op == b->op && a->attrs == b->attrs;
}

} // namespace

template <typename F> void TrainingController::post(F&& fn) {
    QMetaObject::invokeMethod(this, std::forward<F>(fn), Qt::QueuedConnection);
}

TrainingController::TrainingController(Document* document, QObject* parent)
    : QObject(parent)
    , m_document(document) {}

TrainingController::~TrainingController() {
    if (m_trainer)
        m_trainer->requestStop();
    if (m_worker.joinable())
        m_worker.join();
}

bool TrainingController::trainingActive() const {
    return m_state == State::Running || m_state == State::Paused || m_state == State::Stopping;
}

bool TrainingController::canInspect() const {
    return m_executor && (m_state == State::Idle || m_state == State::Paused);
}

void TrainingController::setState(State state) {
    if (m_state == state)
        return;
    m_state = state;
    emit stateChanged(state);
}

QString TrainingController::prepareExecutor(bool forTraining) {
    const core::Graph& graph = m_document->graph();
    if (m_executor && core::sameNetwork(graph, m_graph) && !(forTraining && m_lossless))
        return {};
    std::string error;
    auto executor = forTraining ? core::Executor::compile(graph, error)
                                : core::Executor::compileWithoutLoss(graph, error);
    if (!executor)
        return QString::fromStdString(error);
    if (m_executor) {
        // Carry over the weights of every layer that is still the same layer.
        std::map<std::string, const core::Parameter*> old;
        for (const core::Parameter& p : m_executor->parameters())
            old[p.name] = &p;
        executor->initializeParameters(
            static_cast<std::uint64_t>(m_document->project().training.seed));
        for (core::Parameter& p : executor->parameters()) {
            auto it = old.find(p.name);
            if (it == old.end() || it->second->value.shape() != p.value.shape())
                continue;
            if (sameLayer(m_graph.findNode(it->second->node), graph.findNode(p.node)))
                p.value = it->second->value;
        }
    }
    m_trainer.reset(); // it refers to the old executor
    if (m_executor)
        bumpWeights(); // edited layers start afresh
    const bool fresh = !m_executor;
    m_executor = std::move(executor);
    m_lossless = !forTraining;
    m_graph = graph;
    m_runComplete = true;
    if (fresh && !m_pendingWeights.empty()) {
        // adoptWeights' weights, kept until the graph compiled: they are the
        // weights now (a new trainer must not initialise them again).
        m_executor->initializeParameters(
            static_cast<std::uint64_t>(m_document->project().training.seed));
        core::loadMatchingWeights(*m_executor, std::exchange(m_pendingWeights, {}));
        m_keepWeights = true;
        bumpWeights();
    }
    return {};
}

bool TrainingController::start(const core::TrainingOverrides& overrides, bool paused,
                               QString* error) {
    auto fail = [&](const QString& why) {
        if (error)
            *error = why;
        return false;
    };
    if (m_state != State::Idle)
        return fail(tr("Training is already running."));
    if (m_worker.joinable())
        m_worker.join();

    const core::Project& project = m_document->project();
    std::string why;
    const core::Node* dataset = core::findDatasetNode(project.graph, why);
    if (!dataset)
        return fail(QString::fromStdString(why));
    const bool sameSettings =
        project.training == m_settings && overrides.epochs == m_overrides.epochs &&
        overrides.batchSize == m_overrides.batchSize &&
        overrides.learningRate == m_overrides.learningRate && overrides.seed == m_overrides.seed &&
        overrides.threads == m_overrides.threads && overrides.dataDir == m_overrides.dataDir;
    const bool hadTrainer = m_trainer != nullptr;
    m_keepWeights = m_executor != nullptr;
    if (QString e = prepareExecutor(true); !e.isEmpty())
        return fail(tr("The graph cannot be trained:\n%1").arg(e));
    m_prediction = core::predictionPort(m_graph);

    const bool resume = hadTrainer && m_trainer && !m_runComplete && sameSettings;
    if (!resume) {
        try {
            const core::PipelineOptions options =
                core::pipelineOptionsFor(project, *dataset, overrides);
            auto source = std::make_unique<core::ImageFolderSource>(options);
            if (source->trainBatchCount() == 0)
                return fail(tr("%1 training images make no full batch of %2; lower the batch size.")
                                .arg(source->trainSize())
                                .arg(options.batchSize));
            m_datasetSummary = tr("%1 training / %2 validation images, %3 batches of %4")
                                   .arg(source->trainSize())
                                   .arg(source->validationSize())
                                   .arg(source->trainBatchCount())
                                   .arg(options.batchSize);
            core::TrainerSettings settings =
                core::trainerSettingsFor(project.training, overrides, source->trainBatchCount());
            // The trainer initialises every parameter from the seed; keep what we had.
            std::vector<core::Tensor> kept;
            if (m_keepWeights)
                for (const core::Parameter& p : m_executor->parameters())
                    kept.push_back(p.value);
            m_trainer.reset();
            m_source = std::move(source);
            m_trainer = std::make_unique<core::Trainer>(*m_executor, *m_source, settings);
            if (m_keepWeights)
                for (std::size_t i = 0; i < kept.size(); ++i)
                    m_executor->parameters()[i].value = std::move(kept[i]);
        } catch (const std::exception& e) {
            return fail(QString::fromUtf8(e.what()));
        }
        m_settings = project.training;
        m_overrides = overrides;
        m_lastEpoch = 0;
    }
    m_runComplete = false;
    m_nonFinite.reset();
    {
        std::lock_guard lock(m_mutex);
        m_gradNorms.clear();
        m_frozenAtStep.clear();
        for (const core::Parameter& p : m_executor->parameters())
            if (!p.spec.trainable)
                m_frozenAtStep.push_back(p.value);
    }
    applyBreakpoints();
    m_trainer->setCallback([this](const core::TrainEvent& e) { onEvent(e); });
    if (paused)
        m_trainer->requestPause();
    const int epochs = m_trainer->settings().epochs;
    const auto batches = static_cast<qint64>(m_source->trainBatchCount());
    const qint64 firstStep = m_trainer->step();
    m_step = firstStep;
    m_stepping = false;
    if (firstStep == 0)
        m_history = {};
    setState(paused ? State::Paused : State::Running);
    emit runStarted(epochs, batches, firstStep);

    core::Trainer* trainer = m_trainer.get();
    m_worker = std::thread([this, trainer] {
        core::TrainResult result;
        QString problem;
        try {
            result = trainer->run();
        } catch (const std::exception& e) {
            problem = QString::fromUtf8(e.what());
        }
        post([this, result, problem] {
            if (m_worker.joinable())
                m_worker.join();
            if (!problem.isEmpty()) {
                m_runComplete = true;
                setState(State::Idle);
                emit failed(tr("Training stopped at step %1: %2").arg(m_step.load()).arg(problem));
                return;
            }
            m_runComplete = result.status != core::TrainEventKind::Stopped;
            QString message;
            switch (result.status) {
            case core::TrainEventKind::Finished:
                message = tr("Training finished: %1 epochs, %2 steps.")
                              .arg(result.epochsCompleted)
                              .arg(result.steps);
                break;
            case core::TrainEventKind::Stopped:
                message = tr("Training stopped after step %1; Train continues from there.")
                              .arg(result.steps);
                break;
            default:
                message = result.nonFinite ? QString::fromStdString(result.nonFinite->message())
                                           : tr("Training stopped: NaN/Inf found.");
                break;
            }
            setState(State::Idle);
            emit runEnded(result.status, message);
            emit autosavePoint();
        });
    });
    return true;
}

void TrainingController::onEvent(const core::TrainEvent& e) {
    // The worker thread: the executor is ours to read until we return.
    if (m_breakpointsDirty.exchange(false)) {
        std::lock_guard lock(m_mutex);
        for (const auto& [id, node] : m_graph.nodes())
            m_executor->setBreakpoint(id, m_pendingBreakpoints.count(id) != 0);
    }
    switch (e.kind) {
    case core::TrainEventKind::Batch: {
        m_step = e.step;
        if (const std::int64_t last = m_stopAtStep; last >= 0 && e.step >= last)
            m_trainer->requestStop(); // lands before the next batch: exactly `last` steps
        if (m_trackGradients) {
            std::map<core::PortRef, double> norms;
            for (const core::Edge& edge : m_graph.edges())
                if (const core::Tensor* g = m_executor->gradient(edge.from.node, edge.from.port))
                    norms[edge.from] = l2(*g);
            std::lock_guard lock(m_mutex);
            m_gradNorms = std::move(norms);
        }
        {
            // The state of this finished step, for a save while paused inside the next one.
            std::lock_guard lock(m_mutex);
            std::size_t k = 0;
            for (const core::Parameter& p : m_executor->parameters())
                if (!p.spec.trainable && k < m_frozenAtStep.size())
                    m_frozenAtStep[k++] = p.value;
        }
        post([this, e] {
            m_history.steps.push_back({e.step, e.trainLoss, e.learningRate});
            bumpWeights();
            emit batchDone(e);
        });
        break;
    }
    case core::TrainEventKind::Epoch: {
        std::vector<core::SamplePrediction> samples;
        if (m_prediction && m_overlaySamples > 0) {
            try {
                samples = core::predictValidation(*m_executor, *m_source, *m_prediction,
                                                  static_cast<std::size_t>(m_overlaySamples));
            } catch (const std::exception&) {
                samples.clear(); // overlays are a view; a data error surfaces in training itself
            }
        }
        post([this, e, samples = std::move(samples)] {
            m_lastEpoch = e.epoch + 1;
            QMetaObject::invokeMethod(this, &TrainingController::autosavePoint,
                                      Qt::QueuedConnection);
            m_history.epochs.push_back({e.epoch, e.step, e.trainLoss, e.valLoss, e.valMetrics});
            emit epochDone(e);
            if (!samples.empty())
                emit overlaysReady(samples, e.epoch + 1);
        });
        break;
    }
    case core::TrainEventKind::Paused: {
        const core::Node* node = e.node.empty() ? nullptr : m_graph.findNodeByName(e.node);
        const core::NodeId id = node ? node->id : core::kNoNode;
        post([this, id, phase = e.phase, validation = e.validation] {
            if (m_state == State::Running)
                setState(State::Paused);
            if (m_state == State::Paused) {
                emit pausedAt(id, phase, validation);
                emit autosavePoint();
            }
        });
        break;
    }
    case core::TrainEventKind::NonFinite:
        post([this, report = e.nonFinite] {
            m_nonFinite = report;
            if (report)
                emit nonFiniteFound(*report);
        });
        break;
    case core::TrainEventKind::Stopped:
    case core::TrainEventKind::Finished:
        break;
    }
}

void TrainingController::pause() {
    if (m_trainer && m_state == State::Running)
        m_trainer->requestPause();
}

void TrainingController::resume() {
    if (m_trainer && m_state == State::Paused) {
        m_stepping = false;
        applyBreakpoints();
        setState(State::Running);
        m_trainer->requestResume();
    }
}

void TrainingController::stepBatch() {
    if (m_trainer && m_state == State::Paused) {
        m_stepping = true;
        setState(State::Running);
        m_trainer->requestStepBatch();
    }
}

void TrainingController::stepNode() {
    if (m_state == State::Idle) {
        QString error;
        if (!start(m_defaults, true, &error))
            emit failed(error);
        else
            stepNode();
        return;
    }
    if (m_trainer && m_state == State::Paused) {
        m_stepping = true;
        applyBreakpoints();
        setState(State::Running);
        m_trainer->requestStepNode();
    }
}

void TrainingController::stop() {
    if (m_trainer && (m_state == State::Running || m_state == State::Paused)) {
        setState(State::Stopping);
        m_trainer->requestStop();
    }
}

void TrainingController::resetWeights() {
    if (m_state != State::Idle)
        return;
    if (m_executor)
        bumpWeights();
    m_history = {};
    m_pendingWeights.clear();
    m_trainer.reset();
    m_source.reset();
    m_executor.reset();
    m_lossless = false;
    m_graph = core::Graph();
    m_runComplete = true;
    m_nonFinite.reset();
    m_step = 0;
    std::lock_guard lock(m_mutex);
    m_gradNorms.clear();
}

bool TrainingController::waitForIdle(int timeoutMs) {
    QElapsedTimer timer;
    timer.start();
    while (m_state != State::Idle) {
        if (timer.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
        QThread::msleep(2);
    }
    return true;
}

void TrainingController::setBreakpoint(core::NodeId node, bool on) {
    if (on)
        m_breakpoints.insert(node);
    else
        m_breakpoints.erase(node);
    applyBreakpoints();
}

void TrainingController::applyBreakpoints() {
    if (!m_executor)
        return;
    if (m_state == State::Idle || m_state == State::Paused) {
        // The worker is not computing: the executor is ours.
        for (const auto& [id, node] : m_graph.nodes())
            m_executor->setBreakpoint(id, m_breakpoints.count(id) != 0);
        return;
    }
    std::lock_guard lock(m_mutex);
    m_pendingBreakpoints = m_breakpoints;
    m_breakpointsDirty = true;
}

const core::Tensor* TrainingController::value(const core::PortRef& output) const {
    if (!canInspect() || !m_graph.hasNode(output.node))
        return nullptr;
    return m_executor->output(output.node, output.port);
}

const core::Tensor* TrainingController::gradient(const core::PortRef& output) const {
    if (!canInspect() || !m_graph.hasNode(output.node))
        return nullptr;
    return m_executor->gradient(output.node, output.port);
}

const core::Tensor* TrainingController::parameter(const std::string& name) const {
    if (!canInspect())
        return nullptr;
    for (const core::Parameter& p : m_executor->parameters())
        if (p.name == name)
            return &p.value;
    return nullptr;
}

std::vector<core::NodeId> TrainingController::executionOrder() const {
    return m_executor ? m_executor->order() : std::vector<core::NodeId>{};
}

std::map<core::PortRef, double> TrainingController::gradientNorms() const {
    std::lock_guard lock(m_mutex);
    return m_gradNorms;
}

void TrainingController::runJob(std::function<void()> job) {
    if (m_worker.joinable())
        m_worker.join();
    setState(State::Busy);
    m_worker = std::thread([this, job = std::move(job)] {
        job();
        post([this] {
            if (m_worker.joinable())
                m_worker.join();
            setState(State::Idle);
        });
    });
}

bool TrainingController::refreshOverlays(QString* error) {
    if (m_state != State::Idle || !m_executor || !m_source || !m_prediction) {
        if (error)
            *error = m_executor ? tr("Overlays are refreshed when training is paused between "
                                     "epochs or stopped.")
                                : tr("No weights yet: train first.");
        return false;
    }
    const std::size_t count = static_cast<std::size_t>(std::max(0, m_overlaySamples));
    const int epoch = m_lastEpoch;
    runJob([this, count, epoch] {
        std::vector<core::SamplePrediction> samples;
        QString problem;
        try {
            samples = core::predictValidation(*m_executor, *m_source, *m_prediction, count);
        } catch (const std::exception& e) {
            problem = QString::fromUtf8(e.what());
        }
        post([this, samples = std::move(samples), problem, epoch] {
            if (!problem.isEmpty())
                emit failed(tr("Predicting the validation images failed: %1").arg(problem));
            else
                emit overlaysReady(samples, epoch);
        });
    });
    return true;
}

bool TrainingController::predictImage(const QString& path, QString* error) {
    if (m_state != State::Idle || !m_executor || !m_prediction) {
        if (error)
            *error = m_executor ? tr("Wait until training is stopped or finished.")
                                : tr("No weights yet: train first.");
        return false;
    }
    std::string why;
    const core::Node* dataset = core::findDatasetNode(m_graph, why);
    const core::CheckResult check =
        core::checkGraph(m_graph, core::CheckOptions::withoutInputSizeSweep());
    const auto imageType = dataset ? check.typeOf({dataset->id, "image"}) : std::nullopt;
    const auto maskType = dataset ? check.typeOf({dataset->id, "mask"}) : std::nullopt;
    if (!imageType || !maskType) {
        if (error)
            *error = why.empty() ? tr("The Dataset node's outputs have no type.")
                                 : QString::fromStdString(why);
        return false;
    }
    bool resize = false;
    try {
        resize = core::pipelineOptionsFor(m_document->project(), *dataset).sizePolicy !=
                 core::SizePolicy::Exact;
    } catch (const std::exception&) {
    }
    const std::string file = path.toStdString();
    const QString name = QFileInfo(path).fileName();
    runJob([this, file, name, image = *imageType, mask = *maskType, resize] {
        core::FilePrediction p;
        try {
            p = core::predictFile(*m_executor, *m_prediction, image, mask, resize, file);
        } catch (const std::exception& e) {
            p.error = e.what();
        }
        post([this, name, p] {
            if (!p.ok())
                emit failed(tr("Cannot predict %1: %2").arg(name, QString::fromStdString(p.error)));
            else
                emit predictionReady(name, p);
        });
    });
    return true;
}

} // namespace segforge::ui
