#include "kernels/parallel.hpp"

#include "kernels/denormals.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace segforge::core {

namespace {

thread_local bool t_insideChunk = false;

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

using ChunkFn = std::function<void(std::int64_t, std::int64_t, int)>;

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
    std::atomic<int> users{
        0}; ///< workers holding a pointer to this job (changed under the pool mutex)
    std::mutex errorMutex;
    std::exception_ptr error;

    void runChunks() {
        for (;;) {
            const int k = next.fetch_add(1, std::memory_order_relaxed);
            if (k >= chunks)
                return;
            const std::int64_t begin = n * k / chunks;
            const std::int64_t end = n * (k + 1) / chunks;
            t_insideChunk = true;
            try {
                (*fn)(begin, end, k);
            } catch (...) {
                std::lock_guard lock(errorMutex);
                if (!error)
                    error = std::current_exception();
            }
            t_insideChunk = false;
            remaining.fetch_sub(1, std::memory_order_acq_rel);
        }
    }
};

class Pool {
public:
    ~Pool() { resize(0); }

    int threads() const { return m_threads; }

    void resize(int threads) {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
            m_generation.fetch_add(1);
        }
        m_wake.notify_all();
        for (auto& t : m_workers)
            t.join();
        m_workers.clear();
        m_quit = false;
        m_threads = std::max(1, threads);
        // A new worker must wait for the next job, not take the generation bump of this resize for
        // one.
        const std::uint64_t now = m_generation.load();
        for (int k = 1; k < m_threads; ++k)
            m_workers.emplace_back([this, now] { work(now); });
    }

    void run(std::int64_t n, int chunks, const ChunkFn& fn) {
        Job job;
        job.fn = &fn;
        job.n = n;
        job.chunks = chunks;
        job.remaining = chunks;
        {
            std::lock_guard lock(m_mutex);
            m_job = &job;
            m_generation.fetch_add(1, std::memory_order_release);
        }
        m_wake.notify_all();
        job.runChunks();
        // Chunks claimed by workers may still run: spin a little, then sleep.
        for (int i = 0; i < kSpin && job.remaining.load(std::memory_order_acquire) != 0; ++i)
            cpuRelax();
        {
            std::unique_lock lock(m_mutex);
            m_done.wait(lock, [&] { return job.remaining.load() == 0 && job.users.load() == 0; });
            m_job = nullptr; // under the lock: no worker can pick the finished job up any more
        }
        if (job.error)
            std::rethrow_exception(job.error);
    }

private:
    void work(std::uint64_t seen) {
        flushDenormalsOnThisThread();
        for (;;) {
            for (int i = 0; i < kSpin && m_generation.load(std::memory_order_acquire) == seen; ++i)
                cpuRelax();
            Job* job = nullptr;
            {
                std::unique_lock lock(m_mutex);
                m_wake.wait(lock, [&] { return m_generation.load() != seen; });
                seen = m_generation.load();
                if (m_quit)
                    return;
                job = m_job;
                if (!job)
                    continue;
                job->users.fetch_add(1);
            }
            job->runChunks();
            {
                std::lock_guard lock(m_mutex);
                job->users.fetch_sub(1);
            }
            m_done.notify_all();
        }
    }

    std::mutex m_mutex;
    std::condition_variable m_wake, m_done;
    std::vector<std::thread> m_workers;
    Job* m_job = nullptr;
    int m_threads = 1;
    std::atomic<std::uint64_t> m_generation{0};
    bool m_quit = false;
};

Pool& pool() {
    static Pool p;
    return p;
}

std::mutex g_runMutex; ///< one parallelFor at a time from outside the pool

} // namespace

void setEngineThreads(int threads) {
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    std::lock_guard lock(g_runMutex);
    if (threads != pool().threads())
        pool().resize(threads);
}

int engineThreads() {
    return pool().threads();
}

int parallelChunks(std::int64_t n) {
    if (t_insideChunk || n <= 1)
        return 1;
    return static_cast<int>(std::min<std::int64_t>(n, pool().threads()));
}

void parallelFor(std::int64_t n, const ChunkFn& fn) {
    if (n <= 0)
        return;
    const DenormalsFlushed flushed;
    if (parallelChunks(n) == 1) {
        fn(0, n, 0);
        return;
    }
    std::lock_guard lock(g_runMutex);
    pool().run(n, parallelChunks(n), fn);
}

void parallelForFine(std::int64_t n, const std::function<void(std::int64_t, std::int64_t)>& fn) {
    if (n <= 0)
        return;
    const DenormalsFlushed flushed;
    if (parallelChunks(n) == 1) {
        fn(0, n);
        return;
    }
    const int chunks = static_cast<int>(std::min<std::int64_t>(n, 8 * pool().threads()));
    const ChunkFn wrapped = [&fn](std::int64_t begin, std::int64_t end, int) { fn(begin, end); };
    std::lock_guard lock(g_runMutex);
    pool().run(n, chunks, wrapped);
}

} // namespace segforge::core
