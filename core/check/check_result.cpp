#include "check/check_result.hpp"

#include <string>

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

std::optional<std::array<SizeExpr, 2>> CheckResult::spatialOf(const PortRef& output) const {
    auto it = nodes.find(output.node);
    if (it == nodes.end())
        return std::nullopt;
    const NodeCheck& nc = it->second;
    for (std::size_t i = 0; i < nc.outputNames.size() && i < nc.spatial.size(); ++i) {
        if (nc.outputNames[i] == output.port)
            return nc.spatial[i];
    }
    return std::nullopt;
}

std::string CheckResult::label(const PortRef& output) const {
    const auto type = typeOf(output);
    if (!type)
        return "?";
    const auto spatial = freeSize ? spatialOf(output) : std::nullopt;
    if (!spatial || !type->shape.isImage())
        return type->toString();
    const Shape& s = type->shape;
    std::string text = s[0] == Shape::kBatch ? std::string("N") : std::to_string(s[0]);
    for (int axis = 0; axis < 2; ++axis) {
        const SizeExpr& e = (*spatial)[static_cast<std::size_t>(axis)];
        std::string dim;
        if (!e.isSymbolic()) {
            dim = std::to_string(s[axis + 1]);
        } else if (auto cls = freeSizes[static_cast<std::size_t>(axis)].commonClass();
                   cls && cls->first % e.modulus() == 0) {
            dim = e.toStringOnClass(cls->first, cls->second);
        } else {
            dim = e.toString();
        }
        text += "\u00d7" + dim;
    }
    text +=
        "\u00d7" + std::to_string(s.channels()) + " " + std::string(dtypeShortName(type->dtype));
    return text;
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
