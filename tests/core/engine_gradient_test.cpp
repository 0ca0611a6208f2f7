// Finite-difference gradient checks for every op's backward kernel, in the
// spirit of ggml's test-grad0. The cases are op_gradient_cases.hpp; a loop over
// the registry (op_registry_test) fails when an op has no case and no reason.
// The objective is J = Σ r·output with a fixed random r (1 for scalar losses);
// central differences on float32 kernels with h = 1e-3, compared with
// |a − n| ≤ 4e-3 + 3e-2·max(|a|, |n|).

#include "op_gradient_cases.hpp"

#include <cmath>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

double objective(const std::vector<Tensor>& outs, const std::vector<Tensor>& weights) {
    double j = 0;
    for (std::size_t k = 0; k < outs.size(); ++k) {
        if (outs[k].dtype() != DType::Float32)
            continue;
        for (std::int64_t i = 0; i < outs[k].numel(); ++i)
            j += static_cast<double>(outs[k].f32()[i]) * weights[k].f32()[i];
    }
    return j;
}

class OpGradient : public ::testing::TestWithParam<GradCase> {};

TEST_P(OpGradient, MatchesFiniteDifferences) {
    const GradCase& c = GetParam();
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
        inputs.push_back(makeInput(c.inputs[i], 100 + static_cast<std::uint32_t>(i)));
    OpHarness h(c.op, c.attrs, inputs);
    ASSERT_TRUE(h.ok());
    h.training = c.training;
    for (std::size_t p = 0; p < h.params().size(); ++p) {
        Tensor& t = h.params()[p];
        t = uniformTensor(t.shape().dims(), 0.2f, 1.0f, 300 + static_cast<std::uint32_t>(p));
        if (h.trainable(p)) // signed weights; moving statistics stay positive
            t = uniformTensor(t.shape().dims(), -1.0f, 1.0f, 300 + static_cast<std::uint32_t>(p));
    }
    const bool lossOp = h.schema().role == OpRole::Loss;
    std::vector<Tensor> weights;
    for (std::size_t k = 0; k < h.outputs().size(); ++k)
        weights.push_back(h.outputs()[k].numel() == 1
                              ? tensorOf({}, {1.0f})
                              : uniformTensor(h.outputs()[k].shape().dims(), -1, 1,
                                              500 + static_cast<std::uint32_t>(k)));

    // Analytic gradients.
    h.forward();
    std::vector<Tensor> inGrads, paramGrads;
    KernelContext ctx = h.context();
    for (std::size_t i = 0; i < h.inputs().size(); ++i) {
        const bool wanted = h.inputs()[i].dtype() == DType::Float32 && !(lossOp && i == 1);
        inGrads.emplace_back(wanted ? Tensor(h.inputs()[i].shape(), DType::Float32) : Tensor());
    }
    for (std::size_t p = 0; p < h.params().size(); ++p)
        paramGrads.emplace_back(h.params()[p].shape(), DType::Float32);
    for (auto& w : weights)
        ctx.outputGrads.push_back(&w);
    for (auto& g : inGrads)
        ctx.inputGrads.push_back(g.empty() && g.shape().rank() == 0 ? nullptr : &g);
    for (std::size_t p = 0; p < paramGrads.size(); ++p)
        ctx.paramGrads.push_back(h.trainable(p) ? &paramGrads[p] : nullptr);
    ASSERT_TRUE(h.schema().backward);
    h.schema().backward(ctx);

    // Numeric gradients, one element at a time (every element: the tensors are tiny).
    const float step = 1e-3f;
    int checked = 0;
    auto compare = [&](Tensor& value, const Tensor& grad, const std::string& what) {
        for (std::int64_t i = 0; i < value.numel(); ++i) {
            const float orig = value.f32()[i];
            value.f32()[i] = orig + step;
            h.forward();
            const double plus = objective(h.outputs(), weights);
            value.f32()[i] = orig - step;
            h.forward();
            const double minus = objective(h.outputs(), weights);
            value.f32()[i] = orig;
            const double numeric = (plus - minus) / (2.0 * step);
            const double analytic = grad.f32()[i];
            EXPECT_NEAR(analytic, numeric,
                        4e-3 + 3e-2 * std::max(std::fabs(analytic), std::fabs(numeric)))
                << c.name << ": d/d" << what << "[" << i << "]";
            ++checked;
        }
    };
    for (std::size_t i = 0; i < h.inputs().size(); ++i)
        if (ctx.inputGrads[i])
            compare(h.inputs()[i], inGrads[i], "input" + std::to_string(i));
    for (std::size_t p = 0; p < h.params().size(); ++p)
        if (ctx.paramGrads[p])
            compare(h.params()[p], paramGrads[p], "param" + std::to_string(p));
    EXPECT_GT(checked, 0) << c.name << " checked no gradient";
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradient, ::testing::ValuesIn(gradCases()),
                         [](const auto& p) { return p.param.name; });

} // namespace
