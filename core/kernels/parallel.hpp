#pragma once

// One small pool of worker threads for the engine's hot loops. Work is cut
// into chunks that depend only on the problem size and the thread count, never
// on timing, so a kernel that reduces per chunk and then sums the chunks in
// order gives the same bits on every run with the same thread count.

#include <cstdint>
#include <functional>
#include <vector>

namespace segforge::core {

/// Sets how many threads kernels use: 1 runs everything on the caller,
/// 0 means one per core this process may use (availableCores(): its affinity
/// mask, SMT siblings once, a cgroup quota). Must not be called while a kernel runs.
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

/// The chunking rule of both loops, in one place: how many chunks a loop of n
/// items is cut into at `threads` threads (parallelFor: one per thread;
/// parallelForFine: up to 8 per thread).
int chunksFor(std::int64_t n, int threads, bool fine);

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

/// One top-level parallel loop as a ParallelCensus saw it.
struct ParallelLoop {
    std::int64_t items = 0;      ///< n
    bool fine = false;           ///< parallelForFine (up to 8 chunks per thread)
    double ms = 0;               ///< the call's wall time, dispatch included
    std::vector<double> chunkMs; ///< simulated census: each chunk's time, in chunk order
};

/// The wall time of chunks that `threads` threads claim in order, each taking
/// the next chunk as soon as it is free, as the pool shares them out.
double makespanMs(const std::vector<double>& chunkMs, int threads);

/// Records every parallelFor and parallelForFine call that is cut into more than
/// one chunk (a single chunk runs on the caller: serial code; a loop nested in
/// a chunk runs inside it) while it lives: one census at a time; for benchmarks
/// (`bench --scaling`). Off, the pool pays one relaxed load per parallel call.
///
/// With `simulatedThreads` > 0 the census also simulates that many threads:
/// engineThreads() answers that count, so kernels cut their work as they would
/// for it, and every loop's chunks run one after another on the caller, each
/// timed. The results are the bits of a real run at that count (a chunk's work
/// depends on its index only); the times say what the cut of the work allows at
/// that count on a machine with fewer cores. While it lives, every caller sees
/// the simulated count.
class ParallelCensus {
public:
    explicit ParallelCensus(int simulatedThreads = 0);
    ~ParallelCensus();
    ParallelCensus(const ParallelCensus&) = delete;
    ParallelCensus& operator=(const ParallelCensus&) = delete;

    /// The loops recorded since construction or the last take(), in call order.
    std::vector<ParallelLoop> take();
};

} // namespace segforge::core
