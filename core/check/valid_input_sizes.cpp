#include "check/valid_input_sizes.hpp"

#include "check/checker.hpp"
#include "ops/op_helpers.hpp"

namespace segforge::core {

bool isSizeDependentCode(std::string_view code) {
    return code == codes::kConcatShapeMismatch || code == codes::kElementwiseShapeMismatch ||
           code == codes::kLossShapeMismatch || code == codes::kSpatialCollapse;
}

namespace {

void fillDimension(DimensionReport& dim, SizeSet sizes, std::int64_t current,
                   const std::string& name) {
    dim.current = current;
    dim.sizes = std::move(sizes);
    dim.currentWorks = dim.sizes.contains(current);
    dim.rule = dim.sizes.describe(name);
    std::tie(dim.period, dim.offset) = dim.sizes.periodAndOffset();
    dim.nearest = dim.sizes.nearest(current).value_or(0);
    dim.below = dim.sizes.atMost(current).value_or(0);
    dim.above = dim.sizes.atLeast(current).value_or(0);
}

} // namespace

InputSizeReport validInputSizes(const Graph& graph, const CheckResult& result,
                                const OpRegistry& registry) {
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
    fillDimension(report.height, deriveSizeSet(result.sizeConstraints, 0), height, "H");
    fillDimension(report.width, deriveSizeSet(result.sizeConstraints, 1), width, "W");
    return report;
}

InputSizeReport validInputSizes(const Graph& graph, const OpRegistry& registry) {
    return validInputSizes(
        graph, checkGraph(graph, CheckOptions::withoutInputSizeSweep(), registry), registry);
}

} // namespace segforge::core
