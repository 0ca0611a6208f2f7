#include "ops/op_schema.hpp"

#include "util/str_cat.hpp"

#include <stdexcept>

namespace segforge::core {

std::int64_t ParamSpec::count() const {
    std::int64_t n = 1;
    for (std::int64_t d : shape)
        n *= d;
    return n;
}

InferContext::InferContext(const Graph& graph, const Node& node, const OpSchema& schema,
                           const AttrMap& attrs, const std::vector<std::string>& inputNames,
                           const std::vector<std::optional<TensorType>>& inputs,
                           const std::vector<std::optional<Edge>>& inputEdges,
                           std::vector<Diagnostic>& diagnostics)
    : m_graph(graph)
    , m_node(node)
    , m_schema(schema)
    , m_attrs(attrs)
    , m_inputNames(inputNames)
    , m_inputs(inputs)
    , m_inputEdges(inputEdges)
    , m_diagnostics(diagnostics) {}

const AttrValue& InferContext::attr(std::string_view name) const {
    auto it = m_attrs.find(name);
    if (it == m_attrs.end()) // a schema bug, not a user error
        throw std::logic_error(strCat(m_schema.name, " has no attribute '", name, "'"));
    return it->second;
}

std::int64_t InferContext::getInt(std::string_view name) const {
    return std::get<std::int64_t>(attr(name));
}
double InferContext::getFloat(std::string_view name) const {
    return std::get<double>(attr(name));
}
bool InferContext::getBool(std::string_view name) const {
    return std::get<bool>(attr(name));
}
const std::string& InferContext::getString(std::string_view name) const {
    return std::get<std::string>(attr(name));
}
std::array<std::int64_t, 2> InferContext::getPair(std::string_view name) const {
    const auto& v = getList(name);
    return {v.at(0), v.at(1)};
}
const std::vector<std::int64_t>& InferContext::getList(std::string_view name) const {
    return std::get<std::vector<std::int64_t>>(attr(name));
}

std::string InferContext::label() const {
    return strCat(m_schema.name, " '", m_node.name, "'");
}

std::string InferContext::portLabel(const std::string& port) const {
    return strCat("'", m_node.name, "'.", port);
}

Diagnostic& InferContext::report(Severity severity, std::string_view code, std::string port,
                                 std::string message) {
    Diagnostic d;
    d.severity = severity;
    d.code = std::string(code);
    d.node = m_node.id;
    d.port = std::move(port);
    d.message = std::move(message);
    m_diagnostics.push_back(std::move(d));
    return m_diagnostics.back();
}

const AttrSpec* OpSchema::findAttr(std::string_view attrName) const {
    for (const auto& a : attrs) {
        if (a.name == attrName)
            return &a;
    }
    return nullptr;
}

std::vector<std::string> OpSchema::inputNames(const Node& node) const {
    std::vector<std::string> names;
    if (!variadicInputs) {
        names.reserve(inputs.size());
        for (const auto& p : inputs)
            names.push_back(p.name);
        return names;
    }
    std::int64_t n = 2;
    if (auto it = node.attrs.find("num_inputs"); it != node.attrs.end()) {
        if (auto* i = std::get_if<std::int64_t>(&it->second))
            n = std::clamp<std::int64_t>(*i, 1, kMaxVariadicInputs);
    }
    for (std::int64_t i = 0; i < n; ++i)
        names.emplace_back(1, static_cast<char>('a' + i));
    return names;
}

bool OpSchema::hasInput(const Node& node, std::string_view port) const {
    for (const auto& n : inputNames(node)) {
        if (n == port)
            return true;
    }
    return false;
}

bool OpSchema::hasOutput(std::string_view port) const {
    for (const auto& p : outputs) {
        if (p.name == port)
            return true;
    }
    return false;
}

const std::vector<DType>& OpSchema::acceptedDTypes(std::string_view port) const {
    if (variadicInputs)
        return inputs.front().accepts;
    for (const auto& p : inputs) {
        if (p.name == port)
            return p.accepts;
    }
    static const std::vector<DType> none;
    return none;
}

} // namespace segforge::core
