#include "engine/optimizer.hpp"

#include "kernels/denormals.hpp"
#include "kernels/optimizer_kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <stdexcept>

namespace segforge::core {

namespace {

/// Calls fn(i, k0, k1) for ranges [k0, k1) of the parameters params[i], i in `which`,
/// that together cover every element of each: one parallel pass over all of them
/// (instead of one per tensor, most of which are too small to split), in blocks of a
/// fixed size.
template <typename Fn>
void forEachParameterRange(const std::vector<ParamRef>& params,
                           const std::vector<std::size_t>& which, Fn&& fn) {
    std::vector<std::int64_t> start(which.size() + 1, 0);
    for (std::size_t w = 0; w < which.size(); ++w)
        start[w + 1] = start[w] + params[which[w]].value->numel();
    // 4096 values: a node's parameters (from a few thousand) go round many threads.
    constexpr std::int64_t kBlock = 1 << 12;
    const std::int64_t total = start.back();
    parallelForFine((total + kBlock - 1) / kBlock, [&](std::int64_t b0, std::int64_t b1) {
        const std::int64_t e0 = b0 * kBlock, e1 = std::min(total, b1 * kBlock);
        auto w = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), e0) -
                                          start.begin() - 1);
        for (std::int64_t e = e0; e < e1; ++w) {
            const std::int64_t end = std::min(e1, start[w + 1]);
            if (end > e)
                fn(which[w], e - start[w], end - start[w]);
            e = std::max(e, end);
        }
    });
}

/// Sizes every parameter's slot in each of `slots` to its parameter. The slots
/// that were (re)sized are zeroed in one parallel pass over their parameters, so
/// their pages are first touched by the pool's threads (OptimizerSlot), not all
/// by the caller.
void sizeSlots(const std::vector<ParamRef>& params,
               std::initializer_list<std::vector<OptimizerSlot>*> slots) {
    std::vector<std::vector<std::vector<OptimizerSlot>*>> resized(params.size());
    std::vector<std::size_t> which;
    for (std::size_t i = 0; i < params.size(); ++i) {
        const auto n = static_cast<std::size_t>(params[i].value->numel());
        for (std::vector<OptimizerSlot>* state : slots) {
            if (state->size() <= i)
                state->resize(i + 1);
            if ((*state)[i].size() == n)
                continue;
            OptimizerSlot(n).swap((*state)[i]); // uninitialised: zeroed below
            resized[i].push_back(state);
        }
        if (!resized[i].empty())
            which.push_back(i);
    }
    forEachParameterRange(params, which, [&](std::size_t i, std::int64_t k0, std::int64_t k1) {
        for (std::vector<OptimizerSlot>* state : resized[i])
            std::fill((*state)[i].begin() + k0, (*state)[i].begin() + k1, 0.0f);
    });
}

class Sgd final : public Optimizer {
public:
    explicit Sgd(double momentum)
        : m_momentum(momentum) {}
    void beginStep(const std::vector<ParamRef>& params, double lr) override {
        sizeSlots(params, {&m_velocity});
        m_lr = lr;
        ++m_iterations;
    }
    void update(const std::vector<ParamRef>& params,
                const std::vector<std::size_t>& which) override {
        forEachParameterRange(params, which, [&](std::size_t i, std::int64_t k0, std::int64_t k1) {
            kernels::sgdUpdate(params[i].value->f32() + k0, params[i].grad->f32() + k0,
                               m_velocity[i].data() + k0, k1 - k0, m_momentum, m_lr);
        });
    }

    std::map<std::string, std::vector<OptimizerSlot>*> state() override {
        return {{"velocity", &m_velocity}};
    }

private:
    double m_momentum;
    double m_lr = 0;
    std::vector<OptimizerSlot> m_velocity;
};

class Adam final : public Optimizer {
public:
    Adam(const OptimizerSettings& s, bool decoupledDecay)
        : m_s(s)
        , m_decay(decoupledDecay) {}
    void beginStep(const std::vector<ParamRef>& params, double lr) override {
        ++m_iterations;
        const double t = static_cast<double>(m_iterations);
        // Keras folds the bias corrections into the step size.
        const double alpha =
            lr * std::sqrt(1 - std::pow(m_s.beta2, t)) / (1 - std::pow(m_s.beta1, t));
        m_c.beta1 = static_cast<float>(m_s.beta1);
        m_c.beta2 = static_cast<float>(m_s.beta2);
        m_c.epsilon = static_cast<float>(m_s.epsilon);
        m_c.decay = static_cast<float>(m_decay ? lr * m_s.weightDecay : 0.0);
        m_c.step = static_cast<float>(alpha);
        sizeSlots(params, {&m_m, &m_v});
    }
    void update(const std::vector<ParamRef>& params,
                const std::vector<std::size_t>& which) override {
        forEachParameterRange(params, which, [&](std::size_t i, std::int64_t k0, std::int64_t k1) {
            kernels::adamUpdate(params[i].value->f32() + k0, params[i].grad->f32() + k0,
                                m_m[i].data() + k0, m_v[i].data() + k0, k1 - k0, m_c);
        });
    }

    std::map<std::string, std::vector<OptimizerSlot>*> state() override {
        return {{"m", &m_m}, {"v", &m_v}};
    }

private:
    OptimizerSettings m_s;
    bool m_decay;
    kernels::AdamCoefficients m_c; ///< this step's
    std::vector<OptimizerSlot> m_m, m_v;
};

} // namespace

void Optimizer::step(const std::vector<ParamRef>& params, double learningRate) {
    const DenormalsFlushed flushed; // as in the executor's passes (kernels/denormals.hpp)
    beginStep(params, learningRate);
    std::vector<std::size_t> all(params.size());
    for (std::size_t i = 0; i < all.size(); ++i)
        all[i] = i;
    update(params, all);
}

std::unique_ptr<Optimizer> makeOptimizer(const OptimizerSettings& settings) {
    if (settings.kind == "sgd")
        return std::make_unique<Sgd>(settings.momentum);
    if (settings.kind == "adam")
        return std::make_unique<Adam>(settings, false);
    if (settings.kind == "adamw")
        return std::make_unique<Adam>(settings, true);
    throw std::invalid_argument("unknown optimizer '" + settings.kind +
                                "' (expected sgd, adam or adamw)");
}

double learningRateAt(const LrSchedule& s, std::int64_t step) {
    if (s.kind == "constant")
        return s.base;
    if (s.kind == "step")
        return s.base *
               std::pow(s.gamma, static_cast<double>(step / std::max<std::int64_t>(s.stepSize, 1)));
    if (s.kind == "cosine") {
        const double progress =
            std::min(1.0, static_cast<double>(step) /
                              static_cast<double>(std::max<std::int64_t>(s.totalSteps, 1)));
        return s.minimum + 0.5 * (s.base - s.minimum) * (1 + std::cos(M_PI * progress));
    }
    throw std::invalid_argument("unknown learning-rate schedule '" + s.kind +
                                "' (expected constant, step or cosine)");
}

} // namespace segforge::core
