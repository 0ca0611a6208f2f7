#include "kernels/tensor_sweeps.hpp"

#include "kernels/cloned_for_wide_vectors.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

namespace segforge::core::kernels {

namespace {

/// Elements per parallel task: 32 KiB, so that a gradient of a few hundred thousand
/// values still goes round 16 threads (the answers do not depend on the blocks).
constexpr std::int64_t kSweepBlock = 1 << 13;

// A non-finite float has an exponent field of all ones. Integer arithmetic on the
// bits, so the loop vectorises (std::isfinite on floats does not). The NaN/Inf guard
// reads every value and gradient of a step with it.
SEGFORGE_CLONED_FOR_WIDE_VECTORS bool anyNonFinite(const float* v, std::int64_t n) {
    std::uint32_t found = 0;
    for (std::int64_t i = 0; i < n; ++i) {
        std::uint32_t bits;
        std::memcpy(&bits, v + i, sizeof bits);
        found |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
    }
    return found != 0;
}

} // namespace

bool allFinite(const float* v, std::int64_t n) {
    std::atomic<bool> bad{false};
    parallelForFine((n + kSweepBlock - 1) / kSweepBlock, [&](std::int64_t b0, std::int64_t b1) {
        const std::int64_t i0 = b0 * kSweepBlock, i1 = std::min(n, b1 * kSweepBlock);
        if (anyNonFinite(v + i0, i1 - i0))
            bad = true;
    });
    return !bad;
}

void zeroFill(float* v, std::int64_t n) {
    parallelForFine((n + kSweepBlock - 1) / kSweepBlock, [&](std::int64_t b0, std::int64_t b1) {
        const std::int64_t i0 = b0 * kSweepBlock, i1 = std::min(n, b1 * kSweepBlock);
        std::memset(v + i0, 0, static_cast<std::size_t>(i1 - i0) * sizeof(float));
    });
}

} // namespace segforge::core::kernels
