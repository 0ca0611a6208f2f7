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

namespace {

/// A dimension as a label shows it between "×": without spaces, and in
/// parentheses when it is a sum ("(H−2)"), so "N×(H−2)×(W−2)×32" reads as one.
std::string compactDimension(const std::string& text) {
    static const std::string kFloorOpen = "\u230a";  // ⌊
    static const std::string kFloorClose = "\u230b"; // ⌋
    std::string out;
    int depth = 0;
    bool sum = false;
    for (std::size_t i = 0; i < text.size();) {
        if (text.compare(i, kFloorOpen.size(), kFloorOpen) == 0) {
            ++depth;
            out += kFloorOpen;
            i += kFloorOpen.size();
            continue;
        }
        if (text.compare(i, kFloorClose.size(), kFloorClose) == 0) {
            --depth;
            out += kFloorClose;
            i += kFloorClose.size();
            continue;
        }
        const char c = text[i++];
        depth += c == '(' ? 1 : (c == ')' ? -1 : 0);
        if (c == ' ') {
            sum = sum || depth == 0;
            continue;
        }
        out += c;
    }
    return sum ? "(" + out + ")" : out;
}

} // namespace

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
        text += "\u00d7" + compactDimension(dim);
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
