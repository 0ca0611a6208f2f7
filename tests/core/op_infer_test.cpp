// Table-driven shape tests: every registered op has at least one valid case
// (enforced by a loop over the registry) and invalid cases yield their code.

#include "graph_builder.hpp"

#include "ops/op_registry.hpp"

#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

struct In {
    std::string port;
    int h, w, c;
    std::string dtype = "float32";
};

struct Case {
    std::string op;
    AttrMap attrs;
    std::vector<In> inputs;
    std::string expected;     ///< first output's type, or "" when an error is expected
    std::string expectedCode; ///< diagnostic code that must appear ("" = no errors)
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.op << " → " << c.expected << c.expectedCode; }

std::string run(const Case& c, CheckResult& r, NodeId& node) {
    GraphBuilder b;
    node = b.add(c.op, "under_test", c.attrs);
    int k = 0;
    for (const In& in : c.inputs) {
        NodeId src = b.input(in.h, in.w, in.c, in.dtype, "src" + std::to_string(k++));
        b.wire(out(src), {node, in.port});
    }
    r = checkGraph(b.graph, CheckOptions{false, 64});
    const auto& nc = r.nodes.at(node);
    if (nc.outputs.empty() || !nc.outputs[0])
        return "";
    return nc.outputs[0]->toString();
}

std::vector<Case> cases() {
    using V = std::vector<std::int64_t>;
    const std::string f = "float32";
    return {
        {"Input", {{"height", std::int64_t{10}}, {"width", std::int64_t{12}}}, {}, "N×10×12×3 f32", ""},
        {"Dataset", {}, {}, "N×128×128×3 u8", ""},
        {"Cast", {}, {{"input", 4, 4, 1, "int32"}}, "N×4×4×1 f32", ""},
        {"Cast", {{"dtype", std::string("int32")}}, {{"input", 4, 4, 1}}, "N×4×4×1 i32", ""},
        {"Rescale", {}, {{"input", 4, 4, 3, "uint8"}}, "N×4×4×3 f32", ""},
        {"Conv2D", {{"filters", std::int64_t{8}}}, {{"input", 32, 32, 3}}, "N×30×30×8 f32", ""},
        {"Conv2D", {{"filters", std::int64_t{8}}, {"strides", std::int64_t{2}}, {"padding", std::string("same")}},
         {{"input", 33, 33, 3}}, "N×17×17×8 f32", ""},
        {"Conv2D", {{"dilation_rate", std::int64_t{2}}}, {{"input", 32, 32, 3}}, "N×28×28×32 f32", ""},
        {"Conv2D", {{"kernel_size", V{3, 1}}}, {{"input", 32, 32, 3}}, "N×30×32×32 f32", ""},
        {"Conv2D", {}, {{"input", 32, 32, 3, "uint8"}}, "N×30×30×32 f32", "dtype-mismatch"},
        {"Conv2D", {{"kernel_size", std::int64_t{5}}}, {{"input", 3, 3, 3}}, "", "spatial-collapse"},
        {"Conv2DTranspose", {{"filters", std::int64_t{4}}}, {{"input", 16, 16, 8}}, "N×32×32×4 f32", ""},
        {"Conv2DTranspose", {{"kernel_size", std::int64_t{3}}, {"padding", std::string("valid")}},
         {{"input", 16, 16, 8}}, "N×33×33×32 f32", ""},
        {"MaxPool2D", {}, {{"input", 25, 25, 4}}, "N×12×12×4 f32", ""},
        {"MaxPool2D", {{"padding", std::string("same")}}, {{"input", 25, 25, 4}}, "N×13×13×4 f32", ""},
        {"MaxPool2D", {{"pool_size", std::int64_t{3}}, {"strides", std::int64_t{1}}},
         {{"input", 10, 10, 4}}, "N×8×8×4 f32", ""},
        {"MaxPool2D", {}, {{"input", 1, 1, 4}}, "", "spatial-collapse"},
        {"AvgPool2D", {}, {{"input", 32, 32, 4}}, "N×16×16×4 f32", ""},
        {"UpSampling2D", {}, {{"input", 16, 16, 4}}, "N×32×32×4 f32", ""},
        {"UpSampling2D", {{"size", V{2, 3}}}, {{"input", 16, 16, 4}}, "N×32×48×4 f32", ""},
        {"Concatenate", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 5}}, "N×8×8×8 f32", ""},
        {"Concatenate", {{"axis", std::int64_t{1}}}, {{"a", 8, 8, 3}, {"b", 4, 8, 3}}, "N×12×8×3 f32", ""},
        {"Concatenate", {{"num_inputs", std::int64_t{3}}},
         {{"a", 8, 8, 1}, {"b", 8, 8, 2}, {"c", 8, 8, 3}}, "N×8×8×6 f32", ""},
        {"Concatenate", {}, {{"a", 8, 8, 3}, {"b", 4, 4, 3}}, "", "concat-shape-mismatch"},
        {"Concatenate", {{"axis", std::int64_t{0}}}, {{"a", 8, 8, 3}, {"b", 8, 8, 3}}, "", "bad-attribute"},
        {"Concatenate", {}, {{"a", 8, 8, 3}}, "", "unconnected-input"},
        {"Add", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Add", {}, {{"a", 8, 8, 3}, {"b", 8, 8, 4}}, "", "elementwise-shape-mismatch"},
        {"Multiply", {}, {{"a", 8, 8, 3}, {"b", 1, 1, 3}}, "N×8×8×3 f32", ""},
        {"BatchNormalization", {}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Dropout", {}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Dropout", {{"rate", 1.0}}, {{"input", 8, 8, 3}}, "", "bad-attribute"},
        {"Activation", {{"activation", std::string("sigmoid")}}, {{"input", 8, 8, 3}}, "N×8×8×3 f32", ""},
        {"Activation", {{"activation", std::string("gelu")}}, {{"input", 8, 8, 3}}, "", "bad-attribute"},
        {"Cropping2D", {{"cropping", V{1, 2, 3, 4}}}, {{"input", 32, 32, 3}}, "N×29×25×3 f32", ""},
        {"Cropping2D", {{"cropping", std::int64_t{4}}}, {{"input", 8, 8, 3}}, "", "spatial-collapse"},
        {"ZeroPadding2D", {}, {{"input", 32, 32, 3, "uint8"}}, "N×34×34×3 u8", ""},
        {"ZeroPadding2D", {{"padding", V{0, 1, 2, 3}}}, {{"input", 8, 8, 3}}, "N×9×13×3 f32", ""},
        {"KerasLayer", {{"class_name", std::string("Dense")}, {"num_inputs", std::int64_t{1}}}, {{"a", 8, 8, 3}}, "", "unsupported-layer"},
        {"BinaryCrossentropy", {{"from_logits", true}}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}},
         "scalar f32", ""},
        {"BinaryCrossentropy", {{"from_logits", true}}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "int32"}},
         "scalar f32", "dtype-mismatch"},
        {"CategoricalCrossentropy", {{"from_logits", true}}, {{"prediction", 8, 8, 3}, {"target", 8, 8, 3}},
         "scalar f32", ""},
        {"CategoricalCrossentropy", {{"from_logits", true}}, {{"prediction", 8, 8, 3}, {"target", 8, 8, 1}},
         "", "loss-channel-mismatch"},
        {"SparseCategoricalCrossentropy", {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 1, "int32"}}, "scalar f32", ""},
        {"SparseCategoricalCrossentropy", {{"from_logits", true}},
         {{"prediction", 8, 8, 3}, {"target", 8, 8, 1, "uint8"}}, "scalar f32", ""},
        {"SparseCategoricalCrossentropy", {{"from_logits", true}},
         {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "int32"}}, "", "loss-channel-mismatch"},
        {"Dice", {}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}}, "scalar f32", ""},
        {"Dice", {}, {{"prediction", 8, 8, 1}, {"target", 6, 6, 1}}, "", "loss-shape-mismatch"},
        {"BCEDice", {}, {{"prediction", 8, 8, 2}, {"target", 8, 8, 2}}, "scalar f32", ""},
        {"Focal", {{"from_logits", true}}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1}}, "scalar f32", ""},
        {"DiceCoefficient", {}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 1, "uint8"}}, "scalar f32", ""},
        {"DiceCoefficient", {}, {{"prediction", 8, 8, 1}, {"target", 8, 8, 2}}, "", "loss-channel-mismatch"},
        {"IoU", {}, {{"prediction", 8, 8, 4}, {"target", 8, 8, 1, "int32"}}, "scalar f32", ""},
        {"PixelAccuracy", {}, {{"prediction", 8, 8, 4}, {"target", 8, 8, 4}}, "scalar f32", ""},
    };
    (void)f;
}

} // namespace

class OpInfer : public ::testing::TestWithParam<Case> {};

TEST_P(OpInfer, ShapeAndCode) {
    const Case& c = GetParam();
    CheckResult r;
    NodeId node = kNoNode;
    std::string got = run(c, r, node);
    EXPECT_EQ(got, c.expected) << c.op << ": " << codesOf(r);
    std::set<std::string> errorCodes;
    for (const auto& d : r.diagnostics) {
        // A lone op has no loss; that graph-level finding is not about the op.
        if (d.severity == Severity::Error && d.code != codes::kNoLoss)
            errorCodes.insert(d.code);
    }
    if (c.expectedCode.empty()) {
        EXPECT_TRUE(errorCodes.empty()) << c.op << ": " << codesOf(r);
    } else {
        EXPECT_TRUE(errorCodes.count(c.expectedCode)) << c.op << ": " << codesOf(r);
    }
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpInfer, ::testing::ValuesIn(cases()),
                         [](const ::testing::TestParamInfo<Case>& param) {
                             return param.param.op + "_" + std::to_string(param.index);
                         });

TEST(OpRegistry, EveryOpHasAValidShapeCase) {
    std::set<std::string> covered;
    for (const Case& c : cases()) {
        if (c.expectedCode.empty())
            covered.insert(c.op);
    }
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        if (s.name == "KerasLayer") // a placeholder that exists to be reported: no valid case
            continue;
        EXPECT_TRUE(covered.count(s.name)) << "op " << s.name << " has no shape test case";
    }
}

TEST(OpRegistry, SchemasAreWellFormed) {
    for (const OpSchema& s : OpRegistry::builtin().all()) {
        SCOPED_TRACE(s.name);
        EXPECT_FALSE(s.category.empty());
        EXPECT_FALSE(s.description.empty());
        EXPECT_TRUE(static_cast<bool>(s.infer));
        EXPECT_FALSE(s.outputs.empty());
        for (const AttrSpec& a : s.attrs) {
            std::string why;
            EXPECT_TRUE(coerceAttribute(a, a.defaultValue, &why))
                << a.name << " default is invalid: " << why;
        }
        if (s.role == OpRole::Loss || s.role == OpRole::Metric) {
            ASSERT_TRUE(s.contract.has_value());
            ASSERT_EQ(s.inputs.size(), 2u);
            EXPECT_EQ(s.inputs[0].name, "prediction");
            EXPECT_EQ(s.inputs[1].name, "target");
        }
    }
    EXPECT_EQ(OpRegistry::builtin().suggest("conv2d"), "Conv2D");
    EXPECT_EQ(OpRegistry::builtin().suggest("MaxPooling2D"), "MaxPool2D");
}

TEST(OpParams, CountsMatchKeras) {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 3);
    NodeId c = b.then("Conv2D", "c", out(in), {{"filters", std::int64_t{8}}});
    NodeId t = b.then("Conv2DTranspose", "t", out(c), {{"filters", std::int64_t{4}}});
    NodeId bn = b.then("BatchNormalization", "bn", out(t));
    CheckResult r = checkGraph(b.graph);
    EXPECT_EQ(r.parameterCount(c), 3 * 3 * 3 * 8 + 8);     // Keras: 224
    EXPECT_EQ(r.parameterCount(t), 2 * 2 * 8 * 4 + 4);     // Keras: 132
    EXPECT_EQ(r.parameterCount(bn), 4 * 4);                // gamma, beta, moving mean/var
    EXPECT_EQ(r.paramsOf(t)[0].shape, (std::vector<std::int64_t>{2, 2, 4, 8}));
}
