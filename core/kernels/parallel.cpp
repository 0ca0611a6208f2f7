#include "kernels/parallel.hpp"

#include "kernels/denormals.hpp"
#include "util/available_cores.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace segforge::core {

namespace {

thread_local bool t_insideChunk = false;

using ChunkFn = std::function<void(std::int64_t, std::int64_t, int)>;

/// Runs chunk k of `chunks` over [0, n), marked as inside a chunk (nested loops run
/// serially), however it ends.
void runChunk(const ChunkFn& fn, std::int64_t n, int k, int chunks) {
    struct Inside {
        Inside() { t_insideChunk = true; }
        ~Inside() { t_insideChunk = false; }
    } inside;
    fn(n * k / chunks, n * (k + 1) / chunks, k);
}

void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#else
    std::this_thread::yield();
#endif
}

/// Pause iterations a thread spins before it sleeps: a training step runs hundreds of
/// kernels back to back, and waking a sleeping thread costs more than a short spin.
constexpr int kSpin = 4000;

/// Spins on `done` for a while, then yields the core between checks: for waits
/// that end when another thread leaves a few instructions of bookkeeping, which
/// only a descheduled thread (the machine is shared) can hold up for long.
template <typename Done> void spinThenYield(Done&& done) {
    for (int i = 0; i < kSpin; ++i) {
        if (done())
            return;
        cpuRelax();
    }
    while (!done())
        std::this_thread::yield();
}

/// One parallelFor call. Chunks are claimed from a counter by whichever thread
/// is free — the caller included — so a worker that the OS has not scheduled
/// yet (the machine is shared) delays nothing: the caller runs its chunk. What
/// a chunk computes depends only on its index, never on the thread running it.
struct Job {
    const ChunkFn* fn = nullptr;
    std::int64_t n = 0;
    int chunks = 1;
    std::atomic<int> next{0};
    std::atomic<int> remaining{0};
    std::mutex errorMutex;
    std::exception_ptr error;

    void runChunks() {
        for (;;) {
            const int k = next.fetch_add(1, std::memory_order_relaxed);
            if (k >= chunks)
                return;
            try {
                runChunk(*fn, n, k, chunks);
            } catch (...) {
                std::lock_guard lock(errorMutex);
                if (!error)
                    error = std::current_exception();
            }
            if (remaining.fetch_sub(1, std::memory_order_acq_rel) == 1)
                remaining.notify_one(); // the caller may sleep on it
        }
    }
};

/// The pool hands a job to its workers without a lock: the caller publishes
/// the job and bumps a generation counter; a worker that sees the bump joins
/// (counted in m_inside) and claims chunks. Nothing a worker does to join or
/// leave a job waits on another worker, so the cost of a dispatch does not grow
/// with the thread count. Idle workers spin a little, then sleep on the
/// generation counter (a futex), so a waiting pool costs no CPU.
class Pool {
public:
    ~Pool() { resize(0); }

    int threads() const { return m_threads; }

    void resize(int threads) {
        m_quit.store(true);
        m_generation.fetch_add(1);
        m_generation.notify_all();
        for (auto& t : m_workers)
            t.join();
        m_workers.clear();
        m_quit.store(false);
        m_threads = std::max(1, threads);
        // A new worker must wait for the next job, not take the generation bump of this resize for
        // one.
        const std::uint32_t now = m_generation.load();
        for (int k = 1; k < m_threads; ++k)
            m_workers.emplace_back([this, now] { work(now); });
    }

    void run(std::int64_t n, int chunks, const ChunkFn& fn) {
        Job job;
        job.fn = &fn;
        job.n = n;
        job.chunks = chunks;
        job.remaining.store(chunks, std::memory_order_relaxed);
        m_job.store(&job);
        m_generation.fetch_add(1);
        m_generation.notify_all();
        job.runChunks();
        // Chunks claimed by workers may still run: spin a little, then sleep.
        for (int i = 0; i < kSpin && job.remaining.load(std::memory_order_acquire) != 0; ++i)
            cpuRelax();
        for (int left; (left = job.remaining.load(std::memory_order_acquire)) != 0;)
            job.remaining.wait(left, std::memory_order_acquire);
        // No worker may join the finished job any more; wait for those still in it
        // (they find no chunk left and leave) before `job` goes out of scope. A worker
        // raises m_inside before it reads m_job, and we clear m_job before we read
        // m_inside (both sequentially consistent): it either sees nullptr or is seen.
        m_job.store(nullptr);
        spinThenYield([&] { return m_inside.load() == 0; });
        if (job.error)
            std::rethrow_exception(job.error);
    }

private:
    void work(std::uint32_t seen) {
        flushDenormalsOnThisThread();
        for (;;) {
            for (int i = 0; i < kSpin && m_generation.load(std::memory_order_acquire) == seen; ++i)
                cpuRelax();
            m_generation.wait(seen, std::memory_order_acquire);
            seen = m_generation.load(std::memory_order_acquire);
            if (m_quit.load())
                return;
            m_inside.fetch_add(1);
            if (Job* job = m_job.load())
                job->runChunks();
            m_inside.fetch_sub(1);
        }
    }

    std::vector<std::thread> m_workers;
    std::atomic<Job*> m_job{nullptr};
    std::atomic<int> m_inside{0}; ///< workers that may hold m_job's pointer
    int m_threads = 1;
    std::atomic<std::uint32_t> m_generation{0};
    std::atomic<bool> m_quit{false};
};

Pool& pool() {
    static Pool p;
    return p;
}

std::mutex g_runMutex; ///< one parallelFor at a time from outside the pool

/// The live census, if any, and what it has recorded.
struct CensusState {
    int simulatedThreads = 0;
    std::mutex mutex;
    std::vector<ParallelLoop> loops;
};
std::atomic<CensusState*> g_census{nullptr};
std::atomic<int> g_simulatedThreads{0}; ///< the live census's, or 0

using Clock = std::chrono::steady_clock;

double msBetween(Clock::time_point a, Clock::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

/// Times one top-level loop for the census, when one is live.
class CensusEntry {
public:
    CensusEntry(std::int64_t items, bool fine)
        : m_state(g_census.load(std::memory_order_relaxed)) {
        if (!m_state)
            return;
        m_loop.items = items;
        m_loop.fine = fine;
        m_start = Clock::now();
    }
    ~CensusEntry() {
        if (!m_state)
            return;
        m_loop.ms = msBetween(m_start, Clock::now());
        std::lock_guard lock(m_state->mutex);
        m_state->loops.push_back(std::move(m_loop));
    }
    CensusEntry(const CensusEntry&) = delete;
    CensusEntry& operator=(const CensusEntry&) = delete;

    /// Whether the loop is to run simulated: its chunks one by one on the caller.
    bool simulated() const { return m_state && m_state->simulatedThreads > 0; }

    /// Runs the loop's chunks one after another on the caller, each timed. One clock
    /// read per chunk (26 ns on a VM's kvm-clock): a chunk ends where the next
    /// starts, so the loop's time outside its chunks is only what a real loop spends
    /// outside them too, not two clock reads per chunk (at 128 chunks a loop, 2 ms
    /// of a batch-8 step the bound would count as serial). Not inlined, so that a
    /// profiler's call stacks tell a simulated chunk's work from serial code.
    [[gnu::noinline]] void runChunksTimed(std::int64_t n, int chunks, const ChunkFn& fn) {
        m_loop.chunkMs.reserve(static_cast<std::size_t>(chunks));
        auto start = Clock::now();
        for (int k = 0; k < chunks; ++k) {
            runChunk(fn, n, k, chunks);
            const auto end = Clock::now();
            m_loop.chunkMs.push_back(msBetween(start, end));
            start = end;
        }
    }

private:
    CensusState* m_state;
    ParallelLoop m_loop;
    Clock::time_point m_start;
};

int threadsForWork() {
    const int simulated = g_simulatedThreads.load(std::memory_order_relaxed);
    return simulated > 0 ? simulated : pool().threads();
}

/// Chunks of a loop of n items called here: one inside a chunk (nested loops run serially).
int chunksHere(std::int64_t n, bool fine) {
    return t_insideChunk ? 1 : chunksFor(n, threadsForWork(), fine);
}

/// A loop of more than one chunk: chunk by chunk under a simulating census, else on the pool.
void runLoop(std::int64_t n, int chunks, bool fine, const ChunkFn& fn) {
    CensusEntry census(n, fine);
    if (census.simulated()) {
        census.runChunksTimed(n, chunks, fn);
        return;
    }
    std::lock_guard lock(g_runMutex);
    pool().run(n, chunks, fn);
}

} // namespace

void setEngineThreads(int threads) {
    if (threads <= 0)
        threads = availableCores();
    std::lock_guard lock(g_runMutex);
    if (threads != pool().threads())
        pool().resize(threads);
}

int engineThreads() {
    return threadsForWork();
}

int chunksFor(std::int64_t n, int threads, bool fine) {
    if (n <= 1 || threads <= 1)
        return n < 1 ? 0 : 1;
    return static_cast<int>(std::min<std::int64_t>(n, (fine ? 8 : 1) * std::int64_t{threads}));
}

int parallelChunks(std::int64_t n) {
    return chunksHere(n, false);
}

void parallelFor(std::int64_t n, const ChunkFn& fn) {
    if (n <= 0)
        return;
    const DenormalsFlushed flushed;
    const int chunks = parallelChunks(n);
    if (chunks == 1) { // serial code, for the census too (a nested loop may still be parallel)
        fn(0, n, 0);
        return;
    }
    runLoop(n, chunks, false, fn);
}

void parallelForFine(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn) {
    if (n <= 0)
        return;
    const DenormalsFlushed flushed;
    const int chunks = chunksHere(n, true);
    if (chunks == 1) {
        fn(0, n);
        return;
    }
    runLoop(n, chunks, true, [&fn](std::int64_t begin, std::int64_t end, int) { fn(begin, end); });
}

double makespanMs(const std::vector<double>& chunkMs, int threads) {
    std::vector<double> busyUntil(static_cast<std::size_t>(std::max(1, threads)), 0.0);
    for (double ms : chunkMs)
        *std::min_element(busyUntil.begin(), busyUntil.end()) += ms;
    return *std::max_element(busyUntil.begin(), busyUntil.end());
}

ParallelCensus::ParallelCensus(int simulatedThreads) {
    auto state = std::make_unique<CensusState>();
    state->simulatedThreads = std::max(0, simulatedThreads);
    CensusState* expected = nullptr;
    if (!g_census.compare_exchange_strong(expected, state.get()))
        throw std::logic_error("ParallelCensus: another census is live");
    g_simulatedThreads.store(state->simulatedThreads);
    state.release(); // g_census owns it now
}

ParallelCensus::~ParallelCensus() {
    g_simulatedThreads.store(0);
    delete g_census.exchange(nullptr);
}

std::vector<ParallelLoop> ParallelCensus::take() {
    CensusState* state = g_census.load();
    std::lock_guard lock(state->mutex);
    return std::exchange(state->loops, {});
}

} // namespace segforge::core
