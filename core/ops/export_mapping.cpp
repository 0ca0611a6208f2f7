#include "ops/export_mapping.hpp"

#include "tensor/tensor.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>

namespace segforge::core {

std::int64_t InteropView::inputChannels(std::size_t i) const {
    if (i >= inputs.size() || !inputs[i] || inputs[i]->shape.rank() != 4)
        return 0;
    return inputs[i]->shape.channels();
}

std::string InteropView::pyInts(const char* key) const {
    return pyTuple(getList(key));
}

std::string InteropView::pyText(const char* key) const {
    return pythonString(getString(key));
}

std::string pyFloat(double value) {
    if (!std::isfinite(value))
        return value > 0 ? "float('inf')" : (value < 0 ? "float('-inf')" : "float('nan')");
    std::ostringstream out;
    out << std::setprecision(17) << value;
    std::string s = out.str();
    if (s.find_first_of(".eE") == std::string::npos)
        s += ".0";
    return s;
}

std::string pyTuple(const std::vector<std::int64_t>& values) {
    std::string s = "(";
    for (std::size_t i = 0; i < values.size(); ++i)
        s += (i ? ", " : "") + std::to_string(values[i]);
    return s + (values.size() == 1 ? ",)" : ")");
}

std::string pythonString(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out + "\"";
}

std::pair<std::int64_t, std::int64_t> tfSamePads(std::int64_t in, std::int64_t kernel,
                                                 std::int64_t stride, std::int64_t dilation) {
    const std::int64_t effective = (kernel - 1) * dilation + 1;
    const std::int64_t out = (in + stride - 1) / stride;
    const std::int64_t total = std::max<std::int64_t>((out - 1) * stride + effective - in, 0);
    return {total / 2, total - total / 2};
}

double convolutionKernelSize(const std::vector<std::int64_t>& kernel, std::int64_t a,
                             std::int64_t b) {
    double size = 1;
    for (std::int64_t d : {kernel.at(0), kernel.at(1), a, b})
        size *= static_cast<double>(d);
    return size;
}

double imagePixels(const std::optional<TensorType>& type, std::int64_t batch) {
    if (!type || type->shape.rank() != 4)
        return 0;
    return static_cast<double>(batch) * static_cast<double>(type->shape[1]) *
           static_cast<double>(type->shape[2]);
}

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

void onnxActivation(OnnxBuilder& b, const std::string& nodeName, const std::string& kind,
                    double alpha, const std::string& in, const std::string& out) {
    static const std::map<std::string, std::string> ops{
        {"linear", "Identity"}, {"relu", "Relu"}, {"leaky_relu", "LeakyRelu"},
        {"sigmoid", "Sigmoid"}, {"tanh", "Tanh"}, {"softmax", "Softmax"}};
    auto op = ops.find(kind);
    if (op == ops.end()) {
        b.error(strCat("activation '", kind, "' of '", nodeName, "' has no ONNX equivalent here"));
        return;
    }
    std::vector<OnnxAttribute> attrs;
    if (kind == "leaky_relu")
        attrs.push_back({"alpha", static_cast<float>(alpha)});
    if (kind == "softmax")
        attrs.push_back({"axis", std::int64_t{1}}); // channels, as Keras' axis=-1
    b.node(op->second, nodeName, {in}, {out}, attrs);
}

std::string onnxKerasKernel(OnnxBuilder& b, const std::string& layer, std::int64_t kh,
                            std::int64_t kw, std::int64_t a, std::int64_t bDim,
                            const std::string& param) {
    const Tensor* k = b.weight(param, kh * kw * a * bDim);
    if (!k)
        return {};
    const float* src = k->f32();
    std::vector<float> dst(static_cast<std::size_t>(k->numel()));
    for (std::int64_t y = 0; y < kh; ++y)
        for (std::int64_t x = 0; x < kw; ++x)
            for (std::int64_t i = 0; i < a; ++i)
                for (std::int64_t o = 0; o < bDim; ++o)
                    dst[static_cast<std::size_t>(((o * a + i) * kh + y) * kw + x)] =
                        src[((y * kw + x) * a + i) * bDim + o];
    return b.floatConstant(layer + "/" + param, {bDim, a, kh, kw}, std::move(dst));
}

std::string onnxVectorParam(OnnxBuilder& b, const std::string& layer, const std::string& param,
                            std::int64_t c) {
    const Tensor* t = b.weight(param, c);
    if (!t)
        return {};
    return b.floatConstant(layer + "/" + param, {c}, std::vector<float>(t->f32(), t->f32() + c));
}

} // namespace segforge::core
