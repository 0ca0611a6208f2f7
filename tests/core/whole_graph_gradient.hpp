#pragma once

// The whole-graph gradient check: every `stride`-th value of each trainable
// parameter is nudged by ±h, the loss re-run, and the central difference
// compared with the gradient the last training step left in the parameter.

#include "engine/executor.hpp"

#include <cmath>
#include <gtest/gtest.h>

namespace segforge::core::testing {

/// Returns how many values were compared. Call after a finished training step.
inline int expectParameterGradientsMatchLoss(Executor& ex, std::int64_t stride) {
    int checked = 0;
    for (auto& p : ex.parameters()) {
        if (!p.spec.trainable)
            continue;
        const Tensor grad = p.grad;
        for (std::int64_t i = 0; i < p.value.numel(); i += stride) {
            const float orig = p.value.f32()[i];
            const float h = 1e-3f;
            p.value.f32()[i] = orig + h;
            ex.beginStep(false);
            ex.run();
            const double plus = ex.loss();
            p.value.f32()[i] = orig - h;
            ex.beginStep(false);
            ex.run();
            const double minus = ex.loss();
            p.value.f32()[i] = orig;
            const double numeric = (plus - minus) / (2.0 * h);
            EXPECT_NEAR(grad.f32()[i], numeric, 2e-3 + 3e-2 * std::fabs(numeric))
                << p.name << "[" << i << "]";
            ++checked;
        }
    }
    return checked;
}

} // namespace segforge::core::testing
