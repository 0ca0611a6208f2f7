#pragma once

#include "engine/executor.hpp"
#include "engine/prediction.hpp"
#include "engine/project_weights.hpp"
#include "engine/train_event.hpp"
#include "engine/training_setup.hpp"

#include <QObject>
#include <QString>
#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace segforge::core {
class ImageFolderSource;
class Trainer;
} // namespace segforge::core

namespace segforge::ui {

class Document;

/// Trains the document's graph on a worker thread and lets the GUI steer it:
/// pause, resume, step one batch or one node, stop, breakpoints. Everything the
/// worker reports arrives as signals on the GUI thread; the GUI never waits on
/// the engine. Tensors can be inspected whenever the worker is not computing
/// (paused, stopped, finished).
///
/// Weights survive a stop: training again continues the same run when the
/// network is unchanged, and otherwise starts a new run that keeps the weights
/// of every node whose op and attributes did not change.
class TrainingController : public QObject {
    Q_OBJECT
public:
    enum class State {
        Idle,     ///< nothing runs; weights (if any) can be inspected and used
        Running,  ///< the worker trains
        Paused,   ///< the worker waits between batches or between two nodes
        Stopping, ///< stop requested, the worker is finishing
        Busy,     ///< an inference job (overlays, predict file) runs
    };
    Q_ENUM(State)

    explicit TrainingController(Document* document, QObject* parent = nullptr);
    ~TrainingController() override;

    State state() const { return m_state; }
    /// Training is in progress (running, paused or stopping): the graph is locked.
    bool trainingActive() const;
    /// Weights exist (a run happened) and nothing computes: tensors can be read.
    bool canInspect() const;

    /// Starts (or continues) training with the project's settings and `overrides`.
    /// With `paused`, the worker waits before the first batch (for stepping).
    /// Returns false and sets `error` when the graph has errors, the Dataset
    /// node is missing or the data cannot be read.
    bool start(const core::TrainingOverrides& overrides, bool paused, QString* error);
    /// start() with the default overrides (e.g. the --data folder given on the command line).
    bool start(bool paused, QString* error) { return start(m_defaults, paused, error); }
    void setDefaultOverrides(core::TrainingOverrides overrides) {
        m_defaults = std::move(overrides);
    }
    void pause();
    void resume();
    void stepBatch();
    /// Runs one node (forward, then backward); starts paused training if idle.
    void stepNode();
    void stop();
    /// Forgets the weights: the next start initialises them from the seed.
    void resetWeights();
    /// Blocks until the worker has finished (for tests and shutdown); false on timeout.
    bool waitForIdle(int timeoutMs);

    void setBreakpoint(core::NodeId node, bool on);
    bool hasBreakpoint(core::NodeId node) const { return m_breakpoints.count(node) != 0; }
    const std::set<core::NodeId>& breakpoints() const { return m_breakpoints; }

    /// The value on an output port / the loss gradient arriving at it, from the
    /// latest step; nullptr unless canInspect() or the tensor was never computed.
    const core::Tensor* value(const core::PortRef& output) const;
    const core::Tensor* gradient(const core::PortRef& output) const;

    /// A parameter ("<node>/<param>") of the current weights; nullptr unless canInspect().
    const core::Tensor* parameter(const std::string& name) const;
    /// Node ids in the order the executor runs them (empty before the first run).
    std::vector<core::NodeId> executionOrder() const;

    /// Stops training right after step `step` (the worker stops itself, so it is
    /// exact, unlike a stop() in answer to batchDone); -1: no limit.
    void setStopAtStep(std::int64_t step) { m_stopAtStep = step; }
    /// Records the gradient norm of every wire after each training step.
    void setGradientTracking(bool on) { m_trackGradients = on; }
    /// L2 norm of the loss gradient on each output port after the latest step.
    std::map<core::PortRef, double> gradientNorms() const;

    /// Predicts the first validation samples with the current weights (when idle).
    bool refreshOverlays(QString* error = nullptr);
    /// Runs the current weights on an image file (when idle); answers with predictionReady.
    bool predictImage(const QString& path, QString* error = nullptr);
    /// How many validation samples the overlays show.
    void setOverlaySamples(int count) { m_overlaySamples = count; }

    // --- Weights saved with the project (core/engine/project_weights.hpp) ---

    /// Weights exist (trained, restored or imported).
    bool hasWeights() const { return m_executor != nullptr; }
    /// The weights changed since they were last saved or loaded (a step, a
    /// reset, an import): closing should offer to save them.
    bool weightsModified() const;
    /// Changes whenever the weights change (a step, a reset, an import, a load).
    std::uint64_t weightsGeneration() const { return m_weightsGeneration; }
    /// The current weights are those on disk now (after a save or a load).
    void markWeightsSaved();
    /// Writes the weights, the checkpoint (when a trainer exists) and the run's
    /// history beside `projectPath`, off the GUI thread while the event loop
    /// turns (user input waits). A running training is paused around it.
    /// Returns the section to record in the project, or an error.
    core::SavedWeights saveWeights(const QString& projectPath);
    /// Loads the weights a project was saved with, on the worker: the executor,
    /// the data (for overlays and continuing), the checkpoint when the graph is
    /// the one trained. Answers with weightsRestored (and overlaysReady,
    /// historyRestored); the state is Busy meanwhile.
    /// `unsaved`: the weights are not those of the project's file (a recovery
    /// copy), so closing asks to save them.
    bool restoreWeights(const QString& projectPath, const core::WeightsSection& section,
                        bool unsaved = false);
    /// Writes the current weights as safetensors under the graph's node names.
    QString exportWeights(const QString& path);
    /// Loads a safetensors file by tensor name and shape into the document's
    /// graph (compiling it if needed); what did not fit is reported, not loaded.
    core::WeightsMatch importWeights(const QString& path);
    /// Makes `weights` ("<node>/<param>" in SegForge's layouts, e.g. an ONNX
    /// import's) the current weights of the document's graph: compiles it,
    /// initialises every parameter from the seed and loads by name and shape
    /// what fits (what does not is reported). They are unsaved weights, saved
    /// with the project as trained ones are. When the graph does not compile
    /// (an import's placeholders), `error` says so and the weights wait: the
    /// first compile that succeeds (Train, Import Weights…) loads them.
    core::WeightsMatch adoptWeights(std::map<std::string, core::Tensor> weights);
    /// Weights adoptWeights keeps until the graph compiles.
    bool hasPendingWeights() const { return !m_pendingWeights.empty(); }
    const std::map<std::string, core::Tensor>& pendingWeights() const { return m_pendingWeights; }
    /// Epochs and batches per epoch of the current run (0 when there is none).
    int runEpochs() const;
    qint64 runBatchesPerEpoch() const;
    /// The current run can continue (Train resumes it rather than starting anew).
    bool canContinueRun() const { return m_trainer && !m_runComplete; }
    /// Loss and metric curves of the current run, as saved with the weights.
    const core::RunHistory& history() const { return m_history; }
    /// The longest the event loop waited during the last saveWeights/exportWeights (ms).
    double lastSaveGapMs() const { return m_lastSaveGapMs; }

    const std::optional<core::NonFiniteReport>& nonFinite() const { return m_nonFinite; }
    std::int64_t step() const { return m_step; }
    /// "160 training / 40 validation images, 20 batches of 8" after start.
    QString datasetSummary() const { return m_datasetSummary; }

signals:
    void stateChanged(segforge::ui::TrainingController::State state);
    void runStarted(int epochs, qint64 batchesPerEpoch, qint64 firstStep);
    void batchDone(const segforge::core::TrainEvent& event);
    void epochDone(const segforge::core::TrainEvent& event);
    /// The worker waits. `node` is the node that ran last (kNoNode between batches).
    void pausedAt(segforge::core::NodeId node, segforge::core::Phase phase, bool validation);
    /// The NaN/Inf guard fired; training has stopped.
    void nonFiniteFound(const segforge::core::NonFiniteReport& report);
    /// The run ended: Finished, Stopped or NonFinite (message for the status bar).
    void runEnded(segforge::core::TrainEventKind status, const QString& message);
    /// A data or engine error stopped the run or a job.
    void failed(const QString& message);
    /// Predictions of the first validation samples; `epoch` is 1-based (0: before any epoch ended).
    void overlaysReady(const std::vector<segforge::core::SamplePrediction>& samples, int epoch);
    void predictionReady(const QString& name, const segforge::core::FilePrediction& prediction);
    /// restoreWeights finished. `complete`: every tensor loaded; `report` says
    /// what was restored and names what was not.
    void weightsRestored(bool ok, bool complete, const QString& report);
    /// The curves of a restored run (the plots redraw them).
    void historyRestored(const segforge::core::RunHistory& history);
    /// weightsModified() may have changed.
    void weightsChanged();
    /// A moment to autosave the weights: an epoch ended, training paused or ended.
    void autosavePoint();

private:
    void setState(State state);
    /// Compiles the document's graph, keeping compatible weights. "" or an error.
    /// A fresh executor gets the pending weights (adoptWeights), if any.
    /// `forTraining`: the graph must have a loss; otherwise (loading weights
    /// into an imported network) it need not.
    QString prepareExecutor(bool forTraining);
    /// Compiles (if needed) and runs `load` on the executor; the weights
    /// then are another network's: no optimizer state, no curves.
    core::WeightsMatch
    loadWeightsWith(const std::function<core::WeightsMatch(core::Executor&)>& load);
    void onEvent(const core::TrainEvent& event); ///< on the worker thread
    void runJob(std::function<void()> job);      ///< inference on the worker thread
    void applyBreakpoints();
    /// Posts `fn` to the GUI thread.
    template <typename F> void post(F&& fn);
    /// Runs `fn` on a thread of its own while the event loop turns (without
    /// user input); records the longest event-loop gap in m_lastSaveGapMs.
    void runWhileResponsive(const std::function<void()>& fn);
    /// Pauses a running training and waits until the worker rests (between
    /// nodes or batches). Returns true if it was running (resume afterwards).
    bool pauseForAccess();
    void bumpWeights();

    Document* m_document;
    State m_state = State::Idle;
    std::thread m_worker;

    core::Graph m_graph; ///< the network m_executor was compiled from
    std::unique_ptr<core::Executor> m_executor;
    std::unique_ptr<core::ImageFolderSource> m_source;
    std::unique_ptr<core::Trainer> m_trainer;
    core::TrainingOverrides m_overrides; ///< of the current run
    core::TrainingOverrides m_defaults;
    core::TrainingSettings m_settings;
    bool m_lossless =
        false; ///< m_executor was compiled without requiring a loss (not for training)
    bool m_keepWeights = false; ///< weights exist: a new trainer must not re-initialise them
    bool m_runComplete =
        true; ///< the trainer reached its last epoch (or NaN): next start is a new run
    std::optional<core::PortRef> m_prediction;
    QString m_datasetSummary;

    std::set<core::NodeId> m_breakpoints;
    std::optional<core::NonFiniteReport> m_nonFinite;
    std::atomic<std::int64_t> m_step{0};
    std::atomic<bool> m_trackGradients{false};
    std::atomic<std::int64_t> m_stopAtStep{-1};
    std::atomic<bool> m_breakpointsDirty{false};
    int m_overlaySamples = 12;
    int m_lastEpoch = 0; ///< 1-based number of the last finished epoch

    core::RunHistory m_history;
    std::map<std::string, core::Tensor>
        m_pendingWeights;                  ///< adoptWeights' until the graph compiles
    std::uint64_t m_weightsGeneration = 0; ///< bumped whenever the weights change
    std::uint64_t m_savedGeneration = 0;
    bool m_savedHadWeights = false; ///< the last save/load had weights
    double m_lastSaveGapMs = 0;
    bool m_stepping = false;       ///< running one batch or node only: it pauses by itself
    bool m_writingWeights = false; ///< a save runs (its event loop may deliver another request)

    mutable std::mutex m_mutex; ///< guards the members below (shared with the worker)
    std::map<core::PortRef, double> m_gradNorms;
    /// Non-trainable parameters (BatchNorm statistics) after the last finished
    /// step: a pause mid-step has already moved them, a save must not keep that.
    std::vector<core::Tensor> m_frozenAtStep;
    std::set<core::NodeId> m_pendingBreakpoints; ///< set while running, applied by the worker
};

} // namespace segforge::ui
