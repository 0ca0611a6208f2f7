#pragma once

// Scratch storage of the convolution drivers (conv_direct.cpp, conv_winograd.cpp):
// thread-local buffers that grow and never shrink, so a warm training step
// allocates nothing. Every thread keeps its largest size for good, so callers
// keep them bounded (the Winograd driver cuts big layers into blocks that fit
// fixed budgets). All of them start on a cache line (BufferAllocator), as tensor
// data does: the kernels' vectors then never straddle two lines.

#include "tensor/buffer_allocator.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace segforge::core::kernels {

/// Floats of scratch: cache-line aligned, and growing does not write them.
using ScratchVector = std::vector<float, BufferAllocator<float>>;

/// v's storage, grown to at least n floats; the contents are whatever was there.
inline float* grownTo(ScratchVector& v, std::int64_t n) {
    if (v.size() < static_cast<std::size_t>(n))
        v.resize(static_cast<std::size_t>(n));
    return v.data();
}

/// v's storage holding n zeros.
inline float* zeroed(ScratchVector& v, std::int64_t n) {
    float* p = grownTo(v, n);
    std::fill(p, p + n, 0.0f);
    return p;
}

/// Storage whose pages are first touched by whoever fills them (the worker threads
/// of a parallel transform), not by the caller, and which never holds its old and
/// new storage at once.
struct ScratchBuffer {
    ScratchVector data;
};

/// b's storage, grown to at least n floats; the contents are whatever was there.
inline float* grownTo(ScratchBuffer& b, std::int64_t n) {
    if (b.data.size() < static_cast<std::size_t>(n)) {
        ScratchVector().swap(b.data); // let go of the old storage first, copying nothing
        b.data.resize(static_cast<std::size_t>(n));
    }
    return b.data.data();
}

/// Buffer k of `store` (created if needed) holding n zeros: one partial sum per chunk of
/// a parallelFor, added in chunk order afterwards.
inline float* zeroedPartial(std::vector<ScratchVector>& store, int k, std::int64_t n) {
    if (store.size() <= static_cast<std::size_t>(k))
        store.resize(static_cast<std::size_t>(k) + 1);
    return zeroed(store[static_cast<std::size_t>(k)], n);
}

} // namespace segforge::core::kernels
