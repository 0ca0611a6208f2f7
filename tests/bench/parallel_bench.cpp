// The cost of handing a loop to the engine's thread pool: an empty
// parallelFor / parallelForFine, back to back, as a training step issues
// hundreds of them. What a dispatch costs bounds how small a loop may be.

#include "kernels/parallel.hpp"

#include <benchmark/benchmark.h>

using namespace segforge::core;

namespace {

void dispatch(benchmark::State& state, bool fine) {
    const int threads = static_cast<int>(state.range(0));
    setEngineThreads(threads);
    std::int64_t sink = 0;
    for (auto _ : state) {
        if (fine)
            parallelForFine(1024,
                            [&](std::int64_t b, std::int64_t) { benchmark::DoNotOptimize(b); });
        else
            parallelFor(threads,
                        [&](std::int64_t b, std::int64_t, int) { benchmark::DoNotOptimize(b); });
        ++sink;
    }
    benchmark::DoNotOptimize(sink);
    setEngineThreads(1);
}

void BM_ParallelForDispatch(benchmark::State& state) {
    dispatch(state, false);
}
void BM_ParallelForFineDispatch(benchmark::State& state) {
    dispatch(state, true);
}

} // namespace

BENCHMARK(BM_ParallelForDispatch)->Arg(1)->Arg(2)->UseRealTime();
BENCHMARK(BM_ParallelForFineDispatch)->Arg(1)->Arg(2)->UseRealTime();
