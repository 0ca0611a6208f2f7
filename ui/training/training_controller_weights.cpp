// TrainingController, the part that keeps weights with the project: save
// (weights, checkpoint, history) without stalling the GUI, restore after an
// open, export and import, and whether the weights are saved.

#include "data/image_pipeline.hpp"
#include "document/document.hpp"
#include "engine/trainer.hpp"
#include "engine/training_setup.hpp"
#include "engine/weights.hpp"
#include "io/safetensors.hpp"
#include "project/graph_revision.hpp"
#include "training/training_controller.hpp"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QThread>
#include <QTimer>
#include <nlohmann/json.hpp>

namespace segforge::ui {

namespace {

QString joined(const std::vector<std::string>& lines) {
    QStringList out;
    for (const auto& l : lines)
        out << QString::fromStdString(l);
    return out.join("; ");
}

} // namespace

int TrainingController::runEpochs() const {
    return m_trainer ? m_trainer->settings().epochs : 0;
}

qint64 TrainingController::runBatchesPerEpoch() const {
    return m_source ? static_cast<qint64>(m_source->trainBatchCount()) : 0;
}

bool TrainingController::weightsModified() const {
    return hasWeights() ? m_weightsGeneration != m_savedGeneration : m_savedHadWeights;
}

void TrainingController::markWeightsSaved() {
    m_savedGeneration = m_weightsGeneration;
    m_savedHadWeights = hasWeights();
    emit weightsChanged();
}

void TrainingController::bumpWeights() {
    ++m_weightsGeneration;
    emit weightsChanged();
}

void TrainingController::runWhileResponsive(const std::function<void()>& fn) {
    std::atomic<bool> done{false};
    QEventLoop loop;
    std::thread thread([&] {
        fn();
        done = true;
        QMetaObject::invokeMethod(&loop, "quit", Qt::QueuedConnection);
    });
    // Paint and timers go on; clicks and keys wait, so nothing starts training
    // or edits the graph while its weights are being written.
    QElapsedTimer gap;
    gap.start();
    double worst = 0;
    QTimer tick;
    tick.setInterval(5);
    connect(&tick, &QTimer::timeout, &loop, [&] {
        worst = std::max(worst, static_cast<double>(gap.nsecsElapsed()) / 1e6);
        gap.restart();
    });
    tick.start();
    if (!done)
        loop.exec(QEventLoop::ExcludeUserInputEvents);
    thread.join();
    worst = std::max(worst, static_cast<double>(gap.nsecsElapsed()) / 1e6);
    m_lastSaveGapMs = worst;
}

bool TrainingController::pauseForAccess() {
    if (m_state == State::Stopping || m_state == State::Busy)
        waitForIdle(60'000);
    if (m_state != State::Running)
        return false;
    // A step in progress (F10/F11) pauses by itself; resuming after the save
    // would turn it into a free run.
    const bool stepping = m_stepping;
    if (!stepping)
        pause();
    QElapsedTimer timer;
    timer.start();
    while (m_state == State::Running && timer.elapsed() < 60'000) {
        QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents, 20);
        QThread::msleep(1);
    }
    return !stepping && m_state == State::Paused;
}

core::SavedWeights TrainingController::saveWeights(const QString& projectPath) {
    core::SavedWeights out;
    if (!m_executor) {
        out.error = tr("There are no weights to save.").toStdString();
        return out;
    }
    if (m_writingWeights) { // asked again from inside the event loop of a save
        out.error = tr("The weights are being saved already.").toStdString();
        return out;
    }
    m_writingWeights = true;
    struct Done {
        bool& flag;
        ~Done() { flag = false; }
    } done{m_writingWeights};
    const bool resumeAfter = pauseForAccess();
    const State before = m_state;
    if (before != State::Idle && before != State::Paused) {
        out.error = tr("The weights cannot be read now (state %1).").arg(int(before)).toStdString();
        return out;
    }
    // Paused inside a step, the forward pass has moved the BatchNorm statistics
    // already: save those of the last finished step, as a stop would leave them.
    std::vector<core::Tensor> live;
    if (before == State::Paused) {
        std::lock_guard lock(m_mutex);
        std::size_t k = 0;
        for (core::Parameter& p : m_executor->parameters())
            if (!p.spec.trainable && k < m_frozenAtStep.size()) {
                live.push_back(p.value);
                p.value = m_frozenAtStep[k++];
            }
    } else {
        setState(State::Busy);
    }
    const core::Graph current = m_document->graph();
    core::WeightsToSave what;
    what.executor = m_executor.get();
    what.trained = &m_graph;
    what.current = &current;
    what.step = m_trainer ? m_trainer->step() : m_step.load();
    what.history = &m_history;
    what.trainer = m_trainer.get();
    const std::filesystem::path path = projectPath.toStdString();
    runWhileResponsive([&] { out = core::writeProjectWeights(path, what); });
    if (before == State::Paused) {
        std::size_t k = 0;
        for (core::Parameter& p : m_executor->parameters())
            if (!p.spec.trainable && k < live.size())
                p.value = std::move(live[k++]);
    } else {
        setState(State::Idle);
    }
    if (resumeAfter)
        resume();
    return out;
}

QString TrainingController::exportWeights(const QString& path) {
    if (!m_executor)
        return tr("No weights yet: train first.");
    const bool resumeAfter = pauseForAccess();
    const State before = m_state;
    if (before == State::Idle)
        setState(State::Busy);
    const core::Graph current = m_document->graph();
    nlohmann::json layers = nlohmann::json::object();
    for (const core::Parameter& p : m_executor->parameters())
        if (const core::Node* then = m_graph.findNode(p.node); then && current.findNode(p.node))
            layers[current.findNode(p.node)->name] = core::layerSignature(*then);
    const std::map<std::string, std::string> meta{
        {"segforge.graph_revision", core::graphRevision(m_graph)},
        {core::kLayersMetadataKey, layers.dump()}};
    std::string error;
    runWhileResponsive([&] {
        error = core::saveWeights(*m_executor, path.toStdString(), meta,
                                  [&](const core::Parameter& p) -> std::optional<std::string> {
                                      const core::Node* n = current.findNode(p.node);
                                      return n ? std::optional(n->name + "/" + p.spec.name)
                                               : std::nullopt;
                                  });
    });
    if (before == State::Idle)
        setState(State::Idle);
    if (resumeAfter)
        resume();
    return QString::fromStdString(error);
}

core::WeightsMatch TrainingController::importWeights(const QString& path) {
    return loadWeightsWith([&](core::Executor& executor) {
        return core::loadMatchingWeights(executor, path.toStdString());
    });
}

core::WeightsMatch TrainingController::adoptWeights(std::map<std::string, core::Tensor> weights) {
    core::WeightsMatch m;
    if (m_state != State::Idle) {
        m.error = tr("Stop training before loading weights.").toStdString();
        return m;
    }
    if (weights.empty())
        return m;
    std::string why;
    if (!m_executor && !core::Executor::compileWithoutLoss(m_document->graph(), why)) {
        // Loaded by the first compile that succeeds (prepareExecutor).
        m_pendingWeights = std::move(weights);
        // (The diagnostics panel lists the errors.)
        m.error = tr("the graph does not compile yet, so they wait until it does (Train or "
                     "Import Weights… loads them)")
                      .toStdString();
        return m;
    }
    return loadWeightsWith([&](core::Executor& executor) {
        return core::loadMatchingWeights(executor, std::move(weights));
    });
}

core::WeightsMatch TrainingController::loadWeightsWith(
    const std::function<core::WeightsMatch(core::Executor&)>& load) {
    core::WeightsMatch m;
    if (m_state != State::Idle) {
        m.error = tr("Stop training before importing weights.").toStdString();
        return m;
    }
    const bool fresh = !m_executor;
    const bool pending = !m_pendingWeights.empty(); // a fresh compile loads them
    if (QString e = prepareExecutor(false); !e.isEmpty()) {
        m.error = tr("The graph cannot be compiled: %1").arg(e).toStdString();
        return m;
    }
    if (fresh && !pending)
        m_executor->initializeParameters(
            static_cast<std::uint64_t>(m_document->project().training.seed));
    m = load(*m_executor);
    if (!m.error.empty()) {
        if (fresh && !pending)
            m_executor.reset();
        return m;
    }
    // Other weights: the optimizer state and the run's curves belong to the old ones.
    m_trainer.reset();
    m_runComplete = true;
    m_history = {};
    m_step = 0;
    bumpWeights();
    return m;
}

bool TrainingController::restoreWeights(const QString& projectPath,
                                        const core::WeightsSection& section, bool unsaved) {
    if (m_state != State::Idle)
        return false;
    if (m_worker.joinable())
        m_worker.join();
    const core::Project project = m_document->project();
    const core::TrainingOverrides overrides = m_defaults;
    const std::filesystem::path path = projectPath.toStdString();
    const int overlaySamples = m_overlaySamples;
    setState(State::Busy);
    m_worker = std::thread([this, project, overrides, path, section, overlaySamples, unsaved] {
        // Built here, handed to the GUI thread whole: nothing is shared while it runs.
        struct Restored {
            std::unique_ptr<core::Executor> executor;
            std::unique_ptr<core::ImageFolderSource> source;
            std::unique_ptr<core::Trainer> trainer;
            std::optional<core::PortRef> prediction;
            std::vector<core::SamplePrediction> samples;
            std::optional<core::RunHistory> history;
            QStringList notes;
            QString error;
            bool complete = false;
            bool lossless = false;
            std::map<std::string, core::Tensor>
                pending; ///< read, for a graph that does not compile
            std::int64_t step = 0;
        };
        auto r = std::make_shared<Restored>();
        std::string why;
        r->executor = core::Executor::compile(project.graph, why);
        if (!r->executor) {
            // A network without a loss (an import) holds weights too; it cannot train yet.
            std::string ignored;
            r->executor = core::Executor::compileWithoutLoss(project.graph, ignored);
            r->lossless = r->executor != nullptr;
        }
        if (!r->executor) {
            // The graph has errors (an import's placeholders): the weights wait,
            // as adoptWeights keeps them, until it compiles.
            std::string readError;
            core::SafetensorsData file =
                core::loadSafetensors(core::projectSibling(path, section.file), readError);
            if (readError.empty() && !file.tensors.empty()) {
                r->pending = std::move(file.tensors);
            } else {
                r->error = tr("The saved weights were not loaded: the graph has errors.");
                if (!readError.empty())
                    r->error += " " + QString::fromStdString(readError);
            }
        } else {
            const core::Node* dataset = core::findDatasetNode(project.graph, why);
            try {
                if (dataset && !r->lossless) {
                    const auto options = core::pipelineOptionsFor(project, *dataset, overrides);
                    r->source = std::make_unique<core::ImageFolderSource>(options);
                    if (r->source->trainBatchCount() > 0)
                        r->trainer = std::make_unique<core::Trainer>(
                            *r->executor, *r->source,
                            core::trainerSettingsFor(project.training, overrides,
                                                     r->source->trainBatchCount()));
                }
            } catch (const std::exception& e) {
                r->notes
                    << tr("the data cannot be read (%1): predictions of the validation images and "
                          "continuing the run need it")
                           .arg(QString::fromUtf8(e.what()));
            }
            if (!r->trainer)
                r->executor->initializeParameters(
                    static_cast<std::uint64_t>(project.training.seed));
            core::LoadedWeights loaded =
                core::readProjectWeights(path, section, *r->executor, project.graph);
            if (!loaded.match.error.empty()) {
                r->error = tr("The saved weights were not loaded: %1")
                               .arg(QString::fromStdString(loaded.match.error));
                r->executor.reset();
            } else {
                r->complete = loaded.match.complete();
                for (const auto& n : loaded.notes)
                    r->notes << QString::fromStdString(n);
                if (!r->complete)
                    r->notes << tr("not loaded (initialised afresh): %1")
                                    .arg(QString::fromStdString(
                                        core::describeNotLoaded(loaded.match)));
                if (!loaded.match.unused.empty())
                    r->notes << tr("in the file but not in the graph: %1")
                                    .arg(joined(loaded.match.unused));
                r->history = std::move(loaded.history);
                if (r->history)
                    r->history->truncateAfter(section.step);
                // The optimizer state only belongs to the network it was trained with.
                if (r->trainer && !section.checkpoint.empty()) {
                    if (!loaded.sameNetwork || !r->complete) {
                        r->notes << tr("the graph changed since training: Train starts a new run "
                                       "from these weights");
                    } else if (std::string err = r->trainer->loadCheckpoint(
                                   core::projectSibling(path, section.checkpoint));
                               !err.empty()) {
                        r->notes << tr("the optimizer state was not restored (%1): Train starts a "
                                       "new run from "
                                       "these weights")
                                        .arg(QString::fromStdString(err));
                    }
                }
                r->step = r->trainer ? r->trainer->step() : section.step;
                if (r->trainer && r->trainer->step() == 0 &&
                    r->history) // a new run: its curves start empty
                    r->history.reset();
                r->prediction = core::predictionPort(project.graph);
                if (r->source && r->prediction && overlaySamples > 0) {
                    try {
                        r->samples =
                            core::predictValidation(*r->executor, *r->source, *r->prediction,
                                                    static_cast<std::size_t>(overlaySamples));
                    } catch (const std::exception&) {
                        r->samples.clear(); // a view: the data error shows when training
                    }
                }
            }
        }
        QMetaObject::invokeMethod(
            this,
            [this, r, project, overrides, section, unsaved] {
                if (m_worker.joinable())
                    m_worker.join();
                if (r->executor) {
                    m_executor = std::move(r->executor);
                    m_lossless = r->lossless;
                    m_source = std::move(r->source);
                    m_trainer = std::move(r->trainer);
                    m_graph = project.graph;
                    m_settings = project.training;
                    m_overrides = overrides;
                    m_prediction = r->prediction;
                    m_step = r->step;
                    m_lastEpoch = m_trainer ? m_trainer->epoch() : 0;
                    // Without its optimizer state the run cannot continue: Train starts a new one.
                    m_runComplete = !m_trainer || m_trainer->step() == 0 ||
                                    m_trainer->epoch() >= m_trainer->settings().epochs;
                    m_history = r->history.value_or(core::RunHistory{});
                    m_nonFinite.reset();
                    markWeightsSaved();
                    if (unsaved)
                        bumpWeights(); // what the file of the project does not hold
                }
                setState(State::Idle);
                QString report;
                if (!r->pending.empty()) {
                    const int count = static_cast<int>(r->pending.size());
                    m_pendingWeights = std::move(r->pending);
                    markWeightsSaved(); // they are the file's
                    report = tr("The saved weights (%n tensor(s), %1) wait until the graph "
                                "compiles: replace its placeholders, then Train or Import "
                                "Weights… loads them",
                                "", count)
                                 .arg(QString::fromStdString(section.file));
                } else if (!r->error.isEmpty()) {
                    report = r->error;
                } else {
                    report = tr("Restored the weights of step %1 (%2)")
                                 .arg(m_step.load())
                                 .arg(QString::fromStdString(section.file));
                    if (!r->notes.isEmpty())
                        report += " — " + r->notes.join("; ");
                }
                emit weightsRestored(r->error.isEmpty(), r->complete, report);
                if (!m_history.empty())
                    emit historyRestored(m_history);
                if (!r->samples.empty())
                    emit overlaysReady(r->samples, m_lastEpoch);
            },
            Qt::QueuedConnection);
    });
    return true;
}

} // namespace segforge::ui
