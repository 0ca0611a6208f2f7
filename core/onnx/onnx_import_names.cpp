#include "onnx/onnx_importer.hpp"

#include <cctype>

// Node names: an ONNX node's name sanitised to letters, digits and '_'.

namespace segforge::core::interop {

namespace {

/// Path components joined by '_', with only [A-Za-z0-9_] kept.
std::string joinSanitised(const std::vector<std::string>& parts) {
    std::string out;
    for (const std::string& p : parts) {
        for (char ch : p) {
            const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                            (ch >= '0' && ch <= '9') || ch == '_';
            const char c = ok ? ch : '_';
            if (c == '_' && (out.empty() || out.back() == '_'))
                continue;
            out += c;
        }
        if (!out.empty() && out.back() != '_')
            out += '_';
    }
    while (!out.empty() && out.back() == '_')
        out.pop_back();
    return out;
}

} // namespace

std::string OnnxImporter::baseName(const OnnxNodeDef& node, const std::string& suffix) const {
    // torch.onnx.export names a node by its module path and op: "/enc1/conv/Conv",
    // "/enc1/Relu_1". The path alone names it when it is free ("enc1_conv");
    // else the op, lower-cased, tells it apart ("enc1_relu_1").
    std::vector<std::string> parts;
    std::string part;
    for (char ch : node.name + "/") {
        if (ch == '/' || ch == '.' || ch == ':') {
            if (!part.empty())
                parts.push_back(part);
            part.clear();
        } else {
            part += ch;
        }
    }
    const std::string& op = node.opType;
    std::string out;
    if (parts.size() > 1 && !op.empty() && parts.back().rfind(op, 0) == 0 &&
        (parts.back().size() == op.size() || parts.back()[op.size()] == '_')) {
        std::string last = parts.back();
        parts.pop_back();
        out = joinSanitised(parts);
        if (!out.empty() && m_graph.findNodeByName(out + suffix)) {
            for (char& c : last)
                c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
            parts.push_back(last);
            out = joinSanitised(parts);
        }
    } else {
        out = joinSanitised(parts);
    }
    if (out.empty() || (out[0] >= '0' && out[0] <= '9'))
        out = op.empty() ? "node" + out : op + (out.empty() ? "" : "_" + out);
    return out + suffix;
}

} // namespace segforge::core::interop
