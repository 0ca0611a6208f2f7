#pragma once

// Runs one op's forward and backward through its schema at a given thread count
// and keeps the values, for the tests that compare a kernel with a naive loop
// and its 1-thread run with its 2-thread run. Gradients start from non-zero
// values, so a backward that overwrites instead of accumulating fails.

#include "engine_op_harness.hpp"
#include "kernels/parallel.hpp"

#include <cmath>
#include <string>
#include <vector>

namespace segforge::core::testing {

struct KernelRun {
    std::vector<std::vector<float>> outputs, inputGrads, paramGrads;
    std::vector<Tensor> state;
};

inline std::vector<float> valuesOf(const Tensor& t) {
    return {t.f32(), t.f32() + t.numel()};
}

/// The initial value of input i's (or parameter i's) gradient before backward.
inline Tensor initialGrad(const Tensor& like, std::uint32_t seed) {
    return uniformTensor(like.shape().dims(), -0.5f, 0.5f, seed);
}

/// Forward, then (when `outGrads` is not empty) backward with those output
/// gradients, at `threads` threads; `params` replace the harness's parameters
/// when given. Inputs that are not float32, and loss targets, get no gradient.
inline KernelRun runKernels(const std::string& op, AttrMap attrs, std::vector<Tensor> inputs,
                            int threads, const std::vector<Tensor>& outGrads = {},
                            const std::vector<Tensor>& params = {}) {
    setEngineThreads(threads);
    OpHarness h(op, std::move(attrs), std::move(inputs));
    KernelRun r;
    if (!h.ok()) {
        setEngineThreads(1);
        return r;
    }
    for (std::size_t p = 0; p < params.size() && p < h.params().size(); ++p)
        h.params()[p] = params[p];
    h.forward();
    for (const Tensor& t : h.outputs())
        r.outputs.push_back(valuesOf(t));
    if (!outGrads.empty()) {
        const bool loss = h.schema().role == OpRole::Loss;
        std::vector<Tensor> inGrads, paramGrads;
        for (std::size_t i = 0; i < h.inputs().size(); ++i)
            inGrads.push_back(h.inputs()[i].dtype() == DType::Float32 && !(loss && i == 1)
                                  ? initialGrad(h.inputs()[i], 40 + static_cast<std::uint32_t>(i))
                                  : Tensor());
        for (std::size_t p = 0; p < h.params().size(); ++p)
            paramGrads.push_back(initialGrad(h.params()[p], 60 + static_cast<std::uint32_t>(p)));
        KernelContext ctx = h.context();
        for (const Tensor& g : outGrads)
            ctx.outputGrads.push_back(&g);
        for (Tensor& g : inGrads)
            ctx.inputGrads.push_back(g.numel() ? &g : nullptr);
        for (Tensor& g : paramGrads)
            ctx.paramGrads.push_back(&g);
        h.schema().backward(ctx);
        for (const Tensor& g : inGrads)
            r.inputGrads.push_back(g.numel() ? valuesOf(g) : std::vector<float>{});
        for (const Tensor& g : paramGrads)
            r.paramGrads.push_back(valuesOf(g));
    }
    r.state = h.context().state();
    setEngineThreads(1);
    return r;
}

/// Exact float equality (NaN equals NaN), naming the first element that differs.
inline ::testing::AssertionResult sameValues(const std::vector<float>& a,
                                             const std::vector<float>& b) {
    if (a.size() != b.size())
        return ::testing::AssertionFailure() << a.size() << " values, expected " << b.size();
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(a[i] == b[i]) && !(a[i] != a[i] && b[i] != b[i]))
            return ::testing::AssertionFailure()
                   << "element " << i << ": " << a[i] << " vs " << b[i];
    return ::testing::AssertionSuccess();
}

/// |a − e| ≤ abs + rel·|e| elementwise against a double reference.
inline ::testing::AssertionResult closeTo(const std::vector<float>& a, const std::vector<double>& e,
                                          double abs, double rel) {
    if (a.size() != e.size())
        return ::testing::AssertionFailure() << a.size() << " values, expected " << e.size();
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!(std::fabs(a[i] - e[i]) <= abs + rel * std::fabs(e[i])))
            return ::testing::AssertionFailure()
                   << "element " << i << ": " << a[i] << " vs " << e[i];
    return ::testing::AssertionSuccess();
}

} // namespace segforge::core::testing
