#include "onnx/onnx_importer.hpp"
#include "onnx/onnx_op_types.hpp"

#include <charconv>
#include <cmath>
#include <functional>
#include <limits>

// Constant folding: the shape-only chains torch.onnx.export writes for
// `F.pad(x, [diffX // 2, …])` and `F.interpolate(x, size=skip.shape[2:])`
// (Shape → Gather → Unsqueeze → Concat → Cast → Div → …) are evaluated here
// over small constant tensors, so that Resize, Pad and Slice see plain
// numbers. A node whose inputs are all constant never becomes a graph node.

namespace segforge::core::interop {

namespace {

/// A constant being computed: values as doubles (exact for sizes and int64
/// up to 2^53), with the element type to write back.
struct Folded {
    std::vector<std::int64_t> dims;
    std::vector<double> v;
    bool isFloat = false;
};

std::int64_t countOf(const std::vector<std::int64_t>& dims) {
    std::int64_t n = 1;
    for (std::int64_t d : dims) {
        if (d < 0 || __builtin_mul_overflow(n, d, &n) || n > kMaxFoldElements)
            return -1;
    }
    return n;
}

std::optional<Folded> load(const OnnxTensor* t) {
    if (!t || countOf(t->dims) < 0)
        return std::nullopt;
    Folded f;
    f.dims = t->dims;
    f.isFloat = t->isFloat();
    f.v = onnxTensorDoubles(*t);
    if (static_cast<std::int64_t>(f.v.size()) != countOf(f.dims))
        return std::nullopt;
    return f;
}

OnnxTensor store(const Folded& f) {
    OnnxTensor t;
    t.dims = f.dims;
    if (f.isFloat) {
        t.type = OnnxElem::Float;
        for (double d : f.v)
            t.floats.push_back(static_cast<float>(d));
    } else {
        t.type = OnnxElem::Int64;
        for (double d : f.v)
            t.ints.push_back(static_cast<std::int64_t>(d));
    }
    return t;
}

std::int64_t normAxis(std::int64_t axis, std::size_t rank) {
    return axis < 0 ? axis + static_cast<std::int64_t>(rank) : axis;
}

bool sane(double d) {
    return std::isfinite(d) && std::abs(d) < 9e15;
}

using Result = std::optional<std::vector<OnnxTensor>>;

Result one(const std::optional<Folded>& f) {
    if (!f || countOf(f->dims) < 0 || static_cast<std::int64_t>(f->v.size()) != countOf(f->dims))
        return std::nullopt;
    for (double d : f->v)
        if (!sane(d))
            return std::nullopt;
    return std::vector<OnnxTensor>{store(*f)};
}

std::optional<Folded> binary(const Folded& a, const Folded& b, const std::string& op) {
    const bool aOne = a.v.size() == 1, bOne = b.v.size() == 1;
    if (!(a.dims == b.dims || aOne || bOne))
        return std::nullopt;
    Folded out;
    out.dims = aOne && !bOne ? b.dims : a.dims;
    out.isFloat = a.isFloat || b.isFloat;
    const std::size_t n = std::max(a.v.size(), b.v.size());
    for (std::size_t i = 0; i < n; ++i) {
        const double x = a.v[aOne ? 0 : i], y = b.v[bOne ? 0 : i];
        double r = 0;
        if (op == onnx_op::kAdd)
            r = x + y;
        else if (op == "Sub")
            r = x - y;
        else if (op == "Mul")
            r = x * y;
        else { // Div: integers truncate toward zero, as ONNX says
            if (y == 0)
                return std::nullopt;
            r = out.isFloat ? x / y : std::trunc(x / y);
        }
        out.v.push_back(r);
    }
    return out;
}

/// The indices one axis keeps under ONNX Slice's clamping rules.
std::vector<std::int64_t> sliceIndices(std::int64_t n, std::int64_t start, std::int64_t end,
                                       std::int64_t step) {
    std::vector<std::int64_t> out;
    if (step == 0)
        return out;
    auto norm = [n](std::int64_t i, std::int64_t lo, std::int64_t hi) {
        if (i < 0)
            i += n; // no overflow: n ≥ 0
        return std::clamp(i, lo, hi);
    };
    if (step > 0) {
        for (std::int64_t i = norm(start, 0, n), e = norm(end, 0, n); i < e; i += step)
            out.push_back(i);
    } else {
        for (std::int64_t i = norm(start, -1, n - 1), e = norm(end, -1, n - 1); i > e; i += step)
            out.push_back(i);
    }
    return out;
}

/// Gathers `data` at the given indices per axis (row-major): Slice and Transpose.
Folded pick(const Folded& data, const std::vector<std::vector<std::int64_t>>& keep,
            const std::vector<std::size_t>& order) {
    const std::size_t rank = data.dims.size();
    std::vector<std::int64_t> strides(rank, 1);
    for (std::size_t i = rank; i-- > 1;)
        strides[i - 1] = strides[i] * data.dims[i];
    Folded out;
    out.isFloat = data.isFloat;
    for (std::size_t a : order)
        out.dims.push_back(static_cast<std::int64_t>(keep[a].size()));
    if (countOf(out.dims) <= 0)
        return out;
    std::vector<std::size_t> at(rank, 0); // position in each (ordered) output axis
    while (true) {
        std::int64_t offset = 0;
        for (std::size_t k = 0; k < rank; ++k)
            offset += keep[order[k]][at[k]] * strides[order[k]];
        out.v.push_back(data.v[static_cast<std::size_t>(offset)]);
        std::size_t k = rank;
        while (k-- > 0) {
            if (++at[k] < keep[order[k]].size())
                break;
            at[k] = 0;
        }
        if (k == static_cast<std::size_t>(-1))
            break;
    }
    return out;
}

std::vector<std::size_t> identityOrder(std::size_t rank) {
    std::vector<std::size_t> order(rank);
    for (std::size_t i = 0; i < rank; ++i)
        order[i] = i;
    return order;
}

} // namespace

std::vector<std::int64_t> onnxTensorInts(const OnnxTensor& t) {
    if (!t.ints.empty() || !t.isFloat())
        return t.ints;
    std::vector<std::int64_t> out;
    for (float f : t.floats)
        out.push_back(std::isfinite(f) && std::abs(f) < 9e15f ? static_cast<std::int64_t>(f) : 0);
    return out;
}

std::vector<double> onnxTensorDoubles(const OnnxTensor& t) {
    std::vector<double> out;
    if (t.isFloat())
        out.assign(t.floats.begin(), t.floats.end());
    else
        for (std::int64_t i : t.ints)
            out.push_back(static_cast<double>(i));
    return out;
}

std::optional<std::vector<OnnxTensor>> foldOnnxNode(const OnnxImporter& im,
                                                    const OnnxNodeDef& node) {
    const std::string& op = node.opType;
    auto in = [&](std::size_t i) { return load(im.constantInput(node, i)); };
    auto intsOf = [&](std::size_t i) -> std::optional<std::vector<std::int64_t>> {
        const OnnxTensor* t = im.constantInput(node, i);
        if (!t || countOf(t->dims) < 0)
            return std::nullopt;
        return onnxTensorInts(*t);
    };
    if (op == "Constant") {
        for (const OnnxAttribute& a : node.attributes) {
            Folded f;
            if (a.name == "value" && a.tensor) // any size: weights may come as Constants
                return std::vector<OnnxTensor>{*a.tensor};
            if (a.name == "value_float" || a.name == "value_int") {
                f.isFloat = a.name == "value_float";
                f.v = {f.isFloat ? static_cast<double>(a.f) : static_cast<double>(a.i)};
                return one(f);
            }
            if (a.name == "value_floats" || a.name == "value_ints") {
                f.isFloat = a.name == "value_floats";
                if (f.isFloat)
                    f.v.assign(a.floats.begin(), a.floats.end());
                else
                    for (std::int64_t i : a.ints)
                        f.v.push_back(static_cast<double>(i));
                f.dims = {static_cast<std::int64_t>(f.v.size())};
                return one(f);
            }
        }
        return std::nullopt;
    }
    if (op == "Shape") {
        const OnnxValueState* v = node.inputs.empty() ? nullptr : im.value(node.inputs[0]);
        if (!v || v->shape.empty())
            return std::nullopt;
        Folded f;
        const auto rank = static_cast<std::int64_t>(v->shape.size());
        std::int64_t start =
            std::clamp(normAxis(onnxInt(node, "start", 0), v->shape.size()), std::int64_t{0}, rank);
        std::int64_t end = std::clamp(normAxis(onnxInt(node, "end", rank), v->shape.size()),
                                      std::int64_t{0}, rank);
        for (std::int64_t i = start; i < end; ++i) {
            std::int64_t d = v->shape[static_cast<std::size_t>(i)];
            if (d < 0 && i == 0 && v->port)
                d = 1; // a symbolic batch: shape chains read H and W
            if (d < 0)
                return std::nullopt;
            f.v.push_back(static_cast<double>(d));
        }
        f.dims = {static_cast<std::int64_t>(f.v.size())};
        return one(f);
    }
    // Everything below needs every (present) input constant.
    for (std::size_t i = 0; i < node.inputs.size(); ++i)
        if (!node.inputs[i].empty() && !im.constantInput(node, i))
            return std::nullopt;
    if (node.inputs.empty())
        return std::nullopt;
    auto data = in(0);
    if (!data && op != "ConstantOfShape")
        return std::nullopt;
    if (op == "Identity")
        return one(data);
    if (op == "Gather") {
        auto idx = in(1);
        if (!idx || data->dims.size() != 1 || normAxis(onnxInt(node, "axis", 0), 1) != 0)
            return std::nullopt;
        Folded f;
        f.isFloat = data->isFloat;
        f.dims = idx->dims;
        const auto n = static_cast<std::int64_t>(data->v.size());
        for (double d : idx->v) {
            auto i = static_cast<std::int64_t>(d);
            if (i < 0)
                i += n;
            if (i < 0 || i >= n)
                return std::nullopt;
            f.v.push_back(data->v[static_cast<std::size_t>(i)]);
        }
        return one(f);
    }
    if (op == "Unsqueeze" || op == "Squeeze") {
        std::vector<std::int64_t> axes = onnxInts(node, "axes", {});
        if (node.inputs.size() > 1 && !node.inputs[1].empty()) {
            auto a = intsOf(1);
            if (!a)
                return std::nullopt;
            axes = *a;
        }
        Folded f = *data;
        if (op == "Unsqueeze") {
            const std::size_t rank = f.dims.size() + axes.size();
            std::vector<bool> inserted(rank, false);
            for (std::int64_t a : axes) {
                a = normAxis(a, rank);
                if (a < 0 || a >= static_cast<std::int64_t>(rank))
                    return std::nullopt;
                inserted[static_cast<std::size_t>(a)] = true;
            }
            std::vector<std::int64_t> dims;
            std::size_t k = 0;
            for (std::size_t i = 0; i < rank; ++i)
                dims.push_back(inserted[i] ? 1 : (k < f.dims.size() ? f.dims[k++] : 1));
            f.dims = dims;
        } else {
            std::vector<std::int64_t> dims;
            for (std::size_t i = 0; i < f.dims.size(); ++i) {
                bool drop = axes.empty() && f.dims[i] == 1;
                for (std::int64_t a : axes)
                    drop = drop || normAxis(a, f.dims.size()) == static_cast<std::int64_t>(i);
                if (!drop)
                    dims.push_back(f.dims[i]);
            }
            f.dims = dims;
        }
        return one(f);
    }
    if (op == "Concat") {
        Folded f;
        f.isFloat = data->isFloat;
        for (std::size_t i = 0; i < node.inputs.size(); ++i) {
            auto part = in(i);
            if (!part || part->dims.size() > 1)
                return std::nullopt;
            f.v.insert(f.v.end(), part->v.begin(), part->v.end());
        }
        f.dims = {static_cast<std::int64_t>(f.v.size())};
        return one(f);
    }
    if (op == "Slice") {
        std::vector<std::int64_t> starts, ends, axes, steps;
        if (node.inputs.size() > 1) {
            auto s = intsOf(1), e = intsOf(2);
            if (!s || !e)
                return std::nullopt;
            starts = *s;
            ends = *e;
            if (node.inputs.size() > 3 && !node.inputs[3].empty())
                axes = intsOf(3).value_or(std::vector<std::int64_t>{});
            if (node.inputs.size() > 4 && !node.inputs[4].empty())
                steps = intsOf(4).value_or(std::vector<std::int64_t>{});
        } else {
            starts = onnxInts(node, "starts", {});
            ends = onnxInts(node, "ends", {});
            axes = onnxInts(node, "axes", {});
        }
        const std::size_t rank = data->dims.size();
        if (axes.empty())
            for (std::size_t i = 0; i < starts.size(); ++i)
                axes.push_back(static_cast<std::int64_t>(i));
        if (steps.empty())
            steps.assign(starts.size(), 1);
        if (rank == 0 || ends.size() != starts.size() || axes.size() != starts.size() ||
            steps.size() != starts.size())
            return std::nullopt;
        std::vector<std::vector<std::int64_t>> keep(rank);
        for (std::size_t a = 0; a < rank; ++a)
            keep[a] = sliceIndices(data->dims[a], 0, data->dims[a], 1);
        for (std::size_t i = 0; i < starts.size(); ++i) {
            const std::int64_t a = normAxis(axes[i], rank);
            if (a < 0 || a >= static_cast<std::int64_t>(rank) || steps[i] == 0)
                return std::nullopt;
            keep[static_cast<std::size_t>(a)] =
                sliceIndices(data->dims[static_cast<std::size_t>(a)], starts[i], ends[i], steps[i]);
        }
        return one(pick(*data, keep, identityOrder(rank)));
    }
    if (op == "Transpose") {
        const std::size_t rank = data->dims.size();
        std::vector<std::int64_t> perm = onnxInts(node, "perm", {});
        if (perm.empty())
            for (std::size_t i = rank; i-- > 0;)
                perm.push_back(static_cast<std::int64_t>(i));
        if (perm.size() != rank)
            return std::nullopt;
        std::vector<std::size_t> order;
        std::vector<bool> seen(rank, false);
        for (std::int64_t p : perm) {
            if (p < 0 || p >= static_cast<std::int64_t>(rank) || seen[static_cast<std::size_t>(p)])
                return std::nullopt;
            seen[static_cast<std::size_t>(p)] = true;
            order.push_back(static_cast<std::size_t>(p));
        }
        std::vector<std::vector<std::int64_t>> keep(rank);
        for (std::size_t a = 0; a < rank; ++a)
            keep[a] = sliceIndices(data->dims[a], 0, data->dims[a], 1);
        return one(pick(*data, keep, order));
    }
    if (op == onnx_op::kCast) {
        const std::int64_t to = onnxInt(node, "to", 1);
        const auto target = static_cast<OnnxElem>(to);
        Folded f = *data;
        f.isFloat = target == OnnxElem::Float || target == OnnxElem::Double ||
                    target == OnnxElem::Float16 || target == OnnxElem::BFloat16;
        if (!f.isFloat)
            for (double& d : f.v)
                d = target == OnnxElem::Bool ? (d != 0) : std::trunc(d);
        return one(f);
    }
    if (op == onnx_op::kAdd || op == "Sub" || op == "Mul" || op == "Div") {
        auto b = in(1);
        return b ? one(binary(*data, *b, op)) : std::nullopt;
    }
    if (op == "Floor" || op == "Ceil" || op == "Neg" || op == "Sqrt") {
        Folded f = *data;
        for (double& d : f.v)
            d = op == "Floor"  ? std::floor(d)
                : op == "Ceil" ? std::ceil(d)
                : op == "Neg"  ? -d
                               : (d < 0 ? std::nan("") : std::sqrt(d));
        return one(f);
    }
    if (op == "ConstantOfShape") {
        auto shape = intsOf(0);
        if (!shape || countOf(*shape) < 0)
            return std::nullopt;
        Folded f;
        f.dims = *shape;
        f.isFloat = true;
        double fill = 0;
        if (const OnnxAttribute* a = node.attribute("value"); a && a->tensor) {
            const std::vector<double> v = onnxTensorDoubles(*a->tensor);
            if (v.size() != 1)
                return std::nullopt;
            fill = v[0];
            f.isFloat = a->tensor->isFloat();
        }
        f.v.assign(static_cast<std::size_t>(countOf(f.dims)), fill);
        return one(f);
    }
    if (op == "Reshape") {
        auto shape = intsOf(1);
        if (!shape)
            return std::nullopt;
        std::vector<std::int64_t> dims = *shape;
        std::int64_t known = 1;
        int unknown = -1;
        for (std::size_t i = 0; i < dims.size(); ++i) {
            if (dims[i] == 0 && i < data->dims.size())
                dims[i] = data->dims[i];
            if (dims[i] == -1) {
                if (unknown >= 0)
                    return std::nullopt;
                unknown = static_cast<int>(i);
            } else if (dims[i] < 0) {
                return std::nullopt;
            } else {
                known *= dims[i];
            }
        }
        const auto n = static_cast<std::int64_t>(data->v.size());
        if (unknown >= 0) {
            if (known == 0 || n % known)
                return std::nullopt;
            dims[static_cast<std::size_t>(unknown)] = n / known;
        }
        Folded f = *data;
        f.dims = dims;
        return one(f);
    }
    return std::nullopt;
}

bool OnnxImporter::fold(const OnnxNodeDef& node) {
    auto outputs = foldOnnxNode(*this, node);
    if (!outputs || outputs->size() < node.outputs.size())
        return false;
    for (std::size_t k = 0; k < node.outputs.size(); ++k)
        if (!node.outputs[k].empty())
            bindConstant(node.outputs[k], std::move((*outputs)[k]));
    return true;
}

// --- attribute readers ------------------------------------------------------

std::int64_t onnxInt(const OnnxNodeDef& node, const char* name, std::int64_t def) {
    const OnnxAttribute* a = node.attribute(name);
    return a && a->kind == OnnxAttribute::Kind::Int ? a->i : def;
}

float onnxFloat(const OnnxNodeDef& node, const char* name, float def) {
    const OnnxAttribute* a = node.attribute(name);
    return a && a->kind == OnnxAttribute::Kind::Float ? a->f : def;
}

double onnxDecimal(const OnnxNodeDef& node, const char* name, float def) {
    const float f = onnxFloat(node, name, def);
    char text[64];
    const auto written = std::to_chars(text, text + sizeof text, f);
    double d = f;
    if (written.ec == std::errc())
        std::from_chars(text, written.ptr, d);
    return d;
}

std::string onnxString(const OnnxNodeDef& node, const char* name, const std::string& def) {
    const OnnxAttribute* a = node.attribute(name);
    return a && a->kind == OnnxAttribute::Kind::String ? a->s : def;
}

std::vector<std::int64_t> onnxInts(const OnnxNodeDef& node, const char* name,
                                   std::vector<std::int64_t> def) {
    const OnnxAttribute* a = node.attribute(name);
    return a && a->kind == OnnxAttribute::Kind::Ints ? a->ints : def;
}

} // namespace segforge::core::interop
