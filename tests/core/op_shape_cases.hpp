#pragma once

// The shape table of every op: cases of (op, attributes, input types) and the
// first output type or diagnostic code they give. Used by op_infer_test (each
// case) and op_registry_test (every registered op has a case; traits agree).

#include "graph_builder.hpp"

#include <map>
#include <string>
#include <vector>

namespace segforge::core::testing {

struct ShapeIn {
    std::string port;
    int h, w, c;
    std::string dtype = "float32";
};

struct ShapeCase {
    std::string op;
    AttrMap attrs;
    std::vector<ShapeIn> inputs;
    std::string expected;     ///< first output's type, or "" when an error is expected
    std::string expectedCode; ///< diagnostic code that must appear ("" = no errors)
};

inline void PrintTo(const ShapeCase& c, std::ostream* os) {
    *os << c.op << " → " << c.expected << c.expectedCode;
}

/// Checks `c.op` fed by Input nodes; returns its first output type ("" if none).
inline std::string runShapeCase(const ShapeCase& c, CheckResult& r, NodeId& node) {
    GraphBuilder b;
    node = b.add(c.op, "under_test", c.attrs);
    int k = 0;
    for (const ShapeIn& in : c.inputs) {
        NodeId src = b.input(in.h, in.w, in.c, in.dtype, "src" + std::to_string(k++));
        b.wire(out(src), {node, in.port});
    }
    r = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    const auto& nc = r.nodes.at(node);
    if (nc.outputs.empty() || !nc.outputs[0])
        return "";
    return nc.outputs[0]->toString();
}

/// The shape table: every registered op has at least one valid case
/// (expectedCode empty) unless opsWithoutValidShapeCase() names it.
inline std::vector<ShapeCase> shapeCases() {
    using V = std::vector<std::int64_t>;
    const std::string f = "float32";
    return {
        {"Input",
         {{"height", std::int64_t{10}}, {"width", std::int64_t{12}}},
         {},
         "N×10×12×3 f32",
         ""},
        {"Dataset", {}, {}, "N×128×128×3 u8", ""},
        {"Cast", {}, {{"input", 4, 4, 1, "int32"}}, "N×4×4×1 f32", ""},
        {"Cast", {{"dtype", std::string("int32")}}, {{"input", 4, 4, 1}}, "N×4×4×1 i32", ""},
        {"Rescale", {}, {{"input", 4, 4, 3, "uint8"}}, "N×4×4×3 f32", ""},
        {"Conv2D", {{"filters", std::int64_t{8}}}, {{"input", 32, 32, 3}}, "N×30×30×8 f32", ""},
        {"Conv2D",
         {{"filters", std::int64_t{8}},
          {"strides", std::int64_t{2}},
          {"padding", std::string("same")}},
         {{"input", 33, 33, 3}},
         "N×17×17×8 f32",
         ""},
        {"Conv2D",
         {{"dilation_rate", std::int64_t{2}}},
         {{"input", 32, 32, 3}},
         "N×28×28×32 f32",
         ""},
        {"Conv2D", {{"kernel_size", V{3, 1}}}, {{"input", 32, 32, 3}}, "N×30×32×32 f32", ""},
        {"Conv2D", {}, {{"input", 32, 32, 3, "uint8"}}, "N×30×30×32 f32", "dtype-mismatch"},
        {"Conv2D",
         {{"kernel_size", std::int64_t{5}}},
         {{"input", 3, 3, 3}},
         "",
         "spatial-collapse"},
        {"SeparableConv2D",
         {{"filters", std::int64_t{8}}},
         {{"input", 32, 32, 3}},
         "N×30×30×8 f32",
         ""},
        {"SeparableConv2D",
         {{"filters", std::int64_t{16}},
          {"strides", std::int64_t{2}},
          {"padding", std::string("same")},
          {"depth_multiplier", std::int64_t{2}}},
         {{"input", 33, 32, 4}},
         "N×17×16×16 f32",
         ""},
        {"SeparableConv2D",
         {{"dilation_rate", std::int64_t{2}}, {"strides", std::int64_t{2}}},
         {{"input", 32, 32, 3}},
         "",
         "bad-attribute"},
        {"SeparableConv2D",
         {},
         {{"input", 32, 32, 3, "uint8"}},
         "N×30×30×32 f32",
         "dtype-mismatch"},
        {"Conv2DTranspose",
         {{"filters", std::int64_t{4}}},
         {{"input", 16, 16, 8}},
         "N×32×32×4 f32",
         ""},
        {"Conv2DTranspose",
         {{"kernel_size", std::int64_t{3}}, {"padding", std::string("valid")}},
         {{"input", 16, 16, 8}},
         "N×33×33×32 f32",
         ""},
        {"MaxPool2D", {}, {{"input", 25, 25, 4}}, "N×12×12×4 f32", ""},
        {"MaxPool2D",
         {{"padding", std::string("same")}},
         {{"input", 25, 25, 4}},
         "N×13×13×4 f32",
         ""},
        {"MaxPool2D",
         {{"pool_size", std::int64_t{3}}, {"strides", std::int64_t{1}}},
         {{"input", 10, 10, 4}},
         "N×8×8×4 f32",
         ""},
        {"MaxPool2D", {}, {{"input", 1, 1, 4}}, "", "spatial-collapse"},
        {"AvgPool2D", {}, {{"input", 32, 32, 4}}, "N×16×16×4 f32", ""},
        {"UpSampling2D", {}, {{"input", 16, 16, 4}}, "N×32×32×4 f32", ""},
        {"UpSampling2D", {{"size", V{2, 3}}}, {{"input", 16, 16, 4}}, "N×32×48×4 f32", ""},
        {"UpSampling2D",
         {{"size", V{2, 3}}, {"interpolation", std::string("bilinear")}, {"align_corners", true}},
         {{"input", 5, 4, 2}},
         "N×10×12×2 f32",
         ""},
        // align_corners means nothing to nearest (PyTorch refuses it too).
        {"UpSampling2D", {{"align_corners", true}}, {{"input", 8, 8, 2}}, "", "bad-attribute"},
        {"Concatenate", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 5}}, "N×8×8×8 f32", ""},
        {"Concatenate",
         {{"axis", std::int64_t{1}}},
         {{"a", 8, 8, 3}, {"b", 4, 8, 3}},
         "N×12×8×3 f32",
         ""},
        {"Concatenate",
         {{"num_inputs", std::int64_t{3}}},
         {{"a", 8, 8, 1}, {"b", 8, 8, 2}, {"c", 8, 8, 3}},
         "N×8×8×6 f32",
         ""},
        {"Concatenate", {}, {{"a", 8, 8, 3}, {"b", 4, 4, 3}}, "", "concat-shape-mismatch"},
        {"Concatenate",
         {{"axis", std::int64_t{0}}},
         {{"a", 8, 8, 3}, {"b", 8, 8, 3}},
         "",
         "bad-attribute"},
        {"Concatenate", {}, {{"a", 8, 8, 3}}, "", "unconnected-input"},
        {"Add", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Add", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 4}}, "", "elementwise-shape-mismatch"},
        {"Multiply", {}, {{"a", 8, 8, 3}, {"b", 1, 1, 3}}, "N×8×8×3 f32", ""},
        // The gate of a squeeze-excitation block comes first as often as second.
        {"Multiply", {}, {{"a", 1, 1, 3}, {"b", 8, 6, 3}}, "N×8×6×3 f32", ""},
        {"Add", {}, {{"a", 7, 5, 2}, {"b", 1, 1, 2}}, "N×7×5×2 f32", ""},
        {"GlobalAvgPool2D", {}, {{"input", 9, 7, 5}}, "N×1×1×5 f32", ""},
        {"GlobalAvgPool2D", {}, {{"input", 1, 1, 2}}, "N×1×1×2 f32", ""},
        {"GlobalAvgPool2D", {}, {{"input", 4, 4, 3, "uint8"}}, "N×1×1×3 f32", "dtype-mismatch"},
        {"BatchNormalization", {}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"GroupNormalization", {}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"GroupNormalization",
         {{"groups", std::int64_t{4}}},
         {{"input", 6, 5, 8}},
         "N×6×5×8 f32",
         ""},
        {"GroupNormalization",
         {{"groups", std::int64_t{3}}},
         {{"input", 4, 4, 3}},
         "N×4×4×3 f32",
         ""},
        {"GroupNormalization",
         {{"groups", std::int64_t{3}}},
         {{"input", 8, 8, 8}},
         "",
         "bad-attribute"},
        {"GroupNormalization", {}, {{"input", 4, 4, 3, "uint8"}}, "N×4×4×3 f32", "dtype-mismatch"},
        {"Dropout", {}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Dropout", {{"rate", 1.0}}, {{"input", 8, 8, 3}}, "", "bad-attribute"},
        {"LeakyReLU", {{"alpha", 0.1}}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"LeakyReLU", {}, {{"input", 5, 3, 2}}, "N×5×3×2 f32", ""},
        {"LeakyReLU", {}, {{"input", 4, 4, 3, "uint8"}}, "N×4×4×3 f32", "dtype-mismatch"},
        {"Activation",
         {{"activation", std::string("sigmoid")}},
         {{"input", 8, 8, 3}},
         "N×8×8×3 f32",
         ""},
        {"Activation",
         {{"activation", std::string("gelu")}},
         {{"input", 8, 8, 3}},
         "",
         "bad-attribute"},
        {"Cropping2D", {{"cropping", V{1, 2, 3, 4}}}, {{"input", 32, 32, 3}}, "N×29×25×3 f32", ""},
        {"Cropping2D",
         {{"cropping", std::int64_t{4}}},
         {{"input", 8, 8, 3}},
         "",
         "spatial-collapse"},
        {"ZeroPadding2D", {}, {{"input", 32, 32, 3, "uint8"}}, "N×34×34×3 u8", ""},
        {"ZeroPadding2D", {{"padding", V{0, 1, 2, 3}}}, {{"input", 8, 8, 3}}, "N×9×13×3 f32", ""},
        {"KerasLayer",
         {{"class_name", std::string("Dense")}, {"num_inputs", std::int64_t{1}}},
         {{"a", 8, 8, 3}},
         "",
         "unsupported-layer"},
        {"OnnxNode",
         {{"op_type", std::string("Gemm")}, {"onnx_name", std::string("/head/Gemm")}},
         {{"a", 8, 8, 3}},
         "",
         "unsupported-op"},
        // A declared output shape types the rest of the network (and is still an error).
        {"OnnxNode",
         {{"op_type", std::string("Gemm")}, {"output_shapes", std::string("1,1,10")}},
         {{"a", 8, 8, 3}},
         "N×1×1×10 f32",
         "unsupported-op"},
        {"OnnxNode",
         {{"op_type", std::string("Resize")}, {"output_shapes", std::string("16,?,3")}},
         {{"a", 8, 8, 3}},
         "",
         "unsupported-op"},
        {"OnnxNode",
         {{"op_type", std::string("Gemm")}, {"output_shapes", std::string("1,1")}},
         {{"a", 8, 8, 3}},
         "",
         "bad-attribute"},
        {"BinaryCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}},
         "scalar f32",
         ""},
        {"BinaryCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "int32"}},
         "scalar f32",
         "dtype-mismatch"},
        {"CategoricalCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 3}},
         "scalar f32",
         ""},
        {"CategoricalCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 1}},
         "",
         "loss-channel-mismatch"},
        {"SparseCategoricalCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 1, "int32"}},
         "scalar f32",
         ""},
        {"SparseCategoricalCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 1, "uint8"}},
         "scalar f32",
         ""},
        {"SparseCategoricalCrossentropy",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "int32"}},
         "",
         "loss-channel-mismatch"},
        {"Dice", {}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}}, "scalar f32", ""},
        {"Dice", {}, {{"prediction", 8, 8, 1}, {"target", 6, 6, 1}}, "", "loss-shape-mismatch"},
        {"BCEDice", {}, {{"prediction", 8, 8, 2}, {"target", 8, 8, 2}}, "scalar f32", ""},
        {"Focal",
         {{"from_logits", true}},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}},
         "scalar f32",
         ""},
        {"DiceCoefficient",
         {},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "uint8"}},
         "scalar f32",
         ""},
        {"DiceCoefficient",
         {},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 2}},
         "",
         "loss-channel-mismatch"},
        {"IoU", {}, {{"prediction", 8, 8, 4}, {"target", 8, 8, 1, "int32"}}, "scalar f32", ""},
        {"PixelAccuracy", {}, {{"prediction", 8, 8, 4}, {"target", 8, 8, 4}}, "scalar f32", ""},
    };
    (void)f;
}

/// Registered ops without a valid shape case, each with the reason.
inline const std::map<std::string, std::string>& opsWithoutValidShapeCase() {
    static const std::map<std::string, std::string> reasons{
        {"KerasLayer", "a placeholder for an unmapped Keras layer: it exists to be reported, so "
                       "every case of it is an error"},
        {"OnnxNode", "a placeholder for an unmapped ONNX node: it exists to be reported, so "
                     "every case of it is an error"},
    };
    return reasons;
}

} // namespace segforge::core::testing
