// What does verifying every fix cost? Each offered fix is applied to a copy and
// re-checked (check/fix_verification), and size mismatches search for their
// cause (check/causal_fixes). Measured on the depth-5 U-Net with a few
// mistakes: a skip from the wrong level (its error hides the decoder behind
// it), a misspelt attribute and a duplicate name.

#include "check/checker.hpp"
#include "templates/unet_template.hpp"

#include <benchmark/benchmark.h>

using namespace segforge::core;

namespace {

Graph unetWithMistakes() {
    UNetOptions o;
    o.depth = 5;
    o.size = 256;
    o.filters = 16;
    o.batchnorm = true;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    // dec4's skip from enc3 (one level too high): 32×32 meets 16×16.
    const NodeId dec4 = g.findNodeByName("dec4_concat")->id;
    g.disconnect(g.edgesInto({dec4, "a"}).front());
    g.connect({g.findNodeByName("enc3_relu2")->id, "output"}, {dec4, "a"});
    // A misspelt attribute (rename or remove it) and a duplicate name (rename).
    g.findNode(g.findNodeByName("iou")->id)->attrs["epsilom"] = 1e-6;
    g.findNode(g.findNodeByName("dice")->id)->name = "loss";
    return g;
}

void BM_CheckUNetDepth5WithMistakes(benchmark::State& state) {
    const Graph g = unetWithMistakes();
    CheckOptions options;
    options.verifyFixes = state.range(0) != 0;
    std::size_t fixes = 0;
    const CheckResult r = checkGraph(g, options);
    for (const Diagnostic& d : r.diagnostics)
        fixes += d.fixes.size();
    for (auto _ : state)
        benchmark::DoNotOptimize(checkGraph(g, options));
    state.counters["errors"] = static_cast<double>(r.count(Severity::Error));
    state.counters["fixes"] = static_cast<double>(fixes);
}
// 0: fixes unverified (as before), 1: every fix verified, causes searched.
BENCHMARK(BM_CheckUNetDepth5WithMistakes)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

void BM_CheckUNetDepth5CleanVerified(benchmark::State& state) {
    UNetOptions o;
    o.depth = 5;
    o.size = 256;
    o.batchnorm = true;
    const Graph g = std::get<Project>(makeUNetProject(o)).graph;
    CheckOptions options;
    options.verifyFixes = state.range(0) != 0;
    for (auto _ : state)
        benchmark::DoNotOptimize(checkGraph(g, options));
}
// A clean graph has no fix: verification costs nothing.
BENCHMARK(BM_CheckUNetDepth5CleanVerified)->Arg(0)->Arg(1)->Unit(benchmark::kMicrosecond);

} // namespace
