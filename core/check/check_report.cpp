#include "check/check_report.hpp"

#include "check/fix_application.hpp"
#include "util/str_cat.hpp"

#include <sstream>

namespace segforge::core {

using nlohmann::json;

namespace {

json shapeJson(const Shape& s) {
    json dims = json::array();
    for (std::int64_t d : s.dims()) {
        if (d == Shape::kBatch)
            dims.push_back(nullptr);
        else
            dims.push_back(d);
    }
    return dims;
}

json dimensionJson(const DimensionReport& d) {
    json examples = json::array();
    for (std::int64_t v : d.sizes.first(8))
        examples.push_back(v);
    return {{"current", d.current}, {"works", d.currentWorks}, {"rule", d.rule},
            {"period", d.period},   {"offset", d.offset},      {"nearest", d.nearest},
            {"below", d.below},     {"above", d.above},        {"examples", examples}};
}

std::string nodeName(const Graph& g, NodeId id) {
    const Node* n = g.findNode(id);
    return n ? n->name : std::string();
}

} // namespace

json checkReportToJson(const Graph& graph, const CheckResult& result,
                       const InputSizeReport& sizes) {
    json nodes = json::array();
    for (const auto& [id, node] : graph.nodes()) {
        json outputs = json::array();
        auto it = result.nodes.find(id);
        if (it != result.nodes.end()) {
            const NodeCheck& nc = it->second;
            for (std::size_t k = 0; k < nc.outputNames.size(); ++k) {
                json o = {{"port", nc.outputNames[k]}};
                if (nc.outputs[k]) {
                    o["shape"] = shapeJson(nc.outputs[k]->shape);
                    o["dtype"] = std::string(dtypeName(nc.outputs[k]->dtype));
                    o["type"] = nc.outputs[k]->toString();
                } else {
                    o["shape"] = nullptr;
                    o["dtype"] = nullptr;
                }
                outputs.push_back(std::move(o));
            }
        }
        nodes.push_back({{"id", id},
                         {"name", node.name},
                         {"op", node.op},
                         {"outputs", outputs},
                         {"parameters", result.parameterCount(id)}});
    }
    json diagnostics = json::array();
    for (const Diagnostic& d : result.diagnostics) {
        json fixes = json::array();
        for (std::size_t k = 0; k < d.fixes.size(); ++k) {
            const FixIt& f = d.fixes[k];
            json edits = json::array();
            for (const GraphEdit& e : f.edits)
                edits.push_back(describeEdit(graph, e));
            // "index" is the fix's place in the diagnostic's list, and "apply"
            // names it for `segforge-cli fix --apply` as it is.
            const int index = static_cast<int>(k) + 1;
            fixes.push_back({{"index", index},
                             {"description", f.description},
                             {"rank", std::string(fixRankName(f.rank))},
                             {"reason", f.reason},
                             {"apply", toString(fixRequestFor(graph, d, index))},
                             {"edits", edits}});
        }
        diagnostics.push_back(
            {{"severity", std::string(severityName(d.severity))},
             {"code", d.code},
             {"node", d.node == kNoNode ? json(nullptr) : json(d.node)},
             {"node_name", d.node == kNoNode ? json(nullptr) : json(nodeName(graph, d.node))},
             {"port", d.port.empty() ? json(nullptr) : json(d.port)},
             {"message", d.message},
             {"fixes", fixes}});
    }
    json inputSizes = json::object();
    if (sizes.applicable) {
        json sources = json::array();
        for (NodeId id : sizes.sources)
            sources.push_back(nodeName(graph, id));
        inputSizes = {{"sources", sources},
                      {"height", dimensionJson(sizes.height)},
                      {"width", dimensionJson(sizes.width)}};
    }
    return {{"nodes", nodes},
            {"diagnostics", diagnostics},
            {"input_sizes", inputSizes},
            {"summary",
             {{"errors", result.count(Severity::Error)},
              {"warnings", result.count(Severity::Warning)}}}};
}

std::string diagnosticToText(const Graph& graph, const Diagnostic& d,
                             const std::string& fileLabel) {
    std::ostringstream out;
    out << fileLabel << ": " << severityName(d.severity) << "[" << d.code << "]";
    if (d.node != kNoNode) {
        out << " '" << nodeName(graph, d.node) << "'";
        if (!d.port.empty())
            out << "." << d.port;
    }
    out << ": " << d.message << "\n";
    for (std::size_t i = 0; i < d.fixes.size(); ++i) {
        const FixIt& f = d.fixes[i];
        const int index = static_cast<int>(i) + 1;
        out << "  fix " << index << ": " << f.description << " [" << fixRankName(f.rank)
            << (f.reason.empty() ? "" : ": ") << f.reason << "] ("
            << toString(fixRequestFor(graph, d, index)) << ")\n";
    }
    return out.str();
}

std::string checkReportToText(const Graph& graph, const CheckResult& result,
                              const InputSizeReport& sizes, const std::string& fileLabel) {
    std::ostringstream out;
    out << fileLabel << ": " << graph.nodeCount() << " nodes, " << graph.edges().size()
        << " edges\n";
    std::int64_t params = 0;
    for (NodeId id : result.order) {
        const Node& node = *graph.findNode(id);
        params += result.parameterCount(id);
        auto it = result.nodes.find(id);
        if (it == result.nodes.end())
            continue;
        const NodeCheck& nc = it->second;
        for (std::size_t k = 0; k < nc.outputNames.size(); ++k) {
            std::string label = node.name + "." + nc.outputNames[k];
            out << "  " << label << std::string(label.size() < 32 ? 32 - label.size() : 1, ' ')
                << result.label({id, nc.outputNames[k]}) << "\n";
        }
    }
    out << "  parameters: " << params << "\n";
    if (sizes.applicable) {
        out << "  input sizes that work: " << sizes.height.rule << "; " << sizes.width.rule << "\n";
    }
    for (const Diagnostic& d : result.diagnostics)
        out << "\n" << diagnosticToText(graph, d, fileLabel);
    const std::size_t errors = result.count(Severity::Error);
    const std::size_t warnings = result.count(Severity::Warning);
    out << "\n"
        << (errors == 0 ? "ok: " : "") << errors << (errors == 1 ? " error, " : " errors, ")
        << warnings << (warnings == 1 ? " warning" : " warnings") << "\n";
    return out.str();
}

} // namespace segforge::core
