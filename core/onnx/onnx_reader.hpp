#pragma once

// Reading an ONNX file: the bytes are parsed with the onnx.proto messages of
// Debian's libonnx (protobuf), validated, and copied into the plain structs
// below, so nothing above this file sees protobuf. Every tensor is checked
// against its declared dims and the limits before anything is allocated for
// it; a file that is not ONNX, is truncated, or declares absurd sizes gives an
// error naming where ("model.onnx: graph.initializer 'w' (#3): …") and no
// OnnxFile, never a crash or a huge allocation. Every string in an OnnxFile
// (names, op types, string attributes) is valid UTF-8 — invalid sequences are
// replaced by U+FFFD — so that messages may quote them as they are.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core::interop {

/// onnx.TensorProto.DataType values the importer meets.
enum class OnnxElem : int {
    Undefined = 0,
    Float = 1,
    UInt8 = 2,
    Int8 = 3,
    UInt16 = 4,
    Int16 = 5,
    Int32 = 6,
    Int64 = 7,
    String = 8,
    Bool = 9,
    Float16 = 10,
    Double = 11,
    UInt32 = 12,
    UInt64 = 13,
    BFloat16 = 16,
};

/// "FLOAT", "INT64", … for messages.
std::string onnxElemName(OnnxElem type);

/// An initializer, a Constant's value, or a tensor attribute. Floating types
/// (FLOAT16, BFLOAT16, DOUBLE) are converted to `floats`; integer and bool
/// types to `ints`. Exactly one of them holds product(dims) values.
struct OnnxTensor {
    std::string name;
    OnnxElem type = OnnxElem::Float;
    std::vector<std::int64_t> dims;
    std::vector<float> floats;
    std::vector<std::int64_t> ints;
    bool isFloat() const { return !floats.empty() || (ints.empty() && type == OnnxElem::Float); }
    std::int64_t elementCount() const;
};

struct OnnxAttribute {
    enum class Kind { Int, Float, String, Ints, Floats, Strings, Tensor, Other };
    std::string name;
    Kind kind = Kind::Other;
    std::int64_t i = 0;
    float f = 0;
    std::string s;
    std::vector<std::int64_t> ints;
    std::vector<float> floats;
    std::vector<std::string> strings;
    std::optional<OnnxTensor> tensor;
};

struct OnnxNodeDef {
    std::string name;                ///< may be empty in the file; then "<op_type>_<index>"
    std::string opType;              ///< "Conv"
    std::string domain;              ///< "" (ai.onnx) for everything the importer maps
    std::vector<std::string> inputs; ///< "" for an omitted optional input
    std::vector<std::string> outputs;
    std::vector<OnnxAttribute> attributes;
    std::size_t index = 0; ///< position in graph.node

    const OnnxAttribute* attribute(std::string_view attrName) const;
};

/// A graph input, output or value_info entry. dims[i] is -1 where the file
/// gives a symbolic or no dimension; dimNames[i] is its symbol ("batch") or "".
struct OnnxValue {
    std::string name;
    OnnxElem type = OnnxElem::Undefined;
    bool hasShape = false;
    std::vector<std::int64_t> dims;
    std::vector<std::string> dimNames;
};

struct OnnxGraphDef {
    std::string name;
    std::vector<OnnxNodeDef> nodes;
    std::vector<OnnxTensor> initializers;
    std::vector<OnnxValue> inputs; ///< as in the file: may include initializers (IR < 4)
    std::vector<OnnxValue> outputs;
    std::vector<OnnxValue> valueInfo;
};

struct OnnxFile {
    std::int64_t irVersion = 0;
    std::int64_t opset = 0; ///< the default ("" / "ai.onnx") domain's version
    std::string producerName, producerVersion;
    OnnxGraphDef graph;
};

/// What a file may declare. A bigger file is refused with the limit named.
struct OnnxReadLimits {
    std::uint64_t maxFileBytes = 2ull << 30;    ///< protobuf's own 2 GiB limit
    std::int64_t maxTensorElements = 1ll << 30; ///< per tensor
    std::int64_t maxTotalElements = 1ll << 31;  ///< all initializers together
    std::int64_t maxNodes = 200'000;
    std::int64_t maxDim = 1ll << 31; ///< any one declared dimension
    int maxRank = 8;
};

/// Parses and validates `bytes`. `fileLabel` names the file in messages;
/// `externalDataDir`, when set, is where tensors stored as external data are
/// read from (plain file names in that folder only, never a path out of it).
/// On failure returns nullopt and sets `error`.
std::optional<OnnxFile> readOnnx(std::string_view bytes, const std::string& fileLabel,
                                 std::string& error, const OnnxReadLimits& limits = {},
                                 const std::optional<std::filesystem::path>& externalDataDir = {});

/// Reads a file (size checked before it is read) and its external data beside it.
std::optional<OnnxFile> readOnnxFile(const std::filesystem::path& path, std::string& error,
                                     const OnnxReadLimits& limits = {});

/// True when the bytes start like an ONNX ModelProto (a cheap sniff for
/// choosing the reader by content, not a validation).
bool looksLikeOnnx(std::string_view bytes);

} // namespace segforge::core::interop
