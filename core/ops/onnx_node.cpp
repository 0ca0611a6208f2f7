#include "ops/builtin_ops.hpp"
#include "ops/op_helpers.hpp"
#include "ops/op_ports.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <charconv>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace segforge::core::ops {

const char kOnnxNodeOp[] = "OnnxNode";

namespace {

/// One entry of output_shapes: "H,W,C" (each a positive integer or '?').
/// nullopt when any dimension is '?'; an error text when it is malformed.
struct DeclaredShape {
    std::optional<Shape> shape;
    std::string error;
};

DeclaredShape parseDeclaredShape(std::string_view text, std::int64_t batch) {
    std::vector<std::string_view> dims;
    std::size_t start = 0;
    while (true) {
        const std::size_t comma = text.find(',', start);
        dims.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
        if (comma == std::string_view::npos)
            break;
        start = comma + 1;
    }
    if (dims.size() != 3)
        return {std::nullopt, strCat("'", text, "' is not H,W,C (three sizes, '?' for unknown)")};
    std::vector<std::int64_t> values;
    bool unknown = false;
    for (std::string_view d : dims) {
        while (!d.empty() && d.front() == ' ')
            d.remove_prefix(1);
        while (!d.empty() && d.back() == ' ')
            d.remove_suffix(1);
        if (d == "?") {
            unknown = true;
            continue;
        }
        std::int64_t v = 0;
        const auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), v);
        if (ec != std::errc() || end != d.data() + d.size() || v < 1)
            return {std::nullopt, strCat("'", text, "' has the size '", d,
                                         "', which is neither a positive integer nor '?'")};
        values.push_back(v);
    }
    if (unknown)
        return {};
    return {Shape{batch, values[0], values[1], values[2]}, {}};
}

std::vector<std::string_view> splitEntries(std::string_view text) {
    std::vector<std::string_view> out;
    if (text.empty())
        return out;
    std::size_t start = 0;
    while (true) {
        const std::size_t semi = text.find(';', start);
        out.push_back(text.substr(start, semi == std::string_view::npos ? semi : semi - start));
        if (semi == std::string_view::npos)
            break;
        start = semi + 1;
    }
    return out;
}

} // namespace

// An imported ONNX node that SegForge cannot map stays in the graph as this
// placeholder (the counterpart of KerasLayer). Its infer always reports
// unsupported-op; when the file declares the node's output shapes, it also
// answers them, so that the layers after it are still checked. No kernels: a
// graph holding one does not train, and it is never exported.
OpSchema onnxNodeSchema() {
    OpSchema s;
    s.name = kOnnxNodeOp;
    s.category = "Interop";
    s.traits.placeholder = true;
    s.description = "Placeholder for an imported ONNX node SegForge has no op for (op_type "
                    "names it). Replace it with supported layers; the tensors after it keep the "
                    "output shapes the file declares, or have no type.";
    s.inputs = {{"input", kAnyDType, "whatever the ONNX node received"}};
    s.variadicInputs = true;
    // Reported even behind another placeholder (see KerasLayer).
    s.inferWithUnknownInputs = true;
    // As many outputs as the file uses (num_outputs): output, output_1, … (ops/op_ports).
    s.outputs = {{"output", kAnyDType, "the declared output_shapes, or unknown"}};
    s.attrs = {
        stringAttr("op_type", "", "the ONNX operator, e.g. Gemm"),
        stringAttr("onnx_name", "", "the ONNX node's name, e.g. /head/Gemm"),
        stringAttr("reason", "", "why it could not be mapped"),
        intAttr("num_inputs", 1, 1, kMaxVariadicInputs, "number of inputs (ports a, b, c, …)"),
        intAttr(kNumOutputsAttr, 1, 1, kMaxVariadicOutputs,
                "number of outputs the model uses (ports output, output_1, …)"),
        stringAttr("output_shapes", "",
                   "per output 'H,W,C' (NHWC, without the batch), separated by ';'; '?' for an "
                   "unknown size; empty when unknown"),
        enumAttr("output_dtype", "float32", {"float32", "int32", "uint8", "uint16", "bool"},
                 "dtype of the declared outputs"),
    };
    s.infer = [](InferContext& ctx) -> InferResult {
        const std::string& opType = ctx.getString("op_type");
        const std::string& onnxName = ctx.getString("onnx_name");
        const std::string& reason = ctx.getString("reason");
        const auto outputs = static_cast<std::size_t>(ctx.getInt(kNumOutputsAttr));
        const std::int64_t batch =
            ctx.inputCount() > 0 && ctx.inputKnown(0) && ctx.input(0).shape.rank() > 0
                ? ctx.input(0).shape[0]
                : Shape::kBatch;
        const DType dtype = parseDType(ctx.getString("output_dtype")).value_or(DType::Float32);

        InferResult result(outputs);
        const auto entries = splitEntries(ctx.getString("output_shapes"));
        if (entries.size() > outputs) {
            ctx.error(codes::kBadAttribute, "",
                      strCat(ctx.label(), ": output_shapes lists ", entries.size(), " shapes for ",
                             outputs, " output(s)"));
        }
        for (std::size_t k = 0; k < entries.size() && k < outputs; ++k) {
            if (entries[k].empty())
                continue;
            DeclaredShape d = parseDeclaredShape(entries[k], batch);
            if (!d.error.empty()) {
                ctx.error(codes::kBadAttribute, "",
                          strCat(ctx.label(), ": output_shapes entry ", k + 1, " ", d.error));
                continue;
            }
            if (d.shape)
                result[k] = TensorType{*d.shape, dtype};
        }
        const bool anyTyped =
            std::any_of(result.begin(), result.end(), [](const auto& t) { return t.has_value(); });
        const std::string name = onnxName.empty() ? ctx.node().name : onnxName;
        ctx.error(codes::kUnsupportedOp, "",
                  strCat("ONNX op ", opType.empty() ? std::string("(unknown)") : opType, " (node '",
                         name, "') has no SegForge equivalent",
                         reason.empty() ? std::string() : strCat(" (", reason, ")"),
                         "; replace it with supported layers",
                         anyTyped ? std::string(" (the layers after it are checked with the "
                                                "output shapes the file declares)")
                                  : std::string(" (the tensors after it get no type until then)")));
        return result;
    };
    s.keras.none = "no Keras equivalent, because a placeholder stands for an ONNX node that "
                   "SegForge cannot compute";
    s.pytorch.notExportable = "a placeholder is not exportable to PyTorch, because it stands for "
                              "an ONNX node that SegForge cannot compute";
    s.onnx.notExportable = "a placeholder is not exportable to ONNX, because it stands for an "
                           "ONNX node that SegForge cannot compute";
    s.flops.freeBecause = "a placeholder is never run";
    return s;
}

} // namespace segforge::core::ops
