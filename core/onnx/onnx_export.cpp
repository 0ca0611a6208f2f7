#include "onnx/onnx_export.hpp"

#include "export/export_graph.hpp"
#include "onnx/onnx_model.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

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

/// TensorFlow's 'same' padding of one axis, (before, after): the odd pixel goes after.
std::pair<std::int64_t, std::int64_t> samePads(std::int64_t in, std::int64_t kernel,
                                               std::int64_t stride, std::int64_t dilation) {
    const std::int64_t effective = (kernel - 1) * dilation + 1;
    const std::int64_t out = (in + stride - 1) / stride;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + effective - in, 0);
    return {total / 2, total - total / 2};
}

/// NHWC axis (Keras, negative allowed) → NCHW axis.
std::int64_t nchwAxis(std::int64_t axis) {
    switch (axis) {
    case -1:
    case 3:
        return 1;
    case -3:
    case 1:
        return 2;
    default:
        return 3; // -2, 2
    }
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
    std::string floatTensor(const Value& v) {
        if (v.dtype == DType::Float32)
            return v.tensor;
        const std::string cast = v.tensor + "/float";
        if (m_casts.insert(cast).second)
            m_model.addNode("Cast", cast, {v.tensor}, {cast}, {{"to", std::int64_t{1}}});
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

    std::string floatInit(const std::string& name, const List& dims, std::vector<float> values) {
        m_model.addFloatInitializer(name, dims, values);
        return name;
    }

    std::string int64Init(const std::string& name, const List& values) {
        m_model.addInt64Initializer(name, {static_cast<std::int64_t>(values.size())}, values);
        return name;
    }

    /// Keras kernel (kh, kw, a, b) → ONNX (b, a, kh, kw). Conv2D: a=in, b=out → (out, in, kh, kw);
    /// Conv2DTranspose: a=out, b=in → (in, out, kh, kw), which is ONNX's ConvTranspose layout too.
    std::string kernel(const std::string& layer, std::int64_t kh, std::int64_t kw, std::int64_t a,
                       std::int64_t b) {
        const Tensor* k = param(layer, "kernel", kh * kw * a * b);
        if (!k)
            return {};
        const float* src = k->f32();
        std::vector<float> dst(static_cast<std::size_t>(k->numel()));
        for (std::int64_t y = 0; y < kh; ++y)
            for (std::int64_t x = 0; x < kw; ++x)
                for (std::int64_t i = 0; i < a; ++i)
                    for (std::int64_t o = 0; o < b; ++o)
                        dst[static_cast<std::size_t>(((o * a + i) * kh + y) * kw + x)] =
                            src[((y * kw + x) * a + i) * b + o];
        return floatInit(layer + "/kernel", {b, a, kh, kw}, std::move(dst));
    }

    std::string vectorParam(const std::string& layer, const std::string& p, std::int64_t c) {
        const Tensor* t = param(layer, p, c);
        if (!t)
            return {};
        return floatInit(layer + "/" + p, {c}, std::vector<float>(t->f32(), t->f32() + c));
    }

    /// Emits `activation` from `in` into `out`; false if there is no such activation.
    bool activation(const std::string& name, const std::string& kind, double alpha,
                    const std::string& in, const std::string& out) {
        static const std::map<std::string, std::string> ops{
            {"linear", "Identity"}, {"relu", "Relu"}, {"leaky_relu", "LeakyRelu"},
            {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"softmax", "Softmax"}};
        auto op = ops.find(kind);
        if (op == ops.end()) {
            m_out.errors.push_back(
                strCat("activation '", kind, "' of '", name, "' has no ONNX equivalent here"));
            return false;
        }
        std::vector<OnnxAttr> attrs;
        if (kind == "leaky_relu")
            attrs.push_back({"alpha", static_cast<float>(alpha)});
        if (kind == "softmax")
            attrs.push_back({"axis", std::int64_t{1}}); // channels, as Keras' axis=-1
        m_model.addNode(op->second, name, {in}, {out}, attrs);
        return true;
    }

    /// Conv or ConvTranspose output, then the fused activation if any.
    std::string fusedActivation(const ExportLayer& l) {
        return attrText(l.attrs, "activation") == "linear" ? result(l.node->name)
                                                           : l.node->name + "/linear";
    }
    bool finishActivation(const ExportLayer& l, const std::string& linear) {
        const std::string& kind = attrText(l.attrs, "activation");
        if (kind == "linear")
            return true;
        return activation(l.node->name + "/activation", kind, 0.2, linear, result(l.node->name));
    }

    /// Conv2D → Conv; Conv2DTranspose → ConvTranspose. Both with TensorFlow's
    /// 'same' geometry: the odd row/column of padding (or of cropping, for the
    /// transposed one) goes to the bottom/right.
    bool conv(const ExportLayer& l, const Value& x, bool transposed) {
        const std::string& name = l.node->name;
        const List& k = attrInts(l.attrs, "kernel_size");
        const List& s = attrInts(l.attrs, "strides");
        const List& d = attrInts(l.attrs, "dilation_rate");
        const std::int64_t filters = attrInt(l.attrs, "filters"), cin = x.shape.channels();
        std::vector<std::string> inputs{floatTensor(x),
                                        transposed ? kernel(name, k[0], k[1], filters, cin)
                                                   : kernel(name, k[0], k[1], cin, filters)};
        if (attrBool(l.attrs, "use_bias"))
            inputs.push_back(vectorParam(name, "bias", filters));
        const std::int64_t in[2] = {x.shape.height(), x.shape.width()};
        const std::int64_t out[2] = {l.output->shape.height(), l.output->shape.width()};
        List pads{0, 0, 0, 0}, extra{0, 0}, cropFrom{0, 0}; // pads: top, left, bottom, right
        bool crop = false;
        for (std::size_t i = 0; i < 2; ++i) {
            if (!transposed) {
                if (attrText(l.attrs, "padding") == "same")
                    std::tie(pads[i], pads[i + 2]) = samePads(in[i], k[i], s[i], d[i]);
                continue;
            }
            // Keras' transposed convolution is the full one cropped to the
            // output size, the smaller half of the crop on top/left (the
            // adjoint of 'same' convolution); if the full one is too short,
            // zeros at the end. The crop is a Slice: runtimes (OpenCV DNN)
            // reject ConvTranspose with asymmetric pads.
            const std::int64_t full = (in[i] - 1) * s[i] + (k[i] - 1) * d[i] + 1;
            if (full >= out[i]) {
                cropFrom[i] = (full - out[i]) / 2;
                crop = crop || full > out[i];
            } else {
                extra[i] = out[i] - full;
            }
        }
        std::vector<OnnxAttr> attrs{{"kernel_shape", k},
                                    {"strides", s},
                                    {"dilations", d},
                                    {"pads", pads},
                                    {"group", std::int64_t{1}}};
        if (extra[0] || extra[1])
            attrs.push_back({"output_padding", extra});
        const std::string linear = fusedActivation(l);
        const std::string convOut = crop ? name + "/full" : linear;
        m_model.addNode(transposed ? "ConvTranspose" : "Conv", name, inputs, {convOut}, attrs);
        if (crop)
            m_model.addNode(
                "Slice", name + "/crop",
                {convOut, int64Init(name + "/crop_starts", cropFrom),
                 int64Init(name + "/crop_ends", {cropFrom[0] + out[0], cropFrom[1] + out[1]}),
                 int64Init(name + "/crop_axes", {2, 3})},
                {linear});
        return finishActivation(l, linear);
    }

    bool pool(const ExportLayer& l, const Value& x) {
        const List& p = attrInts(l.attrs, "pool_size");
        List s = attrInts(l.attrs, "strides");
        for (std::size_t i = 0; i < 2; ++i)
            s[i] = s[i] == 0 ? p[i] : s[i];
        List pads{0, 0, 0, 0};
        if (attrText(l.attrs, "padding") == "same") {
            const auto [top, bottom] = samePads(x.shape.height(), p[0], s[0], 1);
            const auto [left, right] = samePads(x.shape.width(), p[1], s[1], 1);
            pads = {top, left, bottom, right};
        }
        std::vector<OnnxAttr> attrs{{"kernel_shape", p}, {"strides", s}, {"pads", pads}};
        const bool max = l.node->op == "MaxPool2D";
        if (!max) // Keras averages over the real pixels only
            attrs.push_back({"count_include_pad", std::int64_t{0}});
        m_model.addNode(max ? "MaxPool" : "AveragePool", l.node->name, {floatTensor(x)},
                        {result(l.node->name)}, attrs);
        return true;
    }

    bool upsample(const ExportLayer& l, const Value& x) {
        const std::string& name = l.node->name;
        const List& size = attrInts(l.attrs, "size");
        const bool nearest = attrText(l.attrs, "interpolation") == "nearest";
        const std::string scales =
            floatInit(name + "/scales", {4},
                      {1.0f, 1.0f, static_cast<float>(size[0]), static_cast<float>(size[1])});
        // Keras: nearest repeats pixels (source = floor(dst / size)); bilinear is
        // tf.image.resize with half-pixel centres.
        std::vector<OnnxAttr> attrs;
        if (nearest)
            attrs = {{"mode", std::string("nearest")},
                     {"coordinate_transformation_mode", std::string("asymmetric")},
                     {"nearest_mode", std::string("floor")}};
        else
            attrs = {{"mode", std::string("linear")},
                     {"coordinate_transformation_mode", std::string("half_pixel")}};
        m_model.addNode("Resize", name, {floatTensor(x), "", scales}, {result(name)}, attrs);
        return true;
    }

    bool batchNorm(const ExportLayer& l, const Value& x) {
        const std::string& name = l.node->name;
        const std::int64_t c = x.shape.channels();
        const std::string scale =
            attrBool(l.attrs, "scale")
                ? vectorParam(name, "gamma", c)
                : floatInit(name + "/gamma", {c},
                            std::vector<float>(static_cast<std::size_t>(c), 1.0f));
        const std::string bias =
            attrBool(l.attrs, "center")
                ? vectorParam(name, "beta", c)
                : floatInit(name + "/beta", {c},
                            std::vector<float>(static_cast<std::size_t>(c), 0.0f));
        const std::string mean = vectorParam(name, "moving_mean", c);
        const std::string var = vectorParam(name, "moving_variance", c);
        m_model.addNode("BatchNormalization", name, {floatTensor(x), scale, bias, mean, var},
                        {result(name)},
                        {{"epsilon", static_cast<float>(attrFloat(l.attrs, "epsilon"))},
                         {"momentum", static_cast<float>(attrFloat(l.attrs, "momentum"))}});
        return true;
    }

    /// Add and Multiply take any number of inputs; ONNX's take two: a chain.
    bool merge(const ExportLayer& l, const std::vector<const Value*>& xs) {
        const std::string& name = l.node->name;
        const std::string op = l.node->op == "Add" ? "Add" : "Mul";
        std::string acc = floatTensor(*xs[0]);
        for (std::size_t i = 1; i < xs.size(); ++i) {
            const bool last = i + 1 == xs.size();
            const std::string out = last ? result(name) : strCat(name, "/", i);
            m_model.addNode(op, last ? name : out, {acc, floatTensor(*xs[i])}, {out});
            acc = out;
        }
        return true;
    }

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
        const Value& x = *xs[0];
        bool ok = true;
        if (op == "Conv2D" || op == "Conv2DTranspose") {
            ok = conv(l, x, op == "Conv2DTranspose");
        } else if (op == "MaxPool2D" || op == "AvgPool2D") {
            ok = pool(l, x);
        } else if (op == "UpSampling2D") {
            ok = upsample(l, x);
        } else if (op == "BatchNormalization") {
            ok = batchNorm(l, x);
        } else if (op == "Add" || op == "Multiply") {
            ok = merge(l, xs);
        } else if (op == "Concatenate") {
            std::vector<std::string> inputs;
            for (const Value* v : xs)
                inputs.push_back(floatTensor(*v));
            m_model.addNode("Concat", name, inputs, {result(name)},
                            {{"axis", nchwAxis(attrInt(l.attrs, "axis"))}});
        } else if (op == "Dropout") {
            m_model.addNode("Identity", name, {x.tensor}, {result(name)});
        } else if (op == "Activation") {
            ok = activation(name, attrText(l.attrs, "activation"), attrFloat(l.attrs, "alpha"),
                            floatTensor(x), result(name));
        } else if (op == "Cropping2D") {
            const List& c = attrInts(l.attrs, "cropping"); // top, bottom, left, right
            m_model.addNode(
                "Slice", name,
                {x.tensor, int64Init(name + "/starts", {c[0], c[2]}),
                 int64Init(name + "/ends", {x.shape.height() - c[1], x.shape.width() - c[3]}),
                 int64Init(name + "/axes", {2, 3})},
                {result(name)});
        } else if (op == "ZeroPadding2D") {
            const List& p = attrInts(l.attrs, "padding"); // top, bottom, left, right
            m_model.addNode(
                "Pad", name,
                {x.tensor, int64Init(name + "/pads", {0, 0, p[0], p[2], 0, 0, p[1], p[3]})},
                {result(name)}, {{"mode", std::string("constant")}});
        } else if (op == "Rescale") {
            const std::string scaled = name + "/scaled";
            m_model.addNode(
                "Mul", name,
                {floatTensor(x), floatInit(name + "/scale", {1},
                                           {static_cast<float>(attrFloat(l.attrs, "scale"))})},
                {scaled});
            m_model.addNode("Add", name + "/add",
                            {scaled, floatInit(name + "/offset", {1},
                                               {static_cast<float>(attrFloat(l.attrs, "offset"))})},
                            {result(name)});
        } else {
            m_out.errors.push_back(strCat(op, " '", name, "' has no ONNX equivalent here"));
            ok = false;
        }
        // Cropping, padding and dropout keep the input's dtype; everything else computes in
        // float32. Registered even after an error, so that the layers after it are
        // still written and every problem is reported at once.
        const bool keepsType = op == "Cropping2D" || op == "ZeroPadding2D" || op == "Dropout";
        m_values[name] = {result(name), keepsType ? x.dtype : DType::Float32, l.output->shape};
        return ok && m_out.errors.size() == before;
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
        out.bytes = model.serialize("0.1.0");
    return out;
}

} // namespace segforge::core
