#include "check/checker.hpp"
#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "engine/flop_count.hpp"
#include "engine/node_attributes.hpp"
#include "engine/step_profile.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <string>
#include <sys/resource.h>

namespace segforge::cli {

namespace {

/// Random data of a source's type: images over the dtype's range, masks holding
/// only the values the type allows ({0, max} for 0/max masks, 0..max for labels).
core::Tensor syntheticTensor(const core::TensorType& type, std::int64_t batch, bool isMask,
                             std::mt19937& rng) {
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
            ex.feedInput(node.name,
                         syntheticTensor(*check.typeOf({id, "output"}), batch, false, rng));
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

/// The peak resident memory of this program: /proc/self/status's VmHWM. Not
/// getrusage's ru_maxrss, which also counts what the process held before exec —
/// a benchmark started by a Python script that has imported PyTorch would report
/// the script's ~230 MiB.
double peakRssMib() {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
        if (line.rfind("VmHWM:", 0) == 0)
            return std::strtod(line.c_str() + 6, nullptr) / 1024.0; // "VmHWM:   1234 kB"
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) / 1024.0; // KiB on Linux
}

/// The per-node table of --profile, slowest first, with each convolution's
/// achieved GFLOP/s (forward, and both backward passes together).
void printProfile(std::vector<core::NodeTiming> timings,
                  const std::map<core::NodeId, double>& flops, double optimizerMs, double stepMs) {
    std::sort(timings.begin(), timings.end(),
              [](const core::NodeTiming& a, const core::NodeTiming& b) {
                  return a.totalMs() > b.totalMs();
              });
    double nodesMs = 0;
    for (const auto& t : timings)
        nodesMs += t.totalMs();
    std::printf("  per node (medians; nodes %.1f ms + optimizer %.1f ms of the %.1f ms step):\n",
                nodesMs, optimizerMs, stepMs);
    std::printf("    %-24s %-20s %9s %9s %6s %8s %8s\n", "node", "op", "fwd ms", "bwd ms", "share",
                "fwd GF/s", "bwd GF/s");
    for (const auto& t : timings) {
        auto f = flops.find(t.node);
        char fwd[16] = "", bwd[16] = "";
        if (f != flops.end() && t.forwardMs > 0 && t.backwardMs > 0) {
            std::snprintf(fwd, sizeof fwd, "%.1f", f->second / (t.forwardMs * 1e6));
            std::snprintf(bwd, sizeof bwd, "%.1f", 2 * f->second / (t.backwardMs * 1e6));
        }
        std::printf("    %-24.24s %-20.20s %9.2f %9.2f %5.1f%% %8s %8s\n", t.name.c_str(),
                    t.op.c_str(), t.forwardMs, t.backwardMs,
                    stepMs > 0 ? 100.0 * t.totalMs() / stepMs : 0.0, fwd, bwd);
    }
}

struct BenchArgs {
    std::string project;
    int batch = 8, steps = 20, threads = 2;
    bool json = false, profile = false;
};

int runBench(const BenchArgs& args) {
    const int batch = args.batch, steps = args.steps, threads = args.threads;
    auto project = loadProjectOrReport("bench", args.project);
    if (!project)
        return kExitBadInput;
    auto ex = compileOrReport("bench", project->graph);
    if (!ex)
        return kExitFindings;
    ex->setKeepIntermediates(false); // the lean memory plan, as `train` runs it
    core::setEngineThreads(threads);
    const core::CheckResult check =
        core::checkGraph(project->graph, core::CheckOptions::withoutInputSizeSweep());
    ex->initializeParameters(static_cast<std::uint64_t>(project->training.seed));
    auto optimizer = core::makeOptimizer({project->training.optimizer});
    const double lr = project->training.learningRate;

    // Training steps, after one warm-up step (first-touch allocation, caches).
    feedSynthetic(*ex, project->graph, check, batch);
    std::vector<double> trainMs, optimizerMs;
    std::optional<core::StepProfile> profile;
    if (args.profile)
        profile.emplace(*ex);
    for (int s = 0; s <= steps; ++s) {
        if (s == 1 && profile) // the warm-up step is not part of the profile
            profile.emplace(*ex);
        const auto t0 = std::chrono::steady_clock::now();
        if (profile)
            profile->startStep();
        ex->beginStep(true);
        ex->updateInBackward(*optimizer, lr); // as `train` does under the lean plan
        const double updateMs = ex->updateMilliseconds();
        if (ex->run() != core::RunStatus::Finished) {
            std::cerr << "segforge-cli bench: "
                      << (ex->nonFinite() ? ex->nonFinite()->message() : "stopped") << "\n";
            return kExitTrainingFailed;
        }
        if (s > 0) {
            trainMs.push_back(msSince(t0));
            optimizerMs.push_back(ex->updateMilliseconds() - updateMs);
        }
    }
    const std::vector<core::NodeTiming> timings =
        profile ? profile->medians() : std::vector<core::NodeTiming>{};
    profile.reset();
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
    // The memory plan's buffers over the training steps (inference lends less).
    const core::BufferPool::Use buffers = ex->bufferUse();
    const double mib = 1.0 / (1024.0 * 1024.0);
    if (args.json) {
        nlohmann::ordered_json j{
            {"train_ms_median", trainMedian},
            {"infer_ms_median", inferMedian},
            {"gflops", gflops},
            {"peak_rss_mib", rss},
            {"buffers_peak_lent_mib", static_cast<double>(buffers.peakLent) * mib},
            {"buffers_peak_held_mib", static_cast<double>(buffers.peakHeld) * mib},
            {"batch", batch},
            {"steps", steps},
            {"threads", core::engineThreads()},
            {"train_gflop_per_step", stepFlops * 1e-9}};
        if (!timings.empty()) {
            const auto flops = core::convolutionFlopsByNode(project->graph, batch);
            nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
            for (const core::NodeTiming& t : timings) {
                auto f = flops.find(t.node);
                nodes.push_back({{"name", t.name},
                                 {"op", t.op},
                                 {"forward_ms", t.forwardMs},
                                 {"backward_ms", t.backwardMs},
                                 {"gflop", f == flops.end() ? 0.0 : 3 * f->second * 1e-9}});
            }
            j["optimizer_ms_median"] = median(optimizerMs);
            j["profile"] = std::move(nodes);
        }
        std::cout << j.dump() << "\n";
        return kExitOk;
    }
    char buf[512];
    std::snprintf(buf, sizeof buf,
                  "%s\n"
                  "  training step (batch %d, %d threads): median %.1f ms over %d steps\n"
                  "  inference (1 image):                   median %.2f ms\n"
                  "  convolutions: %.2f GFLOP per step (3 × forward), %.1f GFLOP/s achieved\n"
                  "  peak memory (RSS): %.0f MiB; activations, gradients and saved state: "
                  "%.0f MiB at once, %.0f MiB of buffers\n",
                  project->name.c_str(), batch, core::engineThreads(), trainMedian, steps,
                  inferMedian, stepFlops * 1e-9, gflops, rss,
                  static_cast<double>(buffers.peakLent) * mib,
                  static_cast<double>(buffers.peakHeld) * mib);
    std::cout << buf;
    if (!timings.empty())
        printProfile(timings, core::convolutionFlopsByNode(project->graph, batch),
                     median(optimizerMs), trainMedian);
    return kExitOk;
}

} // namespace

Command addBenchCommand(CLI::App& app) {
    auto args = std::make_shared<BenchArgs>();
    CLI::App* cmd = app.add_subcommand(
        "bench", "Median training-step and single-image inference time, GFLOP/s, peak RSS");
    cmd->add_option("PROJECT", args->project, "the project")->required();
    auto byDefault = [](int value) { return " (default " + std::to_string(value) + ")"; };
    addInteger(*cmd, "--batch", args->batch, "batch size" + byDefault(args->batch),
               Bounds::atLeast(1));
    addInteger(*cmd, "--steps", args->steps, "timed steps" + byDefault(args->steps),
               Bounds::atLeast(1));
    addInteger(*cmd, "--threads", args->threads,
               "engine threads, 0: all cores" + byDefault(args->threads), Bounds::atLeast(0));
    cmd->add_flag("--json", args->json, "print the results as JSON");
    cmd->add_flag("--profile", args->profile,
                  "also time every node's forward and backward pass (medians per step)");
    return {cmd, [args] { return runBench(*args); }};
}

} // namespace segforge::cli
