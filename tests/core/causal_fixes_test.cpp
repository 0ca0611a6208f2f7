// Fixes ranked by cause, each verified (check/causal_fixes, check/fix_verification):
// for each cause of a size mismatch the first fix undoes it, applying it the way
// `segforge-cli fix` does removes the finding without a new error, and no fix
// offered anywhere in the test corpus introduces an error.

#include "check/causal_fixes.hpp"
#include "check/fix_application.hpp"
#include "check/fix_verification.hpp"
#include "graph_builder.hpp"
#include "ops/builtin_ops.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

namespace {

Graph unet(int depth, int size, UNetOptions::Up up = UNetOptions::Up::Transpose) {
    UNetOptions o;
    o.depth = depth;
    o.size = size;
    o.filters = 8;
    o.up = up;
    return std::get<Project>(makeUNetProject(o)).graph;
}

NodeId idOf(const Graph& g, const std::string& name) {
    const Node* n = g.findNodeByName(name);
    EXPECT_NE(n, nullptr) << "no node '" << name << "'";
    return n ? n->id : kNoNode;
}

void set(Graph& g, const std::string& name, const std::string& attr, AttrValue value) {
    g.findNode(idOf(g, name))->attrs[attr] = std::move(value);
}

/// Re-wires `to` (an input port) from the node named `from`.
void rewire(Graph& g, const std::string& from, NodeId to, const std::string& port) {
    for (const Edge& e : g.edgesInto({to, port}))
        ASSERT_TRUE(g.disconnect(e));
    ASSERT_TRUE(g.connect({idOf(g, from), "output"}, {to, port}));
}

const Diagnostic* findAt(const CheckResult& r, std::string_view code, NodeId node) {
    for (const Diagnostic& d : r.diagnostics) {
        if (d.code == code && d.node == node)
            return &d;
    }
    return nullptr;
}

std::string fixList(const Diagnostic& d) {
    std::string out;
    for (std::size_t k = 0; k < d.fixes.size(); ++k)
        out += "\n  #" + std::to_string(k + 1) + " [" + std::string(fixRankName(d.fixes[k].rank)) +
               "] " + d.fixes[k].description + " — " + d.fixes[k].reason;
    return out;
}

using ErrorKey = std::pair<std::string, NodeId>;

std::set<ErrorKey> errorsOf(const CheckResult& r) {
    std::set<ErrorKey> out;
    for (const Diagnostic& d : r.diagnostics) {
        if (d.severity == Severity::Error)
            out.emplace(d.code, d.node);
    }
    return out;
}

/// A node the first check could not reach: an input of it had no type.
bool hidden(const Graph& g, const CheckResult& before, NodeId node) {
    for (const Edge& e : g.edges()) {
        if (e.to.node == node && !before.typeOf(e.from))
            return true;
    }
    return false;
}

/// The errors of `after` (a check of `g` changed by a fix) that `before` did
/// not report and could have: created by the fix, not revealed by it.
std::vector<std::string> newErrors(const Graph& g, const CheckResult& before,
                                   const CheckResult& after) {
    const std::set<ErrorKey> old = errorsOf(before);
    std::vector<std::string> out;
    for (const Diagnostic& d : after.diagnostics) {
        if (d.severity != Severity::Error || old.count({d.code, d.node}))
            continue;
        if (d.node != kNoNode && g.hasNode(d.node) && hidden(g, before, d.node))
            continue;
        out.push_back(d.code + ": " + d.message);
    }
    return out;
}

/// Applies the first fix of CODE@NODE the way `segforge-cli fix --apply
/// CODE@NODE#1` does (core::applyFix), and checks that it says what it applied.
FixOutcome applyFirstFixAt(Graph& g, std::string_view code, const std::string& node,
                           const CheckOptions& options = {}) {
    FixOutcome outcome = applyFix(g, FixRequest{std::string(code), node, 1}, options);
    EXPECT_TRUE(outcome.applied) << outcome.error;
    return outcome;
}

// --- the graphs, each with one cause ------------------------------------------

/// A decoder branch with a leftover Cropping2D((1,0),(0,0)): it meets its skip
/// 1 row short.
Graph strayCrop() {
    Graph g = unet(3, 64);
    const NodeId concat = idOf(g, "dec2_concat");
    const Edge up = g.edgesInto({concat, "b"}).front();
    Node crop;
    crop.op = ops::kCropping2DOp;
    crop.name = "crop3";
    crop.attrs["cropping"] = std::vector<std::int64_t>{1, 0, 0, 0};
    EXPECT_TRUE(applyEdits(g, insertNodeOnEdge(g, up, crop, "input", "output")).ok);
    return g;
}

/// A Keras 1 script ported to Keras 2: Conv2D(16, 3, 3) became kernel 3,
/// strides 3 on the encoder's convolutions.
Graph keras1Strides() {
    GraphBuilder b;
    AttrMap s3{{"filters", std::int64_t{16}},
               {"kernel_size", std::int64_t{3}},
               {"strides", std::int64_t{3}},
               {"padding", std::string("same")}};
    const NodeId in = b.input(64, 64, 3);
    const NodeId c1 = b.then(ops::kConv2DOp, "conv1", out(in), s3);
    const NodeId c2 = b.then(ops::kConv2DOp, "conv2", out(c1), s3);
    const NodeId pool = b.then(ops::kMaxPool2DOp, "pool", out(c2));
    const NodeId c3 = b.then(ops::kConv2DOp, "conv3", out(pool), s3);
    const NodeId up = b.then(ops::kUpSampling2DOp, "up", out(c3));
    const NodeId cat = b.add(ops::kConcatenateOp, "concat");
    b.wire(out(up), {cat, "a"});
    b.wire(out(c2), {cat, "b"});
    b.then(ops::kConv2DOp, "head", out(cat), {{"filters", std::int64_t{1}}});
    return b.graph;
}

/// A skip wired to the encoder level above the right one: 20×20 meets 10×10.
Graph wrongLevel() {
    Graph g = unet(3, 40);
    rewire(g, "enc2_conv2", idOf(g, "dec3_concat"), "a");
    return g;
}

/// The same, and the decoder's up-convolution (2×2, 'valid') trims 10×10 to 9×9.
Graph wrongLevelValidUpConv() {
    Graph g = unet(3, 40, UNetOptions::Up::UpsampleConv);
    set(g, "dec3_upconv", "kernel_size", std::int64_t{2});
    set(g, "dec3_upconv", "padding", std::string("valid"));
    rewire(g, "enc2_conv2", idOf(g, "dec3_concat"), "a");
    return g;
}

/// A transposed convolution 3×3, strides 2, padding 'valid' in the decoder:
/// 5×5 becomes 11×11 where the skip is 10×10.
Graph validTransposedConv() {
    Graph g = unet(3, 40);
    set(g, "dec3_up", "kernel_size", std::int64_t{3});
    set(g, "dec3_up", "padding", std::string("valid"));
    return g;
}

/// The original U-Net: valid 3×3 convolutions, 572×572 in.
Graph originalUNet() {
    Graph g = unet(4, 576);
    for (auto& [id, node] : g.nodes()) {
        if (node.op == ops::kConv2DOp && node.attrs.count("kernel_size") &&
            std::get<std::int64_t>(node.attrs.at("kernel_size")) == 3)
            g.findNode(id)->attrs["padding"] = std::string("valid");
    }
    set(g, "data", "height", std::int64_t{572});
    set(g, "data", "width", std::int64_t{572});
    return g;
}

/// A residual Add whose branch went through a stray ZeroPadding2D.
Graph strayPaddingResidual() {
    GraphBuilder b;
    const NodeId in = b.input(32, 32, 8);
    const NodeId c1 = b.then(ops::kConv2DOp, "res_conv", out(in),
                             {{"filters", std::int64_t{8}}, {"padding", std::string("same")}});
    const NodeId pad = b.then(ops::kZeroPadding2DOp, "pad", out(c1),
                              {{"padding", std::vector<std::int64_t>{1, 1, 1, 1}}});
    const NodeId add = b.add(ops::kAddOp, "residual");
    b.wire(out(in), {add, "a"});
    b.wire(out(pad), {add, "b"});
    return b.graph;
}

/// No skips at all: two valid 3×3 convolutions make the prediction 28×28 for a 32×32 mask.
Graph validConvsIntoLoss() {
    GraphBuilder b;
    const NodeId img = b.input(32, 32, 3, "float32", "image");
    const NodeId mask = b.input(32, 32, 1, "float32", "mask");
    AttrMap valid{{"filters", std::int64_t{8}},
                  {"kernel_size", std::int64_t{3}},
                  {"padding", std::string("valid")}};
    const NodeId c1 = b.then(ops::kConv2DOp, "conv1", out(img), valid);
    const NodeId c2 = b.then(ops::kConv2DOp, "conv2", out(c1), valid);
    const NodeId head = b.then(ops::kConv2DOp, "head", out(c2),
                               {{"filters", std::int64_t{1}},
                                {"kernel_size", std::int64_t{1}},
                                {"activation", std::string("sigmoid")}});
    const NodeId loss = b.add(ops::kBinaryCrossentropyOp, "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    return b.graph;
}

/// dec3_up deleted, the bottleneck wired straight into dec3_concat.
Graph missingUpsampling() {
    Graph g = unet(3, 64);
    EXPECT_TRUE(g.removeNode(idOf(g, "dec3_up")));
    EXPECT_TRUE(g.connect({idOf(g, "bottleneck_conv2"), "output"}, {idOf(g, "dec3_concat"), "b"}));
    return g;
}

CheckOptions noLossNeeded() {
    CheckOptions o;
    o.requireLoss = false;
    return o;
}

} // namespace

TEST(CausalFixes, StrayCropIsRemovedNotCroppedAgain) {
    Graph g = strayCrop();
    const CheckResult r = checkGraph(g);
    const NodeId concat = idOf(g, "dec2_concat");
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, concat);
    ASSERT_NE(d, nullptr) << codesOf(r);
    EXPECT_THAT(d->message, HasSubstr("N×31×32×16"));
    ASSERT_FALSE(d->fixes.empty());
    const FixIt& first = d->fixes.front();
    EXPECT_EQ(first.rank, FixRank::Cause) << fixList(*d);
    EXPECT_EQ(first.description, "Remove Cropping2D 'crop3'") << fixList(*d);
    EXPECT_THAT(first.reason, HasSubstr("cuts 1 row"));
    // The crop on the skip and the padding of the branch are still offered,
    // after it, as mechanical patches.
    ASSERT_GE(d->fixes.size(), 3u) << fixList(*d);
    EXPECT_THAT(d->fixes[1].description, HasSubstr("Cropping2D")) << fixList(*d);
    EXPECT_EQ(d->fixes[1].rank, FixRank::Mechanical);

    const FixOutcome applied = applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec2_concat");
    EXPECT_EQ(applied.description, "Remove Cropping2D 'crop3'");
    EXPECT_EQ(applied.rank, FixRank::Cause);
    EXPECT_EQ(g.findNodeByName("crop3"), nullptr);
    const CheckResult after = checkGraph(g);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_TRUE(sameNetwork(g, unet(3, 64))); // the network as the template made it
}

TEST(CausalFixes, Keras1StridesAreSetBackNamingEveryConvolution) {
    Graph g = keras1Strides();
    const CheckResult r = checkGraph(g, noLossNeeded());
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, idOf(g, "concat"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    ASSERT_FALSE(d->fixes.empty());
    const FixIt& first = d->fixes.front();
    EXPECT_EQ(first.rank, FixRank::Cause) << fixList(*d);
    EXPECT_EQ(first.description, "Set strides back to 1 on 'conv1', 'conv2', 'conv3'")
        << fixList(*d);
    EXPECT_THAT(first.reason, HasSubstr("Keras 1"));
    // UpSampling is offered, but only as a mechanical patch after the cause.
    bool upsampling = false;
    for (const FixIt& f : d->fixes) {
        if (f.description.find("UpSampling2D") != std::string::npos) {
            upsampling = true;
            EXPECT_EQ(f.rank, FixRank::Mechanical);
        }
    }
    EXPECT_TRUE(upsampling) << fixList(*d);

    applyFirstFixAt(g, codes::kConcatShapeMismatch, "concat", noLossNeeded());
    const CheckResult after = checkGraph(g, noLossNeeded());
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(after.typeOf(out(idOf(g, "concat")))->toString(), "N×64×64×32 f32");
}

TEST(CausalFixes, SkipFromTheWrongLevelIsRewiredToTheNodeOfMatchingSize) {
    Graph g = wrongLevel();
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, idOf(g, "dec3_concat"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    ASSERT_FALSE(d->fixes.empty());
    const FixIt& first = d->fixes.front();
    EXPECT_EQ(first.rank, FixRank::Rewire) << fixList(*d);
    EXPECT_EQ(first.description, "Wire input 'a' from 'enc3_conv2' (Conv2D, 10×10×32) instead of "
                                 "'enc2_conv2' (20×20×16)")
        << fixList(*d);
    EXPECT_THAT(first.reason, HasSubstr("10×10"));
    for (const FixIt& f : d->fixes)
        EXPECT_THAT(f.description, Not(HasSubstr("Cropping2D"))) << fixList(*d);

    applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec3_concat");
    const CheckResult after = checkGraph(g);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_TRUE(sameNetwork(g, unet(3, 40)));
}

TEST(CausalFixes, SkipFromTheWrongLevelMeetingATrimmedUpConvIsRewiredAndPadded) {
    Graph g = wrongLevelValidUpConv();
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, idOf(g, "dec3_concat"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    EXPECT_THAT(d->message, HasSubstr("N×20×20×16"));
    EXPECT_THAT(d->message, HasSubstr("N×9×9×32"));
    ASSERT_GE(d->fixes.size(), 3u) << fixList(*d);
    const FixIt& first = d->fixes.front();
    EXPECT_EQ(first.rank, FixRank::Rewire) << fixList(*d);
    EXPECT_THAT(first.description, HasSubstr("from 'enc3_conv2' (Conv2D, 10×10×32)"));
    EXPECT_THAT(first.description, HasSubstr("padding='same' on 'dec3_upconv'"));
    // Cropping 20×20 to 9×9 or padding 9×9 to 20×20 destroys the model: last, and says so.
    const FixIt& crop = d->fixes[d->fixes.size() - 2];
    const FixIt& pad = d->fixes.back();
    EXPECT_THAT(crop.description, HasSubstr("Cropping2D"));
    EXPECT_EQ(crop.rank, FixRank::Costly);
    EXPECT_EQ(crop.reason, "crops away 80 % of 'enc2_conv2'");
    EXPECT_THAT(pad.description, HasSubstr("ZeroPadding2D"));
    EXPECT_EQ(pad.rank, FixRank::Costly);
    EXPECT_THAT(pad.reason, HasSubstr("80 %"));

    applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec3_concat");
    const CheckResult after = checkGraph(g);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(CausalFixes, AMissingUpsamplingIsNotTakenForASkipFromTheWrongLevel) {
    // dec3_up deleted, the bottleneck wired straight into dec3_concat: 16×16
    // meets 8×8. Wiring the skip from an 8×8 node would make the concat pass
    // but leave the decoder a level short; the up-sampling is what is missing.
    Graph g = missingUpsampling();
    const NodeId concat = idOf(g, "dec3_concat");
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, concat);
    ASSERT_NE(d, nullptr) << codesOf(r);
    ASSERT_FALSE(d->fixes.empty());
    EXPECT_THAT(d->fixes.front().description, HasSubstr("UpSampling2D(size=2)")) << fixList(*d);
    for (const FixIt& f : d->fixes)
        EXPECT_NE(f.rank, FixRank::Rewire) << fixList(*d);
    applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec3_concat");
    EXPECT_FALSE(checkGraph(g).hasErrors());
}

TEST(CausalFixes, ATransposedConvolutionThatGrowsPastItsStridesGetsPaddingSame) {
    Graph g = validTransposedConv();
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, idOf(g, "dec3_concat"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    EXPECT_THAT(d->message, HasSubstr("N×11×11×32"));
    ASSERT_GE(d->fixes.size(), 2u) << fixList(*d);
    EXPECT_EQ(d->fixes.front().description, "Set padding='same' on 'dec3_up'") << fixList(*d);
    EXPECT_EQ(d->fixes.front().rank, FixRank::Cause);
    // 40×40 is also a size this network cannot carry: the nearest one that it
    // can is the other cause fix; the crop and the padding come after both.
    ASSERT_GE(d->fixes.size(), 3u) << fixList(*d);
    EXPECT_EQ(d->fixes[1].description, "Set the input size to 44×44") << fixList(*d);
    EXPECT_EQ(d->fixes[1].rank, FixRank::Cause);
    EXPECT_EQ(d->fixes[2].rank, FixRank::Mechanical) << fixList(*d);
    applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec3_concat");
    EXPECT_FALSE(checkGraph(g).hasErrors());
}

TEST(CausalFixes, APredictionTrimmedByValidConvolutionsGetsPaddingSameBeforeACrop) {
    Graph g = validConvsIntoLoss();
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kLossShapeMismatch, idOf(g, "loss"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    ASSERT_GE(d->fixes.size(), 2u) << fixList(*d);
    EXPECT_EQ(d->fixes.front().rank, FixRank::Cause) << fixList(*d);
    EXPECT_THAT(d->fixes.front().description, HasSubstr("padding='same'"));
    EXPECT_THAT(d->fixes.front().description, HasSubstr("'conv1', 'conv2'"));
    // Cropping the 32×32 mask to 28×28 loses 23 % of it: mechanical, after.
    EXPECT_THAT(d->fixes.back().description, HasSubstr("Cropping2D([2, 2, 2, 2])"));
    EXPECT_EQ(d->fixes.back().rank, FixRank::Mechanical) << fixList(*d);
    applyFirstFixAt(g, codes::kLossShapeMismatch, "loss");
    EXPECT_FALSE(checkGraph(g).hasErrors()) << codesOf(checkGraph(g));
}

TEST(CausalFixes, OriginalUNetValidConvolutionsGetPaddingSameBeforeACrop) {
    Graph g = originalUNet();
    const CheckResult r = checkGraph(g);
    const NodeId concat = idOf(g, "dec4_concat");
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, concat);
    ASSERT_NE(d, nullptr) << codesOf(r);
    EXPECT_THAT(d->message, HasSubstr("N×64×64×64"));
    EXPECT_THAT(d->message, HasSubstr("N×56×56×64"));
    ASSERT_GE(d->fixes.size(), 2u);
    const FixIt& first = d->fixes.front();
    EXPECT_EQ(first.rank, FixRank::Cause) << fixList(*d);
    EXPECT_EQ(first.description, "Set padding='same' on 'bottleneck_conv1', 'bottleneck_conv2'")
        << fixList(*d);
    bool crop = false;
    for (const FixIt& f : d->fixes) {
        if (f.description.find("Cropping2D([4, 4, 4, 4])") != std::string::npos) {
            crop = true;
            EXPECT_EQ(f.rank, FixRank::Mechanical) << fixList(*d);
        }
    }
    EXPECT_TRUE(crop) << fixList(*d);

    const Graph before = g;
    applyFirstFixAt(g, codes::kConcatShapeMismatch, "dec4_concat");
    const CheckResult after = checkGraph(g);
    EXPECT_EQ(findAt(after, codes::kConcatShapeMismatch, concat), nullptr);
    EXPECT_THAT(newErrors(before, r, after), ::testing::IsEmpty());
    // The next level's mismatch was hidden behind this one; now it shows.
    EXPECT_NE(findAt(after, codes::kConcatShapeMismatch, idOf(g, "dec3_concat")), nullptr);
}

TEST(CausalFixes, VanillaUNetWithItsSkipCropsGetsPaddingSameAndLosesTheCrops) {
    // The paper's U-Net on 256×256: valid convolutions, each skip cropped to the
    // decoder's size (the crops added here through the checker's own crop fix),
    // so the prediction is 68×68 against a 256×256 mask. padding='same' alone
    // would leave the crops stale; the cause fix removes them with it.
    Graph g = unet(4, 256);
    for (auto& [id, node] : g.nodes()) {
        if (node.op == ops::kConv2DOp && std::get<std::int64_t>(node.attrs.at("kernel_size")) == 3)
            g.findNode(id)->attrs["padding"] = std::string("valid");
    }
    for (int round = 0; round < 4; ++round) {
        const CheckResult r = checkGraph(g);
        const auto mismatches = r.find(codes::kConcatShapeMismatch);
        ASSERT_FALSE(mismatches.empty()) << codesOf(r);
        const Diagnostic& d = *mismatches.front();
        int crop = 0;
        for (std::size_t k = 0; k < d.fixes.size() && !crop; ++k) {
            if (d.fixes[k].description.find("Insert Cropping2D") != std::string::npos)
                crop = static_cast<int>(k) + 1;
        }
        ASSERT_GT(crop, 0) << fixList(d);
        ASSERT_TRUE(applyFix(g, fixRequestFor(g, d, crop)).applied);
    }
    const CheckResult r = checkGraph(g);
    EXPECT_FALSE(r.has(codes::kConcatShapeMismatch)) << codesOf(r);
    const Diagnostic* d = findAt(r, codes::kLossShapeMismatch, idOf(g, "loss"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    EXPECT_THAT(d->message, HasSubstr("68×68"));
    ASSERT_FALSE(d->fixes.empty());
    EXPECT_EQ(d->fixes.front().rank, FixRank::Cause) << fixList(*d);
    EXPECT_THAT(d->fixes.front().description, HasSubstr("Set padding='same' on 'enc1_conv1'"));
    EXPECT_THAT(d->fixes.front().description, HasSubstr(", and remove Cropping2D 'crop'"));
    // padding='same' without removing the crops breaks the skips: not offered.
    for (const FixIt& f : d->fixes) {
        if (f.description.find("padding='same'") != std::string::npos) {
            EXPECT_THAT(f.description, HasSubstr("remove")) << fixList(*d);
        }
    }
    applyFirstFixAt(g, codes::kLossShapeMismatch, "loss");
    const CheckResult after = checkGraph(g);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(CausalFixes, StrayZeroPaddingOnAResidualBranchIsRemoved) {
    Graph g = strayPaddingResidual();
    const CheckResult r = checkGraph(g, noLossNeeded());
    const Diagnostic* d = findAt(r, codes::kElementwiseShapeMismatch, idOf(g, "residual"));
    ASSERT_NE(d, nullptr) << codesOf(r);
    ASSERT_FALSE(d->fixes.empty());
    EXPECT_EQ(d->fixes.front().description, "Remove ZeroPadding2D 'pad'") << fixList(*d);
    EXPECT_EQ(d->fixes.front().rank, FixRank::Cause);
    EXPECT_THAT(d->fixes.front().reason, HasSubstr("adds 2 rows and 2 columns"));
    applyFirstFixAt(g, codes::kElementwiseShapeMismatch, "residual", noLossNeeded());
    EXPECT_FALSE(checkGraph(g, noLossNeeded()).hasErrors());
}

TEST(CausalFixes, ACropThatCutsTooMuchIsCorrected) {
    // Cropping2D((3, 3), (3, 3)) where (2, 2), (2, 2) was needed: correct it, don't remove it.
    GraphBuilder b;
    const NodeId in = b.input(32, 32, 4);
    const NodeId c = b.then(ops::kConv2DOp, "conv", out(in),
                            {{"filters", std::int64_t{4}},
                             {"kernel_size", std::int64_t{5}},
                             {"padding", std::string("valid")}});
    const NodeId crop = b.then(ops::kCropping2DOp, "skip_crop", out(in),
                               {{"cropping", std::vector<std::int64_t>{3, 3, 3, 3}}});
    const NodeId cat = b.add(ops::kConcatenateOp, "cat");
    b.wire(out(c), {cat, "a"});
    b.wire(out(crop), {cat, "b"});
    const CheckResult r = checkGraph(b.graph, noLossNeeded());
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, cat);
    ASSERT_NE(d, nullptr) << codesOf(r);
    std::vector<std::string> descriptions;
    for (const FixIt& f : d->fixes)
        descriptions.push_back(f.description);
    EXPECT_THAT(descriptions, ::testing::Contains("Set cropping of Cropping2D 'skip_crop' to "
                                                  "[2, 2, 2, 2]"))
        << fixList(*d);
    EXPECT_EQ(d->fixes.front().rank, FixRank::Cause) << fixList(*d);
}

TEST(FixVerification, AFixThatLeavesTheFindingOrAddsAnErrorIsDropped) {
    Graph g = strayCrop();
    const CheckResult r = checkGraph(g);
    const Diagnostic* d = findAt(r, codes::kConcatShapeMismatch, idOf(g, "dec2_concat"));
    ASSERT_NE(d, nullptr);
    const CheckOptions recheck = recheckOptions({});
    // Right: removing the crop.
    EXPECT_TRUE(verifyFix(g, r, *d, d->fixes.front(), recheck).ok);
    // Leaves the finding: a harmless attribute elsewhere.
    FixIt idle{"Rename", {RenameNodeEdit{idOf(g, "crop3"), "crop_renamed"}}};
    FixVerdict v = verifyFix(g, r, *d, idle, recheck);
    EXPECT_FALSE(v.ok);
    EXPECT_EQ(v.why, "leaves the finding");
    // Removes the finding by breaking the level below: an error where there was none.
    FixIt breaking{"Trim the bottleneck",
                   {SetAttributeEdit{idOf(g, "bottleneck_conv1"), "padding",
                                     AttrValue{std::string("valid")}}}};
    v = verifyFix(g, r, *d, breaking, recheck);
    EXPECT_FALSE(v.ok);
    EXPECT_THAT(v.why, HasSubstr("new error"));
    // Does not apply.
    FixIt broken{"Remove a ghost", {RemoveNodeEdit{9999}}};
    v = verifyFix(g, r, *d, broken, recheck);
    EXPECT_FALSE(v.ok);
    EXPECT_THAT(v.why, HasSubstr("does not apply"));
}

TEST(FixVerification, FixesAreOrderedByRankAndUnverifiedWhenSwitchedOff) {
    Graph g = wrongLevelValidUpConv();
    CheckOptions off;
    off.verifyFixes = false;
    const CheckResult unverified = checkGraph(g, off);
    const Diagnostic* raw = findAt(unverified, codes::kConcatShapeMismatch, idOf(g, "dec3_concat"));
    ASSERT_NE(raw, nullptr);
    // Without verification: only the op's own (mechanical, costly) fixes, by rank.
    for (const FixIt& f : raw->fixes)
        EXPECT_THAT(f.description, Not(HasSubstr("Wire input")));
    const CheckResult checked = checkGraph(g);
    for (const Diagnostic& d : checked.diagnostics) {
        for (std::size_t k = 1; k < d.fixes.size(); ++k)
            EXPECT_LE(static_cast<int>(d.fixes[k - 1].rank), static_cast<int>(d.fixes[k].rank))
                << d.code << fixList(d);
    }
}

namespace {

struct CorpusGraph {
    std::string name;
    Graph graph;
    CheckOptions options;
};

std::string readFile(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::vector<CorpusGraph> corpus() {
    std::vector<CorpusGraph> out;
    auto addProject = [&out](const std::string& name, const ProjectLoad& load) {
        if (load.ok())
            out.push_back({name, load.project->graph, {}});
    };
    for (const fs::path& root : {fs::path(SEGFORGE_TEST_DATA), fs::path(SEGFORGE_RESOURCES)}) {
        if (!fs::exists(root))
            continue;
        for (const auto& entry : fs::recursive_directory_iterator(root)) {
            const fs::path& p = entry.path();
            if (!entry.is_regular_file() || entry.file_size() > (1 << 20))
                continue;
            if (p.extension() == ".segforge") {
                addProject(p.string(), loadProject(p));
            } else if (p.extension() == ".json" && p.parent_path().filename() == "failure_corpus") {
                auto doc = nlohmann::json::parse(readFile(p), nullptr, false);
                if (doc.is_object() && doc.contains("project"))
                    addProject(p.string(), parseProject(doc["project"].dump(), p.string()));
            }
        }
    }
    out.push_back({"strayCrop", strayCrop(), {}});
    out.push_back({"keras1Strides", keras1Strides(), noLossNeeded()});
    out.push_back({"wrongLevel", wrongLevel(), {}});
    out.push_back({"wrongLevelValidUpConv", wrongLevelValidUpConv(), {}});
    out.push_back({"originalUNet", originalUNet(), {}});
    out.push_back({"strayPaddingResidual", strayPaddingResidual(), noLossNeeded()});
    out.push_back({"validConvsIntoLoss", validConvsIntoLoss(), {}});
    out.push_back({"validTransposedConv", validTransposedConv(), {}});
    out.push_back({"missingUpsampling", missingUpsampling(), {}});
    return out;
}

} // namespace

TEST(FixVerification, NoOfferedFixInTheCorpusIntroducesANewError) {
    const std::vector<CorpusGraph> graphs = corpus();
    EXPECT_GE(graphs.size(), 12u);
    int fixes = 0;
    for (const CorpusGraph& c : graphs) {
        const CheckResult before = checkGraph(c.graph, c.options);
        for (const Diagnostic& d : before.diagnostics) {
            for (std::size_t k = 0; k < d.fixes.size(); ++k) {
                Graph copy = c.graph;
                const EditOutcome applied = applyEdits(copy, d.fixes[k].edits);
                ASSERT_TRUE(applied.ok) << c.name << " " << d.code << " #" << k + 1;
                ++fixes;
                const CheckResult after = checkGraph(copy, c.options);
                EXPECT_THAT(newErrors(c.graph, before, after), ::testing::IsEmpty())
                    << c.name << ": " << d.code << " fix #" << k + 1 << " \""
                    << d.fixes[k].description << "\"";
                // The finding it was offered for is gone (or fewer of its kind).
                if (copy.hasNode(d.node)) {
                    auto count = [&d](const CheckResult& r) {
                        return std::count_if(
                            r.diagnostics.begin(), r.diagnostics.end(), [&d](const Diagnostic& e) {
                                return e.code == d.code && e.node == d.node && e.port == d.port;
                            });
                    };
                    EXPECT_LT(count(after), count(before))
                        << c.name << ": " << d.code << " fix #" << k + 1 << " \""
                        << d.fixes[k].description << "\"";
                }
            }
        }
    }
    EXPECT_GE(fixes, 20);
    RecordProperty("fixes_applied", fixes);
}
