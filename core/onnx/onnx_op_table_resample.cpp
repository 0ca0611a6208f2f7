#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"
#include "ops/builtin_ops.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>

// The translation table, continued (see onnx_op_table.cpp): pooling,
// resizing, padding, slicing used as a crop, and the merges (Concat, Add,
// Mul, and arithmetic with a scalar constant as Rescale).

namespace segforge::core::interop {

namespace {

using Dims = std::vector<std::int64_t>;

std::string pool(OnnxImporter& im, const OnnxNodeDef& node, bool average) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    if (!node.attribute("kernel_shape"))
        return "it has no kernel_shape";
    if (node.outputs.size() > 1 && !node.outputs[1].empty())
        return "its indices output is used";
    OnnxWindow win;
    why = readOnnxWindow(node, x->shape, {}, win);
    if (!why.empty())
        return why;
    if (win.dilations[0] != 1 || win.dilations[1] != 1)
        return "dilated pooling has no SegForge op";
    const bool countPad = onnxInt(node, "count_include_pad", 0) != 0;
    // ceil_mode: PyTorch keeps a last partial window when it starts inside the
    // input or its leading padding; it becomes extra padding at the end.
    std::int64_t extra[2] = {0, 0};
    if (onnxInt(node, "ceil_mode", 0) != 0) {
        for (int a = 0; a < 2; ++a) {
            const std::int64_t in = x->shape[2 + static_cast<std::size_t>(a)];
            const std::int64_t padded = in + win.pads[2 * a] + win.pads[2 * a + 1];
            const std::int64_t span = padded - win.kernel[a];
            if (span < 0)
                return "its window is larger than the padded input";
            std::int64_t out = (span + win.strides[a] - 1) / win.strides[a] + 1;
            if ((out - 1) * win.strides[a] >= in + win.pads[2 * a])
                --out;
            extra[a] = (out - 1) * win.strides[a] + win.kernel[a] - padded;
        }
    }
    const bool anyPad = std::any_of(win.pads, win.pads + 4, [](std::int64_t p) { return p != 0; });
    if (average && (extra[0] > 0 || extra[1] > 0))
        return "average pooling with ceil_mode keeps a partial window whose divisor counts only "
               "the pixels inside; SegForge's average pooling has no such window";
    std::string padding = "valid";
    PortRef port = *x->port;
    Dims shape = x->shape;
    const bool tfSame = win.sameUpper || onnxPadsAreSame(win);
    if ((win.sameUpper || anyPad) && extra[0] == 0 && extra[1] == 0 && tfSame &&
        (!average || !countPad)) {
        // TF 'same' pooling ignores the padding: MaxPool's −∞ pads, AveragePool without counting.
        padding = "same";
    } else if (anyPad || extra[0] > 0 || extra[1] > 0) {
        if (average && !countPad && anyPad)
            return "average pooling with pads that are not counted (count_include_pad=0) and "
                   "not TF's 'same' pads";
        if (!average && !x->nonNegative)
            im.log().warning("",
                             strCat("node '", node.name,
                                    "' (MaxPool): its pads are imported as ZeroPadding2D before a "
                                    "'valid' pooling; ONNX pads with −∞, so values at the borders "
                                    "differ where the input is negative"),
                             {"MaxPool padding imported as zero padding", node.name});
        const std::int64_t pads[4] = {win.pads[0], win.pads[1] + extra[0], win.pads[2],
                                      win.pads[3] + extra[1]};
        onnxPadBefore(im, node, pads, port, shape);
        std::fill(win.pads, win.pads + 4, 0);
    }
    Dims out{shape[0], shape[1], 0, 0};
    for (int a = 0; a < 2; ++a) {
        const std::int64_t padded =
            shape[2 + static_cast<std::size_t>(a)] + win.pads[2 * a] + win.pads[2 * a + 1];
        if (padded < win.kernel[a])
            return "its window is larger than the padded input";
        out[2 + static_cast<std::size_t>(a)] = (padded - win.kernel[a]) / win.strides[a] + 1;
    }
    const NodeId id = im.addNode(average ? ops::kAvgPool2DOp : ops::kMaxPool2DOp, node, "",
                                 {{"pool_size", Dims{win.kernel[0], win.kernel[1]}},
                                  {"strides", Dims{win.strides[0], win.strides[1]}},
                                  {"padding", padding}},
                                 {port});
    im.bind(node.outputs.at(0), {id, "output"}, out, x->nonNegative);
    return "";
}

/// An integer factor ≥ 1 from a float scale, else 0.
std::int64_t integerFactor(double scale) {
    const double r = std::round(scale);
    return r >= 1 && r <= 64 && std::abs(scale - r) < 1e-6 ? static_cast<std::int64_t>(r) : 0;
}

/// Whether ONNX's nearest resize with this coordinate mapping and rounding
/// repeats each pixel `f` times (what UpSampling2D does): x = i/f with floor;
/// half-pixel x = (i + ½)/f − ½ rounds to ⌊i/f⌋ (its fraction stays inside
/// (−½, ½)); round_prefer_floor of i/f only for f ≤ 2.
bool nearestRepeats(const std::string& ctm, const std::string& rounding, std::int64_t f) {
    if (f == 1)
        return true;
    if (ctm == "asymmetric")
        return rounding == "floor" || (rounding == "round_prefer_floor" && f <= 2);
    if (ctm == "half_pixel" || ctm == "pytorch_half_pixel")
        return rounding == "round_prefer_floor" || rounding == "round_prefer_ceil";
    if (ctm == "tf_half_pixel_for_nn")
        return rounding == "floor";
    return false;
}

} // namespace

std::string translateMaxPool(OnnxImporter& im, const OnnxNodeDef& node) {
    return pool(im, node, false);
}

std::string translateAveragePool(OnnxImporter& im, const OnnxNodeDef& node) {
    return pool(im, node, true);
}

std::string translateResize(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const bool upsample = node.opType == "Upsample";
    const std::int64_t opset = im.file().opset;
    const bool modern = !upsample && opset >= 11; // X, roi, scales, sizes
    double scale[2] = {0, 0};
    const OnnxTensor* scales = im.constantInput(node, modern ? 2 : 1);
    const OnnxTensor* sizes = modern ? im.constantInput(node, 3) : nullptr;
    if (scales && scales->elementCount() == 4) {
        const std::vector<double> v = onnxTensorDoubles(*scales);
        if (v[0] != 1 || v[1] != 1)
            return "it scales the batch or channel axis";
        scale[0] = v[2];
        scale[1] = v[3];
    } else if (sizes && sizes->elementCount() == 4) {
        const std::vector<std::int64_t> v = onnxTensorInts(*sizes);
        if (v[1] != x->shape[1])
            return "it resizes the channel axis";
        scale[0] = static_cast<double>(v[2]) / static_cast<double>(x->shape[2]);
        scale[1] = static_cast<double>(v[3]) / static_cast<double>(x->shape[3]);
    } else if (const OnnxAttribute* a = node.attribute("scales"); a && a->floats.size() == 4) {
        scale[0] = a->floats[2]; // Upsample-7
        scale[1] = a->floats[3];
    } else {
        return "its scales or sizes are not constants (nor computed from static sizes)";
    }
    const std::int64_t f[2] = {integerFactor(scale[0]), integerFactor(scale[1])};
    if (!f[0] || !f[1])
        return strCat("its scale factors (", scale[0], ", ", scale[1],
                      ") are not whole numbers ≥ 1; UpSampling2D repeats by whole factors");
    std::string mode = onnxString(node, "mode", "nearest");
    // Resize-10 and Upsample map coordinates as 'asymmetric' and round down.
    const std::string ctm =
        modern ? onnxString(node, "coordinate_transformation_mode", "half_pixel") : "asymmetric";
    const std::string rounding =
        modern ? onnxString(node, "nearest_mode", "round_prefer_floor") : "floor";
    AttrMap attrs{{"size", Dims{f[0], f[1]}}};
    if (mode == "nearest") {
        if (!nearestRepeats(ctm, rounding, std::max(f[0], f[1])))
            return strCat("nearest resize with coordinate_transformation_mode '", ctm,
                          "' and nearest_mode '", rounding,
                          "' does not repeat pixels by the factor");
    } else if (mode == "linear" || mode == "bilinear") {
        if (ctm == "align_corners")
            attrs["align_corners"] = true;
        else if (ctm != "half_pixel" && ctm != "pytorch_half_pixel")
            return strCat("linear resize with coordinate_transformation_mode '", ctm,
                          "' (SegForge's bilinear uses half-pixel centres or align_corners)");
        attrs["interpolation"] = std::string("bilinear");
    } else {
        return "resize mode '" + mode + "' has no SegForge op";
    }
    const NodeId id = im.addNode(ops::kUpSampling2DOp, node, "", std::move(attrs), {*x->port});
    im.bind(node.outputs.at(0), {id, "output"},
            {x->shape[0], x->shape[1], x->shape[2] * f[0], x->shape[3] * f[1]}, x->nonNegative);
    return "";
}

std::string translateConcat(OnnxImporter& im, const OnnxNodeDef& node) {
    std::int64_t axis = onnxInt(node, "axis", 1);
    if (axis < 0)
        axis += 4;
    if (axis != 1)
        return strCat("a concatenation along axis ", axis,
                      " (SegForge concatenates channels, axis 1)");
    std::vector<PortRef> inputs;
    Dims out;
    bool nonNegative = true;
    for (std::size_t i = 0; i < node.inputs.size(); ++i) {
        std::string why;
        const OnnxValueState* x = im.imageInput(node, i, why);
        if (!x)
            return why;
        if (out.empty())
            out = x->shape;
        else
            out[1] += x->shape[1];
        inputs.push_back(*x->port);
        nonNegative = nonNegative && x->nonNegative;
    }
    if (inputs.size() < 2) {
        if (inputs.size() == 1)
            im.alias(node.outputs.at(0), node.inputs[0]);
        return inputs.empty() ? "it has no inputs" : "";
    }
    const NodeId id = im.addNode(
        ops::kConcatenateOp, node, "",
        {{"axis", std::int64_t{-1}}, {"num_inputs", static_cast<std::int64_t>(inputs.size())}},
        inputs);
    im.bind(node.outputs.at(0), {id, "output"}, out, nonNegative);
    return "";
}

std::string translateArithmetic(OnnxImporter& im, const OnnxNodeDef& node) {
    const std::string& op = node.opType;
    if (node.inputs.size() != 2)
        return "it does not take two inputs";
    const OnnxValueState* a = im.value(node.inputs[0]);
    const OnnxValueState* b = im.value(node.inputs[1]);
    if (!a || !b)
        return "an input is missing";
    if (a->port && b->port) {
        if (op != onnx_op::kAdd && op != "Mul")
            return strCat("SegForge has no op for ", op, " of two tensors");
        std::string why;
        const OnnxValueState* x = im.imageInput(node, 0, why);
        const OnnxValueState* y = x ? im.imageInput(node, 1, why) : nullptr;
        if (!x || !y)
            return why;
        Dims out(4);
        for (std::size_t i = 0; i < 4; ++i) {
            if (x->shape[i] != y->shape[i] && x->shape[i] != 1 && y->shape[i] != 1 && i > 0)
                return "its inputs' shapes do not broadcast";
            out[i] = i == 0 ? x->shape[0] : std::max(x->shape[i], y->shape[i]);
        }
        const NodeId id = im.addNode(op == onnx_op::kAdd ? ops::kAddOp : ops::kMultiplyOp, node, "",
                                     {}, {*x->port, *y->port});
        im.bind(node.outputs.at(0), {id, "output"}, out, x->nonNegative && y->nonNegative);
        return "";
    }
    // One wire and one scalar constant: output = input × scale + offset.
    const bool constFirst = !a->port;
    const OnnxValueState* wire = constFirst ? b : a;
    const OnnxValueState* constant = constFirst ? a : b;
    if (!wire->port || !constant->constant)
        return "no input is a tensor of the network";
    const std::vector<double> c = onnxTensorDoubles(*constant->constant);
    if (c.size() != 1)
        return strCat(op, " with a constant of ", c.size(),
                      " values (SegForge's Rescale takes one scale and offset)");
    std::string why;
    const OnnxValueState* x = im.imageInput(node, constFirst ? 1 : 0, why);
    if (!x)
        return why;
    double scale = 1, offset = 0;
    if (op == onnx_op::kAdd)
        offset = c[0];
    else if (op == "Mul")
        scale = c[0];
    else if (op == "Sub" && constFirst)
        scale = -1, offset = c[0];
    else if (op == "Sub")
        offset = -c[0];
    else if (op == "Div" && !constFirst && c[0] != 0)
        scale = 1 / c[0];
    else
        return "a division by a tensor";
    const NodeId id =
        im.addNode(ops::kRescaleOp, node, "", {{"scale", scale}, {"offset", offset}}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, x->shape,
            x->nonNegative && scale >= 0 && offset >= 0);
    return "";
}

std::string translatePad(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    const std::string mode = onnxString(node, "mode", "constant");
    if (mode != "constant")
        return "'" + mode + "' padding (SegForge pads with zeros)";
    Dims pads = onnxInts(node, "pads", {});
    double fill = onnxFloat(node, "value", 0.0f);
    if (node.inputs.size() > 1) {
        const OnnxTensor* p = im.constantInput(node, 1);
        if (!p)
            return "its pads are not constants (nor computed from static sizes)";
        pads = onnxTensorInts(*p);
        if (node.inputs.size() > 2 && !node.inputs[2].empty()) {
            const OnnxTensor* v = im.constantInput(node, 2);
            if (!v || v->elementCount() != 1)
                return "its constant_value is not a constant scalar";
            fill = onnxTensorDoubles(*v)[0];
        }
        if (node.inputs.size() > 3 && !node.inputs[3].empty())
            return "it names axes";
    }
    if (pads.size() != 8)
        return "its pads are not 8 values (N×C×H×W)";
    if (fill != 0)
        return strCat("it pads with ", fill, " (SegForge pads with zeros)");
    if (pads[0] || pads[1] || pads[4] || pads[5])
        return "it pads the batch or channel axis";
    if (std::any_of(pads.begin(), pads.end(),
                    [](std::int64_t v) { return v > kMaxOnnxWindow || v < -kMaxOnnxWindow; }))
        return strCat("its pads exceed ", kMaxOnnxWindow);
    const std::int64_t p[4] = {pads[2], pads[6], pads[3], pads[7]}; // top, bottom, left, right
    PortRef port = *x->port;
    Dims shape = x->shape;
    const Dims grow{std::max<std::int64_t>(p[0], 0), std::max<std::int64_t>(p[1], 0),
                    std::max<std::int64_t>(p[2], 0), std::max<std::int64_t>(p[3], 0)};
    const Dims crop{std::max<std::int64_t>(-p[0], 0), std::max<std::int64_t>(-p[1], 0),
                    std::max<std::int64_t>(-p[2], 0), std::max<std::int64_t>(-p[3], 0)};
    auto any = [](const Dims& d) {
        return std::any_of(d.begin(), d.end(), [](auto v) { return v > 0; });
    };
    if (crop[0] + crop[1] >= shape[2] + grow[0] + grow[1] ||
        crop[2] + crop[3] >= shape[3] + grow[2] + grow[3])
        return "its negative pads remove the whole image";
    if (any(grow)) {
        const NodeId id = im.addNode(ops::kZeroPadding2DOp, node, "", {{"padding", grow}}, {port});
        port = {id, "output"};
        shape[2] += grow[0] + grow[1];
        shape[3] += grow[2] + grow[3];
    }
    if (any(crop)) {
        const NodeId id = im.addNode(ops::kCropping2DOp, node, any(grow) ? "_crop" : "",
                                     {{"cropping", crop}}, {port});
        port = {id, "output"};
        shape[2] -= crop[0] + crop[1];
        shape[3] -= crop[2] + crop[3];
    }
    im.bind(node.outputs.at(0), port, shape, x->nonNegative);
    return "";
}

std::string translateSlice(OnnxImporter& im, const OnnxNodeDef& node) {
    std::string why;
    const OnnxValueState* x = im.imageInput(node, 0, why);
    if (!x)
        return why;
    Dims starts, ends, axes, steps;
    if (node.inputs.size() > 1) {
        const OnnxTensor* s = im.constantInput(node, 1);
        const OnnxTensor* e = im.constantInput(node, 2);
        if (!s || !e)
            return "its starts or ends are not constants (nor computed from static sizes)";
        starts = onnxTensorInts(*s);
        ends = onnxTensorInts(*e);
        for (std::size_t i : {3u, 4u}) {
            if (node.inputs.size() <= i || node.inputs[i].empty())
                continue;
            const OnnxTensor* t = im.constantInput(node, i);
            if (!t)
                return "its axes or steps are not constants";
            (i == 3 ? axes : steps) = onnxTensorInts(*t);
        }
    } else {
        starts = onnxInts(node, "starts", {});
        ends = onnxInts(node, "ends", {});
        axes = onnxInts(node, "axes", {});
    }
    if (axes.empty())
        for (std::size_t i = 0; i < starts.size(); ++i)
            axes.push_back(static_cast<std::int64_t>(i));
    if (steps.empty())
        steps.assign(starts.size(), 1);
    if (ends.size() != starts.size() || axes.size() != starts.size() ||
        steps.size() != starts.size())
        return "its starts, ends, axes and steps differ in length";
    Dims crop{0, 0, 0, 0};
    Dims shape = x->shape;
    for (std::size_t i = 0; i < starts.size(); ++i) {
        const std::int64_t axis = axes[i] < 0 ? axes[i] + 4 : axes[i];
        if (axis < 0 || axis > 3)
            return strCat("its axis ", axes[i], " is not one of N×C×H×W");
        const std::int64_t dim = x->shape[static_cast<std::size_t>(axis)];
        auto clampIndex = [dim](std::int64_t v) {
            return std::clamp<std::int64_t>(v < 0 ? v + dim : v, 0, dim);
        };
        const std::int64_t b = clampIndex(starts[i]), e = clampIndex(ends[i]);
        const bool whole = b == 0 && e == dim && steps[i] == 1;
        if (axis < 2 && !whole)
            return axis == 1 ? "it slices the channel axis (SegForge crops only height and width)"
                             : "it slices the batch axis";
        if (axis < 2)
            continue;
        if (steps[i] != 1)
            return strCat("a slice with step ", steps[i], " (SegForge crops with step 1)");
        if (e <= b)
            return "it leaves nothing of the image";
        const std::size_t k = axis == 2 ? 0 : 2;
        crop[k] = b;
        crop[k + 1] = dim - e;
        shape[static_cast<std::size_t>(axis)] = e - b;
    }
    if (std::all_of(crop.begin(), crop.end(), [](std::int64_t c) { return c == 0; })) {
        im.alias(node.outputs.at(0), node.inputs[0]);
        return "";
    }
    const NodeId id = im.addNode(ops::kCropping2DOp, node, "", {{"cropping", crop}}, {*x->port});
    im.bind(node.outputs.at(0), {id, "output"}, shape, x->nonNegative);
    return "";
}

} // namespace segforge::core::interop
