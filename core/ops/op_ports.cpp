#include "ops/op_ports.hpp"

#include <algorithm>

namespace segforge::core {

std::string variadicOutputName(const OpSchema& schema, int index) {
    const std::string first =
        schema.outputs.empty() ? std::string("output") : schema.outputs[0].name;
    return index == 0 ? first : first + "_" + std::to_string(index);
}

std::vector<std::string> outputNames(const OpSchema& schema, const Node& node) {
    std::vector<std::string> names;
    if (!schema.findAttr(kNumOutputsAttr)) {
        names.reserve(schema.outputs.size());
        for (const auto& p : schema.outputs)
            names.push_back(p.name);
        return names;
    }
    std::int64_t n = 1;
    if (auto it = node.attrs.find(kNumOutputsAttr); it != node.attrs.end()) {
        if (auto* i = std::get_if<std::int64_t>(&it->second))
            n = std::clamp<std::int64_t>(*i, 1, kMaxVariadicOutputs);
    }
    for (int i = 0; i < static_cast<int>(n); ++i)
        names.push_back(variadicOutputName(schema, i));
    return names;
}

bool hasOutputPort(const OpSchema& schema, const Node& node, std::string_view port) {
    const auto names = outputNames(schema, node);
    return std::find(names.begin(), names.end(), port) != names.end();
}

} // namespace segforge::core
