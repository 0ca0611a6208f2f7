#pragma once

// Scratch storage of the convolution drivers (conv_direct.cpp, conv_winograd.cpp):
// thread-local buffers that grow and never shrink, so a warm training step
// allocates nothing. Every thread keeps its largest size for good, so callers
// keep them bounded (the Winograd driver cuts big layers into blocks that fit
// fixed budgets).

#include <algorithm>
#include <cstdint>
#include <memory>
#include <vector>

namespace segforge::core::kernels {

/// v's storage, grown to at least n floats; the contents are whatever was there.
inline float* grownTo(std::vector<float>& v, std::int64_t n) {
    if (v.size() < static_cast<std::size_t>(n))
        v.resize(static_cast<std::size_t>(n));
    return v.data();
}

/// v's storage holding n zeros.
inline float* zeroed(std::vector<float>& v, std::int64_t n) {
    float* p = grownTo(v, n);
    std::fill(p, p + n, 0.0f);
    return p;
}

/// Storage that grows without writing: its pages are first touched by whoever
/// fills them (the worker threads of a parallel transform), not by the caller.
struct ScratchBuffer {
    std::unique_ptr<float[]> data;
    std::int64_t size = 0;
};

/// b's storage, grown to at least n floats; the contents are whatever was there.
inline float* grownTo(ScratchBuffer& b, std::int64_t n) {
    if (b.size < n) {
        b.data.reset(); // never hold the old and the new storage at once
        b.data = std::make_unique_for_overwrite<float[]>(static_cast<std::size_t>(n));
        b.size = n;
    }
    return b.data.get();
}

/// Buffer k of `store` (created if needed) holding n zeros: one partial sum per chunk of
/// a parallelFor, added in chunk order afterwards.
inline float* zeroedPartial(std::vector<std::vector<float>>& store, int k, std::int64_t n) {
    if (store.size() <= static_cast<std::size_t>(k))
        store.resize(static_cast<std::size_t>(k) + 1);
    return zeroed(store[static_cast<std::size_t>(k)], n);
}

} // namespace segforge::core::kernels
