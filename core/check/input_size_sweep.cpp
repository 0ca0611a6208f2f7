#include "check/input_size_sweep.hpp"

#include "check/checker.hpp"
#include "ops/op_helpers.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cstdlib>
#include <numeric>

namespace segforge::core {

bool isSizeDependentCode(std::string_view code) {
    return code == codes::kConcatShapeMismatch || code == codes::kElementwiseShapeMismatch ||
           code == codes::kLossShapeMismatch || code == codes::kSpatialCollapse;
}

std::string describeWorkingSizes(const std::vector<std::int64_t>& working, std::int64_t maxSize,
                                 std::int64_t* periodOut, std::int64_t* offsetOut) {
    if (periodOut)
        *periodOut = 0;
    if (offsetOut)
        *offsetOut = 0;
    if (working.empty())
        return strCat("none up to ", maxSize);
    if (working.size() == 1)
        return strCat("only ", working.front());
    std::int64_t period = 0;
    for (std::size_t i = 1; i < working.size(); ++i)
        period = std::gcd(period, working[i] - working[i - 1]);
    const std::int64_t first = working.front();
    const auto expected = static_cast<std::size_t>((maxSize - first) / period + 1);
    if (expected == working.size()) {
        if (periodOut)
            *periodOut = period;
        if (offsetOut)
            *offsetOut = first % period;
        if (period == 1)
            return strCat("any size from ", first);
        if (first % period == 0)
            return strCat("multiples of ", period, ", from ", first);
        return strCat(period, "k + ", first % period, " (", first, ", ", first + period, ", ",
                      first + 2 * period, ", …)");
    }
    std::string list;
    for (std::size_t i = 0; i < working.size() && i < 8; ++i)
        list += strCat(i ? ", " : "", working[i]);
    return list + (working.size() > 8 ? ", …" : "");
}

namespace {

void fillDimension(DimensionReport& dim, const std::vector<std::int64_t>& working,
                   std::int64_t current, std::int64_t maxSize) {
    dim.current = current;
    dim.working = working;
    dim.currentWorks = std::binary_search(working.begin(), working.end(), current);
    dim.rule = describeWorkingSizes(working, maxSize, &dim.period, &dim.offset);
    std::int64_t best = 0;
    for (std::int64_t w : working) {
        // Closest wins; on a tie the larger size, which keeps more detail.
        if (best == 0 || std::llabs(w - current) <= std::llabs(best - current))
            best = w;
    }
    dim.nearest = best;
}

} // namespace

InputSizeReport sweepInputSizes(const Graph& graph, int maxSize, const OpRegistry& registry) {
    InputSizeReport report;
    std::int64_t height = 0;
    std::int64_t width = 0;
    for (const auto& [id, node] : graph.nodes()) {
        const OpSchema* s = registry.find(node.op);
        if (!s || s->role != OpRole::Source || !s->findAttr("height") || !s->findAttr("width"))
            continue;
        auto h = ops::resolvedAttr(node, "height");
        auto w = ops::resolvedAttr(node, "width");
        if (!h || !w)
            continue;
        if (report.sources.empty()) {
            height = std::get<std::int64_t>(*h);
            width = std::get<std::int64_t>(*w);
        }
        report.sources.push_back(id);
    }
    if (report.sources.empty())
        return report;
    report.applicable = true;

    // Spatial dimensions propagate independently through every op here, so a
    // sweep of square sizes tells which heights and which widths work.
    Graph probe = graph;
    CheckOptions quick;
    quick.diagnoseInputSize = false;
    std::vector<std::int64_t> working;
    for (std::int64_t size = 1; size <= maxSize; ++size) {
        for (NodeId id : report.sources) {
            Node* n = probe.findNode(id);
            n->attrs["height"] = size;
            n->attrs["width"] = size;
        }
        CheckResult r = checkGraph(probe, quick, registry);
        bool ok = std::none_of(r.diagnostics.begin(), r.diagnostics.end(),
                               [](const Diagnostic& d) { return isSizeDependentCode(d.code); });
        if (ok)
            working.push_back(size);
    }
    fillDimension(report.height, working, height, maxSize);
    fillDimension(report.width, working, width, maxSize);
    return report;
}

} // namespace segforge::core
