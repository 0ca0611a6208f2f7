#include "check/checker.hpp"
#include "layout/graph_layout.hpp"
#include "layout/level_groups.hpp"
#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"
#include "ops/builtin_ops.hpp"
#include "ops/op_ports.hpp"
#include "ops/op_registry.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <fstream>
#include <set>

// The ONNX import's driver: graph inputs become Input nodes, each node is
// folded (shape-only arithmetic), translated by the op table or left as an
// OnnxNode placeholder, then the translation is checked against the shapes it
// tracked, laid out, and the weights are collected.

namespace segforge::core {

namespace interop {

namespace {

/// The NCHW shape written as the placeholder's "H,W,C" ('?' unknown).
std::string declaredHwc(const std::vector<std::int64_t>& nchw) {
    if (nchw.size() != 4)
        return "";
    auto dim = [](std::int64_t d) { return d > 0 ? std::to_string(d) : std::string("?"); };
    return strCat(dim(nchw[2]), ",", dim(nchw[3]), ",", dim(nchw[1]));
}

/// ONNX ops whose output has the shape of their inputs broadcast together
/// (element-wise maths and normalisations): a placeholder for one of them
/// passes the shape on when the file declares none, so the network after it
/// is still translated and checked.
bool keepsBroadcastShape(const std::string& opType) {
    static const std::set<std::string> ops{"Abs",         "Acos",
                                           "Acosh",       "Asin",
                                           "Asinh",       "Atan",
                                           "Atanh",       "Celu",
                                           "Clip",        "Cos",
                                           "Cosh",        "Div",
                                           "Elu",         "Erf",
                                           "Exp",         "Gelu",
                                           "HardSigmoid", "HardSwish",
                                           "Hardmax",     "InstanceNormalization",
                                           "LRN",         "LayerNormalization",
                                           "Log",         "LogSoftmax",
                                           "Max",         "Mean",
                                           "Min",         "Mish",
                                           "Neg",         "Pow",
                                           "PRelu",       "Reciprocal",
                                           "Round",       "Selu",
                                           "Shrink",      "Sign",
                                           "Sin",         "Sinh",
                                           "Softmax",     "Softplus",
                                           "Softsign",    "Sqrt",
                                           "Sub",         "Sum",
                                           "Tan",         "ThresholdedRelu"};
    return ops.count(opType) > 0;
}

/// NumPy broadcasting of shapes (right-aligned; a 1 stretches); empty when
/// they do not broadcast.
std::vector<std::int64_t> broadcastShapes(const std::vector<std::vector<std::int64_t>>& shapes) {
    std::size_t rank = 0;
    for (const auto& s : shapes)
        rank = std::max(rank, s.size());
    std::vector<std::int64_t> out(rank, 1);
    for (const auto& s : shapes)
        for (std::size_t i = 0; i < s.size(); ++i) {
            std::int64_t& o = out[rank - s.size() + i];
            if (s[i] == o || s[i] == 1)
                continue;
            if (o != 1 || s[i] < 1)
                return {};
            o = s[i];
        }
    return out;
}

} // namespace

// --- OnnxImporter -----------------------------------------------------------

OnnxImporter::OnnxImporter(const OnnxFile& file, const std::string& label,
                           const OnnxImportOptions& options)
    : m_file(file)
    , m_options(options)
    , m_log(label, "nodes") {}

const OnnxValueState* OnnxImporter::value(const std::string& name) const {
    auto it = m_values.find(name);
    return it == m_values.end() ? nullptr : &it->second;
}

const OnnxTensor* OnnxImporter::constantInput(const OnnxNodeDef& node, std::size_t i) const {
    if (i >= node.inputs.size() || node.inputs[i].empty())
        return nullptr;
    const OnnxValueState* v = value(node.inputs[i]);
    return v ? v->constant : nullptr;
}

std::optional<OnnxWeight> OnnxImporter::weightInput(const OnnxNodeDef& node, std::size_t i) {
    if (i >= node.inputs.size() || node.inputs[i].empty())
        return std::nullopt;
    const std::string& name = node.inputs[i];
    if (const OnnxTensor* t = constantInput(node, i)) {
        if (!t->isFloat() || t->floats.size() != static_cast<std::size_t>(t->elementCount()))
            return std::nullopt;
        return OnnxWeight{t->dims, &t->floats};
    }
    if (auto it = m_weightInputs.find(name); it != m_weightInputs.end())
        return OnnxWeight{it->second, nullptr};
    return std::nullopt;
}

const OnnxValueState* OnnxImporter::imageInput(const OnnxNodeDef& node, std::size_t i,
                                               std::string& why) const {
    if (i >= node.inputs.size() || node.inputs[i].empty()) {
        why = strCat("input ", i + 1, " is missing");
        return nullptr;
    }
    const OnnxValueState* v = value(node.inputs[i]);
    if (!v || !v->port) {
        why = strCat("input '", node.inputs[i], "' is ", v ? "a constant" : "not produced",
                     ", not a tensor of the network");
        return nullptr;
    }
    if (v->shape.size() != 4 ||
        std::any_of(v->shape.begin() + 1, v->shape.end(), [](std::int64_t d) { return d < 1; })) {
        why =
            strCat("input '", node.inputs[i], "' has ",
                   v->shape.empty() ? std::string("no known shape")
                                    : "shape " + onnxShapeText(v->shape) + ", not a known N×C×H×W");
        return nullptr;
    }
    return v;
}

NodeId OnnxImporter::addNode(const char* op, const OnnxNodeDef& from, const std::string& suffix,
                             AttrMap attrs, const std::vector<PortRef>& inputs) {
    Node node;
    node.op = op;
    node.name = m_graph.uniqueName(baseName(from, suffix));
    node.attrs = std::move(attrs);
    const OpSchema* schema = OpRegistry::builtin().find(op);
    const std::vector<std::string> ports = schema->inputNames(node);
    const NodeId id = m_graph.addNode(std::move(node));
    for (std::size_t k = 0; k < inputs.size() && k < ports.size(); ++k)
        m_graph.connect(inputs[k], {id, ports[k]});
    return id;
}

void OnnxImporter::bind(const std::string& name, PortRef port, std::vector<std::int64_t> shape,
                        bool nonNegative) {
    OnnxValueState& v = m_values[name];
    v = {};
    v.port = port;
    v.shape = std::move(shape);
    v.nonNegative = nonNegative;
}

void OnnxImporter::alias(const std::string& name, const std::string& to) {
    if (const OnnxValueState* v = value(to))
        m_values[name] = *v;
}

void OnnxImporter::bindConstant(const std::string& name, OnnxTensor tensor) {
    tensor.name = name;
    m_owned.push_back(std::move(tensor));
    m_tensors[name] = &m_owned.back();
    m_values[name] = {};
    m_values[name].constant = &m_owned.back();
    m_values[name].shape = m_owned.back().dims;
}

void OnnxImporter::setWeight(NodeId node, const std::string& param, Tensor value) {
    m_weights[nodeName(node) + "/" + param] = std::move(value);
}

std::vector<const OnnxNodeDef*> OnnxImporter::consumers(const std::string& name) const {
    std::vector<const OnnxNodeDef*> out;
    if (auto it = m_consumers.find(name); it != m_consumers.end())
        for (std::size_t i : it->second)
            out.push_back(&m_file.graph.nodes[i]);
    return out;
}

bool OnnxImporter::isGraphOutput(const std::string& name) const {
    return std::any_of(m_file.graph.outputs.begin(), m_file.graph.outputs.end(),
                       [&](const OnnxValue& v) { return v.name == name; });
}

const std::string& OnnxImporter::nodeName(NodeId id) const {
    return m_graph.findNode(id)->name;
}

/// Initializers (or state_dict tensors in their place), declared shapes, and
/// which graph inputs are parameters (export_params=False) rather than images.
void OnnxImporter::indexInputs() {
    const OnnxGraphDef& g = m_file.graph;
    for (const OnnxValue& v : g.valueInfo)
        if (v.hasShape)
            m_declared[v.name] = v.dims;
    for (const OnnxValue& v : g.outputs)
        if (v.hasShape)
            m_declared[v.name] = v.dims;
    std::set<std::string> used;
    auto fromStateDict = [&](const std::string& name,
                             const std::vector<std::int64_t>& dims) -> const OnnxTensor* {
        if (!m_options.stateDict)
            return nullptr;
        auto it = m_options.stateDict->find(name);
        if (it == m_options.stateDict->end())
            return nullptr;
        used.insert(name);
        const Tensor& t = it->second;
        if (t.shape().dims() != dims) {
            m_log.warning("", strCat(m_options.stateDictLabel, ": tensor '", name, "' is ",
                                     onnxShapeText(t.shape().dims()), " but the model's '", name,
                                     "' is ", onnxShapeText(dims),
                                     "; the model's own values are kept"));
            return nullptr;
        }
        if (t.dtype() != DType::Float32) {
            m_log.warning("", strCat(m_options.stateDictLabel, ": tensor '", name,
                                     "' is not float32; the model's own values are kept"));
            return nullptr;
        }
        OnnxTensor copy;
        copy.name = name;
        copy.type = OnnxElem::Float;
        copy.dims = dims;
        copy.floats.assign(t.f32(), t.f32() + t.numel());
        m_owned.push_back(std::move(copy));
        ++m_stateDictMatched;
        return &m_owned.back();
    };
    for (const OnnxTensor& t : g.initializers) {
        m_initializers.insert(t.name);
        const OnnxTensor* use = fromStateDict(t.name, t.dims);
        m_tensors[t.name] = use ? use : &t;
        m_values[t.name].constant = m_tensors[t.name];
        m_values[t.name].shape = t.dims;
    }
    // torch.onnx.export stores parameters with equal values once (the 1s and
    // 0s of untrained BatchNorms) and names each other one through an Identity
    // of that initializer: a state_dict tensor of the Identity's name is that
    // layer's own value.
    if (m_options.stateDict)
        for (const OnnxNodeDef& n : g.nodes) {
            if (n.opType != "Identity" || n.inputs.size() != 1 || n.outputs.size() != 1 ||
                !m_initializers.count(n.inputs[0]))
                continue;
            const OnnxTensor* source = m_tensors[n.inputs[0]];
            if (const OnnxTensor* own = fromStateDict(n.outputs[0], source->dims)) {
                m_tensors[n.outputs[0]] = own;
                m_values[n.outputs[0]].constant = own;
                m_values[n.outputs[0]].shape = own->dims;
                absorb(n);
            }
        }
    // Graph inputs consumed in a parameter slot (a convolution's weight and
    // bias, BatchNorm's statistics) are weights (export_params=False).
    static const std::set<std::string> withParameters{
        "Conv",   "ConvTranspose", onnx_op::kBatchNormalization, "Gemm",
        "MatMul", "PRelu",         "InstanceNormalization"};
    for (std::size_t i = 0; i < g.nodes.size(); ++i)
        for (const std::string& in : g.nodes[i].inputs)
            if (!in.empty() && (m_consumers[in].empty() || m_consumers[in].back() != i))
                m_consumers[in].push_back(i);
    std::set<std::string> paramSlots;
    for (const OnnxNodeDef& n : g.nodes)
        if (withParameters.count(n.opType))
            for (std::size_t i = 1; i < n.inputs.size(); ++i)
                paramSlots.insert(n.inputs[i]);
    for (const OnnxValue& in : g.inputs) {
        if (m_tensors.count(in.name))
            continue;
        if (paramSlots.count(in.name) && in.hasShape &&
            std::all_of(in.dims.begin(), in.dims.end(), [](std::int64_t d) { return d >= 0; })) {
            if (const OnnxTensor* t = fromStateDict(in.name, in.dims)) {
                m_tensors[in.name] = t;
                m_values[in.name].constant = t;
                m_values[in.name].shape = t->dims;
            } else {
                m_weightInputs[in.name] = in.dims;
            }
            continue;
        }
        addGraphInput(in);
    }
    if (m_options.stateDict) {
        std::vector<std::string> unused;
        for (const auto& [name, t] : *m_options.stateDict)
            if (!used.count(name))
                unused.push_back(name);
        m_unusedStateDict = std::move(unused);
    }
    if (!m_weightInputs.empty())
        m_log.warning("", strCat(m_weightInputs.size(),
                                 " parameter(s) are graph inputs without values (exported with "
                                 "export_params=False) and no state_dict gave them: those layers "
                                 "start from SegForge's initialisers (import with --weights "
                                 "state_dict.safetensors to bring the trained values)"));
}

void OnnxImporter::placeholder(const OnnxNodeDef& node, const std::string& reason) {
    std::vector<PortRef> inputs;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        const OnnxValueState* v = node.inputs[i].empty() ? nullptr : value(node.inputs[i]);
        if (v && v->port)
            inputs.push_back(*v->port);
        else if (v && v->constant && m_initializers.count(node.inputs[i]))
            m_placeholderInits.push_back(node.inputs[i]);
    }
    std::string shapes;
    std::vector<std::vector<std::int64_t>> outShapes;
    for (std::size_t k = 0; k < node.outputs.size(); ++k) {
        auto it = m_declared.find(node.outputs[k]);
        outShapes.push_back(it != m_declared.end() ? it->second : std::vector<std::int64_t>{});
        if (outShapes.back().empty() && k == 0 && keepsBroadcastShape(node.opType)) {
            std::vector<std::vector<std::int64_t>> operands;
            bool known = true;
            for (const std::string& in : node.inputs)
                if (const OnnxValueState* v = in.empty() ? nullptr : value(in))
                    operands.push_back(v->shape);
                else
                    known = known && in.empty();
            if (known && !operands.empty())
                outShapes.back() = broadcastShapes(operands);
        }
        shapes += (k ? ";" : "") + declaredHwc(outShapes.back());
    }
    const auto outputs = std::max<std::size_t>(1, node.outputs.size());
    AttrMap attrs{
        {"op_type", node.domain.empty() ? node.opType : node.domain + "." + node.opType},
        {"onnx_name", node.name},
        {"reason", reason},
        {"num_inputs", static_cast<std::int64_t>(std::max<std::size_t>(1, inputs.size()))},
        {kNumOutputsAttr, static_cast<std::int64_t>(outputs)}};
    if (shapes.find_first_not_of(';') != std::string::npos)
        attrs["output_shapes"] = shapes;
    const NodeId id = addNode(ops::kOnnxNodeOp, node, "", std::move(attrs), inputs);
    const OpSchema* schema = OpRegistry::builtin().find(ops::kOnnxNodeOp);
    const std::vector<std::string> ports = outputNames(*schema, *m_graph.findNode(id));
    for (std::size_t k = 0; k < node.outputs.size() && k < ports.size(); ++k) {
        std::vector<std::int64_t> s = outShapes[k];
        if (declaredHwc(s).find('?') != std::string::npos || s.size() != 4)
            s.clear(); // the placeholder answers no type for it
        bind(node.outputs[k], {id, ports[k]}, s);
    }
    ++m_placeholders;
    const std::string op = node.domain.empty() ? node.opType : node.domain + "." + node.opType;
    m_log.warning("",
                  strCat("node '", node.name, "' (", op, "): ", reason,
                         "; imported as an OnnxNode placeholder (unsupported-op)"),
                  {strCat("ONNX ", op, " imported as an OnnxNode placeholder (unsupported-op)"),
                   nodeName(id)});
}

void OnnxImporter::translate(const OnnxNodeDef& node) {
    if (!node.domain.empty() && node.domain != "ai.onnx") {
        placeholder(node, "operator of the domain '" + node.domain + "'");
        return;
    }
    OnnxOpTranslator fn = onnxOpTranslator(node.opType);
    if (node.outputs.empty() || node.outputs[0].empty()) {
        placeholder(node, "it has no output");
        return;
    }
    if (!fn) {
        placeholder(node, "SegForge has no op for it");
        return;
    }
    const std::string reason = fn(*this, node);
    if (!reason.empty())
        placeholder(node, reason);
}

/// The checker's NHWC type of every wire against the NCHW shape the
/// translation tracked: a disagreement is a translation bug, said as such.
void OnnxImporter::verifyShapes() {
    CheckResult r = checkGraph(m_graph, CheckOptions::withoutInputSizeSweep());
    for (const auto& [name, v] : m_values) {
        if (!v.port || v.shape.size() != 4)
            continue;
        auto type = r.typeOf(*v.port);
        if (!type || type->shape.rank() != 4)
            continue;
        const Shape& s = type->shape;
        if (s.height() != v.shape[2] || s.width() != v.shape[3] || s.channels() != v.shape[1])
            m_log.warning("", strCat("internal: '", name, "' is ", onnxShapeText(v.shape),
                                     " in ONNX but SegForge computes ", s.toString(), " at '",
                                     nodeName(v.port->node),
                                     "' — the translation is wrong here; please report it"));
    }
}

OnnxImport OnnxImporter::run() {
    OnnxImport out;
    indexInputs();
    if (m_log.errors().empty()) {
        for (const OnnxNodeDef& node : m_file.graph.nodes) {
            if (m_absorbed.count(node.index))
                continue;
            bool known = true;
            for (const std::string& in : node.inputs)
                known = known && (in.empty() || value(in) || m_weightInputs.count(in));
            if (!known) {
                m_log.error("",
                            strCat("node '", node.name, "' (", node.opType,
                                   ") reads a value no earlier node produces (the nodes are not "
                                   "in topological order, or the graph is cut)"));
                break;
            }
            if (!fold(node))
                translate(node);
        }
    }
    if (!m_log.errors().empty()) {
        out.errors = m_log.errors();
        out.warnings = m_log.warnings();
        return out;
    }
    if (!m_freeInputs.empty())
        m_log.note(strCat("the input's height or width is free (symbolic) in the file: it is kept "
                          "variable (variable_size); sizes computed from it (Shape chains, "
                          "Resize sizes, Pad amounts) were folded at the example size ",
                          kOnnxExampleSize, "×", kOnnxExampleSize));
    if (!m_placeholderInits.empty())
        m_log.warning("", strCat(m_placeholderInits.size(),
                                 " initializer(s) feed placeholders and are dropped (",
                                 m_placeholderInits.front(),
                                 m_placeholderInits.size() > 1 ? ", …" : "", ")"));
    verifyShapes();
    const CheckResult check = checkTypesForLayout(m_graph);
    (void)applyEdits(m_graph, layoutGraph(m_graph, check));
    (void)applyEdits(m_graph, levelGroupsScript(m_graph, check));
    Project project;
    project.name = m_file.graph.name.empty() ? "onnx_model" : m_file.graph.name;
    project.graph = std::move(m_graph);
    out.project = std::move(project);
    out.weights = std::move(m_weights);
    out.placeholders = m_placeholders;
    out.stateDictMatched = m_stateDictMatched;
    out.stateDictUnused = m_unusedStateDict;
    out.warnings = m_log.warnings();
    return out;
}

} // namespace interop

OnnxImport importOnnx(const interop::OnnxFile& file, const std::string& fileLabel,
                      const OnnxImportOptions& options) {
    try {
        return interop::OnnxImporter(file, fileLabel, options).run();
    } catch (const std::exception& e) { // nothing on user input may escape as a crash
        OnnxImport out;
        out.errors.push_back(fileLabel + ": internal error while importing: " + e.what());
        return out;
    }
}

OnnxImport importOnnxFile(const std::filesystem::path& path, const OnnxImportOptions& options) {
    std::string error;
    auto file = interop::readOnnxFile(path, error);
    if (!file) {
        OnnxImport out;
        out.errors.push_back(error);
        return out;
    }
    return importOnnx(*file, path.string(), options);
}

bool looksLikeOnnxFile(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return false;
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<std::size_t>(in.gcount()));
    return interop::looksLikeOnnx(head);
}

} // namespace segforge::core
