#pragma once

// Summary numbers of a tensor for the inspector and for NaN reports: what a
// user needs to judge an activation or a gradient at a glance.

#include "tensor/tensor.hpp"

#include <cstdint>
#include <vector>

namespace segforge::core {

/// Statistics over one batch sample or a whole tensor. min/max/mean/std, the
/// l2 norm and the histogram cover finite values only; NaN and ±Inf are
/// counted apart so one bad value does not hide the shape of the rest.
struct TensorStats {
    std::int64_t count = 0; ///< elements looked at (finite or not)
    std::int64_t finiteCount = 0;
    double min = 0, max = 0, mean = 0;
    double std = 0;          ///< population standard deviation
    double zeroFraction = 0; ///< exact zeros / count
    double l2norm = 0;
    std::int64_t nanCount = 0, infCount = 0;
    /// `bins` equal-width bins from histMin to histMax (the last bin includes
    /// histMax). A constant tensor gets the range value ± 0.5 so its bar has a
    /// width; no finite values → all bins zero and an empty range.
    std::vector<std::int64_t> histogram;
    double histMin = 0, histMax = 0;

    double binWidth() const {
        return histogram.empty() ? 0.0
                                 : (histMax - histMin) / static_cast<double>(histogram.size());
    }
};

/// `sample` = -1 looks at the whole tensor, otherwise at one index of the first
/// (batch) dimension; a scalar has no batch and ignores it. f32, u8, i32 and
/// bool tensors. Throws std::out_of_range for a sample outside the batch and
/// std::invalid_argument for bins < 1.
TensorStats tensorStats(const Tensor& t, std::int64_t sample = -1, int bins = 64);

} // namespace segforge::core
