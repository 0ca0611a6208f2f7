#include "check/checker.hpp"
#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "engine/flop_count.hpp"
#include "engine/node_attributes.hpp"
#include "engine/scaling_estimate.hpp"
#include "engine/step_profile.hpp"
#include "kernels/parallel.hpp"
#include "util/available_cores.hpp"
#include "util/median.hpp"

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

/// One training step on the fed data as `train` runs it under the lean plan: the
/// parameters updated in the backward pass.
core::RunStatus trainStep(core::Executor& ex, core::Optimizer& optimizer, double lr) {
    ex.beginStep(true);
    ex.updateInBackward(optimizer, lr);
    return ex.run();
}

/// One training step, recorded by `profile`.
void scalingStep(core::Executor& ex, core::Optimizer& optimizer, double lr,
                 core::ScalingProfile& profile) {
    profile.startStep();
    trainStep(ex, optimizer, lr);
    profile.endStep();
}

/// --scaling's results: the bound at every count, and what this machine really
/// does at the counts it has the cores for (1 included).
struct Scaling {
    std::vector<core::ScalingEstimate> bound, measured;

    /// The measured estimate at `threads`, if that count was measured.
    const core::ScalingEstimate* measuredAt(int threads) const {
        for (const core::ScalingEstimate& e : measured)
            if (e.threads == threads)
                return &e;
        return nullptr;
    }
};

/// `steps` training steps per thread count, each cut for its count and run on one
/// core chunk by chunk; the counts take turns step by step (after a warm-up step
/// each), so a drift of the machine's speed slows them all alike. Then the counts
/// this machine has cores for, really run: in a few rounds of a block of steps per
/// count, each block after a warm-up step (a new thread count starts new threads).
Scaling measureScaling(core::Executor& ex, core::Optimizer& optimizer, double lr, int steps,
                       const std::vector<int>& threads) {
    Scaling out;
    std::vector<std::unique_ptr<core::ScalingProfile>> profiles;
    for (int t : threads) {
        core::ScalingProfile warmUp(ex, t);
        scalingStep(ex, optimizer, lr, warmUp); // scratch grown for this cut
        profiles.push_back(std::make_unique<core::ScalingProfile>(ex, t));
    }
    for (int s = 0; s < steps; ++s)
        for (auto& p : profiles)
            scalingStep(ex, optimizer, lr, *p);
    for (const auto& p : profiles)
        out.bound.push_back(p->estimate());

    const int ownThreads = core::engineThreads();
    const int cores = core::availableCores();
    profiles.clear();
    std::vector<int> measured;
    for (int t : threads)
        if (t <= cores) {
            measured.push_back(t);
            profiles.push_back(
                std::make_unique<core::ScalingProfile>(ex, t, core::ScalingRun::Measured));
        }
    const int rounds = std::min(steps, 3);
    for (int r = 0; r < rounds; ++r)
        for (std::size_t k = 0; k < measured.size(); ++k) {
            core::setEngineThreads(measured[k]);
            trainStep(ex, optimizer, lr); // warm-up: the new threads' caches and scratch
            for (int s = steps * r / rounds; s < steps * (r + 1) / rounds; ++s)
                scalingStep(ex, optimizer, lr, *profiles[k]);
        }
    core::setEngineThreads(ownThreads);
    for (const auto& p : profiles)
        out.measured.push_back(p->estimate());
    return out;
}

/// A node's loss at a thread count against the 1-thread run: lost = its time there
/// − perfect (its 1-thread time / threads).
struct NodeLoss {
    const core::NodeScaling* node;
    double perfect, lost;
};

/// The nodes of `at` that lose the most against `one`, most first.
std::vector<NodeLoss> nodeLosses(const core::ScalingEstimate& at, const core::ScalingEstimate& one,
                                 std::size_t most) {
    std::vector<NodeLoss> losses;
    for (const core::NodeScaling& n : at.nodes) {
        auto same = std::find_if(one.nodes.begin(), one.nodes.end(),
                                 [&](const core::NodeScaling& o) { return o.node == n.node; });
        const double perfect = same == one.nodes.end() ? 0.0 : same->workMs / at.threads;
        losses.push_back({&n, perfect, n.boundMs - perfect});
    }
    std::sort(losses.begin(), losses.end(),
              [](const NodeLoss& a, const NodeLoss& b) { return a.lost > b.lost; });
    losses.resize(std::min(losses.size(), most));
    return losses;
}

/// The efficiency of `at`'s noise-included bound against the typical 1-thread work.
double noisyEfficiency(const core::ScalingEstimate& at, const core::ScalingEstimate& one) {
    return at.perStepBoundMs > 0 ? one.workMs / (at.threads * at.perStepBoundMs) : 0.0;
}

/// --scaling's report: per thread count, the bound and its efficiency against
/// the 1-thread cut, and what this machine measured where it has the cores; then
/// the nodes that lose the most at the largest count in the bound, and at the
/// largest measured count, with the part of the measured loss the bound explains.
void printScaling(const Scaling& scaling) {
    const core::ScalingEstimate& one = scaling.bound.front();
    const core::ScalingEstimate& most = scaling.bound.back();
    const core::ScalingEstimate* measuredOne = scaling.measuredAt(1);
    std::printf("  scaling: the bound is the step cut for each thread count, run on one core "
                "chunk by chunk, the chunks shared out as the pool would (memory assumed to keep "
                "up), each chunk and serial stretch at its median over the steps; noisy is the "
                "median of each step's own bound, a chunk the machine held up once included; "
                "measured is the step really run on that many threads (this process may use %d "
                "cores):\n",
                core::availableCores());
    std::printf("    %8s %9s %9s %11s %6s %10s %6s %12s %11s %10s\n", "threads", "work ms",
                "bound ms", "efficiency", "noisy", "serial ms", "loops", "measured ms",
                "efficiency", "serial ms");
    for (const core::ScalingEstimate& e : scaling.bound) {
        std::printf("    %8d %9.1f %9.2f %11.2f %6.2f %10.2f %6d", e.threads, e.workMs, e.boundMs,
                    e.efficiencyAgainst(one), noisyEfficiency(e, one), e.serialMs, e.loopsPerStep);
        if (const core::ScalingEstimate* m = scaling.measuredAt(e.threads); m && measuredOne)
            std::printf(" %12.2f %11.2f %10.2f\n", m->boundMs, m->efficiencyAgainst(*measuredOne),
                        m->serialMs);
        else
            std::printf(" %12s %11s %10s\n", "-", "-", "-");
    }
    if (most.threads == 1)
        return;
    std::printf("    bound, losing most at %d threads, ms: lost = bound − perfect (1-thread work / "
                "%d); of it, the cut's extra work (its work / %d − perfect), serial, and the rest "
                "waits on unequal or too few chunks:\n",
                most.threads, most.threads, most.threads);
    std::printf("      %-24s %-20s %8s %8s %8s %8s %8s\n", "node", "op", "lost", "bound", "perfect",
                "extra", "serial");
    for (const NodeLoss& l : nodeLosses(most, one, 10))
        std::printf("      %-24.24s %-20.20s %8.2f %8.2f %8.2f %8.2f %8.2f\n", l.node->name.c_str(),
                    l.node->op.c_str(), l.lost, l.node->boundMs, l.perfect,
                    l.node->workMs / most.threads - l.perfect, l.node->serialMs);

    const core::ScalingEstimate* measured = nullptr;
    for (const core::ScalingEstimate& m : scaling.measured)
        if (m.threads > 1)
            measured = &m;
    if (!measured || !measuredOne)
        return;
    std::map<core::NodeId, double> boundLost; // at the measured count
    for (const core::ScalingEstimate& e : scaling.bound)
        if (e.threads == measured->threads)
            for (const NodeLoss& l : nodeLosses(e, one, e.nodes.size()))
                boundLost[l.node->node] = l.lost;
    std::printf("    measured, losing most at %d threads, ms: lost = measured − perfect (measured "
                "at 1 thread / %d); of it, what the bound explains (its lost), and the rest "
                "(memory bandwidth, dispatch, the machine):\n",
                measured->threads, measured->threads);
    std::printf("      %-24s %-20s %8s %8s %8s %8s %8s\n", "node", "op", "lost", "measured",
                "perfect", "bound", "rest");
    for (const NodeLoss& l : nodeLosses(*measured, *measuredOne, 10)) {
        const double explained = boundLost[l.node->node];
        std::printf("      %-24.24s %-20.20s %8.2f %8.2f %8.2f %8.2f %8.2f\n", l.node->name.c_str(),
                    l.node->op.c_str(), l.lost, l.node->boundMs, l.perfect, explained,
                    l.lost - explained);
    }
}

/// --scaling in --json: per count, the bound (and its nodes), the noise-included
/// bound ("noisy_bound_ms", "noisy_efficiency"), and where measured, the measured
/// step: "measured_ms", "measured_efficiency", "measured_serial_ms", and per node
/// "measured_ms".
nlohmann::ordered_json scalingJson(const Scaling& scaling) {
    const core::ScalingEstimate* measuredOne = scaling.measuredAt(1);
    nlohmann::ordered_json targets = nlohmann::ordered_json::array();
    for (const core::ScalingEstimate& e : scaling.bound) {
        const core::ScalingEstimate* m = measuredOne ? scaling.measuredAt(e.threads) : nullptr;
        nlohmann::ordered_json nodes = nlohmann::ordered_json::array();
        for (const core::NodeScaling& n : e.nodes) {
            nlohmann::ordered_json node{{"name", n.name},
                                        {"op", n.op},
                                        {"work_ms", n.workMs},
                                        {"serial_ms", n.serialMs},
                                        {"bound_ms", n.boundMs}};
            if (m)
                for (const core::NodeScaling& mn : m->nodes)
                    if (mn.node == n.node)
                        node["measured_ms"] = mn.boundMs;
            nodes.push_back(std::move(node));
        }
        nlohmann::ordered_json target{
            {"threads", e.threads},
            {"work_ms", e.workMs},
            {"serial_ms", e.serialMs},
            {"bound_ms", e.boundMs},
            {"efficiency", e.efficiencyAgainst(scaling.bound.front())},
            {"noisy_bound_ms", e.perStepBoundMs},
            {"noisy_efficiency", noisyEfficiency(e, scaling.bound.front())},
            {"loops_per_step", e.loopsPerStep}};
        if (m) {
            target["measured_ms"] = m->boundMs;
            target["measured_efficiency"] = m->efficiencyAgainst(*measuredOne);
            target["measured_serial_ms"] = m->serialMs;
        }
        target["nodes"] = std::move(nodes);
        targets.push_back(std::move(target));
    }
    return targets;
}

struct BenchArgs {
    std::string project;
    int batch = 8, steps = 20, threads = 2;
    bool json = false, profile = false;
    std::vector<int> scaling; ///< target thread counts of --scaling
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
        const double updateMs = ex->updateMilliseconds();
        if (trainStep(*ex, *optimizer, lr) != core::RunStatus::Finished) {
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
    // --scaling: 1 and each target, the same steps cut for that many threads.
    Scaling scaling;
    if (!args.scaling.empty()) {
        std::vector<int> targets = args.scaling;
        targets.push_back(1);
        std::sort(targets.begin(), targets.end());
        targets.erase(std::unique(targets.begin(), targets.end()), targets.end());
        scaling = measureScaling(*ex, *optimizer, lr, steps, targets);
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
    const double trainMedian = core::median(trainMs);
    const double inferMedian = core::median(inferMs);
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
            j["optimizer_ms_median"] = core::median(optimizerMs);
            j["profile"] = std::move(nodes);
        }
        if (!scaling.bound.empty())
            j["scaling"] = scalingJson(scaling);
        std::cout << j.dump() << "\n";
        return kExitOk;
    }
    char buf[512];
    std::snprintf(
        buf, sizeof buf,
        "%s\n"
        "  training step (batch %d, %d thread%s): median %.1f ms over %d step%s\n"
        "  inference (1 image):                   median %.2f ms\n"
        "  convolutions: %.2f GFLOP per step (3 × forward), %.1f GFLOP/s achieved\n"
        "  peak memory (RSS): %.0f MiB; activations, gradients and saved state: "
        "%.0f MiB at once, %.0f MiB of buffers\n",
        project->name.c_str(), batch, core::engineThreads(), core::engineThreads() == 1 ? "" : "s",
        trainMedian, steps, steps == 1 ? "" : "s", inferMedian, stepFlops * 1e-9, gflops, rss,
        static_cast<double>(buffers.peakLent) * mib, static_cast<double>(buffers.peakHeld) * mib);
    std::cout << buf;
    if (!timings.empty())
        printProfile(timings, core::convolutionFlopsByNode(project->graph, batch),
                     core::median(optimizerMs), trainMedian);
    if (!scaling.bound.empty())
        printScaling(scaling);
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
    cmd->add_option("--scaling", args->scaling,
                    "also bound the step at these thread counts (comma list, e.g. 8,16) on this "
                    "machine: the step cut for each count runs on one core, chunk by chunk, and "
                    "the chunks are shared out as the pool would; memory is assumed to keep up; "
                    "each chunk counts at its median over the steps (noisy: each step's own). "
                    "The counts this process has cores for (and 1) are also measured, "
                    "really run on that many threads, node by node")
        ->delimiter(',')
        ->check(CLI::PositiveNumber);
    return {cmd, [args] { return runBench(*args); }};
}

} // namespace segforge::cli
