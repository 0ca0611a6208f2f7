#pragma once

// OnnxFile structs built in C++ for the ONNX import tests, as
// torch.onnx.export would write them, and what the tests read back.

#include "check/checker.hpp"
#include "graph_builder.hpp"
#include "onnx/onnx_import.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <gmock/gmock.h>

namespace segforge::core::testing {

using Dims = std::vector<std::int64_t>;

/// An OnnxFile being built, as torch.onnx.export would write it.
struct OnnxBuild {
    interop::OnnxFile f;
    explicit OnnxBuild(std::int64_t opset = 17) {
        f.irVersion = 8;
        f.opset = opset;
        f.producerName = "pytorch";
    }
    void input(const std::string& name, Dims dims) {
        interop::OnnxValue v;
        v.name = name;
        v.type = interop::OnnxElem::Float;
        v.hasShape = true;
        v.dims = std::move(dims);
        v.dimNames.assign(v.dims.size(), "");
        f.graph.inputs.push_back(v);
    }
    void declare(const std::string& name, Dims dims) {
        interop::OnnxValue v;
        v.name = name;
        v.type = interop::OnnxElem::Float;
        v.hasShape = true;
        v.dims = std::move(dims);
        f.graph.valueInfo.push_back(v);
    }
    /// A float initializer whose values are 0, 1, 2, … (or `values`).
    void init(const std::string& name, Dims dims, std::vector<float> values = {}) {
        interop::OnnxTensor t;
        t.name = name;
        t.dims = std::move(dims);
        if (values.empty())
            for (std::int64_t i = 0; i < t.elementCount(); ++i)
                values.push_back(static_cast<float>(i));
        t.floats = std::move(values);
        f.graph.initializers.push_back(t);
    }
    void ints(const std::string& name, Dims values) {
        interop::OnnxTensor t;
        t.name = name;
        t.type = interop::OnnxElem::Int64;
        t.dims = {static_cast<std::int64_t>(values.size())};
        t.ints = std::move(values);
        f.graph.initializers.push_back(t);
    }
    interop::OnnxNodeDef& node(const std::string& op, const std::string& name,
                               std::vector<std::string> inputs, std::vector<std::string> outputs) {
        interop::OnnxNodeDef n;
        n.opType = op;
        n.name = name;
        n.inputs = std::move(inputs);
        n.outputs = std::move(outputs);
        n.index = f.graph.nodes.size();
        f.graph.nodes.push_back(n);
        return f.graph.nodes.back();
    }
};

inline void setInts(interop::OnnxNodeDef& n, const std::string& name, Dims v) {
    interop::OnnxAttribute a;
    a.name = name;
    a.kind = interop::OnnxAttribute::Kind::Ints;
    a.ints = std::move(v);
    n.attributes.push_back(a);
}
inline void setInt(interop::OnnxNodeDef& n, const std::string& name, std::int64_t v) {
    interop::OnnxAttribute a;
    a.name = name;
    a.kind = interop::OnnxAttribute::Kind::Int;
    a.i = v;
    n.attributes.push_back(a);
}
inline void setFloat(interop::OnnxNodeDef& n, const std::string& name, float v) {
    interop::OnnxAttribute a;
    a.name = name;
    a.kind = interop::OnnxAttribute::Kind::Float;
    a.f = v;
    n.attributes.push_back(a);
}
inline void setString(interop::OnnxNodeDef& n, const std::string& name, const std::string& v) {
    interop::OnnxAttribute a;
    a.name = name;
    a.kind = interop::OnnxAttribute::Kind::String;
    a.s = v;
    n.attributes.push_back(a);
}

inline std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

inline OnnxImport importOk(const OnnxBuild& b, const OnnxImportOptions& options = {}) {
    OnnxImport r = importOnnx(b.f, "m.onnx", options);
    EXPECT_TRUE(r.ok()) << joined(r.errors);
    // The translation's own NCHW shapes agree with the checker's NHWC types.
    EXPECT_THAT(joined(r.warnings), ::testing::Not(::testing::HasSubstr("internal:")));
    return r;
}

/// The checker's type of a node's output: "N×H×W×C".
inline std::string typeOf(const Graph& g, const std::string& name) {
    const CheckResult r = checkGraph(g, CheckOptions::withoutInputSizeSweep());
    const Node& n = node(g, name);
    auto t = r.typeOf({n.id, "output"});
    return t ? t->shape.toString() : "(none)";
}

inline std::string nodeOp(const Graph& g, const std::string& name) {
    return node(g, name).op;
}

inline Dims ints(const Graph& g, const std::string& name, const std::string& key) {
    return std::get<Dims>(attr(g, name, key));
}

} // namespace segforge::core::testing
