#include "engine/optimizer.hpp"

#include "kernels/optimizer_kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace segforge::core {

namespace {

std::vector<float>& slot(std::vector<std::vector<float>>& state, std::size_t i, std::int64_t n) {
    if (state.size() <= i)
        state.resize(i + 1);
    if (state[i].size() != static_cast<std::size_t>(n))
        state[i].assign(static_cast<std::size_t>(n), 0.0f);
    return state[i];
}

/// Calls fn(i, k0, k1) for ranges [k0, k1) of parameter i that together cover every
/// element of every parameter: one parallel pass over all of them (instead of one per
/// tensor, most of which are too small to split), in blocks of a fixed size.
template <typename Fn> void forEachParameterRange(const std::vector<ParamRef>& params, Fn&& fn) {
    std::vector<std::int64_t> start(params.size() + 1, 0);
    for (std::size_t i = 0; i < params.size(); ++i)
        start[i + 1] = start[i] + params[i].value->numel();
    constexpr std::int64_t kBlock = 1 << 14;
    const std::int64_t total = start.back();
    parallelForFine((total + kBlock - 1) / kBlock, [&](std::int64_t b0, std::int64_t b1) {
        const std::int64_t e0 = b0 * kBlock, e1 = std::min(total, b1 * kBlock);
        auto i = static_cast<std::size_t>(std::upper_bound(start.begin(), start.end(), e0) -
                                          start.begin() - 1);
        for (std::int64_t e = e0; e < e1; ++i) {
            const std::int64_t end = std::min(e1, start[i + 1]);
            if (end > e)
                fn(i, e - start[i], end - start[i]);
            e = std::max(e, end);
        }
    });
}

class Sgd final : public Optimizer {
public:
    explicit Sgd(double momentum)
        : m_momentum(momentum) {}
    void step(const std::vector<ParamRef>& params, double lr) override {
        for (std::size_t i = 0; i < params.size(); ++i)
            slot(m_velocity, i, params[i].value->numel());
        forEachParameterRange(params, [&](std::size_t i, std::int64_t k0, std::int64_t k1) {
            kernels::sgdUpdate(params[i].value->f32() + k0, params[i].grad->f32() + k0,
                               m_velocity[i].data() + k0, k1 - k0, m_momentum, lr);
        });
        ++m_iterations;
    }

    std::map<std::string, std::vector<std::vector<float>>*> state() override {
        return {{"velocity", &m_velocity}};
    }

private:
    double m_momentum;
    std::vector<std::vector<float>> m_velocity;
};

class Adam final : public Optimizer {
public:
    Adam(const OptimizerSettings& s, bool decoupledDecay)
        : m_s(s)
        , m_decay(decoupledDecay) {}
    void step(const std::vector<ParamRef>& params, double lr) override {
        ++m_iterations;
        const double t = static_cast<double>(m_iterations);
        // Keras folds the bias corrections into the step size.
        const double alpha =
            lr * std::sqrt(1 - std::pow(m_s.beta2, t)) / (1 - std::pow(m_s.beta1, t));
        kernels::AdamCoefficients c;
        c.beta1 = static_cast<float>(m_s.beta1);
        c.beta2 = static_cast<float>(m_s.beta2);
        c.epsilon = static_cast<float>(m_s.epsilon);
        c.decay = static_cast<float>(m_decay ? lr * m_s.weightDecay : 0.0);
        c.step = static_cast<float>(alpha);
        for (std::size_t i = 0; i < params.size(); ++i) {
            slot(m_m, i, params[i].value->numel());
            slot(m_v, i, params[i].value->numel());
        }
        forEachParameterRange(params, [&](std::size_t i, std::int64_t k0, std::int64_t k1) {
            kernels::adamUpdate(params[i].value->f32() + k0, params[i].grad->f32() + k0,
                                m_m[i].data() + k0, m_v[i].data() + k0, k1 - k0, c);
        });
    }

    std::map<std::string, std::vector<std::vector<float>>*> state() override {
        return {{"m", &m_m}, {"v", &m_v}};
    }

private:
    OptimizerSettings m_s;
    bool m_decay;
    std::vector<std::vector<float>> m_m, m_v;
};

} // namespace

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
