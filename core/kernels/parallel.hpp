#pragma once

// One small pool of worker threads for the engine's hot loops. Work is cut
// into chunks that depend only on the problem size and the thread count, never
// on timing, so a kernel that reduces per chunk and then sums the chunks in
// order gives the same bits on every run with the same thread count.

#include <cstdint>
#include <functional>

namespace segforge::core {

/// Sets how many threads kernels use: 1 runs everything on the caller,
/// 0 means one per hardware thread. Must not be called while a kernel runs.
void setEngineThreads(int threads);
int engineThreads();

/// Calls fn(begin, end, chunk) for the chunks of [0, n): min(n, engineThreads())
/// contiguous, nearly equal ranges. The calling thread takes part: free threads
/// claim chunks in order, so any chunk may run on any thread (a chunk's result must
/// depend on its index only). Returns when every chunk is done; rethrows the first
/// exception a chunk threw. A nested call (from inside a chunk) runs serially as a
/// single chunk.
void parallelFor(std::int64_t n, const std::function<void(std::int64_t, std::int64_t, int)>& fn);

/// For loops whose iterations are independent and keep no per-chunk state: like
/// parallelFor, but cut into up to 8 chunks per thread, so that a thread the OS
/// pauses (the machine is shared) holds back little of the work.
void parallelForFine(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn);

/// How many chunks parallelFor(n, …) uses, for kernels that keep per-chunk partial sums.
int parallelChunks(std::int64_t n);

/// fn(i) for every i in [0, n), for loops where iteration i writes only element i:
/// serially below `serialBelow` (not worth waking the pool), else as parallelForFine.
template <typename Fn>
void parallelForEach(std::int64_t n, Fn&& fn, std::int64_t serialBelow = 1 << 14) {
    if (n < serialBelow) {
        for (std::int64_t i = 0; i < n; ++i)
            fn(i);
        return;
    }
    parallelForFine(n, [&](std::int64_t i0, std::int64_t i1) {
        for (std::int64_t i = i0; i < i1; ++i)
            fn(i);
    });
}

} // namespace segforge::core
