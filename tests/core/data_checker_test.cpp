// One test per data diagnostic code: write the faulty dataset, probe it, check
// the graph with the probe, assert code, node and numbers, apply the first fix.

#include "data/data_probe.hpp"
#include "data_fixtures.hpp"
#include "graph_builder.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

struct DataGraph {
    GraphBuilder b;
    NodeId data = kNoNode;
    NodeId head = kNoNode;
    NodeId loss = kNoNode;
};

/// Dataset → Rescale → Conv2D head → loss, mask → (Cast) → loss target.
DataGraph makeGraph(const TempDir& t, const std::string& lossOp = "BCEDice", int classes = 1,
                    bool castMask = true) {
    DataGraph g;
    g.data = g.b.add("Dataset", "data",
                     {{"images", (t / "images").string()}, {"masks", (t / "masks").string()}});
    NodeId s = g.b.then("Rescale", "scale", out(g.data, "image"), {{"scale", 1.0 / 255.0}});
    g.head = g.b.then("Conv2D", "head", out(s),
                      {{"filters", std::int64_t{classes}},
                       {"kernel_size", std::int64_t{1}},
                       {"activation", std::string(classes == 1 ? "sigmoid" : "softmax")}});
    g.loss = g.b.add(lossOp, "loss");
    g.b.wire(out(g.head), {g.loss, "prediction"});
    PortRef mask = out(g.data, "mask");
    if (castMask)
        mask = out(g.b.then("Cast", "mask_f32", mask, {{"dtype", std::string("float32")}}));
    g.b.wire(mask, {g.loss, "target"});
    return g;
}

CheckOptions probed(const Graph& graph, NodeId data) {
    CheckOptions o;
    const Node& n = *graph.findNode(data);
    o.dataProbes[data] = probeDataset(
        {std::get<std::string>(n.attrs.at("images")), std::get<std::string>(n.attrs.at("masks"))});
    return o;
}

CheckResult applyFirstFixWith(Graph& graph, const CheckOptions& o, std::string_view code) {
    CheckResult r = checkGraph(graph, o);
    const Diagnostic& d = expectDiagnostic(r, code);
    if (d.fixes.empty()) {
        ADD_FAILURE() << "no fix for " << code;
        return r;
    }
    EditOutcome outcome = applyEdits(graph, d.fixes.front().edits);
    EXPECT_TRUE(outcome.ok) << outcome.error;
    return checkGraph(graph, o);
}

} // namespace

TEST(DataChecker, ProbedDatasetOutputsShowTheRealData) {
    TempDir t;
    writeBinarySet(t, 3, 24, 40, 1);
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    // Attributes say 128×128; the data says 24×40.
    EXPECT_EQ(r.typeOf(out(g.data, "image"))->toString(), "N×24×40×3 u8");
    auto mask = r.typeOf(out(g.data, "mask"));
    EXPECT_EQ(mask->toString(), "N×24×40×1 u8");
    ASSERT_TRUE(mask->range);
    EXPECT_EQ(mask->range->hi, 1);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
}

TEST(DataChecker, MaskValueRange255InBinaryMask) {
    TempDir t;
    writeBinarySet(t, 3, 16, 16, 255);
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_EQ(d.node, g.loss);
    EXPECT_EQ(d.port, "target");
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_THAT(d.message, HasSubstr("[0, 1]"));
    EXPECT_THAT(d.message, HasSubstr("{0, 255}"));
    EXPECT_THAT(d.message, HasSubstr("50%"));
    EXPECT_THAT(d.message,
                HasSubstr("label value of 255 which is outside the valid range of [0, 2)"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("mask_mode"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kMaskValueRange);
    EXPECT_FALSE(after.has(codes::kMaskValueRange)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(g.data, "mask"))->range->hi, 1);
}

TEST(DataChecker, MaskValueRangeLabelBeyondClassCount) {
    TempDir t;
    auto images = t.dir("images");
    auto masks = t.dir("masks");
    for (int i = 0; i < 2; ++i) {
        writeOrFail(images / ("a" + std::to_string(i) + ".png"), patternImage(16, 16));
        cv::Mat m = halfMask(16, 16, 0, 1);
        m(cv::Rect(0, 0, 16, 2)).setTo(255); // VOC-style "void" border
        writeOrFail(masks / ("a" + std::to_string(i) + ".png"), m);
    }
    DataGraph g = makeGraph(t, "SparseCategoricalCrossentropy", 2, /*castMask=*/false);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_EQ(d.node, g.loss);
    EXPECT_THAT(d.message, HasSubstr("[0, 2)"));
    EXPECT_THAT(d.message, HasSubstr("{0, 1, 255}"));
    EXPECT_THAT(d.message, HasSubstr("out of range: 255"));
    EXPECT_THAT(d.message, HasSubstr("Received a label value of 255"));
    ASSERT_GE(d.fixes.size(), 2u);
    EXPECT_THAT(d.fixes[0].description, HasSubstr("ignore_class=255"));
    EXPECT_THAT(d.fixes[1].description, HasSubstr("filters=256 on 'head'"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kMaskValueRange);
    EXPECT_FALSE(after.has(codes::kMaskValueRange)) << codesOf(after);
}

TEST(DataChecker, MaskChannelsGreyMaskSavedAsRgb) {
    TempDir t;
    auto images = t.dir("images");
    auto masks = t.dir("masks");
    for (int i = 0; i < 2; ++i) {
        writeOrFail(images / ("a" + std::to_string(i) + ".png"), patternImage(16, 16));
        cv::Mat grey = halfMask(16, 16, 0, 255);
        cv::Mat rgb;
        cv::merge(std::vector<cv::Mat>{grey, grey, grey}, rgb);
        writeOrFail(masks / ("a" + std::to_string(i) + ".png"), rgb);
    }
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    EXPECT_EQ(r.typeOf(out(g.data, "mask"))->toString(), "N×16×16×3 u8");
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskChannels);
    EXPECT_EQ(d.node, g.data);
    EXPECT_EQ(d.port, "mask");
    EXPECT_THAT(d.message, HasSubstr("3 channels"));
    EXPECT_THAT(d.message, HasSubstr("1-channel target"));
    EXPECT_THAT(d.message, HasSubstr("N×16×16×1 f32"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("mask_mode='binary'"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kMaskChannels);
    EXPECT_FALSE(after.has(codes::kMaskChannels)) << codesOf(after);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(DataChecker, ImageSizeMismatchBetweenImageAndMask) {
    TempDir t;
    writeBinarySet(t, 4, 32, 32, 1);
    writeOrFail(t / "masks" / "s102.png", halfMask(16, 24, 0, 1));
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kImageSizeMismatch);
    EXPECT_EQ(d.node, g.data);
    EXPECT_THAT(d.message, HasSubstr("'s102' is 32×32 but its mask is 16×24"));
    EXPECT_THAT(d.message, HasSubstr("1 of 4 pairs"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kImageSizeMismatch);
    EXPECT_FALSE(after.has(codes::kImageSizeMismatch)) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(g.data, "image"))->toString(), "N×32×32×3 u8");
}

TEST(DataChecker, ImageSizeMismatchAmongImages) {
    TempDir t;
    writeBinarySet(t, 3, 32, 32, 1);
    writeOrFail(t / "images" / "s200.png", patternImage(20, 20));
    writeOrFail(t / "masks" / "s200.png", halfMask(20, 20, 0, 1));
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    const CheckResult r = checkGraph(g.b.graph, o); // keep it alive: d refers into it
    const Diagnostic& d = expectDiagnostic(r, codes::kImageSizeMismatch);
    EXPECT_THAT(d.message, HasSubstr("20×20 (1), 32×32 (3)"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kImageSizeMismatch);
    EXPECT_FALSE(after.has(codes::kImageSizeMismatch)) << codesOf(after);
}

TEST(DataChecker, DatasetEmptyNamesTheProblem) {
    TempDir t;
    auto images = t.dir("images");
    t.dir("masks");
    writeOrFail(images / "lonely.png", patternImage(8, 8));
    DataGraph g = makeGraph(t);
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kDatasetEmpty);
    EXPECT_EQ(d.node, g.data);
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_THAT(d.message, HasSubstr("'lonely.png'"));
    EXPECT_TRUE(d.fixes.empty()); // files are not a graph edit away
    // Without usable data the attributes still type the wires.
    EXPECT_EQ(r.typeOf(out(g.data, "image"))->toString(), "N×128×128×3 u8");

    Graph missing = makeGraph(t).b.graph;
    CheckOptions o2;
    o2.dataProbes[g.data] = probeDataset({t / "absent", t / "masks"});
    EXPECT_THAT(expectDiagnostic(checkGraph(missing, o2), codes::kDatasetEmpty).message,
                HasSubstr("absent' does not exist"));
}

TEST(DataChecker, UnpairedFileIsAWarningNamingTheFile) {
    TempDir t;
    writeBinarySet(t, 3, 8, 8, 1);
    writeOrFail(t / "images" / "extra.png", patternImage(8, 8));
    DataGraph g = makeGraph(t);
    CheckResult r = checkGraph(g.b.graph, probed(g.b.graph, g.data));
    const Diagnostic& d = expectDiagnostic(r, codes::kUnpairedFile);
    EXPECT_EQ(d.node, g.data);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_THAT(d.message, HasSubstr("1 file has no partner"));
    EXPECT_THAT(d.message, HasSubstr("'extra.png'"));
    EXPECT_THAT(d.message, HasSubstr("3 pairs"));
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
}

TEST(DataChecker, UnreadableFileUnderStopPolicyOffersSkip) {
    TempDir t;
    writeBinarySet(t, 3, 8, 8, 1);
    writeBytes(t / "masks" / "s101.png", "\x89PNG but then nothing useful");
    DataGraph g = makeGraph(t);
    g.b.graph.findNode(g.data)->attrs["on_error"] = std::string("stop");
    CheckOptions o = probed(g.b.graph, g.data);
    CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kDataFileUnreadable);
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_THAT(d.message, HasSubstr("'s101.png'"));
    CheckResult after = applyFirstFixWith(g.b.graph, o, codes::kDataFileUnreadable);
    const Diagnostic& still = expectDiagnostic(after, codes::kDataFileUnreadable);
    EXPECT_EQ(still.severity, Severity::Warning); // skipped and reported, no longer fatal
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}
