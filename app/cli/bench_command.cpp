#include "check/checker.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "engine/flop_count.hpp"
#include "engine/node_attributes.hpp"
#include "engine/parallel.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <random>
#include <sys/resource.h>

namespace segforge::cli {

namespace {

constexpr const char* kUsage =
    "usage: segforge-cli bench PROJECT [--batch 8] [--steps 20] [--threads 2] [--json]\n";

/// Random data of a source's type: images over the dtype's range, masks holding
/// only the values the type allows ({0, max} for 0/max masks, 0..max for labels).
core::Tensor syntheticTensor(const core::TensorType& type, std::int64_t batch, bool isMask, std::mt19937& rng) {
    core::Tensor t(core::concreteShape(type.shape, batch), type.dtype);
    const double typeMax = core::unsignedMax(type.dtype);
    const double hi = type.range ? type.range->hi : (typeMax > 0 ? typeMax : 1.0);
    const bool labels = type.dtype == core::DType::Int32 || type.dtype == core::DType::UInt16;
    std::uniform_real_distribution<double> u(0.0, 1.0);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        double v = u(rng) * hi;
        if (isMask)
            v = labels ? std::floor(u(rng) * (hi + 1)) : (u(rng) < 0.5 ? 0.0 : hi);
        t.setValueAt(i, std::min(hi, v)); // integer dtypes truncate and saturate
    }
    return t;
}

/// Feeds every Dataset and Input node with synthetic data for `batch` samples.
void feedSynthetic(core::Executor& ex, const core::Graph& graph, const core::CheckResult& check,
                   std::int64_t batch) {
    std::mt19937 rng(1234);
    for (const auto& [id, node] : graph.nodes()) {
        if (node.op == "Dataset") {
            core::Batch b;
            b.image = syntheticTensor(*check.typeOf({id, "image"}), batch, false, rng);
            b.mask = syntheticTensor(*check.typeOf({id, "mask"}), batch, true, rng);
            ex.feed(b);
        } else if (node.op == "Input") {
            ex.feedInput(node.name, syntheticTensor(*check.typeOf({id, "output"}), batch, false, rng));
        }
    }
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n == 0 ? 0.0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}

double msSince(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

double peakRssMib() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0; // KiB on Linux
}

} // namespace

int runBench(const std::vector<std::string>& raw) {
    Arguments args(raw, {"--batch", "--steps", "--threads"}, {"--json"});
    const int batch = args.integer("--batch").value_or(8);
    const int steps = args.integer("--steps").value_or(20);
    const int threads = args.integer("--threads").value_or(2);
    if (!args.ok() || args.positionals().size() != 1 || batch < 1 || steps < 1 || threads < 0) {
        std::cerr << "segforge-cli bench: "
                  << (!args.ok() ? args.error()
                      : args.positionals().size() != 1 ? std::string("expected one PROJECT file")
                                                       : std::string("--batch and --steps must be ≥ 1, --threads ≥ 0"))
                  << "\n" << kUsage;
        return kExitBadInput;
    }
    auto project = loadProjectOrReport("bench", args.positionals().front());
    if (!project)
        return kExitBadInput;
    auto ex = compileOrReport("bench", project->graph);
    if (!ex)
        return kExitFindings;
    core::setEngineThreads(threads);
    const core::CheckResult check = core::checkGraph(project->graph, core::CheckOptions{false, 64});
    ex->initializeParameters(static_cast<std::uint64_t>(project->training.seed));
    auto optimizer = core::makeOptimizer({project->training.optimizer});
    const double lr = project->training.learningRate;

    // Training steps, after one warm-up step (first-touch allocation, caches).
    feedSynthetic(*ex, project->graph, check, batch);
    std::vector<double> trainMs;
    for (int s = 0; s <= steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        ex->beginStep(true);
        if (ex->run() != core::RunStatus::Finished) {
            std::cerr << "segforge-cli bench: " << (ex->nonFinite() ? ex->nonFinite()->message() : "stopped") << "\n";
            return kExitTrainingFailed;
        }
        optimizer->step(ex->trainableParameters(), lr);
        if (s > 0)
            trainMs.push_back(msSince(t0));
    }
    // Single-image inference.
    feedSynthetic(*ex, project->graph, check, 1);
    std::vector<double> inferMs;
    for (int s = 0; s <= steps; ++s) {
        const auto t0 = std::chrono::steady_clock::now();
        ex->beginStep(false);
        ex->run();
        if (s > 0)
            inferMs.push_back(msSince(t0));
    }
    const double trainMedian = median(trainMs);
    const double inferMedian = median(inferMs);
    const double stepFlops = 3 * core::convolutionFlops(project->graph, batch);
    const double gflops = trainMedian > 0 ? stepFlops / (trainMedian * 1e6) : 0;
    const double rss = peakRssMib();
    if (args.flag("--json")) {
        nlohmann::ordered_json j{{"train_ms_median", trainMedian},
                                 {"infer_ms_median", inferMedian},
                                 {"gflops", gflops},
                                 {"peak_rss_mib", rss},
                                 {"batch", batch},
                                 {"steps", steps},
                                 {"threads", core::engineThreads()},
                                 {"train_gflop_per_step", stepFlops * 1e-9}};
        std::cout << j.dump() << "\n";
        return kExitOk;
    }
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s\n"
                  "  training step (batch %d, %d threads): median %.1f ms over %d steps\n"
                  "  inference (1 image):                   median %.2f ms\n"
                  "  convolutions: %.2f GFLOP per step (3 × forward), %.1f GFLOP/s achieved\n"
                  "  peak memory (RSS): %.0f MiB\n",
                  project->name.c_str(), batch, core::engineThreads(), trainMedian, steps, inferMedian,
                  stepFlops * 1e-9, gflops, rss);
    std::cout << buf;
    return kExitOk;
}

} // namespace segforge::cli
