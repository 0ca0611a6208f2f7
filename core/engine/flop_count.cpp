#include "engine/flop_count.hpp"

#include "check/checker.hpp"

namespace segforge::core {

namespace {

double pixels(const std::optional<TensorType>& type, std::int64_t batch) {
    if (!type || type->shape.rank() != 4)
        return 0;
    return static_cast<double>(batch) * static_cast<double>(type->shape[1]) * static_cast<double>(type->shape[2]);
}

} // namespace

double convolutionFlops(const Graph& graph, std::int64_t batch) {
    double flops = 0;
    for (const auto& [id, f] : convolutionFlopsByNode(graph, batch))
        flops += f;
    return flops;
}

std::map<NodeId, double> convolutionFlopsByNode(const Graph& graph, std::int64_t batch) {
    const CheckResult check = checkGraph(graph, CheckOptions{false, 64});
    std::map<NodeId, double> flops;
    for (const auto& [id, node] : graph.nodes()) {
        const bool transposed = node.op == "Conv2DTranspose";
        if (node.op != "Conv2D" && !transposed)
            continue;
        const auto& params = check.paramsOf(id);
        if (params.empty())
            continue;
        double kernel = 1;
        for (std::int64_t d : params.front().shape)
            kernel *= static_cast<double>(d);
        std::optional<TensorType> where;
        if (transposed) {
            if (auto producer = graph.producerOf({id, "input"}))
                where = check.typeOf(*producer);
        } else {
            where = check.typeOf({id, "output"});
        }
        flops[id] = 2 * kernel * pixels(where, batch);
    }
    return flops;
}

} // namespace segforge::core
