// Fixes that follow what the masks really hold (issue 15, "targets fixes that
// fit the data"): class-index masks are never rescaled, cast into a per-channel
// loss, given a 1-channel head or a sigmoid — the loss becomes one that reads
// indices; 0/1 masks are only cast; two-level 0/255 and 0/65535 masks get
// mask_mode='binary' first. Each fixture is written to a temp dir, probed,
// checked; the first fix is applied with applyEdits and the graph re-checked.

#include "check/fix_application.hpp"
#include "data/data_probe.hpp"
#include "data_fixtures.hpp"
#include "graph_builder.hpp"
#include "ops/builtin_ops.hpp"

#include <functional>
#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

struct TargetGraph {
    GraphBuilder b;
    NodeId data = kNoNode;
    NodeId head = kNoNode;
    NodeId loss = kNoNode;
    NodeId maskConvert = kNoNode; ///< Cast or Rescale on the mask, if any
};

enum class MaskPath { Direct, Cast, Rescale255 };

/// Dataset → Rescale → Conv2D head (`classes` filters) → loss; the mask reaches
/// the loss's target directly, through Cast(float32) or through Rescale(1/255).
TargetGraph makeGraph(const TempDir& t, const std::string& lossOp, int classes,
                      const std::string& activation, MaskPath path) {
    TargetGraph g;
    g.data = g.b.add("Dataset", "data",
                     {{"images", (t / "images").string()}, {"masks", (t / "masks").string()}});
    NodeId s = g.b.then("Rescale", "scale", out(g.data, "image"), {{"scale", 1.0 / 255.0}});
    g.head = g.b.then("Conv2D", "head", out(s),
                      {{"filters", std::int64_t{classes}},
                       {"kernel_size", std::int64_t{1}},
                       {"activation", activation}});
    g.loss = g.b.add(lossOp, "loss");
    g.b.wire(out(g.head), {g.loss, "prediction"});
    PortRef mask = out(g.data, "mask");
    if (path == MaskPath::Cast)
        g.maskConvert = g.b.then("Cast", "mask_f32", mask, {{"dtype", std::string("float32")}});
    else if (path == MaskPath::Rescale255)
        g.maskConvert = g.b.then("Rescale", "mask_scale", mask, {{"scale", 1.0 / 255.0}});
    g.b.wire(g.maskConvert == kNoNode ? mask : out(g.maskConvert), {g.loss, "target"});
    return g;
}

CheckOptions probed(const TempDir& t, NodeId data) {
    CheckOptions o;
    o.dataProbes[data] = probeDataset({(t / "images").string(), (t / "masks").string()});
    return o;
}

/// n pairs of 16×16 images with the mask `mask(i)`.
template <typename MaskFn> void writeSet(const TempDir& t, int n, MaskFn mask) {
    auto images = t.dir("images");
    auto masks = t.dir("masks");
    for (int i = 0; i < n; ++i) {
        const std::string name = "m" + std::to_string(10 + i) + ".png";
        writeOrFail(images / name, patternImage(16, 16, i));
        writeOrFail(masks / name, mask(i));
    }
}

/// Four quadrants holding classes 0, 1, 2 and 3.
cv::Mat classIndexMask(int) {
    cv::Mat m(16, 16, CV_8UC1, cv::Scalar(0));
    m(cv::Rect(8, 0, 8, 8)).setTo(1);
    m(cv::Rect(0, 8, 8, 8)).setTo(2);
    m(cv::Rect(8, 8, 8, 8)).setTo(3);
    return m;
}

std::string allFixes(const CheckResult& r) {
    std::string out;
    for (const Diagnostic& d : r.diagnostics)
        for (const FixIt& f : d.fixes)
            out += d.code + ": " + f.description + "\n";
    return out;
}

/// The first fix of the first diagnostic with `code` (and port, when given).
const FixIt* firstFix(const CheckResult& r, std::string_view code, std::string_view port = {}) {
    for (const Diagnostic& d : r.diagnostics) {
        if (d.code == code && (port.empty() || d.port == port))
            return d.fixes.empty() ? nullptr : &d.fixes.front();
    }
    return nullptr;
}

CheckResult applyAndRecheck(Graph& graph, const FixIt& fix, const CheckOptions& o) {
    EditOutcome outcome = applyEdits(graph, fix.edits);
    EXPECT_TRUE(outcome.ok) << outcome.error;
    return checkGraph(graph, o);
}

/// The fixes the issue names as wrong for class indices.
void expectNoWrongClassIndexFix(const CheckResult& r) {
    const std::string fixes = allFixes(r);
    EXPECT_THAT(fixes, Not(HasSubstr("Rescale"))) << fixes;
    EXPECT_THAT(fixes, Not(HasSubstr("filters=1 "))) << fixes;
    EXPECT_THAT(fixes, Not(HasSubstr("sigmoid"))) << fixes;
    EXPECT_THAT(fixes, Not(HasSubstr("Cast(float32)"))) << fixes;
}

} // namespace

TEST(TargetFixes, ClassIndexMasksIntoFourClassDiceBecomeSparseCategorical) {
    TempDir t;
    writeSet(t, 3, classIndexMask);
    TargetGraph g = makeGraph(t, "Dice", 4, "softmax", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    expectNoWrongClassIndexFix(r);

    // u8 indices into a float loss, and 4 channels against one: both name the loss.
    const FixIt* dtype = firstFix(r, codes::kDTypeMismatch, "target");
    ASSERT_NE(dtype, nullptr) << allFixes(r);
    EXPECT_THAT(dtype->description, HasSubstr("to SparseCategoricalCrossentropy"));
    EXPECT_EQ(dtype->rank, FixRank::Cause);
    EXPECT_THAT(dtype->reason, HasSubstr("class indices 0..3 (4 classes)"));
    const Diagnostic& channels = expectDiagnostic(r, codes::kLossChannelMismatch);
    EXPECT_THAT(channels.message, HasSubstr("holds class indices 0..3"));
    ASSERT_FALSE(channels.fixes.empty());
    EXPECT_THAT(channels.fixes.front().description, HasSubstr("to SparseCategoricalCrossentropy"));
    // One situation: no sigmoid advice beside it, no second mask-value-range.
    EXPECT_FALSE(r.has(codes::kLossActivation)) << codesOf(r);
    EXPECT_FALSE(r.has(codes::kMaskValueRange)) << codesOf(r);

    const CheckResult after = applyAndRecheck(g.b.graph, channels.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(g.b.graph.findNode(g.loss)->op, ops::kSparseCategoricalCrossentropyOp);
    EXPECT_EQ(g.b.graph.findNode(g.loss)->attrs.count("epsilon"), 0u); // Dice's, not SCCE's
    EXPECT_EQ(std::get<std::int64_t>(g.b.graph.findNode(g.head)->attrs.at("filters")), 4);
}

TEST(TargetFixes, ClassIndexMasksCastIntoOneChannelSigmoidDice) {
    // The state the old advice left: filters=1, a sigmoid and a Cast on indices.
    TempDir t;
    writeSet(t, 3, classIndexMask);
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Cast);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    expectNoWrongClassIndexFix(r);
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_EQ(d.node, g.loss);
    EXPECT_THAT(d.message, HasSubstr("class indices {0, 1, 2, 3}"));
    EXPECT_THAT(d.message, HasSubstr("4 classes"));
    ASSERT_FALSE(d.fixes.empty());
    const FixIt& fix = d.fixes.front();
    EXPECT_THAT(fix.description, HasSubstr("to SparseCategoricalCrossentropy"));
    EXPECT_THAT(fix.description, HasSubstr("activation='softmax' on 'head'"));
    EXPECT_THAT(fix.description, HasSubstr("filters=4 on 'head'"));
    EXPECT_THAT(fix.description, HasSubstr("removes 'mask_f32'"));

    const CheckResult after = applyAndRecheck(g.b.graph, fix, o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_FALSE(after.has(codes::kMaskValueRange));
    EXPECT_FALSE(g.b.graph.hasNode(g.maskConvert));
    EXPECT_EQ(std::get<std::int64_t>(g.b.graph.findNode(g.head)->attrs.at("filters")), 4);
    EXPECT_EQ(std::get<std::string>(g.b.graph.findNode(g.head)->attrs.at("activation")), "softmax");
    auto target = g.b.graph.producerOf({g.loss, "target"});
    ASSERT_TRUE(target);
    EXPECT_EQ(*target, (PortRef{g.data, "mask"}));
}

TEST(TargetFixes, ClassIndexMasksRescaledBy255IntoFourClassDice) {
    // Rescale(1/255) on indices 0..3 hides them as 0..0.012: the probe still knows.
    TempDir t;
    writeSet(t, 3, classIndexMask);
    TargetGraph g = makeGraph(t, "Dice", 4, "softmax", MaskPath::Rescale255);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossChannelMismatch);
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("to SparseCategoricalCrossentropy"));
    EXPECT_THAT(d.fixes.front().description, HasSubstr("removes 'mask_scale'"));
    EXPECT_THAT(allFixes(r), Not(HasSubstr("filters=1 "))) << allFixes(r);
    EXPECT_THAT(allFixes(r), Not(HasSubstr("sigmoid"))) << allFixes(r);

    const CheckResult after = applyAndRecheck(g.b.graph, d.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_FALSE(g.b.graph.hasNode(g.maskConvert));
}

TEST(TargetFixes, DeclaredClassIndicesWithoutDataAlsoGetTheLossSwap) {
    // No probe: the Dataset's attributes declare masks up to 3.
    TempDir t;
    TargetGraph g = makeGraph(t, "Dice", 4, "softmax", MaskPath::Direct);
    g.b.graph.findNode(g.data)->attrs["mask_max"] = std::int64_t{3};
    const CheckResult r = checkGraph(g.b.graph);
    expectNoWrongClassIndexFix(r);
    const FixIt* fix = firstFix(r, codes::kDTypeMismatch, "target");
    ASSERT_NE(fix, nullptr) << allFixes(r);
    EXPECT_THAT(fix->description, HasSubstr("to SparseCategoricalCrossentropy"));
    const CheckResult after = applyAndRecheck(g.b.graph, *fix, {});
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TargetFixes, BinaryMasks0And255GetMaskModeBinaryFirst) {
    TempDir t;
    writeSet(t, 3, [](int) { return halfMask(16, 16, 0, 255); });
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);

    const FixIt* dtype = firstFix(r, codes::kDTypeMismatch, "target");
    ASSERT_NE(dtype, nullptr) << allFixes(r);
    EXPECT_THAT(dtype->description, HasSubstr("Set mask_mode='binary' on 'data'"));
    EXPECT_EQ(dtype->rank, FixRank::Cause);
    const FixIt* range = firstFix(r, codes::kMaskValueRange);
    ASSERT_NE(range, nullptr) << allFixes(r);
    EXPECT_THAT(range->description, HasSubstr("Set mask_mode='binary' on 'data'"));
    EXPECT_THAT(range->description, HasSubstr("Cast(float32)"));

    const CheckResult after = applyAndRecheck(g.b.graph, *dtype, o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(g.data, "mask"))->range->hi, 1);
}

TEST(TargetFixes, BinaryMasks0And65535IntoTwoClassLossGetMaskModeBinary) {
    // The message was right before; now it has a fix, and neither ignore_class
    // (65535 is foreground, not void) nor a 65536-class head.
    TempDir t;
    writeSet(t, 3, [](int) { return halfMask(16, 16, 0, 65535, CV_16UC1); });
    TargetGraph g = makeGraph(t, "SparseCategoricalCrossentropy", 2, "softmax", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_THAT(d.message, HasSubstr("{0, 65535}"));
    ASSERT_EQ(d.fixes.size(), 1u) << allFixes(r);
    EXPECT_THAT(d.fixes.front().description, HasSubstr("Set mask_mode='binary' on 'data'"));
    EXPECT_THAT(allFixes(r), Not(HasSubstr("ignore_class"))) << allFixes(r);
    EXPECT_THAT(allFixes(r), Not(HasSubstr("filters="))) << allFixes(r);

    const CheckResult after = applyAndRecheck(g.b.graph, d.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_FALSE(after.has(codes::kMaskValueRange));
}

TEST(TargetFixes, BinaryMasks0And65535IntoDice) {
    TempDir t;
    writeSet(t, 2, [](int) { return halfMask(16, 16, 0, 65535, CV_16UC1); });
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const FixIt* dtype = firstFix(r, codes::kDTypeMismatch, "target");
    ASSERT_NE(dtype, nullptr) << allFixes(r);
    EXPECT_THAT(dtype->description, HasSubstr("Set mask_mode='binary' on 'data'"));
    EXPECT_THAT(allFixes(r), Not(HasSubstr("scale=1/255"))) << allFixes(r);
    const CheckResult after = applyAndRecheck(g.b.graph, *dtype, o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TargetFixes, BinaryMasks0And1AreCastNeverRescaled) {
    TempDir t;
    writeSet(t, 3, [](int) { return halfMask(16, 16, 0, 1); });
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kDTypeMismatch);
    EXPECT_EQ(d.port, "target");
    ASSERT_EQ(d.fixes.size(), 1u) << allFixes(r);
    EXPECT_THAT(d.fixes.front().description, HasSubstr("Insert Cast(float32)"));
    EXPECT_THAT(allFixes(r), Not(HasSubstr("Rescale"))) << allFixes(r);
    EXPECT_THAT(allFixes(r), Not(HasSubstr("mask_mode"))) << allFixes(r);

    const CheckResult after = applyAndRecheck(g.b.graph, d.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TargetFixes, GreyRampMasksAreNotOfferedBinaryMode) {
    // 0..255 ramps are neither two-level nor class indices: binary mode would
    // make every non-zero pixel foreground, so it is not offered.
    TempDir t;
    writeSet(t, 2, [](int) {
        cv::Mat m(16, 16, CV_8UC1);
        for (int y = 0; y < 16; ++y)
            for (int x = 0; x < 16; ++x)
                m.at<uchar>(y, x) = static_cast<uchar>(x * 17);
        return m;
    });
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Direct);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    EXPECT_TRUE(r.has(codes::kMaskValueRange)) << codesOf(r);
    EXPECT_THAT(allFixes(r), Not(HasSubstr("mask_mode"))) << allFixes(r);
    EXPECT_THAT(allFixes(r), Not(HasSubstr("SparseCategoricalCrossentropy"))) << allFixes(r);
}

TEST(TargetFixes, ClassIndicesWithVoidLabelIntoBinaryCrossentropy) {
    // keras-unet#50: classes 0..3 with a void border of 255, into a sigmoid BCE.
    TempDir t;
    writeSet(t, 2, [](int i) {
        cv::Mat m = classIndexMask(i);
        m(cv::Rect(0, 0, 16, 1)).setTo(255);
        return m;
    });
    TargetGraph g = makeGraph(t, "BinaryCrossentropy", 1, "sigmoid", MaskPath::Cast);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_THAT(d.message, HasSubstr("4 classes and the void label 255"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("to SparseCategoricalCrossentropy"));
    EXPECT_THAT(d.fixes.front().description, HasSubstr("ignore_class=255"));
    EXPECT_THAT(d.fixes.front().description, HasSubstr("filters=4 on 'head'"));
    const CheckResult after = applyAndRecheck(g.b.graph, d.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TargetFixes, ClassIndexMasksIntoCategoricalCrossentropyBecomeSparse) {
    // CategoricalCrossentropy wants one-hot targets; the project cannot one-hot
    // a mask, so the loss that reads indices is the repair, not filters=1.
    TempDir t;
    writeSet(t, 2, classIndexMask);
    TargetGraph g = makeGraph(t, "CategoricalCrossentropy", 4, "softmax", MaskPath::Cast);
    const CheckOptions o = probed(t, g.data);
    const CheckResult r = checkGraph(g.b.graph, o);
    expectNoWrongClassIndexFix(r);
    const Diagnostic& d = expectDiagnostic(r, codes::kLossChannelMismatch);
    EXPECT_THAT(d.message, HasSubstr("one-hot"));
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes.front().description, HasSubstr("to SparseCategoricalCrossentropy"));
    const CheckResult after = applyAndRecheck(g.b.graph, d.fixes.front(), o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(TargetFixes, FirstFixesAsSegforgeCliFixAppliesThemLeaveEachFixtureClean) {
    // `segforge-cli fix --first`: the top fix of every finding, repeatedly,
    // through core/check/fix_application — the path scripts and CI take.
    struct Case {
        const char* name;
        std::function<cv::Mat(int)> mask;
        const char* loss;
        int classes;
        const char* activation;
        MaskPath path;
    };
    const Case cases[] = {
        {"class indices 0..3", classIndexMask, "Dice", 4, "softmax", MaskPath::Direct},
        {"0/255", [](int) { return halfMask(16, 16, 0, 255); }, "Dice", 1, "sigmoid",
         MaskPath::Direct},
        {"0/65535", [](int) { return halfMask(16, 16, 0, 65535, CV_16UC1); },
         "SparseCategoricalCrossentropy", 2, "softmax", MaskPath::Direct},
        {"0/1", [](int) { return halfMask(16, 16, 0, 1); }, "Dice", 1, "sigmoid", MaskPath::Direct},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        TempDir t;
        writeSet(t, 2, c.mask);
        TargetGraph g = makeGraph(t, c.loss, c.classes, c.activation, c.path);
        const CheckOptions o = probed(t, g.data);
        ASSERT_TRUE(checkGraph(g.b.graph, o).hasErrors());
        const FirstFixesOutcome outcome = applyFirstFixes(g.b.graph, o);
        EXPECT_TRUE(outcome.clean) << outcome.stuck;
        ASSERT_FALSE(outcome.applied.empty());
        const std::string first = outcome.applied.front().description;
        EXPECT_THAT(first, Not(HasSubstr("Rescale")));
        if (c.classes == 4) {
            EXPECT_THAT(first, HasSubstr("SparseCategoricalCrossentropy"));
            EXPECT_EQ(outcome.applied.front().rank, FixRank::Cause);
        } else if (std::string(c.name) != "0/1") {
            EXPECT_THAT(first, HasSubstr("mask_mode='binary'"));
        } else {
            EXPECT_THAT(first, HasSubstr("Cast(float32)"));
        }
        EXPECT_FALSE(checkGraph(g.b.graph, o).hasErrors()) << codesOf(checkGraph(g.b.graph, o));
    }
}

TEST(TargetFixes, ApplyFixByCodeAndNodeAsTheCliNamesIt) {
    TempDir t;
    writeSet(t, 2, classIndexMask);
    TargetGraph g = makeGraph(t, "Dice", 1, "sigmoid", MaskPath::Cast);
    const CheckOptions o = probed(t, g.data);
    auto request = parseFixRequest("mask-value-range@loss#1");
    ASSERT_TRUE(request);
    const FixOutcome outcome = applyFix(g.b.graph, *request, o);
    ASSERT_TRUE(outcome.applied) << outcome.error;
    EXPECT_THAT(outcome.description, HasSubstr("to SparseCategoricalCrossentropy"));
    const CheckResult after = checkGraph(g.b.graph, o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}
