#include "onnx/onnx_reader.hpp"

#include "util/bounded_json.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>
#include <fstream>
#include <google/protobuf/arena.h>
#include <google/protobuf/io/coded_stream.h>
#include <limits>
#include <onnx/onnx_pb.h>
#include <set>
#include <stdexcept>
#include <system_error>

namespace segforge::core::interop {

namespace {

// Protobuf's nesting limit while parsing: a subgraph costs three levels
// (GraphProto → NodeProto → AttributeProto), so 64 allows ~20 nested If/Loop
// bodies, and keeps parsing (and the recursive destructor) far from the stack's end.
constexpr int kRecursionLimit = 64;
constexpr std::size_t kQuoteBytes = 80;

/// A refusal: the whole message, file label included.
struct ReadError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

std::string q(std::string_view text) {
    return quotedText(text, kQuoteBytes);
}

bool knownElem(std::int32_t t) {
    return (t >= 1 && t <= 13) || t == 16;
}

/// Bytes per element in raw_data; 0 for STRING and types this reader does not know.
std::size_t elemBytes(OnnxElem t) {
    switch (t) {
    case OnnxElem::UInt8:
    case OnnxElem::Int8:
    case OnnxElem::Bool:
        return 1;
    case OnnxElem::UInt16:
    case OnnxElem::Int16:
    case OnnxElem::Float16:
    case OnnxElem::BFloat16:
        return 2;
    case OnnxElem::Float:
    case OnnxElem::Int32:
    case OnnxElem::UInt32:
        return 4;
    case OnnxElem::Int64:
    case OnnxElem::Double:
    case OnnxElem::UInt64:
        return 8;
    default:
        return 0;
    }
}

bool floatingElem(OnnxElem t) {
    return t == OnnxElem::Float || t == OnnxElem::Float16 || t == OnnxElem::BFloat16 ||
           t == OnnxElem::Double;
}

std::string dimsText(const std::vector<std::int64_t>& dims) {
    if (dims.empty())
        return "[] (a scalar)";
    std::string out;
    for (std::size_t i = 0; i < dims.size(); ++i)
        out += (i ? "×" : "") + std::to_string(dims[i]);
    return out;
}

float halfToFloat(std::uint16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h & 0x8000u) << 16;
    const std::uint32_t exponent = (h >> 10) & 0x1Fu;
    const std::uint32_t mantissa = h & 0x3FFu;
    if (exponent == 0x1F) // inf, NaN
        return std::bit_cast<float>(sign | 0x7F800000u | (mantissa << 13));
    if (exponent != 0)
        return std::bit_cast<float>(sign | ((exponent + 112) << 23) | (mantissa << 13));
    // Zero or subnormal: mantissa · 2^-24.
    const float magnitude = std::ldexp(static_cast<float>(mantissa), -24);
    return sign ? -magnitude : magnitude;
}

float bfloat16ToFloat(std::uint16_t b) {
    return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

float doubleToFloat(double d) {
    // Out of float's range is undefined behaviour for a plain cast: saturate to ±inf.
    if (d > std::numeric_limits<float>::max())
        return std::numeric_limits<float>::infinity();
    if (d < std::numeric_limits<float>::lowest())
        return -std::numeric_limits<float>::infinity();
    return static_cast<float>(d);
}

template <typename T> T loadLittleEndian(const char* p) {
    static_assert(std::endian::native == std::endian::little, "raw_data is little-endian");
    T value;
    std::memcpy(&value, p, sizeof(T));
    return value;
}

/// One raw (little-endian) element as a float or an integer into `out`.
void convertRaw(OnnxElem type, std::string_view raw, std::int64_t count, OnnxTensor& out) {
    const std::size_t size = elemBytes(type);
    const char* p = raw.data();
    if (floatingElem(type))
        out.floats.resize(static_cast<std::size_t>(count));
    else
        out.ints.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i, p += size) {
        const auto k = static_cast<std::size_t>(i);
        switch (type) {
        case OnnxElem::Float:
            out.floats[k] = loadLittleEndian<float>(p);
            break;
        case OnnxElem::Float16:
            out.floats[k] = halfToFloat(loadLittleEndian<std::uint16_t>(p));
            break;
        case OnnxElem::BFloat16:
            out.floats[k] = bfloat16ToFloat(loadLittleEndian<std::uint16_t>(p));
            break;
        case OnnxElem::Double:
            out.floats[k] = doubleToFloat(loadLittleEndian<double>(p));
            break;
        case OnnxElem::UInt8:
            out.ints[k] = loadLittleEndian<std::uint8_t>(p);
            break;
        case OnnxElem::Bool:
            out.ints[k] = loadLittleEndian<std::uint8_t>(p) != 0;
            break;
        case OnnxElem::Int8:
            out.ints[k] = loadLittleEndian<std::int8_t>(p);
            break;
        case OnnxElem::UInt16:
            out.ints[k] = loadLittleEndian<std::uint16_t>(p);
            break;
        case OnnxElem::Int16:
            out.ints[k] = loadLittleEndian<std::int16_t>(p);
            break;
        case OnnxElem::Int32:
            out.ints[k] = loadLittleEndian<std::int32_t>(p);
            break;
        case OnnxElem::UInt32:
            out.ints[k] = loadLittleEndian<std::uint32_t>(p);
            break;
        case OnnxElem::Int64:
            out.ints[k] = loadLittleEndian<std::int64_t>(p);
            break;
        case OnnxElem::UInt64:
            out.ints[k] = static_cast<std::int64_t>(loadLittleEndian<std::uint64_t>(p));
            break;
        default:
            break;
        }
    }
}

/// A non-negative decimal integer as external_data writes "offset" and "length".
std::optional<std::int64_t> parseCount(const std::string& text) {
    if (text.empty() || text.size() > 18)
        return std::nullopt;
    std::int64_t v = 0;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
        v = v * 10 + (c - '0');
    }
    return v;
}

class Reader {
public:
    Reader(const std::string& label, const OnnxReadLimits& limits,
           const std::optional<std::filesystem::path>& externalDir)
        : m_label(label)
        , m_limits(limits)
        , m_externalDir(externalDir) {}

    OnnxFile convert(const onnx::ModelProto& model) {
        OnnxFile file;
        file.irVersion = model.ir_version();
        if (!model.has_ir_version())
            fail(m_label + ": not an ONNX model (no ir_version)");
        if (file.irVersion <= 0)
            fail(strCat(m_label, ": not an ONNX model (ir_version ", file.irVersion,
                        ", not a positive version)"));
        if (!model.has_graph())
            fail(m_label + ": not an ONNX model (no graph)");
        bool haveOpset = false;
        for (const auto& op : model.opset_import()) {
            if (op.domain().empty() || op.domain() == "ai.onnx") {
                file.opset = op.version();
                haveOpset = true;
            }
        }
        if (!haveOpset)
            fail(m_label + ": opset_import names no version of the default domain (\"\" or "
                           "\"ai.onnx\"), so the operators cannot be interpreted");
        if (file.opset <= 0)
            fail(strCat(m_label, ": opset_import gives the default domain version ", file.opset,
                        ", not a positive opset"));
        file.producerName = validUtf8(model.producer_name());
        file.producerVersion = validUtf8(model.producer_version());
        convertGraph(model.graph(), file.graph);
        return file;
    }

private:
    [[noreturn]] void fail(const std::string& message) const { throw ReadError(message); }

    void convertGraph(const onnx::GraphProto& g, OnnxGraphDef& out) {
        out.name = validUtf8(g.name());
        if (g.sparse_initializer_size() > 0)
            fail(strCat(m_label, ": graph.sparse_initializer holds ", g.sparse_initializer_size(),
                        " sparse tensor(s); sparse initializers are not supported"));
        if (g.node_size() > m_limits.maxNodes)
            fail(strCat(m_label, ": graph holds ", g.node_size(), " nodes, more than the limit of ",
                        m_limits.maxNodes));

        // Initializers: all declarations are checked before any data is converted.
        std::set<std::string> names;
        for (int i = 0; i < g.initializer_size(); ++i) {
            const onnx::TensorProto& t = g.initializer(i);
            auto where = [&] {
                return strCat(m_label, ": graph.initializer ", q(t.name()), " (#", i, ")");
            };
            if (t.name().empty())
                fail(strCat(m_label, ": graph.initializer #", i, " has no name"));
            if (!names.insert(validUtf8(t.name())).second) // as the importer will see them
                fail(where() + ": a second initializer of that name");
            checkTensor(t, where);
        }
        out.initializers.reserve(static_cast<std::size_t>(g.initializer_size()));
        for (int i = 0; i < g.initializer_size(); ++i) {
            const onnx::TensorProto& t = g.initializer(i);
            out.initializers.push_back(convertTensor(t, [&] {
                return strCat(m_label, ": graph.initializer ", q(t.name()), " (#", i, ")");
            }));
        }

        out.nodes.reserve(static_cast<std::size_t>(g.node_size()));
        for (int i = 0; i < g.node_size(); ++i)
            out.nodes.push_back(convertNode(g.node(i), static_cast<std::size_t>(i)));

        for (int i = 0; i < g.input_size(); ++i)
            out.inputs.push_back(convertValue(g.input(i), "graph.input", i));
        for (int i = 0; i < g.output_size(); ++i)
            out.outputs.push_back(convertValue(g.output(i), "graph.output", i));
        for (int i = 0; i < g.value_info_size(); ++i)
            out.valueInfo.push_back(convertValue(g.value_info(i), "graph.value_info", i));
    }

    OnnxNodeDef convertNode(const onnx::NodeProto& n, std::size_t index) {
        OnnxNodeDef node;
        node.index = index;
        if (n.op_type().empty())
            fail(strCat(m_label, ": graph.node #", index,
                        n.name().empty() ? std::string() : " " + q(n.name()), " has no op_type"));
        node.opType = validUtf8(n.op_type());
        node.domain = validUtf8(n.domain());
        node.name = n.name().empty() ? strCat(node.opType, "_", index) : validUtf8(n.name());
        for (const std::string& in : n.input())
            node.inputs.push_back(validUtf8(in));
        for (const std::string& out : n.output())
            node.outputs.push_back(validUtf8(out));
        auto where = [&] {
            return strCat(m_label, ": graph.node ", q(node.name), " (#", index, ", ",
                          q(node.opType), ")");
        };
        for (const onnx::AttributeProto& a : n.attribute())
            node.attributes.push_back(convertAttribute(a, where));
        return node;
    }

    template <class NodeWhere>
    OnnxAttribute convertAttribute(const onnx::AttributeProto& a, const NodeWhere& nodeWhere) {
        using AP = onnx::AttributeProto;
        OnnxAttribute out;
        out.name = validUtf8(a.name());
        auto where = [&] { return nodeWhere() + " attribute " + q(a.name()); };
        if (a.name().empty())
            fail(nodeWhere() + ": an attribute without a name");
        int type = a.type();
        if (type == AP::UNDEFINED) { // IR < 0.0.2 files: the type follows from the field set
            if (a.ints_size() > 0)
                type = AP::INTS;
            else if (a.floats_size() > 0)
                type = AP::FLOATS;
            else if (a.strings_size() > 0)
                type = AP::STRINGS;
            else if (a.has_t())
                type = AP::TENSOR;
            else if (a.has_s())
                type = AP::STRING;
            else if (a.has_i())
                type = AP::INT;
            else if (a.has_f())
                type = AP::FLOAT;
        }
        if (!a.ref_attr_name().empty()) { // a function body's reference: no value here
            out.kind = OnnxAttribute::Kind::Other;
            return out;
        }
        switch (type) {
        case AP::INT:
            out.kind = OnnxAttribute::Kind::Int;
            out.i = a.i();
            break;
        case AP::FLOAT:
            out.kind = OnnxAttribute::Kind::Float;
            out.f = a.f();
            break;
        case AP::STRING:
            out.kind = OnnxAttribute::Kind::String;
            out.s = validUtf8(a.s());
            break;
        case AP::INTS:
            out.kind = OnnxAttribute::Kind::Ints;
            out.ints.assign(a.ints().begin(), a.ints().end());
            break;
        case AP::FLOATS:
            out.kind = OnnxAttribute::Kind::Floats;
            out.floats.assign(a.floats().begin(), a.floats().end());
            break;
        case AP::STRINGS:
            out.kind = OnnxAttribute::Kind::Strings;
            for (const std::string& text : a.strings())
                out.strings.push_back(validUtf8(text));
            break;
        case AP::TENSOR:
            if (!a.has_t())
                fail(where() + ": of type TENSOR holds no tensor");
            out.kind = OnnxAttribute::Kind::Tensor;
            checkTensor(a.t(), where);
            out.tensor = convertTensor(a.t(), where);
            break;
        default: // GRAPH(S) (If/Loop bodies), TENSORS, SPARSE_TENSOR(S), TYPE_PROTO(S)
            out.kind = OnnxAttribute::Kind::Other;
            break;
        }
        return out;
    }

    /// Validates a tensor's declaration and the size of its data (no allocation);
    /// counts its elements against the total.
    template <class Where> void checkTensor(const onnx::TensorProto& t, const Where& where) {
        if (!knownElem(t.data_type()))
            fail(strCat(where(), ": data_type ", t.data_type(),
                        t.data_type() == 0 ? " (UNDEFINED)"
                                           : " is not an element type this reader knows"));
        const auto type = static_cast<OnnxElem>(t.data_type());
        if (t.dims_size() > m_limits.maxRank)
            fail(strCat(where(), ": rank ", t.dims_size(), ", more than the ", m_limits.maxRank,
                        " dimensions allowed"));
        std::int64_t count = 1;
        for (int d = 0; d < t.dims_size(); ++d) {
            const std::int64_t dim = t.dims(d);
            if (dim < 0)
                fail(strCat(where(), ": dims[", d, "] is ", dim, ", negative"));
            if (dim > m_limits.maxDim)
                fail(strCat(where(), ": dims[", d, "] is ", dim, ", more than the limit of ",
                            m_limits.maxDim));
            if (__builtin_mul_overflow(count, dim, &count) || count > m_limits.maxTensorElements)
                fail(strCat(where(), ": dims ", dimsText({t.dims().begin(), t.dims().end()}),
                            " declare more than ", m_limits.maxTensorElements,
                            " elements, the limit per tensor"));
        }
        if (count > m_limits.maxTotalElements - m_totalElements)
            fail(strCat(where(), ": with this tensor's ", count,
                        " elements the tensors hold more than ", m_limits.maxTotalElements,
                        " elements together, the limit"));
        m_totalElements += count;
        if (type == OnnxElem::String)
            fail(where() + ": STRING tensors are not supported");
        if (t.has_segment())
            fail(where() + ": a segment of a split tensor; segmented tensors are not supported");

        auto need = [&] {
            return strCat("dims ", dimsText({t.dims().begin(), t.dims().end()}), " (",
                          onnxElemName(type), ") need ", count);
        };
        if (t.data_location() == onnx::TensorProto::EXTERNAL)
            return; // checked when read
        if (t.has_raw_data()) {
            const auto want = static_cast<std::uint64_t>(count) * elemBytes(type);
            if (t.raw_data().size() != want)
                fail(strCat(where(), ": raw_data holds ", t.raw_data().size(), " bytes, ", need(),
                            " element(s) of ", elemBytes(type), " bytes = ", want));
            return;
        }
        const auto [field, held] = typedField(t, type);
        if (held != count)
            fail(strCat(where(), ": ", field, " holds ", held, " value(s), ", need()));
    }

    /// The typed data field ONNX stores `type` in without raw_data, and how many values it holds.
    static std::pair<const char*, std::int64_t> typedField(const onnx::TensorProto& t,
                                                           OnnxElem type) {
        switch (type) {
        case OnnxElem::Float:
            return {"float_data", t.float_data_size()};
        case OnnxElem::Double:
            return {"double_data", t.double_data_size()};
        case OnnxElem::Int64:
            return {"int64_data", t.int64_data_size()};
        case OnnxElem::UInt32:
        case OnnxElem::UInt64:
            return {"uint64_data", t.uint64_data_size()};
        default: // (U)INT8/16, INT32, BOOL, FLOAT16, BFLOAT16 (bit patterns)
            return {"int32_data", t.int32_data_size()};
        }
    }

    /// Converts a tensor checkTensor accepted.
    template <class Where>
    OnnxTensor convertTensor(const onnx::TensorProto& t, const Where& where) {
        OnnxTensor out;
        out.name = validUtf8(t.name());
        out.type = static_cast<OnnxElem>(t.data_type());
        out.dims.assign(t.dims().begin(), t.dims().end());
        const std::int64_t count = out.elementCount();
        if (t.data_location() == onnx::TensorProto::EXTERNAL) {
            const std::string raw = readExternal(t, where, count);
            convertRaw(out.type, raw, count, out);
        } else if (t.has_raw_data()) {
            convertRaw(out.type, t.raw_data(), count, out);
        } else {
            switch (out.type) {
            case OnnxElem::Float:
                out.floats.assign(t.float_data().begin(), t.float_data().end());
                break;
            case OnnxElem::Double:
                for (double d : t.double_data())
                    out.floats.push_back(doubleToFloat(d));
                break;
            case OnnxElem::Float16:
                for (std::int32_t v : t.int32_data())
                    out.floats.push_back(halfToFloat(static_cast<std::uint16_t>(v)));
                break;
            case OnnxElem::BFloat16:
                for (std::int32_t v : t.int32_data())
                    out.floats.push_back(bfloat16ToFloat(static_cast<std::uint16_t>(v)));
                break;
            case OnnxElem::Int64:
                out.ints.assign(t.int64_data().begin(), t.int64_data().end());
                break;
            case OnnxElem::UInt32:
            case OnnxElem::UInt64:
                for (std::uint64_t v : t.uint64_data())
                    out.ints.push_back(static_cast<std::int64_t>(v));
                break;
            case OnnxElem::Bool:
                for (std::int32_t v : t.int32_data())
                    out.ints.push_back(v != 0);
                break;
            default:
                out.ints.assign(t.int32_data().begin(), t.int32_data().end());
                break;
            }
        }
        return out;
    }

    template <class Where>
    std::string readExternal(const onnx::TensorProto& t, const Where& where, std::int64_t count) {
        std::string location;
        std::optional<std::int64_t> offset, length;
        for (const auto& kv : t.external_data()) {
            if (kv.key() == "location") {
                location = kv.value();
            } else if (kv.key() == "offset" || kv.key() == "length") {
                const auto v = parseCount(kv.value());
                if (!v)
                    fail(strCat(where(), ": external_data ", kv.key(), " ", q(kv.value()),
                                " is not a byte count"));
                (kv.key() == "offset" ? offset : length) = v;
            }
        }
        if (location.empty())
            fail(where() + ": stored as external data without a \"location\"");
        if (!m_externalDir)
            fail(strCat(where(), ": stored as external data in ", q(location),
                        ", which is not read when the model comes without its folder"));
        const bool plainName =
            location != "." && location != ".." &&
            location.find_first_of(std::string_view("/\\:\0", 4)) == std::string::npos;
        if (!plainName)
            fail(strCat(where(), ": external data location ", q(location),
                        " is not a plain file name beside the model (no folders, no \"..\")"));
        const std::filesystem::path path = *m_externalDir / location;
        std::error_code ec;
        if (!std::filesystem::is_regular_file(path, ec))
            fail(strCat(where(), ": external data file ", q(location), " is missing"));
        const std::uintmax_t fileSize = std::filesystem::file_size(path, ec);
        if (ec)
            fail(strCat(where(), ": external data file ", q(location),
                        " cannot be read: ", ec.message()));
        const auto want =
            static_cast<std::uint64_t>(count) * elemBytes(static_cast<OnnxElem>(t.data_type()));
        const std::uint64_t off = static_cast<std::uint64_t>(offset.value_or(0));
        if (off > fileSize)
            fail(strCat(where(), ": external data offset ", off, " lies past the end of ",
                        q(location), " (", fileSize, " bytes)"));
        const std::uint64_t len = length ? static_cast<std::uint64_t>(*length) : fileSize - off;
        if (len > fileSize - off)
            fail(strCat(where(), ": external data range ", off, "+", len, " runs past the end of ",
                        q(location), " (", fileSize, " bytes)"));
        if (len != want)
            fail(strCat(where(), ": external data holds ", len, " bytes, dims ",
                        dimsText({t.dims().begin(), t.dims().end()}), " (",
                        onnxElemName(static_cast<OnnxElem>(t.data_type())), ") need ", want));
        std::string bytes(static_cast<std::size_t>(len), '\0');
        std::ifstream in(path, std::ios::binary);
        in.seekg(static_cast<std::streamoff>(off));
        in.read(bytes.data(), static_cast<std::streamsize>(len));
        if (!in || in.gcount() != static_cast<std::streamsize>(len))
            fail(strCat(where(), ": external data file ", q(location), " could not be read"));
        return bytes;
    }

    OnnxValue convertValue(const onnx::ValueInfoProto& v, const char* what, int index) {
        OnnxValue out;
        out.name = validUtf8(v.name());
        auto where = [&] { return strCat(m_label, ": ", what, " #", index, " ", q(v.name())); };
        if (!v.has_type() || !v.type().has_tensor_type())
            return out; // untyped, or a sequence/map/optional: no tensor shape
        const auto& tt = v.type().tensor_type();
        out.type =
            knownElem(tt.elem_type()) ? static_cast<OnnxElem>(tt.elem_type()) : OnnxElem::Undefined;
        if (!tt.has_shape())
            return out;
        out.hasShape = true;
        if (tt.shape().dim_size() > m_limits.maxRank)
            fail(strCat(where(), ": rank ", tt.shape().dim_size(), ", more than the ",
                        m_limits.maxRank, " dimensions allowed"));
        for (int d = 0; d < tt.shape().dim_size(); ++d) {
            const auto& dim = tt.shape().dim(d);
            if (dim.has_dim_value()) {
                if (dim.dim_value() < 0 || dim.dim_value() > m_limits.maxDim)
                    fail(strCat(where(), ": dim ", d, " is ", dim.dim_value(),
                                dim.dim_value() < 0 ? ", negative" : ", more than the limit"));
                out.dims.push_back(dim.dim_value());
                out.dimNames.emplace_back();
            } else {
                out.dims.push_back(-1);
                out.dimNames.push_back(dim.has_dim_param() ? validUtf8(dim.dim_param()) : "");
            }
        }
        return out;
    }

    const std::string& m_label;
    const OnnxReadLimits& m_limits;
    const std::optional<std::filesystem::path>& m_externalDir;
    std::int64_t m_totalElements = 0;
};

/// Why bytes that protobuf refused are not a model: another format by its
/// signature, or — walking the top-level fields — where a field runs past the end.
std::string describeParseFailure(std::string_view bytes, const std::string& label) {
    auto starts = [&](std::string_view sig) { return bytes.substr(0, sig.size()) == sig; };
    const std::size_t firstNonSpace = bytes.find_first_not_of(" \t\r\n");
    if (starts("PK\x03\x04"))
        return label + ": not an ONNX model but a zip archive (a Keras .keras file or a "
                       "PyTorch .pt checkpoint?)";
    if (starts("\x89HDF\r\n\x1a\n"))
        return label + ": not an ONNX model but an HDF5 file (a Keras .h5 model?)";
    if (firstNonSpace != std::string_view::npos &&
        (bytes[firstNonSpace] == '{' || bytes[firstNonSpace] == '['))
        return label + ": not an ONNX model but a JSON text (a Keras model.json?)";

    // The top-level fields of a ModelProto: where does the message break?
    std::size_t pos = 0;
    auto varint = [&](std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= bytes.size())
                return false;
            const auto b = static_cast<unsigned char>(bytes[pos++]);
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80))
                return true;
        }
        return false;
    };
    const bool sniffed = looksLikeOnnx(bytes);
    while (pos < bytes.size()) {
        const std::size_t start = pos;
        std::uint64_t tag = 0, value = 0;
        if (!varint(tag))
            break;
        const auto field = tag >> 3;
        const auto wire = tag & 7;
        bool ok = true;
        if (wire == 0)
            ok = varint(value);
        else if (wire == 1 || wire == 5) {
            const std::size_t width = wire == 1 ? 8 : 4;
            ok = bytes.size() - pos >= width;
            pos = ok ? pos + width : bytes.size();
        } else if (wire == 2) {
            if (!varint(value))
                ok = false;
            else if (value > bytes.size() - pos) {
                if (sniffed)
                    return strCat(label, ": truncated ONNX model: field ", field, " at byte ",
                                  start, " declares ", value, " bytes but only ",
                                  bytes.size() - pos, " remain");
                break;
            } else
                pos += value;
        } else
            break;
        if (!ok) {
            if (sniffed)
                return strCat(label, ": truncated ONNX model: field ", field, " at byte ", start,
                              " runs past the end of the file");
            break;
        }
    }
    if (sniffed && pos >= bytes.size())
        return label + ": not a valid ONNX model: a message inside it is malformed or "
                       "nested too deeply (the bytes are not an onnx.ModelProto)";
    return label + ": not an ONNX model (the bytes are not an onnx.ModelProto)";
}

} // namespace

std::string onnxElemName(OnnxElem type) {
    switch (type) {
    case OnnxElem::Undefined:
        return "UNDEFINED";
    case OnnxElem::Float:
        return "FLOAT";
    case OnnxElem::UInt8:
        return "UINT8";
    case OnnxElem::Int8:
        return "INT8";
    case OnnxElem::UInt16:
        return "UINT16";
    case OnnxElem::Int16:
        return "INT16";
    case OnnxElem::Int32:
        return "INT32";
    case OnnxElem::Int64:
        return "INT64";
    case OnnxElem::String:
        return "STRING";
    case OnnxElem::Bool:
        return "BOOL";
    case OnnxElem::Float16:
        return "FLOAT16";
    case OnnxElem::Double:
        return "DOUBLE";
    case OnnxElem::UInt32:
        return "UINT32";
    case OnnxElem::UInt64:
        return "UINT64";
    case OnnxElem::BFloat16:
        return "BFLOAT16";
    }
    return "data type " + std::to_string(static_cast<int>(type));
}

std::int64_t OnnxTensor::elementCount() const {
    std::int64_t count = 1;
    for (std::int64_t d : dims) {
        if (d < 0 || __builtin_mul_overflow(count, d, &count))
            return -1;
    }
    return count;
}

const OnnxAttribute* OnnxNodeDef::attribute(std::string_view attrName) const {
    for (const OnnxAttribute& a : attributes)
        if (a.name == attrName)
            return &a;
    return nullptr;
}

std::optional<OnnxFile> readOnnx(std::string_view bytes, const std::string& fileLabel,
                                 std::string& error, const OnnxReadLimits& limits,
                                 const std::optional<std::filesystem::path>& externalDataDir) {
    error.clear();
    if (bytes.empty()) {
        error = fileLabel + ": empty file, not an ONNX model";
        return std::nullopt;
    }
    const std::uint64_t cap =
        std::min<std::uint64_t>(limits.maxFileBytes, std::numeric_limits<int>::max());
    if (bytes.size() > cap) {
        error = strCat(fileLabel, ": ", bytes.size(), " bytes, more than the ", cap,
                       " an ONNX file may hold");
        return std::nullopt;
    }
    try {
        // An arena: the thousands of small messages of a model are freed at once.
        google::protobuf::Arena arena;
        auto& model = *google::protobuf::Arena::CreateMessage<onnx::ModelProto>(&arena);
        google::protobuf::io::CodedInputStream stream(
            reinterpret_cast<const std::uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
        stream.SetRecursionLimit(kRecursionLimit);
        stream.SetTotalBytesLimit(std::numeric_limits<int>::max());
        if (!model.ParseFromCodedStream(&stream) || !stream.ConsumedEntireMessage()) {
            error = describeParseFailure(bytes, fileLabel);
            return std::nullopt;
        }
        Reader reader(fileLabel, limits, externalDataDir);
        return reader.convert(model);
    } catch (const ReadError& e) {
        error = e.what();
    } catch (const std::bad_alloc&) {
        error = fileLabel + ": the model does not fit in memory";
    }
    return std::nullopt;
}

std::optional<OnnxFile> readOnnxFile(const std::filesystem::path& path, std::string& error,
                                     const OnnxReadLimits& limits) {
    const std::string label = path.string();
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        error = label + ": " + (std::filesystem::exists(path, ec) ? "not a file" : "no such file");
        return std::nullopt;
    }
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) {
        error = label + ": cannot be read: " + ec.message();
        return std::nullopt;
    }
    const std::uint64_t cap =
        std::min<std::uint64_t>(limits.maxFileBytes, std::numeric_limits<int>::max());
    if (size > cap) {
        error = strCat(label, ": ", size, " bytes, more than the ", cap,
                       " an ONNX file may hold (weights that big belong in external data)");
        return std::nullopt;
    }
    std::string bytes(static_cast<std::size_t>(size), '\0');
    std::ifstream in(path, std::ios::binary);
    in.read(bytes.data(), static_cast<std::streamsize>(size));
    if (!in || in.gcount() != static_cast<std::streamsize>(size)) {
        error = label + ": cannot be read";
        return std::nullopt;
    }
    return readOnnx(bytes, label, error, limits,
                    path.parent_path().empty() ? std::filesystem::path(".") : path.parent_path());
}

bool looksLikeOnnx(std::string_view bytes) {
    // Accepts: bytes whose first two top-level fields (or the one field a short
    // prefix holds) are fields of onnx.ModelProto with their wire types —
    // ir_version (1) and model_version (5) as varints; producer_name (2),
    // producer_version (3), domain (4), doc_string (6), graph (7),
    // opset_import (8), metadata_props (14), training_info (20), functions (25)
    // length-delimited. A length that runs past the end still counts (a
    // truncated file looks like what it was). Refuses JSON, zip and HDF5
    // starts outright. Not a validation: readOnnx decides.
    if (bytes.empty() || bytes[0] == '{' || bytes.substr(0, 2) == "PK" ||
        bytes.substr(0, 4) == "\x89HDF")
        return false;
    std::size_t pos = 0;
    auto varint = [&](std::uint64_t& v) {
        v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos >= bytes.size())
                return false;
            const auto b = static_cast<unsigned char>(bytes[pos++]);
            v |= static_cast<std::uint64_t>(b & 0x7F) << shift;
            if (!(b & 0x80))
                return true;
        }
        return false;
    };
    for (int fieldsSeen = 0; fieldsSeen < 2 && pos < bytes.size(); ++fieldsSeen) {
        std::uint64_t tag = 0, value = 0;
        if (!varint(tag))
            return fieldsSeen > 0;
        const auto field = tag >> 3;
        const auto wire = tag & 7;
        const bool varintField = field == 1 || field == 5;
        const bool bytesField =
            (field >= 2 && field <= 8 && field != 5) || field == 14 || field == 20 || field == 25;
        if (varintField && wire == 0) {
            if (!varint(value))
                return fieldsSeen > 0 || pos >= bytes.size();
            if (field == 1 && value > 1000) // ir_version is a small number (8 in 2022)
                return false;
        } else if (bytesField && wire == 2) {
            if (!varint(value) || value > bytes.size() - pos)
                return true;
            pos += value;
        } else {
            return false;
        }
    }
    return true;
}

} // namespace segforge::core::interop
