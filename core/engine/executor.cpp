#include "engine/executor.hpp"

#include "check/checker.hpp"
#include "engine/initializers.hpp"
#include "engine/node_attributes.hpp"
#include "kernels/denormals.hpp"
#include "kernels/parallel.hpp"
#include "kernels/tensor_sweeps.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

namespace segforge::core {

std::string_view phaseName(Phase phase) {
    return phase == Phase::Forward ? "forward" : "backward";
}

std::string NonFiniteReport::message() const {
    std::string out = strCat("NaN/Inf in the ", phaseName(phase), " pass at ", op, " '", name, "'");
    if (sample >= 0)
        out += strCat(" (sample ", sample, ")");
    if (!reason.empty())
        out += ": " + reason;
    return out;
}

/// One wire's runtime value: the tensor an output port produces and its gradient.
struct Executor::Value {
    NodeId node = kNoNode;
    std::string port;
    TensorType type;
    Tensor tensor;
    Tensor grad;
    bool requiresGrad = false;
    int producer = -1; ///< step index
};

/// One node of the plan.
struct Executor::Step {
    NodeId id = kNoNode;
    std::string name, op;
    const OpSchema* schema = nullptr;
    AttrMap attrs;
    std::vector<int> inputs;  ///< value indices, input-port order
    std::vector<int> outputs; ///< value indices, output-port order
    std::vector<int> params;  ///< parameter indices, ParamSpec order
    std::vector<Tensor> saved;
    bool backward = false; ///< gradient flows through this node
};

Executor::Executor() = default;
Executor::~Executor() = default;

namespace {

/// A float32 tensor of zeros whose pages the pool's threads first touch (they zero
/// it in parallel blocks): on a NUMA machine a parameter's pages are then spread
/// over the nodes of the threads that read and update it, not all placed on the
/// caller's node. The initializers write the values after, on the caller.
Tensor zerosTouchedInParallel(Shape shape) {
    Tensor t = Tensor::unallocated(std::move(shape), DType::Float32);
    t.adoptStorage(TensorStorage(t.dataBytes()));
    kernels::zeroFill(t.f32(), t.numel());
    return t;
}

} // namespace

std::unique_ptr<Executor> Executor::compile(const Graph& graph, std::string& error,
                                            const OpRegistry& registry) {
    return compileChecked(graph, error, registry, true);
}

std::unique_ptr<Executor> Executor::compileWithoutLoss(const Graph& graph, std::string& error,
                                                       const OpRegistry& registry) {
    return compileChecked(graph, error, registry, false);
}

std::unique_ptr<Executor> Executor::compileChecked(const Graph& graph, std::string& error,
                                                   const OpRegistry& registry, bool requireLoss) {
    CheckOptions options = CheckOptions::withoutInputSizeSweep();
    options.requireLoss = requireLoss;
    const CheckResult check = checkGraph(graph, options, registry);
    if (check.hasErrors()) {
        error = "the graph has errors and cannot run:";
        for (const auto& d : check.diagnostics)
            if (d.severity == Severity::Error)
                error += "\n  error [" + d.code + "] " + d.message;
        return nullptr;
    }
    std::unique_ptr<Executor> ex(new Executor());
    std::map<std::pair<NodeId, std::string>, int> valueOf;
    for (NodeId id : check.order) {
        const Node& node = *graph.findNode(id);
        Step step;
        step.id = id;
        step.name = node.name;
        step.op = node.op;
        step.schema = registry.find(node.op);
        step.attrs = resolveAttributes(*step.schema, node);
        const NodeCheck& nc = check.nodes.at(id);
        for (const auto& inName : step.schema->inputNames(node)) {
            auto producer = graph.producerOf({id, inName});
            if (!producer) {
                error = strCat("node '", node.name, "': input '", inName, "' is not connected");
                return nullptr;
            }
            step.inputs.push_back(valueOf.at({producer->node, producer->port}));
        }
        for (std::size_t k = 0; k < nc.outputNames.size(); ++k) {
            Value v;
            v.node = id;
            v.port = nc.outputNames[k];
            v.type = *nc.outputs[k];
            v.producer = static_cast<int>(ex->m_steps.size());
            valueOf[{id, v.port}] = static_cast<int>(ex->m_values.size());
            step.outputs.push_back(static_cast<int>(ex->m_values.size()));
            ex->m_values.push_back(std::move(v));
        }
        bool trainable = false;
        for (const auto& spec : nc.params) {
            Parameter p;
            p.name = node.name + "/" + spec.name;
            p.node = id;
            p.spec = spec;
            p.value = zerosTouchedInParallel(Shape(spec.shape));
            if (spec.trainable)
                p.grad = zerosTouchedInParallel(Shape(spec.shape));
            trainable = trainable || spec.trainable;
            step.params.push_back(static_cast<int>(ex->m_params.size()));
            ex->m_params.push_back(std::move(p));
        }
        bool inputNeedsGrad = false;
        for (int in : step.inputs)
            inputNeedsGrad =
                inputNeedsGrad || ex->m_values[static_cast<std::size_t>(in)].requiresGrad;
        step.backward = static_cast<bool>(step.schema->backward) && (trainable || inputNeedsGrad);
        for (int out : step.outputs)
            ex->m_values[static_cast<std::size_t>(out)].requiresGrad = step.backward;
        ex->m_steps.push_back(std::move(step));
    }
    // Backward visits, in reverse, the nodes that pass gradient and feed a loss.
    std::vector<bool> feedsLoss(ex->m_steps.size(), false);
    std::vector<bool> valueFeedsLoss(ex->m_values.size(), false);
    for (std::size_t i = ex->m_steps.size(); i-- > 0;) {
        Step& s = ex->m_steps[i];
        bool reaches = s.schema->role == OpRole::Loss;
        for (int out : s.outputs)
            reaches = reaches || valueFeedsLoss[static_cast<std::size_t>(out)];
        feedsLoss[i] = reaches;
        if (reaches && s.schema->role != OpRole::Metric)
            for (int in : s.inputs)
                valueFeedsLoss[static_cast<std::size_t>(in)] = true;
        if (s.backward && reaches)
            ex->m_backwardOrder.push_back(i);
    }
    std::vector<LifetimeStep> lifetimeSteps;
    for (const Step& s : ex->m_steps) {
        LifetimeStep l;
        l.inputs = s.inputs;
        l.outputs = s.outputs;
        const OpSchema::BackwardReads reads = s.schema->backwardReadsFor(s.attrs);
        l.backwardReadsInputs = reads.inputs;
        l.backwardReadsOutputs = reads.outputs;
        l.recomputable = s.schema->recomputable;
        l.source = s.schema->role == OpRole::Source;
        l.reported = s.schema->role == OpRole::Loss || s.schema->role == OpRole::Metric;
        lifetimeSteps.push_back(std::move(l));
    }
    ex->m_lifetimes = planValueLifetimes(lifetimeSteps, ex->m_values.size(), ex->m_backwardOrder);
    ex->m_releaseTraining.resize(ex->m_steps.size());
    ex->m_releaseInference.resize(ex->m_steps.size());
    ex->m_releaseBackward.resize(ex->m_backwardOrder.size());
    for (std::size_t v = 0; v < ex->m_lifetimes.size(); ++v) {
        const ValueLifetime& life = ex->m_lifetimes[v];
        if (life.pinned || life.lastForwardUse < 0)
            continue;
        const auto last = static_cast<std::size_t>(life.lastForwardUse);
        ex->m_releaseInference[last].push_back(static_cast<int>(v));
        if (life.recompute || life.lastBackwardRead < 0)
            ex->m_releaseTraining[last].push_back(static_cast<int>(v));
        if (life.lastBackwardRead >= 0)
            ex->m_releaseBackward[static_cast<std::size_t>(life.lastBackwardRead)].push_back(
                static_cast<int>(v));
    }
    return ex;
}

void Executor::initializeParameters(std::uint64_t seed) {
    for (std::size_t i = 0; i < m_params.size(); ++i)
        initializeParameter(m_params[i].value, m_params[i].spec, seed * 1000003ull + i);
}

std::vector<ParamRef> Executor::trainableParameters() {
    std::vector<ParamRef> refs;
    for (auto& p : m_params)
        if (p.spec.trainable)
            refs.push_back({&p.value, &p.grad});
    return refs;
}

void Executor::feed(const Batch& batch) {
    for (const Step& s : m_steps) {
        if (!s.schema->traits.readsDataset)
            continue;
        m_feeds[s.name + ".image"] = batch.image;
        m_feeds[s.name + ".mask"] = batch.mask;
    }
}

void Executor::feedInput(const std::string& nodeName, Tensor value) {
    m_feeds[nodeName + ".output"] = std::move(value);
}

void Executor::allocate(std::int64_t batch) {
    if (!m_keepIntermediates) { // shapes now, data as the plan lends it
        for (std::size_t i = 0; i < m_values.size(); ++i) {
            Value& v = m_values[i];
            releaseGrad(v);
            const Shape shape = concreteShape(v.type.shape, batch);
            if (batch == m_batch && v.tensor.shape() == shape) {
                if (!m_lifetimes[i].pinned)
                    reclaim(v); // what an interrupted step left
                continue;
            }
            reclaim(v);
            v.tensor = Tensor::unallocated(shape, v.type.dtype);
        }
        m_batch = batch;
        return;
    }
    if (batch == m_batch)
        return;
    for (Value& v : m_values) {
        const Shape shape = concreteShape(v.type.shape, batch);
        v.tensor = Tensor(shape, v.type.dtype);
        v.grad = v.requiresGrad ? Tensor(shape, DType::Float32) : Tensor();
    }
    m_batch = batch;
}

void Executor::setKeepIntermediates(bool keep) {
    if (keep == m_keepIntermediates)
        return;
    m_keepIntermediates = keep;
    for (Value& v : m_values) {
        v.tensor = Tensor();
        v.grad = Tensor();
    }
    m_pool.clear();
    m_batch = -1; // the next step allocates afresh
}

namespace {

/// The pool's names for what the executor lends, the same in every pass: a value's
/// data or gradient, a node's saved state (plus its slot, below 256), a parameter's
/// gradient (updateInBackward).
enum class Lending : std::uint64_t { Data = 1, Gradient = 2, State = 3, ParameterGradient = 4 };

std::uint64_t lendingTag(Lending what, std::size_t index) {
    return static_cast<std::uint64_t>(what) << 56 | static_cast<std::uint64_t>(index) << 8;
}

} // namespace

void Executor::lend(Value& v) {
    if (!v.tensor.hasStorage())
        v.tensor.adoptStorage(
            m_pool.take(v.tensor.dataBytes(),
                        lendingTag(Lending::Data, static_cast<std::size_t>(&v - m_values.data()))));
}

void Executor::reclaim(Value& v) {
    if (v.tensor.numel() > 0 && v.tensor.hasStorage())
        m_pool.give(v.tensor.takeStorage());
}

bool Executor::acquireGrad(Value& v, bool zero) {
    if (!v.grad.empty())
        return false;
    v.grad = Tensor::unallocated(v.tensor.shape(), DType::Float32);
    v.grad.adoptStorage(
        m_pool.take(v.grad.dataBytes(),
                    lendingTag(Lending::Gradient, static_cast<std::size_t>(&v - m_values.data()))));
    if (zero)
        kernels::zeroFill(v.grad.f32(), v.grad.numel());
    return true;
}

void Executor::releaseGrad(Value& v) {
    if (!v.grad.empty() && v.grad.hasStorage())
        m_pool.give(v.grad.takeStorage());
    v.grad = Tensor();
}

void Executor::releaseAfterForward(std::size_t index) {
    for (int v : (m_training ? m_releaseTraining : m_releaseInference)[index])
        reclaim(m_values[static_cast<std::size_t>(v)]);
    if (!m_training) // no backward will read it
        releaseState(m_steps[index]);
}

void Executor::releaseAfterBackward(std::size_t position) {
    for (int v : m_releaseBackward[position])
        reclaim(m_values[static_cast<std::size_t>(v)]);
}

void Executor::releaseState(Step& s) {
    for (Tensor& t : s.saved)
        if (t.numel() > 0 && t.hasStorage())
            m_pool.give(t.takeStorage());
    s.saved.clear();
}

namespace {

KernelContext makeContext(const AttrMap& attrs, bool training, std::uint64_t seed) {
    KernelContext ctx;
    ctx.attrs = &attrs;
    ctx.training = training;
    ctx.seed = seed;
    return ctx;
}

std::uint64_t mix(std::uint64_t a, std::uint64_t b) {
    std::uint64_t x = a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull + (a << 6) + (a >> 2));
    x ^= x >> 31;
    return x * 0xBF58476D1CE4E5B9ull;
}

} // namespace

void Executor::materialize(int index) {
    Value& v = m_values[static_cast<std::size_t>(index)];
    if (v.tensor.hasStorage())
        return;
    const ValueLifetime& life = m_lifetimes[static_cast<std::size_t>(index)];
    if (!life.recompute || v.producer < 0)
        throw std::logic_error(strCat("the memory plan let go of value ", index, " (", v.port,
                                      ") before a backward step read it"));
    const Step& producer = m_steps[static_cast<std::size_t>(v.producer)];
    for (int in : producer.inputs)
        materialize(in);
    for (int out : producer.outputs)
        lend(m_values[static_cast<std::size_t>(out)]);
    KernelContext ctx = makeContext(producer.attrs, m_training, 0); // recomputable: no randomness
    for (int in : producer.inputs)
        ctx.inputs.push_back(&m_values[static_cast<std::size_t>(in)].tensor);
    for (int out : producer.outputs)
        ctx.outputs.push_back(&m_values[static_cast<std::size_t>(out)].tensor);
    std::vector<Tensor> noState;
    ctx.saved = &noState;
    producer.schema->forward(ctx);
}

// Zeroes every gradient and seeds the losses with 1. Without kept gradients the
// buffers go back to the pool and come out, zeroed, as the pass reaches them.
void Executor::startBackward() {
    for (Value& v : m_values) {
        if (m_keepIntermediates && !v.grad.empty())
            kernels::zeroFill(v.grad.f32(), v.grad.numel());
        else if (!m_keepIntermediates)
            releaseGrad(v);
    }
    for (Parameter& p : m_params) {
        if (!p.grad.empty())
            p.grad.fill(0.0f);
        else if (p.spec.trainable && !m_updater) // lean: for Optimizer::step after the pass
            p.grad = Tensor(p.value.shape(), DType::Float32);
    }
    for (const Step& s : m_steps)
        if (s.schema->role == OpRole::Loss)
            for (int out : s.outputs) {
                Value& v = m_values[static_cast<std::size_t>(out)];
                if (!v.requiresGrad)
                    continue;
                if (!m_keepIntermediates)
                    acquireGrad(v);
                v.grad.fill(1.0f);
            }
}

void Executor::beginStep(bool training) {
    m_training = training;
    m_cursor = 0;
    m_updater = nullptr;
    m_updatesBegun = false;
    if (!m_keepIntermediates) // the lean plan holds no parameter gradient between steps
        for (Parameter& p : m_params)
            releaseParameterGrad(p);
    m_nonFinite.reset();
    ++m_stepCounter;
    // The batch size comes from the fed sources; every source must agree.
    std::int64_t batch = -1;
    for (const Step& s : m_steps) {
        if (s.schema->role != OpRole::Source)
            continue;
        for (int out : s.outputs) {
            const Value& v = m_values[static_cast<std::size_t>(out)];
            auto it = m_feeds.find(s.name + "." + v.port);
            if (it == m_feeds.end())
                throw std::invalid_argument(
                    strCat(s.op, " '", s.name, "' has no data for its output '", v.port, "'"));
            const Tensor& t = it->second;
            const Shape want = concreteShape(v.type.shape, t.shape().rank() ? t.shape()[0] : 0);
            if (t.shape() != want || t.dtype() != v.type.dtype)
                throw std::invalid_argument(strCat(s.op, " '", s.name, "' output '", v.port,
                                                   "' was fed ", t.describe(),
                                                   " but the graph expects ", v.type.toString()));
            if (batch >= 0 && t.shape()[0] != batch)
                throw std::invalid_argument(strCat("sources disagree on the batch size: ", batch,
                                                   " and ", t.shape()[0], " ('", s.name, "')"));
            batch = t.shape()[0];
        }
    }
    allocate(batch < 0 ? 1 : batch);
    if (!m_keepIntermediates) // a training step and a validation pass are planned apart
        m_pool.beginPass(static_cast<std::uint64_t>(m_batch) << 1 | (training ? 1u : 0u));
}

bool Executor::stepDone() const {
    return m_cursor >= m_steps.size() + (m_training ? m_backwardOrder.size() : 0);
}

RunStatus Executor::stepNode() {
    if (stepDone())
        return RunStatus::Finished;
    const DenormalsFlushed flushed; // as on the pool's threads (kernels/denormals.hpp)
    const std::size_t position = m_cursor++;
    std::size_t index = 0;
    Phase phase = Phase::Forward;
    if (position < m_steps.size()) {
        index = position;
        runForward(index);
    } else {
        phase = Phase::Backward;
        index = m_backwardOrder[position - m_steps.size()];
        if (position == m_steps.size())
            startBackward();
        runBackward(index);
    }
    if (m_guard && !guard(index, phase))
        return RunStatus::NonFinite;
    if (m_updater) {
        if (phase == Phase::Backward)
            updateParameters(index);
        if (stepDone())
            updateUnreachedParameters();
    }
    if (!m_keepIntermediates) {
        if (phase == Phase::Forward) {
            releaseAfterForward(index);
        } else {
            for (int out : m_steps[index].outputs) // the producer was the last to read them
                releaseGrad(m_values[static_cast<std::size_t>(out)]);
            releaseState(m_steps[index]);
            releaseAfterBackward(position - m_steps.size());
        }
    }
    if (m_breakpoints.count(m_steps[index].id))
        return stepDone() ? RunStatus::Finished : RunStatus::Breakpoint;
    return RunStatus::Finished;
}

RunStatus Executor::run() {
    while (!stepDone()) {
        const RunStatus status = stepNode();
        if (status != RunStatus::Finished)
            return status;
    }
    return RunStatus::Finished;
}

void Executor::runForward(std::size_t index) {
    Step& s = m_steps[index];
    if (s.schema->role == OpRole::Source) {
        for (int out : s.outputs) {
            Value& v = m_values[static_cast<std::size_t>(out)];
            v.tensor = m_feeds.at(s.name + "." + v.port);
        }
    } else {
        if (!m_keepIntermediates)
            for (int out : s.outputs)
                lend(m_values[static_cast<std::size_t>(out)]);
        KernelContext ctx = makeContext(
            s.attrs, m_training, mix(mix(m_seed, static_cast<std::uint64_t>(s.id)), m_stepCounter));
        for (int in : s.inputs)
            ctx.inputs.push_back(&m_values[static_cast<std::size_t>(in)].tensor);
        for (int out : s.outputs)
            ctx.outputs.push_back(&m_values[static_cast<std::size_t>(out)].tensor);
        for (int p : s.params)
            ctx.params.push_back(&m_params[static_cast<std::size_t>(p)].value);
        ctx.saved = &s.saved;
        if (!m_keepIntermediates) {
            ctx.pool = &m_pool;
            ctx.stateTag = lendingTag(Lending::State, index);
        }
        try {
            s.schema->forward(ctx);
        } catch (const std::exception& e) {
            throw std::runtime_error(strCat(s.op, " '", s.name, "' (forward): ", e.what()));
        }
    }
    if (m_observer) {
        NodeEvent e{s.id, s.name, s.op, Phase::Forward, {}, {}};
        for (int out : s.outputs)
            e.outputs.push_back(&m_values[static_cast<std::size_t>(out)].tensor);
        m_observer(e);
    }
}

void Executor::runBackward(std::size_t index) {
    Step& s = m_steps[index];
    KernelContext ctx = makeContext(s.attrs, m_training, 0);
    if (!m_keepIntermediates) {
        const OpSchema::BackwardReads reads = s.schema->backwardReadsFor(s.attrs);
        if (reads.inputs)
            for (int in : s.inputs)
                materialize(in);
        if (reads.outputs)
            for (int out : s.outputs)
                materialize(out);
    }
    const bool assigns = !m_keepIntermediates && s.schema->assignsFreshInputGrads;
    for (int in : s.inputs) {
        Value& v = m_values[static_cast<std::size_t>(in)];
        // An input the node reads twice has one gradient, which the kernel adds to.
        const bool mayAssign = assigns && std::count(s.inputs.begin(), s.inputs.end(), in) == 1;
        const bool fresh = v.requiresGrad && !m_keepIntermediates && acquireGrad(v, !mayAssign);
        ctx.inputs.push_back(&v.tensor);
        ctx.inputGrads.push_back(v.requiresGrad ? &v.grad : nullptr);
        ctx.freshInputGrads.push_back(fresh && mayAssign);
    }
    for (int out : s.outputs) {
        Value& v = m_values[static_cast<std::size_t>(out)];
        if (v.requiresGrad && !m_keepIntermediates) // an output no consumer differentiated: zeros
            acquireGrad(v);
        ctx.outputs.push_back(&v.tensor);
        ctx.outputGrads.push_back(&v.grad);
    }
    for (int p : s.params) {
        Parameter& param = m_params[static_cast<std::size_t>(p)];
        if (m_updater && param.spec.trainable && param.grad.empty()) // lent until updated
            lendParameterGrad(static_cast<std::size_t>(p));
        ctx.params.push_back(&param.value);
        ctx.paramGrads.push_back(param.spec.trainable ? &param.grad : nullptr);
    }
    ctx.saved = &s.saved;
    ctx.outputGradsDisposable = !m_keepIntermediates; // released right after this step
    try {
        s.schema->backward(ctx);
    } catch (const std::exception& e) {
        throw std::runtime_error(strCat(s.op, " '", s.name, "' (backward): ", e.what()));
    }
    if (m_observer) {
        NodeEvent e{s.id, s.name, s.op, Phase::Backward, {}, {}};
        for (Tensor* g : ctx.inputGrads)
            e.gradients.push_back(g);
        m_observer(e);
    }
}

bool Executor::guard(std::size_t index, Phase phase) {
    const Step& s = m_steps[index];
    std::vector<const Tensor*> checked;
    if (phase == Phase::Forward) {
        if (s.schema->keepsValuesFinite) // its inputs passed this guard when they were made
            return true;
        for (int out : s.outputs)
            checked.push_back(&m_values[static_cast<std::size_t>(out)].tensor);
    } else {
        for (int in : s.inputs)
            if (m_values[static_cast<std::size_t>(in)].requiresGrad)
                checked.push_back(&m_values[static_cast<std::size_t>(in)].grad);
        for (int p : s.params)
            if (!m_params[static_cast<std::size_t>(p)].grad.empty())
                checked.push_back(&m_params[static_cast<std::size_t>(p)].grad);
    }
    for (const Tensor* t : checked) {
        if (t->dtype() != DType::Float32)
            continue;
        const float* v = t->f32();
        if (kernels::allFinite(v, t->numel()))
            continue;
        for (std::int64_t i = 0; i < t->numel(); ++i) {
            if (std::isfinite(v[i]))
                continue;
            NonFiniteReport r;
            r.node = s.id;
            r.name = s.name;
            r.op = s.op;
            r.phase = phase;
            const bool perSample = t->shape().rank() > 0 && t->shape()[0] == m_batch && m_batch > 0;
            r.sample = perSample ? i / (t->numel() / m_batch) : -1;
            // A scalar (loss) has no sample axis: ask the op which sample caused it.
            if (phase == Phase::Forward && s.schema->explainNonFinite) {
                KernelContext ctx = makeContext(s.attrs, m_training, 0);
                for (int in : s.inputs)
                    ctx.inputs.push_back(&m_values[static_cast<std::size_t>(in)].tensor);
                for (int out : s.outputs)
                    ctx.outputs.push_back(&m_values[static_cast<std::size_t>(out)].tensor);
                for (std::int64_t b = 0; b < m_batch && r.reason.empty(); ++b) {
                    r.reason = s.schema->explainNonFinite(ctx, b);
                    if (!r.reason.empty())
                        r.sample = b;
                }
            }
            if (r.reason.empty())
                r.reason = strCat(std::isnan(v[i]) ? "NaN" : "Inf", " at element ", i, " of ",
                                  t->describe());
            m_nonFinite = std::move(r);
            return false;
        }
    }
    return true;
}

void Executor::setBreakpoint(NodeId node, bool on) {
    if (on)
        m_breakpoints.insert(node);
    else
        m_breakpoints.erase(node);
}

void Executor::updateInBackward(Optimizer& optimizer, double learningRate) {
    if (m_keepIntermediates || !m_training || m_cursor != 0)
        throw std::logic_error("updateInBackward: only at the start of a lean training step");
    m_updater = &optimizer;
    m_updateRefs.clear();
    m_updateParams.clear();
    m_updateRefOf.assign(m_params.size(), -1);
    for (std::size_t i = 0; i < m_params.size(); ++i) {
        Parameter& p = m_params[i];
        if (!p.spec.trainable)
            continue;
        m_updateRefOf[i] = static_cast<int>(m_updateRefs.size());
        m_updateRefs.push_back({&p.value, &p.grad}); // lent by the node's backward
        m_updateParams.push_back(i);
    }
    m_updated.assign(m_updateRefs.size(), false);
    m_updateLr = learningRate;
}

void Executor::applyUpdates(const std::vector<std::size_t>& which) {
    if (which.empty())
        return;
    const auto t0 = std::chrono::steady_clock::now();
    // The optimizer counts the step with its first update: a step abandoned before it
    // (a stop request, NaN in the forward pass) leaves the optimizer as it was.
    if (!m_updatesBegun)
        m_updater->beginStep(m_updateRefs, m_updateLr);
    m_updater->update(m_updateRefs, which);
    m_updateMs +=
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    m_updatesBegun = true;
    for (std::size_t r : which) {
        m_updated[r] = true;
        releaseParameterGrad(m_params[m_updateParams[r]]);
    }
}

void Executor::lendParameterGrad(std::size_t index) {
    Parameter& p = m_params[index];
    p.grad = Tensor::unallocated(p.value.shape(), DType::Float32);
    p.grad.adoptStorage(
        m_pool.take(p.grad.dataBytes(), lendingTag(Lending::ParameterGradient, index)));
    kernels::zeroFill(p.grad.f32(), p.grad.numel());
}

void Executor::releaseParameterGrad(Parameter& p) {
    if (p.grad.numel() > 0 && p.grad.hasStorage())
        m_pool.give(p.grad.takeStorage());
    p.grad = Tensor();
}

void Executor::updateParameters(std::size_t index) {
    std::vector<std::size_t> which;
    for (int p : m_steps[index].params) {
        const int r = m_updateRefOf[static_cast<std::size_t>(p)];
        if (r >= 0 && !m_updated[static_cast<std::size_t>(r)] &&
            !m_params[static_cast<std::size_t>(p)].grad.empty())
            which.push_back(static_cast<std::size_t>(r));
    }
    applyUpdates(which);
}

void Executor::updateUnreachedParameters() {
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < m_params.size(); ++i) {
        const int r = m_updateRefOf[i];
        if (r < 0 || m_updated[static_cast<std::size_t>(r)])
            continue;
        lendParameterGrad(i); // zeros: Optimizer::step updates these too
        which.push_back(static_cast<std::size_t>(r));
    }
    applyUpdates(which);
}

RunStatus Executor::trainStep(const Batch& batch, Optimizer& optimizer, double learningRate) {
    feed(batch);
    beginStep(true);
    if (!m_keepIntermediates)
        updateInBackward(optimizer, learningRate);
    const RunStatus status = run();
    if (status == RunStatus::Finished && m_keepIntermediates)
        optimizer.step(trainableParameters(), learningRate);
    return status;
}

RunStatus Executor::evaluate(const Batch& batch) {
    feed(batch);
    beginStep(false);
    return run();
}

double Executor::loss() const {
    double sum = 0;
    for (const Step& s : m_steps)
        if (s.schema->role == OpRole::Loss)
            for (int out : s.outputs)
                sum += m_values[static_cast<std::size_t>(out)].tensor.f32()[0];
    return sum;
}

std::map<std::string, double> Executor::scalars() const {
    std::map<std::string, double> out;
    for (const Step& s : m_steps)
        if (s.schema->role == OpRole::Loss || s.schema->role == OpRole::Metric)
            out[s.name] = m_values[static_cast<std::size_t>(s.outputs.at(0))].tensor.f32()[0];
    return out;
}

std::vector<std::string> Executor::metricNames() const {
    std::vector<std::string> names;
    for (const Step& s : m_steps)
        if (s.schema->role == OpRole::Metric)
            names.push_back(s.name);
    return names;
}

const Tensor* Executor::output(NodeId node, const std::string& port) const {
    for (const Value& v : m_values)
        if (v.node == node && v.port == port)
            return v.tensor.hasStorage() ? &v.tensor : nullptr;
    return nullptr;
}

Executor::MemoryUse Executor::memoryUse() const {
    MemoryUse use;
    for (const Value& v : m_values) {
        use.values += v.tensor.byteSize();
        use.gradients += v.grad.byteSize();
    }
    for (const Step& s : m_steps)
        for (const Tensor& t : s.saved)
            use.saved += t.byteSize();
    for (const Parameter& p : m_params)
        use.parameters += p.value.byteSize() + p.grad.byteSize();
    use.pooled = m_pool.freeBytes();
    return use;
}

const Tensor* Executor::gradient(NodeId node, const std::string& port) const {
    for (const Value& v : m_values)
        if (v.node == node && v.port == port)
            return v.grad.empty() ? nullptr : &v.grad;
    return nullptr;
}

std::vector<NodeId> Executor::order() const {
    std::vector<NodeId> ids;
    for (const Step& s : m_steps)
        ids.push_back(s.id);
    return ids;
}

} // namespace segforge::core
