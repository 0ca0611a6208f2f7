#pragma once

#include "tensor/buffer_allocator.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace segforge::core {

/// A trainable tensor and its gradient, as the optimizer sees it.
struct ParamRef {
    Tensor* value = nullptr;
    const Tensor* grad = nullptr;
};

/// One parameter's optimizer state (a momentum, a moment). Its pages are first
/// touched by the parallel pass that zeroes it, in the blocks the updates use, so
/// on a NUMA machine they are spread over the nodes of the threads that update
/// them rather than all placed on the caller's node.
using OptimizerSlot = std::vector<float, BufferAllocator<float>>;

struct OptimizerSettings {
    std::string kind = "adam";                         ///< sgd, adam, adamw
    double momentum = 0.9;                             ///< SGD
    double beta1 = 0.9, beta2 = 0.999, epsilon = 1e-7; ///< Adam(W), Keras defaults
    double weightDecay = 1e-4;                         ///< AdamW (decoupled)
};

/// Updates parameters from their gradients. Keeps per-parameter state (momenta)
/// keyed by position, so the parameter list must keep its order between steps.
///
/// A step is beginStep() and then update() of every parameter once, in any order
/// and groups: the executor's lean plan updates each node's parameters as soon as
/// the backward pass has completed their gradients (Executor::updateInBackward).
/// Element by element the arithmetic is the same, so the bits are step()'s.
class Optimizer {
public:
    virtual ~Optimizer() = default;
    /// The whole step: beginStep, then update of every parameter.
    void step(const std::vector<ParamRef>& params, double learningRate);
    /// Counts the step and fixes its coefficients; makes room for the parameters' state.
    virtual void beginStep(const std::vector<ParamRef>& params, double learningRate) = 0;
    /// Updates params[i] for each i in `which` from its gradient, in one parallel pass.
    virtual void update(const std::vector<ParamRef>& params,
                        const std::vector<std::size_t>& which) = 0;
    std::int64_t iterations() const { return m_iterations; }
    /// For checkpoints: the step count and the per-parameter state by slot name
    /// ("velocity"; "m", "v"), each a vector per parameter, in parameter order.
    void setIterations(std::int64_t iterations) { m_iterations = iterations; }
    virtual std::map<std::string, std::vector<OptimizerSlot>*> state() = 0;

protected:
    std::int64_t m_iterations = 0;
};

/// sgd (Keras: v = m·v − lr·g; p += v), adam, adamw (p −= lr·wd·p before the Adam update).
/// Throws std::invalid_argument for an unknown kind.
std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings& settings);

struct LrSchedule {
    std::string kind = "constant"; ///< constant, step, cosine
    double base = 1e-3;
    std::int64_t stepSize = 1000; ///< step: decay every stepSize steps
    double gamma = 0.1;           ///< step: multiplier per decay
    std::int64_t totalSteps = 1;  ///< cosine: steps to reach minimum
    double minimum = 0;           ///< cosine: floor
};

/// Learning rate at optimizer step `step` (0-based).
double learningRateAt(const LrSchedule& schedule, std::int64_t step);

} // namespace segforge::core
