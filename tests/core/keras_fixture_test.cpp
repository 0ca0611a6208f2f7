// The mistake chain every Keras beginner meets: uint8 images, int32 masks and
// a 'valid' convolution. The checker must report all three up front — the
// 126-vs-128 mismatch is the one people miss after fixing the first two.

#include "graph_builder.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

struct Fixture {
    Graph graph;
    NodeId data, conv1, head, loss;
};

Fixture build() {
    Fixture f;
    GraphBuilder b;
    f.data = b.add("Dataset", "data",
                   {{"height", std::int64_t{128}},
                    {"width", std::int64_t{128}},
                    {"channels", std::int64_t{3}},
                    {"image_dtype", std::string("uint8")},
                    {"mask_dtype", std::string("int32")},
                    {"mask_max", std::int64_t{1}}});
    f.conv1 = b.then("Conv2D", "conv1", out(f.data, "image"),
                     {{"filters", std::int64_t{32}},
                      {"kernel_size", std::int64_t{3}},
                      {"padding", std::string("valid")},
                      {"activation", std::string("relu")}});
    f.head = b.then("Conv2D", "head", out(f.conv1),
                    {{"filters", std::int64_t{1}},
                     {"kernel_size", std::int64_t{1}},
                     {"activation", std::string("sigmoid")}});
    f.loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(f.head), {f.loss, "prediction"});
    b.wire(out(f.data, "mask"), {f.loss, "target"});
    f.graph = b.graph;
    return f;
}

} // namespace

TEST(KerasFixture, ReportsAllThreeMistakesAtOnce) {
    Fixture f = build();
    CheckResult r = checkGraph(f.graph);
    EXPECT_EQ(r.count(Severity::Error), 3u) << codesOf(r);

    auto dtype = r.find(codes::kDTypeMismatch);
    ASSERT_EQ(dtype.size(), 2u);
    EXPECT_EQ(dtype[0]->node, f.conv1);
    EXPECT_THAT(dtype[0]->message, HasSubstr("N×128×128×3 u8"));
    EXPECT_THAT(dtype[0]->fixes.at(0).description, HasSubstr("Rescale(scale=1/255)"));
    EXPECT_EQ(dtype[1]->node, f.loss);
    EXPECT_EQ(dtype[1]->port, "target");
    EXPECT_THAT(dtype[1]->message, HasSubstr("N×128×128×1 i32"));
    EXPECT_THAT(dtype[1]->fixes.at(0).description, HasSubstr("Cast(float32)"));

    const Diagnostic& shape = expectDiagnostic(r, codes::kLossShapeMismatch);
    EXPECT_EQ(shape.node, f.loss);
    EXPECT_THAT(shape.message, HasSubstr("126×126"));
    EXPECT_THAT(shape.message, HasSubstr("128×128"));
    ASSERT_FALSE(shape.fixes.empty());
    EXPECT_THAT(shape.fixes[0].description, HasSubstr("padding='same'"));
    EXPECT_THAT(shape.fixes[0].description, HasSubstr("'conv1'"));

    EXPECT_EQ(r.typeOf(out(f.conv1))->toString(), "N×126×126×32 f32");
    EXPECT_EQ(r.typeOf(out(f.head))->toString(), "N×126×126×1 f32");
}

TEST(KerasFixture, ApplyingEveryFirstFixLeavesACleanGraph) {
    Fixture f = build();
    for (int round = 0; round < 5; ++round) {
        CheckResult r = checkGraph(f.graph);
        if (!r.hasErrors())
            break;
        const Diagnostic& d = r.diagnostics.front();
        ASSERT_FALSE(d.fixes.empty()) << d.code;
        ASSERT_TRUE(applyEdits(f.graph, d.fixes.front().edits).ok);
    }
    CheckResult r = checkGraph(f.graph);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    EXPECT_EQ(r.typeOf(out(f.head))->toString(), "N×128×128×1 f32");
}
