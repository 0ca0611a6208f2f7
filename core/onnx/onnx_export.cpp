#include "onnx/onnx_export.hpp"

#include "export/export_graph.hpp"
#include "onnx/onnx_model.hpp"
#include "util/str_cat.hpp"
#include "util/version.hpp"

#include <map>
#include <set>

namespace segforge::core {

using namespace interop;

namespace {

using List = std::vector<std::int64_t>;

OnnxType onnxType(DType d) {
    switch (d) {
    case DType::UInt8:
        return OnnxType::UInt8;
    case DType::UInt16:
        return OnnxType::UInt16;
    case DType::Int32:
        return OnnxType::Int32;
    case DType::Bool:
        return OnnxType::Bool;
    case DType::Float32:
        break;
    }
    return OnnxType::Float;
}

/// Writes the layers of an ExportGraph into an OnnxModel, one at a time.
class Emitter {
public:
    Emitter(const ExportGraph& graph, OnnxModel& model, const WeightLookup& weights,
            OnnxExport& out)
        : m_model(model)
        , m_weights(weights)
        , m_out(out) {
        m_outputs.insert(graph.outputs.begin(), graph.outputs.end());
    }

    void emit(const ExportLayer& l) {
        const std::string& name = l.node->name;
        if (!l.output || l.output->shape.rank() != 4) {
            m_out.errors.push_back(strCat("the type of '", name,
                                          "' is unknown or not an image; fix the errors "
                                          "`segforge-cli check` reports, then export"));
            return;
        }
        if (l.isInput()) {
            m_model.addInput({name, onnxType(l.output->dtype), nhwcDims(l.output->shape)});
            m_model.addNode("Transpose", name + "/to_nchw", {name}, {name + "/nchw"},
                            {{"perm", List{0, 3, 1, 2}}});
            m_values[name] = {name + "/nchw", l.output->dtype, l.output->shape};
        } else if (!emitLayer(l)) {
            return;
        }
        if (m_outputs.count(name)) {
            m_model.addNode("Transpose", name + "/to_nhwc", {m_values[name].tensor}, {name},
                            {{"perm", List{0, 2, 3, 1}}});
            m_model.addOutput({name, onnxType(l.output->dtype), nhwcDims(l.output->shape)});
        }
    }

private:
    struct Value {
        std::string tensor; ///< the ONNX tensor holding it, NCHW
        DType dtype = DType::Float32;
        Shape shape; ///< NHWC, as SegForge sees it
    };

    /// What an op's mapping writes through (ops/export_mapping.hpp): one layer's view
    /// of the model being written.
    class LayerBuilder : public OnnxBuilder {
    public:
        LayerBuilder(Emitter& e, const ExportLayer& l, const std::vector<const Value*>& xs)
            : m_e(e)
            , m_l(l)
            , m_xs(xs) {}
        std::string input(std::size_t i) override { return m_xs.at(i)->tensor; }
        std::string floatInput(std::size_t i) override {
            return m_e.floatTensor(*m_xs.at(i), *this);
        }
        std::string result() override { return m_e.result(m_l.node->name); }
        void node(const std::string& op, const std::string& name,
                  const std::vector<std::string>& inputs, const std::vector<std::string>& outputs,
                  const std::vector<OnnxAttribute>& attrs) override {
            std::vector<OnnxAttr> converted;
            for (const OnnxAttribute& a : attrs)
                converted.push_back({a.name, a.value});
            m_e.m_model.addNode(op, name, inputs, outputs, converted);
        }
        std::string floatConstant(const std::string& name, const std::vector<std::int64_t>& dims,
                                  std::vector<float> values) override {
            m_e.m_model.addFloatInitializer(name, dims, values);
            return name;
        }
        std::string int64Constant(const std::string& name,
                                  const std::vector<std::int64_t>& values) override {
            m_e.m_model.addInt64Initializer(name, {static_cast<std::int64_t>(values.size())},
                                            values);
            return name;
        }
        const Tensor* weight(const std::string& param, std::int64_t count) override {
            return m_e.param(m_l.node->name, param, count);
        }
        void error(std::string message) override { m_e.m_out.errors.push_back(std::move(message)); }

    private:
        Emitter& m_e;
        const ExportLayer& m_l;
        const std::vector<const Value*>& m_xs;
    };

    static List nhwcDims(const Shape& s) { return {-1, s.height(), s.width(), s.channels()}; }

    /// The tensor the layer writes: its own name, unless it is a graph output
    /// (that name belongs to the NHWC tensor after the last Transpose).
    std::string result(const std::string& layer) const {
        return m_outputs.count(layer) ? layer + "/nchw" : layer;
    }

    const Value* input(const ExportLayer& l, std::size_t i) {
        auto it = m_values.find(l.inputs.at(i));
        if (it == m_values.end()) {
            m_out.errors.push_back(strCat("input ", i, " of '", l.node->name, "' ('", l.inputs[i],
                                          "') is not part of the exported network"));
            return nullptr;
        }
        return &it->second;
    }

    /// The float32 tensor of a value: integer data (uint8 images) is cast once.
    std::string floatTensor(const Value& v, OnnxBuilder& builder) {
        if (v.dtype == DType::Float32)
            return v.tensor;
        const std::string cast = v.tensor + "/float";
        if (m_casts.insert(cast).second)
            onnxCastToFloat(builder, cast, v.tensor, cast);
        return cast;
    }

    /// A parameter of `layer` in Keras layout, checked against the expected element count.
    const Tensor* param(const std::string& layer, const std::string& p, std::int64_t count) {
        const std::string key = layer + "/" + p;
        const Tensor* t = m_weights ? m_weights(key) : nullptr;
        if (!t) {
            m_out.errors.push_back(strCat("no weights for '", key, "'"));
            return nullptr;
        }
        if (t->dtype() != DType::Float32 || t->numel() != count) {
            m_out.errors.push_back(strCat("weights '", key, "' have ", t->numel(),
                                          " values, the layer needs ", count));
            return nullptr;
        }
        return t;
    }

    /// The layer's ONNX node(s), from its op's mapping.
    bool emitLayer(const ExportLayer& l) {
        const std::string& name = l.node->name;
        const std::string& op = l.node->op;
        std::vector<const Value*> xs;
        for (std::size_t i = 0; i < l.inputs.size(); ++i) {
            const Value* v = input(l, i);
            if (!v)
                return false;
            xs.push_back(v);
        }
        if (xs.empty()) {
            m_out.errors.push_back(strCat(op, " '", name, "' has no input"));
            return false;
        }
        const std::size_t before = m_out.errors.size();
        const OnnxMapping& mapping = l.schema->onnx;
        if (mapping.write) {
            InteropView view{*l.node, l.attrs, l.schema->inputNames(*l.node), {}, l.output};
            for (const Value* v : xs)
                view.inputs.push_back(TensorType{v->shape, v->dtype});
            LayerBuilder builder(*this, l, xs);
            mapping.write(view, builder);
        } else {
            m_out.errors.push_back(strCat(op, " '", name, "' has no ONNX equivalent here (",
                                          mapping.notExportable, ")"));
        }
        // Registered even after an error, so that the layers after it are still
        // written and every problem is reported at once.
        m_values[name] = {result(name), mapping.keepsInputDType ? xs[0]->dtype : DType::Float32,
                          l.output->shape};
        return m_out.errors.size() == before;
    }

    OnnxModel& m_model;
    const WeightLookup& m_weights;
    OnnxExport& m_out;
    std::set<std::string> m_outputs;
    std::set<std::string> m_casts;
    std::map<std::string, Value> m_values; ///< by layer name
};

} // namespace

OnnxExport exportOnnx(const Graph& graph, const std::string& modelName,
                      const WeightLookup& weights) {
    OnnxExport out;
    const ExportGraph g = collectExportGraph(graph, out);
    if (!out.ok())
        return out;
    OnnxModel model(modelName);
    model.setDocString(
        strCat(modelName, " — exported by SegForge. Inputs and outputs are NHWC as in SegForge; "
                          "the network inside is NCHW."));
    Emitter emitter(g, model, weights, out);
    for (const ExportLayer& l : g.layers)
        emitter.emit(l);
    if (out.ok())
        out.bytes = model.serialize(kVersion);
    return out;
}

} // namespace segforge::core
