#include "check/check_result.hpp"

namespace segforge::core {

std::optional<TensorType> CheckResult::typeOf(const PortRef& output) const {
    auto it = nodes.find(output.node);
    if (it == nodes.end())
        return std::nullopt;
    const NodeCheck& nc = it->second;
    for (std::size_t i = 0; i < nc.outputNames.size(); ++i) {
        if (nc.outputNames[i] == output.port)
            return nc.outputs[i];
    }
    return std::nullopt;
}

const std::vector<ParamSpec>& CheckResult::paramsOf(NodeId node) const {
    static const std::vector<ParamSpec> none;
    auto it = nodes.find(node);
    return it == nodes.end() ? none : it->second.params;
}

std::int64_t CheckResult::parameterCount(NodeId node) const {
    std::int64_t n = 0;
    for (const auto& p : paramsOf(node))
        n += p.count();
    return n;
}

bool CheckResult::hasErrors() const {
    return count(Severity::Error) > 0;
}

std::size_t CheckResult::count(Severity severity) const {
    std::size_t n = 0;
    for (const auto& d : diagnostics)
        n += d.severity == severity ? 1 : 0;
    return n;
}

bool CheckResult::has(std::string_view code) const {
    for (const auto& d : diagnostics) {
        if (d.code == code)
            return true;
    }
    return false;
}

std::vector<const Diagnostic*> CheckResult::find(std::string_view code) const {
    std::vector<const Diagnostic*> out;
    for (const auto& d : diagnostics) {
        if (d.code == code)
            out.push_back(&d);
    }
    return out;
}

std::vector<const Diagnostic*> CheckResult::forNode(NodeId node) const {
    std::vector<const Diagnostic*> out;
    for (const auto& d : diagnostics) {
        if (d.node == node)
            out.push_back(&d);
    }
    return out;
}

} // namespace segforge::core
