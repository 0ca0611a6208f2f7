// One test per diagnostic code: build the faulty graph, assert code, node and
// the shapes/dtypes in the message, apply the first FixIt, assert the code is gone.

#include "graph_builder.hpp"
#include "templates/unet_template.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

AttrMap conv(std::int64_t filters, std::int64_t kernel, const std::string& padding = "same",
             const std::string& activation = "relu") {
    return {{"filters", filters},
            {"kernel_size", kernel},
            {"padding", padding},
            {"activation", activation}};
}

} // namespace

TEST(CheckerCodes, DTypeMismatchUint8ImageIntoConvOffersRescale) {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 3, "uint8");
    NodeId c = b.then("Conv2D", "conv1", out(in), conv(8, 3));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDTypeMismatch);
    EXPECT_EQ(d.node, c);
    EXPECT_EQ(d.port, "input");
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_THAT(d.message, HasSubstr("N×32×32×3 u8"));
    EXPECT_THAT(d.message, HasSubstr("float32"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("Rescale(scale=1/255)"));
    // Shapes still propagate past a dtype error, so later mistakes stay visible.
    EXPECT_EQ(r.typeOf(out(c))->toString(), "N×32×32×8 f32");

    CheckResult after = applyFirstFix(b.graph, codes::kDTypeMismatch);
    EXPECT_FALSE(after.has(codes::kDTypeMismatch)) << codesOf(after);
    EXPECT_EQ(b.graph.nodeCount(), 3u);
    const Node* inserted = b.graph.findNodeByName("rescale");
    ASSERT_NE(inserted, nullptr);
    EXPECT_EQ(after.typeOf(out(inserted->id))->toString(), "N×32×32×3 f32");
}

TEST(CheckerCodes, DTypeMismatchInt32MaskIntoLossOffersCast) {
    GraphBuilder b;
    NodeId img = b.input(16, 16, 1, "float32", "img");
    NodeId mask = b.input(16, 16, 1, "int32", "mask");
    NodeId c = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "sigmoid"));
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(c), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDTypeMismatch);
    EXPECT_EQ(d.node, loss);
    EXPECT_EQ(d.port, "target");
    EXPECT_THAT(d.message, HasSubstr("N×16×16×1 i32"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("Cast(float32)"));
    CheckResult after = applyFirstFix(b.graph, codes::kDTypeMismatch);
    EXPECT_FALSE(after.has(codes::kDTypeMismatch)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(CheckerCodes, ConcatHalfSizeOffersUpSampling) {
    GraphBuilder b;
    NodeId in = b.input(64, 64, 8);
    NodeId pool = b.then("MaxPool2D", "pool", out(in));
    NodeId cat = b.add("Concatenate", "up_concat");
    b.wire(out(in), {cat, "a"});
    b.wire(out(pool), {cat, "b"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kConcatShapeMismatch);
    EXPECT_EQ(d.node, cat);
    EXPECT_EQ(d.port, "b");
    EXPECT_THAT(d.message, HasSubstr("N×64×64×8"));
    EXPECT_THAT(d.message, HasSubstr("N×32×32×8"));
    EXPECT_THAT(d.message, HasSubstr("height and width"));
    ASSERT_GE(d.fixes.size(), 2u);
    EXPECT_THAT(d.fixes[0].description, HasSubstr("UpSampling2D(size=2)"));
    EXPECT_THAT(d.fixes[1].description, HasSubstr("Conv2DTranspose"));
    CheckResult after = applyFirstFix(b.graph, codes::kConcatShapeMismatch);
    EXPECT_FALSE(after.has(codes::kConcatShapeMismatch)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(cat))->toString(), "N×64×64×16 f32");
}

TEST(CheckerCodes, ConcatOffByFewPixelsOffersCropping) {
    GraphBuilder b;
    NodeId in = b.input(64, 64, 8);
    NodeId c = b.then("Conv2D", "valid_conv", out(in), conv(8, 5, "valid"));
    NodeId cat = b.add("Concatenate", "cat");
    b.wire(out(in), {cat, "a"});
    b.wire(out(c), {cat, "b"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kConcatShapeMismatch);
    EXPECT_THAT(d.message, HasSubstr("N×60×60×8"));
    // The cause first (the valid convolution that trimmed 4 pixels), then the
    // mechanical patches: crop the larger input, pad the smaller.
    ASSERT_GE(d.fixes.size(), 3u);
    EXPECT_EQ(d.fixes[0].description, "Set padding='same' on 'valid_conv'");
    EXPECT_EQ(d.fixes[0].rank, FixRank::Cause);
    EXPECT_THAT(d.fixes[1].description, HasSubstr("Cropping2D([2, 2, 2, 2])"));
    EXPECT_THAT(d.fixes[1].description, HasSubstr("input 'a'"));
    EXPECT_EQ(d.fixes[1].rank, FixRank::Mechanical);
    EXPECT_THAT(d.fixes[2].description, HasSubstr("ZeroPadding2D"));
    CheckResult after = applyFirstFix(b.graph, codes::kConcatShapeMismatch);
    EXPECT_FALSE(after.has(codes::kConcatShapeMismatch)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(cat))->toString(), "N×64×64×16 f32");
}

TEST(CheckerCodes, ElementwiseChannelMismatchOffersProjection) {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 8);
    NodeId c = b.then("Conv2D", "widen", out(in), conv(16, 3));
    NodeId add = b.add("Add", "residual");
    b.wire(out(in), {add, "a"});
    b.wire(out(c), {add, "b"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kElementwiseShapeMismatch);
    EXPECT_EQ(d.node, add);
    EXPECT_THAT(d.message, HasSubstr("N×32×32×8"));
    EXPECT_THAT(d.message, HasSubstr("N×32×32×16"));
    EXPECT_THAT(d.message, HasSubstr("channels"));
    CheckResult after = applyFirstFix(b.graph, codes::kElementwiseShapeMismatch);
    EXPECT_FALSE(after.has(codes::kElementwiseShapeMismatch)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(add))->toString(), "N×32×32×8 f32");
}

TEST(CheckerCodes, ElementwiseBroadcastsSizeOne) {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 8);
    NodeId gate = b.input(32, 32, 1, "float32", "gate");
    NodeId mul = b.add("Multiply", "attention");
    b.wire(out(in), {mul, "a"});
    b.wire(out(gate), {mul, "b"});
    CheckResult r = checkGraph(b.graph);
    EXPECT_FALSE(r.has(codes::kElementwiseShapeMismatch)) << codesOf(r);
    EXPECT_EQ(r.typeOf(out(mul))->toString(), "N×32×32×8 f32");
}

TEST(CheckerCodes, LossChannelMismatchSetsFilters) {
    GraphBuilder b;
    NodeId img = b.input(16, 16, 3, "float32", "img");
    NodeId mask = b.input(16, 16, 3, "float32", "rgb_mask");
    NodeId head = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "sigmoid"));
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossChannelMismatch);
    EXPECT_EQ(d.node, loss);
    EXPECT_THAT(d.message, HasSubstr("N×16×16×1 f32"));
    EXPECT_THAT(d.message, HasSubstr("N×16×16×3 f32"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("filters=3 on 'head'"));
    CheckResult after = applyFirstFix(b.graph, codes::kLossChannelMismatch);
    EXPECT_FALSE(after.has(codes::kLossChannelMismatch)) << codesOf(after);
}

TEST(CheckerCodes, SoftmaxOverOneChannelWithBinaryCrossentropy) {
    GraphBuilder b;
    NodeId img = b.input(16, 16, 3, "float32", "img");
    NodeId mask = b.input(16, 16, 1, "float32", "mask");
    NodeId head = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "softmax"));
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossChannelMismatch);
    EXPECT_THAT(d.message, HasSubstr("softmax over 1 channel"));
    EXPECT_THAT(d.fixes.at(0).description, HasSubstr("activation='sigmoid' on 'head'"));
    CheckResult after = applyFirstFix(b.graph, codes::kLossChannelMismatch);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(CheckerCodes, LossShapeMismatchWhenPredictionLarger) {
    GraphBuilder b;
    NodeId img = b.input(20, 20, 1, "float32", "img");
    NodeId mask = b.input(16, 16, 1, "float32", "mask");
    NodeId head = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "sigmoid"));
    NodeId loss = b.add("Dice", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossShapeMismatch);
    EXPECT_THAT(d.message, HasSubstr("20×20"));
    EXPECT_THAT(d.message, HasSubstr("16×16"));
    EXPECT_THAT(d.fixes.at(0).description, HasSubstr("Cropping2D([2, 2, 2, 2]) on the prediction"));
    CheckResult after = applyFirstFix(b.graph, codes::kLossShapeMismatch);
    EXPECT_FALSE(after.has(codes::kLossShapeMismatch)) << codesOf(after);
}

TEST(CheckerCodes, InputSizeIndivisibleNamesWorkingSizes) {
    UNetOptions o;
    o.depth = 4;
    o.filters = 4;
    auto made = makeUNetProject(o);
    Graph g = std::get<Project>(made).graph;
    NodeId data = g.findNodeByName("data")->id;
    g.findNode(data)->attrs["height"] = std::int64_t{100};
    g.findNode(data)->attrs["width"] = std::int64_t{100};

    CheckResult r = checkGraph(g);
    const Diagnostic& d = expectDiagnostic(r, codes::kInputSizeIndivisible);
    EXPECT_EQ(d.node, data);
    EXPECT_THAT(d.message, HasSubstr("100×100"));
    EXPECT_THAT(d.message, HasSubstr("H = 16k, k ≥ 1"));
    EXPECT_THAT(d.message, HasSubstr("W = 16k, k ≥ 1"));
    EXPECT_THAT(d.message, HasSubstr("nearest: 96 or 112 × 96 or 112"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_EQ(d.fixes.front().description, "Set the input size to 96×96");
    EXPECT_EQ(d.fixes.front().rank, FixRank::Cause);
    // The symptom (a 25-vs-24 style concat) is reported where it happens too.
    EXPECT_TRUE(r.has(codes::kConcatShapeMismatch));

    CheckResult after = applyFirstFix(g, codes::kInputSizeIndivisible);
    EXPECT_FALSE(after.has(codes::kInputSizeIndivisible)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(after.typeOf({data, "image"})->toString(), "N×96×96×3 u8");
}

TEST(CheckerCodes, SpatialCollapse) {
    GraphBuilder b;
    NodeId in = b.input(4, 4, 3);
    NodeId c = b.then("Conv2D", "big_kernel", out(in), conv(8, 7, "valid"));
    NodeId next = b.then("Conv2D", "after", out(c), conv(8, 3));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kSpatialCollapse);
    EXPECT_EQ(d.node, c);
    EXPECT_THAT(d.message, HasSubstr("N×4×4×3"));
    EXPECT_THAT(d.message, HasSubstr("N×-2×-2×8"));
    EXPECT_FALSE(r.typeOf(out(next)).has_value()); // no cascade of errors downstream
    EXPECT_EQ(r.find(codes::kSpatialCollapse).size(), 1u);
    CheckResult after = applyFirstFix(b.graph, codes::kSpatialCollapse);
    EXPECT_FALSE(after.has(codes::kSpatialCollapse)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(next))->toString(), "N×4×4×8 f32");
}

TEST(CheckerCodes, GraphCycle) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    NodeId a = b.add("Add", "a");
    NodeId c = b.then("Conv2D", "c", out(a), conv(4, 3));
    b.wire(out(in), {a, "a"});
    b.wire(out(c), {a, "b"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kGraphCycle);
    EXPECT_THAT(d.message, HasSubstr("'a' → 'c' → 'a'"));
    EXPECT_FALSE(r.typeOf(out(c)).has_value());
    CheckResult after = applyFirstFix(b.graph, codes::kGraphCycle);
    EXPECT_FALSE(after.has(codes::kGraphCycle)) << codesOf(after);
    // Breaking the cycle leaves input 'b' of the Add open, which is now reported.
    EXPECT_TRUE(after.has(codes::kUnconnectedInput));
}

TEST(CheckerCodes, UnconnectedInputSuggestsProducer) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    NodeId c = b.add("Conv2D", "orphan", conv(4, 3));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kUnconnectedInput);
    EXPECT_EQ(d.node, c);
    EXPECT_EQ(d.port, "input");
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("'in'.output (N×8×8×4 f32)"));
    CheckResult after = applyFirstFix(b.graph, codes::kUnconnectedInput);
    EXPECT_FALSE(after.has(codes::kUnconnectedInput)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(c))->toString(), "N×8×8×4 f32");
    (void)in;
}

TEST(CheckerCodes, MultipleProducers) {
    GraphBuilder b;
    NodeId in1 = b.input(8, 8, 4, "float32", "first");
    NodeId in2 = b.input(8, 8, 4, "float32", "second");
    NodeId c = b.then("Conv2D", "c", out(in1), conv(4, 3));
    b.wire(out(in2), {c, "input"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kMultipleProducers);
    EXPECT_EQ(d.node, c);
    EXPECT_THAT(d.message, HasSubstr("2 producers"));
    CheckResult after = applyFirstFix(b.graph, codes::kMultipleProducers);
    EXPECT_FALSE(after.has(codes::kMultipleProducers)) << codesOf(after);
    EXPECT_EQ(b.graph.edges().size(), 1u);
}

TEST(CheckerCodes, NoLossAddsOne) {
    GraphBuilder b;
    NodeId data =
        b.add("Dataset", "data", {{"height", std::int64_t{32}}, {"width", std::int64_t{32}}});
    NodeId s = b.then("Rescale", "scale", out(data, "image"));
    b.then("Conv2D", "head", out(s), conv(1, 1, "same", "sigmoid"));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kNoLoss);
    EXPECT_EQ(d.node, kNoNode);
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("BCEDice loss on 'head'.output"));
    // A loss wired to the uint8 mask alone would be a new error: the verified fix
    // also makes the mask readable.
    EXPECT_THAT(d.fixes[0].description, HasSubstr(", then "));
    EXPECT_THAT(d.fixes[0].description, HasSubstr("Cast(float32)"));
    CheckResult after = applyFirstFix(b.graph, codes::kNoLoss);
    EXPECT_FALSE(after.has(codes::kNoLoss)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(CheckerCodes, BadAttributeOutOfRange) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    NodeId c = b.then("Conv2D", "c", out(in), {{"filters", std::int64_t{-3}}});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kBadAttribute);
    EXPECT_EQ(d.node, c);
    EXPECT_THAT(d.message, HasSubstr("'filters'"));
    EXPECT_THAT(d.message, HasSubstr("-3 is out of range"));
    CheckResult after = applyFirstFix(b.graph, codes::kBadAttribute);
    EXPECT_FALSE(after.has(codes::kBadAttribute)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(c))->toString(), "N×6×6×32 f32"); // Keras-like defaults
}

TEST(CheckerCodes, BadAttributeUnknownOpSuggestsName) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    NodeId c = b.then("Conv2d", "c", out(in));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kBadAttribute);
    EXPECT_EQ(d.node, c);
    EXPECT_THAT(d.message, HasSubstr("unknown op 'Conv2d' — did you mean Conv2D?"));
    CheckResult after = applyFirstFix(b.graph, codes::kBadAttribute);
    EXPECT_FALSE(after.has(codes::kBadAttribute)) << codesOf(after);
}

TEST(CheckerCodes, BadAttributeUnknownNameSuggestsRename) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    NodeId c = b.then("Conv2D", "c", out(in), {{"filter", std::int64_t{5}}});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kBadAttribute);
    EXPECT_THAT(d.message, HasSubstr("no attribute 'filter' — did you mean 'filters'?"));
    CheckResult after = applyFirstFix(b.graph, codes::kBadAttribute);
    EXPECT_FALSE(after.has(codes::kBadAttribute)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(c))->shape.channels(), 5);
}

TEST(CheckerCodes, BadAttributeStridesWithDilation) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 4);
    b.then("Conv2D", "c", out(in),
           {{"strides", std::int64_t{2}}, {"dilation_rate", std::int64_t{2}}});
    CheckResult after = applyFirstFix(b.graph, codes::kBadAttribute);
    EXPECT_FALSE(after.has(codes::kBadAttribute)) << codesOf(after);
}

TEST(CheckerCodes, DiceNoEpsilonWarns) {
    GraphBuilder b;
    NodeId img = b.input(16, 16, 1, "float32", "img");
    NodeId head = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "sigmoid"));
    NodeId loss = b.add("Dice", "dice_loss", {{"epsilon", 0.0}});
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(img), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDiceNoEpsilon);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_EQ(d.node, loss);
    EXPECT_THAT(d.message, HasSubstr("NaN"));
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    CheckResult after = applyFirstFix(b.graph, codes::kDiceNoEpsilon);
    EXPECT_FALSE(after.has(codes::kDiceNoEpsilon)) << codesOf(after);
}

TEST(CheckerCodes, BatchNormSmallBatchWarns) {
    UNetOptions o;
    o.depth = 2;
    o.filters = 4;
    o.size = 32;
    o.batchnorm = true;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    NodeId data = g.findNodeByName("data")->id;
    g.findNode(data)->attrs["batch_size"] = std::int64_t{1};
    CheckResult r = checkGraph(g);
    const Diagnostic& d = expectDiagnostic(r, codes::kBatchNormSmallBatch);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_EQ(g.findNode(d.node)->op, "BatchNormalization");
    EXPECT_THAT(d.message, HasSubstr("batch size 1"));
    CheckResult after = applyFirstFix(g, codes::kBatchNormSmallBatch);
    EXPECT_FALSE(after.has(codes::kBatchNormSmallBatch)) << codesOf(after);
}

TEST(CheckerCodes, LossActivationOnLogits) {
    GraphBuilder b;
    NodeId img = b.input(16, 16, 1, "float32", "img");
    NodeId head = b.then("Conv2D", "head", out(img), conv(1, 1, "same", "linear"));
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(img), {loss, "target"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossActivation);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_EQ(d.node, loss);
    ASSERT_GE(d.fixes.size(), 2u);
    EXPECT_THAT(d.fixes[0].description, HasSubstr("activation='sigmoid' on 'head'"));
    EXPECT_THAT(d.fixes[1].description, HasSubstr("from_logits=true"));
    CheckResult after = applyFirstFix(b.graph, codes::kLossActivation);
    EXPECT_FALSE(after.has(codes::kLossActivation)) << codesOf(after);

    // from_logits=true is the other legitimate way out.
    b.graph.findNode(head)->attrs["activation"] = std::string("linear");
    b.graph.findNode(loss)->attrs["from_logits"] = true;
    EXPECT_FALSE(checkGraph(b.graph).has(codes::kLossActivation));
}

TEST(CheckerCodes, RankMismatchScalarIntoConv) {
    GraphBuilder b;
    NodeId img = b.input(8, 8, 1, "float32", "img");
    NodeId loss = b.add("Dice", "loss");
    b.wire(out(img), {loss, "prediction"});
    b.wire(out(img), {loss, "target"});
    NodeId c = b.then("Conv2D", "c", out(loss, "loss"));
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kRankMismatch);
    EXPECT_EQ(d.node, c);
    EXPECT_THAT(d.message, HasSubstr("scalar f32"));
}

TEST(CheckerCodes, DanglingPortAndDuplicateName) {
    GraphBuilder b;
    NodeId in = b.input(8, 8, 1);
    NodeId c = b.add("Conv2D", "in");
    b.wire(out(in), {c, "inptu"});
    CheckResult r = checkGraph(b.graph);
    const Diagnostic& d = expectDiagnostic(r, codes::kDanglingEdge);
    EXPECT_THAT(d.message, HasSubstr("no input port 'inptu'"));
    EXPECT_TRUE(r.has(codes::kDuplicateName));
    CheckResult after = applyFirstFix(b.graph, codes::kDanglingEdge);
    EXPECT_FALSE(after.has(codes::kDanglingEdge));
    after = applyFirstFix(b.graph, codes::kDuplicateName);
    EXPECT_FALSE(after.has(codes::kDuplicateName));
}
