#pragma once

// Fixes that repair the cause of a size mismatch instead of its symptom. Two
// tensors that meet at a Concatenate, an Add or a loss with different heights
// and widths share an ancestry up to the layer where their sizes diverged; the
// layers after it on each side are where the mistake is: a stray Cropping2D,
// an odd stride, a convolution with padding='valid', or a skip taken from the
// wrong encoder level.

#include "check/checker.hpp"

namespace segforge::core {

/// For each concat-, elementwise- and loss-shape-mismatch of `result`, adds
/// fixes ahead of the op's own: undoing the cause (FixRank::Cause: remove or
/// correct a layer that crops or pads, set odd strides back to 1, padding='same'
/// on layers that change the size with 'valid'), and wiring a skip from an
/// upstream node of the matching size (FixRank::Rewire, alone or after a cause
/// fix). The op's own fixes that carry no rank yet are ranked: an inserted node
/// is Mechanical (Costly when it crops or pads more than a quarter of a
/// tensor), an attribute change a Cause. The candidates are not verified:
/// verifyAndRankFixes (check/fix_verification.hpp) drops those that do not work.
void addCausalFixes(const Graph& graph, const CheckOptions& options, const OpRegistry& registry,
                    CheckResult& result);

} // namespace segforge::core
