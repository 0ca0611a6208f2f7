#include "engine/parallel.hpp"

#include <algorithm>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace segforge::core {

namespace {

thread_local bool t_insideChunk = false;

/// Workers sleep on a generation counter; each job hands worker k chunk k + 1.
class Pool {
public:
    ~Pool() { resize(0); }

    int threads() const { return m_threads; }

    void resize(int threads) {
        {
            std::lock_guard lock(m_mutex);
            m_quit = true;
            ++m_generation;
        }
        m_wake.notify_all();
        for (auto& t : m_workers)
            t.join();
        m_workers.clear();
        m_quit = false;
        m_threads = std::max(1, threads);
        // A new worker must wait for the next job, not take the generation bump of this resize for one.
        const std::uint64_t now = m_generation;
        for (int k = 1; k < m_threads; ++k)
            m_workers.emplace_back([this, k, now] { work(k, now); });
    }

    void run(std::int64_t n, int chunks, const std::function<void(std::int64_t, std::int64_t, int)>& fn) {
        std::unique_lock lock(m_mutex);
        m_fn = &fn;
        m_n = n;
        m_chunks = chunks;
        m_pending = chunks - 1;
        m_error = nullptr;
        ++m_generation;
        lock.unlock();
        m_wake.notify_all();
        runChunk(0);
        lock.lock();
        m_done.wait(lock, [this] { return m_pending == 0; });
        m_fn = nullptr;
        if (m_error)
            std::rethrow_exception(m_error);
    }

private:
    void work(int k, std::uint64_t seen) {
        for (;;) {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [&] { return m_generation != seen; });
            seen = m_generation;
            if (m_quit)
                return;
            if (k >= m_chunks)
                continue;
            lock.unlock();
            runChunk(k);
            lock.lock();
            if (--m_pending == 0)
                m_done.notify_one();
        }
    }

    void runChunk(int k) {
        const std::int64_t begin = m_n * k / m_chunks;
        const std::int64_t end = m_n * (k + 1) / m_chunks;
        t_insideChunk = true;
        try {
            (*m_fn)(begin, end, k);
        } catch (...) {
            std::lock_guard lock(m_errorMutex);
            if (!m_error)
                m_error = std::current_exception();
        }
        t_insideChunk = false;
    }

    std::mutex m_mutex;
    std::mutex m_errorMutex;
    std::condition_variable m_wake, m_done;
    std::vector<std::thread> m_workers;
    const std::function<void(std::int64_t, std::int64_t, int)>* m_fn = nullptr;
    std::int64_t m_n = 0;
    int m_chunks = 1;
    int m_pending = 0;
    int m_threads = 1;
    std::uint64_t m_generation = 0;
    bool m_quit = false;
    std::exception_ptr m_error;
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

int engineThreads() { return pool().threads(); }

int parallelChunks(std::int64_t n) {
    if (t_insideChunk || n <= 1)
        return 1;
    return static_cast<int>(std::min<std::int64_t>(n, pool().threads()));
}

void parallelFor(std::int64_t n, const std::function<void(std::int64_t, std::int64_t, int)>& fn) {
    if (n <= 0)
        return;
    if (parallelChunks(n) == 1) {
        fn(0, n, 0);
        return;
    }
    std::lock_guard lock(g_runMutex);
    pool().run(n, parallelChunks(n), fn);
}

} // namespace segforge::core
