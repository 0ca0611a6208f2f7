// Table-driven shape tests (the table is op_shape_cases.hpp): each case gives
// its output type or diagnostic code. op_registry_test checks that every
// registered op has a valid case.

#include "op_shape_cases.hpp"
#include "ops/op_registry.hpp"

#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;

class OpInfer : public ::testing::TestWithParam<ShapeCase> {};

TEST_P(OpInfer, ShapeAndCode) {
    const ShapeCase& c = GetParam();
    CheckResult r;
    NodeId node = kNoNode;
    std::string got = runShapeCase(c, r, node);
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

INSTANTIATE_TEST_SUITE_P(AllOps, OpInfer, ::testing::ValuesIn(shapeCases()),
                         [](const ::testing::TestParamInfo<ShapeCase>& param) {
                             return param.param.op + "_" + std::to_string(param.index);
                         });

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
    EXPECT_EQ(r.parameterCount(c), 3 * 3 * 3 * 8 + 8); // Keras: 224
    EXPECT_EQ(r.parameterCount(t), 2 * 2 * 8 * 4 + 4); // Keras: 132
    EXPECT_EQ(r.parameterCount(bn), 4 * 4);            // gamma, beta, moving mean/var
    EXPECT_EQ(r.paramsOf(t)[0].shape, (std::vector<std::int64_t>{2, 2, 4, 8}));
}
