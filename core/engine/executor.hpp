#pragma once

#include "data/batch_source.hpp"
#include "engine/optimizer.hpp"
#include "engine/value_lifetimes.hpp"
#include "graph/graph.hpp"
#include "ops/op_registry.hpp"
#include "tensor/buffer_pool.hpp"

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace segforge::core {

enum class Phase { Forward, Backward };
std::string_view phaseName(Phase phase);

/// What an observer sees after one node ran: read-only views, valid until the
/// next call into the executor.
struct NodeEvent {
    NodeId node = kNoNode;
    std::string name;
    std::string op;
    Phase phase = Phase::Forward;
    std::vector<const Tensor*> outputs;   ///< forward: the node's outputs
    std::vector<const Tensor*> gradients; ///< backward: dLoss/dInput per input (nullptr if none)
};

/// The first NaN/Inf the guard found.
struct NonFiniteReport {
    NodeId node = kNoNode;
    std::string name;
    std::string op;
    Phase phase = Phase::Forward;
    std::int64_t sample = -1; ///< batch index, -1 if unknown
    std::string reason;       ///< the op's explanation, or what was found
    /// "NaN/Inf in the forward pass at Dice 'loss' (sample 1): denominator …"
    std::string message() const;
};

enum class RunStatus { Finished, Breakpoint, NonFinite };

/// One parameter tensor of the compiled graph.
struct Parameter {
    std::string name; ///< "<node>/<param>", the safetensors key
    NodeId node = kNoNode;
    ParamSpec spec;
    Tensor value;
    Tensor grad;
};

/// Compiles a checked graph into a plan and runs it: a whole training step,
/// or one node at a time (forward in topological order, then backward in
/// reverse), with an observer, breakpoints and a NaN/Inf guard.
class Executor {
public:
    /// nullptr and `error` set (quoting every checker error) when the graph has errors.
    static std::unique_ptr<Executor> compile(const Graph& graph, std::string& error,
                                             const OpRegistry& registry = OpRegistry::builtin());
    /// The same for a network that has no loss (yet): an imported model, whose
    /// weights are held, run forward, saved and restored. Training needs compile().
    static std::unique_ptr<Executor>
    compileWithoutLoss(const Graph& graph, std::string& error,
                       const OpRegistry& registry = OpRegistry::builtin());
    ~Executor();

    /// Initialises every parameter from its initializer; deterministic in `seed`.
    void initializeParameters(std::uint64_t seed);
    std::vector<Parameter>& parameters() { return m_params; }
    /// Trainable parameters and their gradients, for an Optimizer.
    std::vector<ParamRef> trainableParameters();

    /// Feeds the Dataset node(s) from a batch and every Input node named in `inputs`.
    /// Throws std::invalid_argument when a shape or dtype disagrees with the graph.
    void feed(const Batch& batch);
    void feedInput(const std::string& nodeName, Tensor value);

    /// Starts a step: forward, then backward when training.
    void beginStep(bool training);
    /// Runs until the step is done, a breakpoint node has run, or the guard fires.
    RunStatus run();
    /// Runs exactly one node (forward or backward). Finished once the step is complete.
    RunStatus stepNode();
    bool stepDone() const;

    /// Lean plan, after beginStep(true): this step's backward pass updates each node's
    /// trainable parameters with `optimizer` as soon as their gradients are complete and
    /// have passed the NaN/Inf guard, and then lets those gradients go, instead of
    /// holding a gradient per parameter until an optimizer step after the pass. The bits
    /// are Optimizer::step's. Parameters whose node has no backward here are updated
    /// with zero gradients when the step ends, as step() would. Parameter::grad is empty
    /// between such steps. Should the guard stop the backward pass, the nodes between
    /// it and the loss have taken their update (the trainer then stops training, and
    /// `train` writes no weights). Throws std::logic_error outside a lean training step.
    void updateInBackward(Optimizer& optimizer, double learningRate);
    /// Whether this step's backward pass has updated parameters already: a stop
    /// request must then let the step finish.
    bool updatesBegun() const { return m_updatesBegun; }
    /// Milliseconds spent in updateInBackward's updates, summed over the executor's life.
    double updateMilliseconds() const { return m_updateMs; }

    /// feed + beginStep(true) + run + optimizer step (skipped unless Finished); under the
    /// lean plan the optimizer updates in the backward pass (updateInBackward).
    RunStatus trainStep(const Batch& batch, Optimizer& optimizer, double learningRate);
    /// feed + beginStep(false) + run.
    RunStatus evaluate(const Batch& batch);

    void setObserver(std::function<void(const NodeEvent&)> observer) {
        m_observer = std::move(observer);
    }
    void setBreakpoint(NodeId node, bool on);
    void setNanGuard(bool on) { m_guard = on; }
    /// true (the default): every value and its gradient stay after the step, for the
    /// inspector, the gradient view and stepping. false, the lean plan of `train` and
    /// `bench`: a value's data lives only from its producer to its last reader, forward
    /// or backward (engine/value_lifetimes.hpp); the outputs of cheap pure ops that a
    /// backward kernel reads (Concatenate, UpSampling2D, …) are computed again for it
    /// instead of being kept; a gradient lives from its first consumer's backward to its
    /// producer's; and all of them share one pool of buffers. The arithmetic is the same,
    /// bit for bit. After a lean step output() and gradient() answer nullptr for what
    /// is gone; losses, metrics, their inputs and graph outputs are always kept.
    void setKeepIntermediates(bool keep);
    bool keepsIntermediates() const { return m_keepIntermediates; }
    /// Bytes of data the executor holds now, by kind (for bench and the tests).
    struct MemoryUse {
        std::size_t values = 0, gradients = 0, pooled = 0, saved = 0, parameters = 0;
        std::size_t total() const { return values + gradients + pooled + saved + parameters; }
    };
    MemoryUse memoryUse() const;
    /// The lean plan's buffers (values, gradients and saved state), now and at peak.
    BufferPool::Use bufferUse() const { return m_pool.use(); }
    void setSeed(std::uint64_t seed) { m_seed = seed; }
    /// With the seed, the counter makes each step's randomness (Dropout) distinct; the
    /// trainer sets it from its position so that a resumed run repeats the same masks.
    void setStepCounter(std::uint64_t counter) { m_stepCounter = counter; }
    const std::optional<NonFiniteReport>& nonFinite() const { return m_nonFinite; }

    /// Sum of every loss node's output after the forward pass.
    double loss() const;
    /// Loss and metric values by node name, after the forward pass.
    std::map<std::string, double> scalars() const;
    /// Names of the metric nodes (DiceCoefficient, IoU, …), in execution order.
    std::vector<std::string> metricNames() const;
    /// A node's output / its gradient (nullptr if unknown or not computed).
    const Tensor* output(NodeId node, const std::string& port) const;
    const Tensor* gradient(NodeId node, const std::string& port) const;
    /// Node ids in execution order.
    std::vector<NodeId> order() const;

private:
    struct Value;
    struct Step;
    Executor();
    static std::unique_ptr<Executor> compileChecked(const Graph& graph, std::string& error,
                                                    const OpRegistry& registry, bool requireLoss);
    void allocate(std::int64_t batch);
    /// Lean plan: gives the value a gradient buffer from the pool, zeroed unless `zero`
    /// is false, and answers true, unless it has one already.
    bool acquireGrad(Value& v, bool zero = true);
    void releaseGrad(Value& v);
    /// Lean plan: returns a node's saved state (x̂, masks, pooling taps) to the pool
    /// once its backward has read it, or right after the forward when not training.
    void releaseState(Step& s);
    /// updateInBackward: updates the trainable parameters of step `index` and returns
    /// their gradients to the pool; at the step's end, those no backward reached.
    void updateParameters(std::size_t index);
    void updateUnreachedParameters();
    void applyUpdates(const std::vector<std::size_t>& which);
    /// Lean plan: a zeroed gradient for parameter `index` from the pool / back to it.
    void lendParameterGrad(std::size_t index);
    void releaseParameterGrad(Parameter& p);
    /// Lean plan: gives a value's tensor data from the pool / returns it.
    void lend(Value& v);
    void reclaim(Value& v);
    /// Lean plan, backward: makes value `index` hold its data again, recomputing it.
    void materialize(int index);
    void releaseAfterForward(std::size_t index);
    void releaseAfterBackward(std::size_t position);
    void startBackward();
    void runForward(std::size_t index);
    void runBackward(std::size_t index);
    bool guard(std::size_t index, Phase phase);

    std::vector<Step> m_steps;
    std::vector<Value> m_values;
    std::vector<Parameter> m_params;
    std::map<std::string, Tensor> m_feeds; ///< "<node>.<port>" → fed tensor
    std::function<void(const NodeEvent&)> m_observer;
    std::set<NodeId> m_breakpoints;
    std::optional<NonFiniteReport> m_nonFinite;
    std::int64_t m_batch = -1;
    std::uint64_t m_seed = 42;
    std::uint64_t m_stepCounter = 0;
    bool m_guard = true;
    Optimizer* m_updater = nullptr;          ///< updateInBackward, this step
    std::vector<ParamRef> m_updateRefs;      ///< the trainable parameters, for m_updater
    std::vector<std::size_t> m_updateParams; ///< per m_updateRefs entry: its parameter
    std::vector<int> m_updateRefOf;          ///< per parameter: its place in m_updateRefs, or -1
    std::vector<bool> m_updated;             ///< per m_updateRefs entry, this step
    double m_updateLr = 0;
    bool m_updatesBegun = false;
    double m_updateMs = 0;
    bool m_training = true;
    bool m_keepIntermediates = true;
    std::vector<ValueLifetime> m_lifetimes; ///< per value, the lean plan
    BufferPool m_pool;                      ///< lean plan: buffers no value holds now
    /// Lean plan: the values whose data goes back to the pool after each forward step
    /// (training, inference) and after each backward position.
    std::vector<std::vector<int>> m_releaseTraining, m_releaseInference, m_releaseBackward;
    std::size_t m_cursor = 0; ///< position in forward+backward sequence
    std::vector<std::size_t> m_backwardOrder;
};

} // namespace segforge::core
