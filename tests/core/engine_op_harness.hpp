#pragma once

// Runs one op's kernels in isolation: the op is wired to Input nodes, checked
// (so output shapes and parameter shapes come from the schema's infer), and its
// forward/backward called directly. Used by the gradient and forward tests.

#include "check/checker.hpp"
#include "engine/node_attributes.hpp"
#include "ops/op_registry.hpp"

#include <gtest/gtest.h>
#include <random>
#include <string>
#include <vector>

namespace segforge::core::testing {

class OpHarness {
public:
    /// `inputs` are concrete NHWC tensors; their batch becomes the run's batch.
    OpHarness(const std::string& op, AttrMap attrs, std::vector<Tensor> inputs)
        : m_inputs(std::move(inputs)) {
        m_schema = OpRegistry::builtin().find(op);
        if (!m_schema) {
            ADD_FAILURE() << "unknown op " << op;
            return;
        }
        const NodeId node = m_graph.addNode(op, "under_test", std::move(attrs));
        const auto names = m_schema->inputNames(*m_graph.findNode(node));
        for (std::size_t i = 0; i < m_inputs.size() && i < names.size(); ++i) {
            const Tensor& t = m_inputs[i];
            const NodeId src = m_graph.addNode("Input", "in" + std::to_string(i),
                                               {{"height", t.height()},
                                                {"width", t.width()},
                                                {"channels", t.channels()},
                                                {"dtype", std::string(dtypeName(t.dtype()))}});
            m_graph.connect({src, "output"}, {node, names[i]});
        }
        const CheckResult r = checkGraph(m_graph, CheckOptions::withoutInputSizeSweep());
        // A lone op has no loss node; that graph-level error is expected here.
        std::string errors;
        for (const auto& d : r.diagnostics)
            if (d.severity == Severity::Error && d.code != codes::kNoLoss)
                errors += "\n  " + d.code + ": " + d.message;
        if (!errors.empty()) {
            ADD_FAILURE() << op << " does not check:" << errors;
            return;
        }
        m_attrs = resolveAttributes(*m_schema, *m_graph.findNode(node));
        const std::int64_t batch = m_inputs.empty() ? 1 : m_inputs[0].batch();
        for (const auto& t : r.nodes.at(node).outputs)
            m_outputs.emplace_back(concreteShape(t->shape, batch), t->dtype);
        for (const auto& p : r.nodes.at(node).params) {
            m_params.emplace_back(Shape(p.shape), DType::Float32);
            m_trainable.push_back(p.trainable);
        }
        m_ok = true;
    }

    bool ok() const { return m_ok; }
    const OpSchema& schema() const { return *m_schema; }
    std::vector<Tensor>& inputs() { return m_inputs; }
    std::vector<Tensor>& outputs() { return m_outputs; }
    std::vector<Tensor>& params() { return m_params; }
    bool trainable(std::size_t i) const { return m_trainable[i]; }
    bool training = true;
    std::uint64_t seed = 7;

    KernelContext context() {
        KernelContext ctx;
        ctx.attrs = &m_attrs;
        for (auto& t : m_inputs)
            ctx.inputs.push_back(&t);
        for (auto& t : m_outputs)
            ctx.outputs.push_back(&t);
        for (auto& t : m_params)
            ctx.params.push_back(&t);
        ctx.saved = &m_saved;
        ctx.training = training;
        ctx.seed = seed;
        return ctx;
    }

    void forward() { m_schema->forward(context()); }

private:
    Graph m_graph;
    const OpSchema* m_schema = nullptr;
    AttrMap m_attrs;
    std::vector<Tensor> m_inputs, m_outputs, m_params, m_saved;
    std::vector<bool> m_trainable;
    bool m_ok = false;
};

inline Tensor tensorOf(std::vector<std::int64_t> dims, const std::vector<float>& values) {
    Tensor t(Shape(std::move(dims)), DType::Float32);
    for (std::size_t i = 0; i < values.size() && static_cast<std::int64_t>(i) < t.numel(); ++i)
        t.f32()[i] = values[i];
    return t;
}

inline Tensor uniformTensor(std::vector<std::int64_t> dims, float lo, float hi,
                            std::uint32_t seed) {
    Tensor t(Shape(std::move(dims)), DType::Float32);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u(lo, hi);
    for (std::int64_t i = 0; i < t.numel(); ++i)
        t.f32()[i] = u(rng);
    return t;
}

} // namespace segforge::core::testing
