#include "engine/flop_count.hpp"

#include "check/checker.hpp"
#include "ops/op_registry.hpp"

#include <algorithm>

namespace segforge::core {

double convolutionFlops(const Graph& graph, std::int64_t batch) {
    double flops = 0;
    for (const auto& [id, f] : convolutionFlopsByNode(graph, batch))
        flops += f;
    return flops;
}

std::map<NodeId, double> convolutionFlopsByNode(const Graph& graph, std::int64_t batch) {
    const CheckResult check = checkGraph(graph, CheckOptions::withoutInputSizeSweep());
    const OpRegistry& registry = OpRegistry::builtin();
    std::map<NodeId, double> flops;
    for (const auto& [id, node] : graph.nodes()) {
        const OpSchema* schema = registry.find(node.op);
        if (!schema || !schema->flops.forward)
            continue; // declared free (ops/export_mapping.hpp)
        // Counted only where the checker inferred every output, from known inputs.
        auto checked = check.nodes.find(id);
        if (checked == check.nodes.end() || checked->second.outputs.empty() ||
            !std::all_of(checked->second.outputs.begin(), checked->second.outputs.end(),
                         [](const auto& t) { return t.has_value(); }))
            continue;
        AttrMap attrs;
        for (const AttrSpec& spec : schema->attrs) {
            auto it = node.attrs.find(spec.name);
            if (auto v =
                    coerceAttribute(spec, it == node.attrs.end() ? spec.defaultValue : it->second))
                attrs.emplace(spec.name, *v);
        }
        InteropView view{
            node, attrs, schema->inputNames(node), {}, checked->second.outputs.front()};
        for (const std::string& port : view.inputPorts) {
            auto producer = graph.producerOf({id, port});
            view.inputs.push_back(producer ? check.typeOf(*producer) : std::nullopt);
        }
        flops[id] = schema->flops.forward(view, batch);
    }
    return flops;
}

} // namespace segforge::core
