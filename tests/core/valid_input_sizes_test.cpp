// The input sizes that work, derived analytically from the checker's symbolic
// sizes (check/valid_input_sizes, check/size_set), checked against brute force.

#include "check/valid_input_sizes.hpp"
#include "graph_builder.hpp"
#include "ops/op_helpers.hpp"
#include "templates/unet_template.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <random>
#include <unordered_map>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

const SizeExpr kH = SizeExpr::variable("H");

SizeConstraint atLeastOne(const SizeExpr& e) {
    return {SizeConstraint::Kind::AtLeastOne, 0, kNoNode, e, {}};
}

SizeConstraint equal(const SizeExpr& a, const SizeExpr& b) {
    return {SizeConstraint::Kind::Equal, 0, kNoNode, a, b};
}

SizeSet derive(std::vector<SizeConstraint> constraints) {
    return deriveSizeSet(constraints, 0);
}

Graph unetGraph(int depth, bool batchnorm, UNetOptions::Up up = UNetOptions::Up::Transpose) {
    UNetOptions o;
    o.depth = depth;
    o.filters = 2;
    o.size = 64;
    o.batchnorm = batchnorm;
    o.up = up;
    return std::get<Project>(makeUNetProject(o)).graph;
}

/// Whether the concrete checker accepts `height`×`width` on every source.
bool concreteWorks(Graph& probe, const std::vector<NodeId>& sources, std::int64_t height,
                   std::int64_t width) {
    for (NodeId id : sources) {
        probe.findNode(id)->attrs["height"] = height;
        probe.findNode(id)->attrs["width"] = width;
    }
    CheckOptions quick = CheckOptions::withoutInputSizeSweep();
    CheckResult r = checkGraph(probe, quick);
    return std::none_of(r.diagnostics.begin(), r.diagnostics.end(),
                        [](const Diagnostic& d) { return isSizeDependentCode(d.code); });
}

/// A brute-force oracle for many sizes, independent of the symbolic path: every
/// node's own infer in dependency order at one input size (what the checker
/// does, without its rules and fixes, which cost most of a check that fails). A
/// size works when no infer reports a size-dependent code and nothing collapses.
class ConcreteOracle {
public:
    explicit ConcreteOracle(const Graph& graph)
        : m_graph(graph) {
        const CheckResult r = checkGraph(graph, CheckOptions::withoutInputSizeSweep());
        std::unordered_map<NodeId, std::size_t> index;
        for (NodeId id : r.order) {
            const Node& node = *graph.findNode(id);
            Step s{&node, OpRegistry::builtin().find(node.op), {}, {}, {}, {}, false};
            for (const AttrSpec& spec : s.schema->attrs) {
                if (auto v = ops::resolvedAttr(node, spec.name))
                    s.attrs.emplace(spec.name, *v);
            }
            s.inputNames = s.schema->inputNames(node);
            s.inputEdges.resize(s.inputNames.size());
            s.producers.resize(s.inputNames.size());
            for (const Edge& e : graph.edges()) {
                if (e.to.node != id)
                    continue;
                for (std::size_t i = 0; i < s.inputNames.size(); ++i) {
                    if (s.inputNames[i] != e.to.port)
                        continue;
                    s.inputEdges[i] = e;
                    const Step& from = m_steps[index.at(e.from.node)];
                    for (std::size_t k = 0; k < from.schema->outputs.size(); ++k) {
                        if (from.schema->outputs[k].name == e.from.port)
                            s.producers[i] = {index.at(e.from.node), k};
                    }
                }
            }
            s.source = s.schema->role == OpRole::Source && s.schema->findAttr("height");
            index[id] = m_steps.size();
            m_steps.push_back(std::move(s));
        }
    }

    bool works(std::int64_t height, std::int64_t width) {
        std::vector<std::vector<std::optional<TensorType>>> outputs(m_steps.size());
        std::vector<Diagnostic> diagnostics;
        for (std::size_t n = 0; n < m_steps.size(); ++n) {
            Step& s = m_steps[n];
            if (s.source) {
                s.attrs["height"] = height;
                s.attrs["width"] = width;
            }
            std::vector<std::optional<TensorType>> inputs(s.inputNames.size());
            bool known = true;
            for (std::size_t i = 0; i < inputs.size(); ++i) {
                if (s.producers[i])
                    inputs[i] = outputs[s.producers[i]->first][s.producers[i]->second];
                known = known && inputs[i].has_value();
            }
            if (!known || !s.schema->infer)
                continue;
            InferContext ctx(m_graph, *s.node, *s.schema, s.attrs, s.inputNames, inputs,
                             s.inputEdges, diagnostics);
            outputs[n] = s.schema->infer(ctx);
            for (const auto& t : outputs[n]) {
                const auto& dims = t ? t->shape.dims() : std::vector<std::int64_t>{};
                if (std::any_of(dims.begin() + (dims.empty() ? 0 : 1), dims.end(),
                                [](std::int64_t d) { return d <= 0; }))
                    return false;
            }
            for (const Diagnostic& d : diagnostics) {
                if (isSizeDependentCode(d.code))
                    return false;
            }
        }
        return true;
    }

private:
    struct Step {
        const Node* node;
        const OpSchema* schema;
        AttrMap attrs;
        std::vector<std::string> inputNames;
        std::vector<std::optional<Edge>> inputEdges;
        std::vector<std::optional<std::pair<std::size_t, std::size_t>>> producers;
        bool source;
    };
    const Graph& m_graph;
    std::vector<Step> m_steps;
};

} // namespace

TEST(SizeSet, DescribesMultiplesFromTheirFirst) {
    SizeSet s = derive({equal(kH.floorDiv(16).times(16), kH), atLeastOne(kH)});
    EXPECT_EQ(s.describe("H"), "H = 16k, k ≥ 1");
    EXPECT_EQ(s.periodAndOffset(), (std::pair<std::int64_t, std::int64_t>{16, 0}));
    EXPECT_EQ(s.first(3), (std::vector<std::int64_t>{16, 32, 48}));
    EXPECT_TRUE(s.contains(4096));
    EXPECT_FALSE(s.contains(4095));
    EXPECT_EQ(s.atMost(1000), 992);
    EXPECT_EQ(s.atLeast(1000), 1008);
    EXPECT_EQ(s.nearest(1000), 1008); // a tie keeps the larger size
    EXPECT_EQ(s.nearest(999), 992);
    EXPECT_EQ(s.atMost(15), std::nullopt);
    EXPECT_EQ(s.atLeast(5), 16);
    // From a larger first size.
    SizeSet from64 = derive({equal(kH.floorDiv(32).times(32), kH), atLeastOne(kH.plus(-63))});
    EXPECT_EQ(from64.describe("W"), "W = 32k, k ≥ 2");
}

TEST(SizeSet, DescribesOffsetsRangesListsAndNothing) {
    SizeSet offset =
        derive({equal(kH.floorDiv(16).times(16).plus(12), kH), atLeastOne(kH.plus(-27))});
    EXPECT_EQ(offset.describe("H"), "H = 16k + 12, k ≥ 1 (28, 44, 60, …)");
    EXPECT_EQ(offset.periodAndOffset(), (std::pair<std::int64_t, std::int64_t>{16, 12}));
    EXPECT_EQ(derive({atLeastOne(kH.plus(-4))}).describe("H"), "any H ≥ 5");
    EXPECT_EQ(derive({atLeastOne(kH)}).describe("H"), "any H");
    SizeSet none = derive({equal(kH, kH.plus(1))});
    EXPECT_TRUE(none.empty());
    EXPECT_EQ(none.describe("H"), "none");
    // Even sizes up to 8: 9 − H ≥ 1.
    SizeSet finite = derive({equal(kH.floorDiv(2).times(2), kH), atLeastOne(kH.times(-1).plus(9))});
    EXPECT_EQ(finite.describe("H"), "only 2, 4, 6, 8");
    EXPECT_EQ(finite.atLeast(9), std::nullopt);
    // ⌊H/2⌋ even: H ≡ 0 or 1 (mod 4), from 8.
    SizeSet two = derive({equal(kH.floorDiv(4).times(2), kH.floorDiv(2)), atLeastOne(kH.plus(-7))});
    EXPECT_EQ(two.describe("H"), "H ≡ 0 or 1 mod 4 and H ≥ 8");
    EXPECT_EQ(two.commonClass(), std::nullopt);
    // A single size.
    EXPECT_EQ(derive({equal(kH, SizeExpr::constant(37))}).describe("H"), "only 37");
}

TEST(SizeSet, CommonClassIsWhereEveryWorkingSizeLies) {
    SizeSet even = derive({equal(kH.floorDiv(2).times(2), kH), atLeastOne(kH.plus(-9))});
    EXPECT_EQ(even.describe("H"), "H = 2k, k ≥ 5");
    EXPECT_EQ(even.commonClass(), (std::optional<std::pair<std::int64_t, std::int64_t>>{{2, 0}}));
    SizeSet offset =
        derive({equal(kH.floorDiv(16).times(16).plus(12), kH), atLeastOne(kH.plus(-27))});
    EXPECT_EQ(offset.commonClass(),
              (std::optional<std::pair<std::int64_t, std::int64_t>>{{16, 12}}));
    EXPECT_EQ(derive({atLeastOne(kH)}).commonClass(), std::nullopt);
}

TEST(SizeSet, RandomConstraintSetsMatchBruteForce) {
    std::mt19937 rng(15);
    auto randomExpr = [&rng] {
        SizeExpr e = kH;
        for (int i = static_cast<int>(rng() % 5); i > 0; --i) {
            const int step = static_cast<int>(rng() % 4);
            const auto v = static_cast<std::int64_t>(rng() % 3) + 2;
            e = step == 0   ? e.plus(static_cast<std::int64_t>(rng() % 9) - 6)
                : step == 1 ? e.times(v - 1)
                : step == 2 ? e.floorDiv(v)
                            : e.ceilDiv(v);
        }
        return e;
    };
    for (int trial = 0; trial < 2000; ++trial) {
        std::vector<SizeConstraint> constraints;
        for (int i = static_cast<int>(rng() % 4); i >= 0; --i)
            constraints.push_back(rng() % 2 ? atLeastOne(randomExpr())
                                            : equal(randomExpr(), randomExpr()));
        const SizeSet s = derive(constraints);
        ASSERT_FALSE(s.tooComplex);
        for (std::int64_t size = 1; size <= 600; ++size) {
            bool works = true;
            for (const SizeConstraint& c : constraints) {
                const std::int64_t a = *c.a.evaluate(size);
                works = works &&
                        (c.kind == SizeConstraint::Kind::AtLeastOne ? a >= 1
                                                                    : a == *c.b.evaluate(size));
            }
            ASSERT_EQ(s.contains(size), works) << s.describe("H") << " at " << size;
        }
        EXPECT_FALSE(s.describe("H").empty());
    }
}

TEST(SizeSet, AbsurdModulusGivesUpWithAMessage) {
    SizeSet s = deriveSizeSet(
        {equal(kH.floorDiv(7).times(7), kH), equal(kH.floorDiv(11).times(11), kH), atLeastOne(kH)},
        0, 50);
    EXPECT_TRUE(s.tooComplex);
    EXPECT_TRUE(s.empty());
    EXPECT_THAT(s.describe("H"), HasSubstr("not derived"));
    EXPECT_THAT(s.describe("H"), HasSubstr("77"));
    // Under the default limit it is derived.
    SizeSet ok = deriveSizeSet(
        {equal(kH.floorDiv(7).times(7), kH), equal(kH.floorDiv(11).times(11), kH), atLeastOne(kH)},
        0);
    EXPECT_EQ(ok.describe("H"), "H = 77k, k ≥ 1");
}

TEST(ValidInputSizes, UNetDepthThreeNeedsMultiplesOfEight) {
    Graph g = unetGraph(3, false);
    InputSizeReport r = validInputSizes(g);
    ASSERT_TRUE(r.applicable);
    EXPECT_TRUE(r.height.currentWorks);
    EXPECT_EQ(r.height.period, 8);
    EXPECT_EQ(r.height.offset, 0);
    EXPECT_EQ(r.height.rule, "H = 8k, k ≥ 1");
    EXPECT_EQ(r.width.rule, "W = 8k, k ≥ 1");
    EXPECT_EQ(r.height.sizes.first(2), (std::vector<std::int64_t>{8, 16}));
    EXPECT_EQ(r.height.nearest, 64);
}

TEST(ValidInputSizes, ValidPaddingUNetFollowsTheOriginalPaperRule) {
    // The 2015 U-Net uses 'valid' convolutions and crops the skips, which
    // restricts the input sizes that work; a one-level version of it here.
    Graph g;
    auto conv = [&](const std::string& name, PortRef from) {
        NodeId id = g.addNode("Conv2D", name, {{"filters", std::int64_t{2}}});
        g.connect(from, {id, "input"});
        return PortRef{id, "output"};
    };
    NodeId in =
        g.addNode("Input", "in", {{"height", std::int64_t{64}}, {"width", std::int64_t{64}}});
    PortRef x = conv("c1", {in, "output"});
    NodeId pool = g.addNode("MaxPool2D", "pool");
    g.connect(x, {pool, "input"});
    PortRef y = conv("c2", {pool, "output"});
    NodeId up = g.addNode("UpSampling2D", "up");
    g.connect(y, {up, "input"});
    NodeId crop = g.addNode("Cropping2D", "crop", {{"cropping", std::int64_t{2}}});
    g.connect(x, {crop, "input"});
    NodeId cat = g.addNode("Concatenate", "cat");
    g.connect({crop, "output"}, {cat, "a"});
    g.connect({up, "output"}, {cat, "b"});
    // in → c1 (−2) → pool (/2) → c2 (−2) → up (×2) must equal c1 − 4: (h−2)/2 even.
    InputSizeReport r = validInputSizes(g);
    // Even heights survive the pooling; c2 needs at least 3 rows: from 8.
    EXPECT_EQ(r.height.rule, "H = 2k, k ≥ 4");
    EXPECT_EQ(r.height.sizes.first(1), std::vector<std::int64_t>{8});
    EXPECT_TRUE(r.height.currentWorks);
    // Odd sizes fail, as the concrete check says.
    Graph probe = g;
    for (std::int64_t h = 1; h <= 300; ++h)
        EXPECT_EQ(r.height.sizes.contains(h), concreteWorks(probe, {in}, h, 64)) << h;
}

// The derived set of every template depth, with and without BatchNorm and with
// each way up, is what the concrete checker accepts at every size 1…4096 (per
// axis, the other kept at a working size).
class TemplateSizes : public ::testing::TestWithParam<std::tuple<int, bool, UNetOptions::Up>> {};

TEST_P(TemplateSizes, DerivedSetIsTheBruteForceSet) {
    const auto [depth, batchnorm, up] = GetParam();
    Graph g = unetGraph(depth, batchnorm, up);
    const InputSizeReport r = validInputSizes(g);
    ASSERT_TRUE(r.applicable);
    const std::int64_t step = std::int64_t{1} << depth;
    EXPECT_EQ(r.height.rule, "H = " + std::to_string(step) + "k, k ≥ 1");
    ConcreteOracle oracle(g);
    for (int axis = 0; axis < 2; ++axis) {
        const SizeSet& derived = axis == 0 ? r.height.sizes : r.width.sizes;
        for (std::int64_t s = 1; s <= 4096; ++s) {
            const bool works = axis == 0 ? oracle.works(s, 64) : oracle.works(64, s);
            ASSERT_EQ(derived.contains(s), works) << "axis " << axis << ", size " << s;
        }
    }
    // The oracle agrees with the checker itself where they overlap.
    Graph probe = g;
    for (std::int64_t s : {1, 7, 8, 24, 31, 32, 33, 64, 100, 96, 128, 250})
        EXPECT_EQ(oracle.works(s, 64), concreteWorks(probe, r.sources, s, 64)) << s;
}

INSTANTIATE_TEST_SUITE_P(Depths, TemplateSizes,
                         ::testing::Values(std::tuple{1, false, UNetOptions::Up::Transpose},
                                           std::tuple{2, false, UNetOptions::Up::Transpose},
                                           std::tuple{3, false, UNetOptions::Up::Transpose},
                                           std::tuple{4, false, UNetOptions::Up::Transpose},
                                           std::tuple{5, false, UNetOptions::Up::Transpose},
                                           std::tuple{1, true, UNetOptions::Up::Transpose},
                                           std::tuple{2, true, UNetOptions::Up::Transpose},
                                           std::tuple{3, true, UNetOptions::Up::Transpose},
                                           std::tuple{4, true, UNetOptions::Up::Transpose},
                                           std::tuple{5, true, UNetOptions::Up::Transpose},
                                           std::tuple{5, false, UNetOptions::Up::Upsample},
                                           std::tuple{5, true, UNetOptions::Up::UpsampleConv}));

TEST(ValidInputSizes, ThousandBySevenHundredOffersBothNeighboursPerAxis) {
    // Four poolings: 1000 and 700 are not multiples of 16. The nearest below and
    // above on each axis, with no cap at 512.
    UNetOptions o;
    o.depth = 4;
    o.filters = 2;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    NodeId data = g.findNodeByName("data")->id;
    g.findNode(data)->attrs["height"] = std::int64_t{1000};
    g.findNode(data)->attrs["width"] = std::int64_t{700};

    const InputSizeReport r = validInputSizes(g);
    EXPECT_FALSE(r.height.currentWorks);
    EXPECT_EQ(r.height.below, 992);
    EXPECT_EQ(r.height.above, 1008);
    EXPECT_EQ(r.width.below, 688);
    EXPECT_EQ(r.width.above, 704);

    CheckResult result = checkGraph(g);
    const Diagnostic& d = expectDiagnostic(result, codes::kInputSizeIndivisible);
    EXPECT_EQ(d.node, data);
    EXPECT_THAT(d.message, HasSubstr("1000×700"));
    EXPECT_THAT(d.message, HasSubstr("H = 16k, k ≥ 1"));
    EXPECT_THAT(d.message, HasSubstr("W = 16k, k ≥ 1"));
    EXPECT_THAT(d.message, HasSubstr("nearest: 992 or 1008 × 688 or 704"));
    std::vector<std::string> offered;
    for (const FixIt& f : d.fixes) {
        offered.push_back(f.description);
        EXPECT_EQ(f.rank, FixRank::Cause);
        EXPECT_FALSE(f.reason.empty());
    }
    EXPECT_THAT(offered, ::testing::Contains("Set the input size to 1008×704")); // nearest
    EXPECT_THAT(offered, ::testing::Contains("Set the input size to 992×688"));  // below
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_EQ(d.fixes.front().description, "Set the input size to 1008×704");

    CheckResult after = applyFirstFix(g, codes::kInputSizeIndivisible);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    EXPECT_EQ(after.typeOf({data, "image"})->toString(), "N×1008×704×3 u8");
}

TEST(ValidInputSizes, OnlyTheFailingAxisChanges) {
    UNetOptions o;
    o.depth = 2;
    o.filters = 2;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    NodeId data = g.findNodeByName("data")->id;
    g.findNode(data)->attrs["height"] = std::int64_t{130};
    g.findNode(data)->attrs["width"] = std::int64_t{64};
    CheckResult result = checkGraph(g);
    const Diagnostic& d = expectDiagnostic(result, codes::kInputSizeIndivisible);
    EXPECT_THAT(d.message, HasSubstr("nearest: 128 or 132 × 64"));
    std::vector<std::string> offered;
    for (const FixIt& f : d.fixes)
        offered.push_back(f.description);
    // The nearest first (a tie keeps the larger size), then the other neighbour.
    EXPECT_EQ(offered, (std::vector<std::string>{"Set the input size to 132×64",
                                                 "Set the input size to 128×64"}));
}

TEST(ValidInputSizes, NoSizeWorksNoSizeAdvice) {
    // A stray crop on one branch: no input size makes the concat agree.
    GraphBuilder b;
    NodeId in = b.input(64, 64, 3);
    NodeId conv = b.then("Conv2D", "conv", out(in), {{"padding", std::string("same")}});
    NodeId crop = b.then("Cropping2D", "crop", out(conv),
                         {{"cropping", std::vector<std::int64_t>{1, 0, 0, 0}}});
    NodeId cat = b.add("Concatenate", "cat");
    b.wire(out(crop), {cat, "a"});
    b.wire(out(conv), {cat, "b"});
    CheckResult r = checkGraph(b.graph);
    EXPECT_TRUE(r.has(codes::kConcatShapeMismatch));
    EXPECT_FALSE(r.has(codes::kInputSizeIndivisible)) << codesOf(r);
    const InputSizeReport sizes = validInputSizes(b.graph, r);
    EXPECT_TRUE(sizes.height.sizes.empty());
    EXPECT_EQ(sizes.height.rule, "none");
    EXPECT_EQ(sizes.width.rule, "any W");
}

TEST(ValidInputSizes, TooSmallAnInputIsAdvisedTheSmallestThatWorks) {
    // Three valid 3×3 convolutions need at least 7 pixels.
    GraphBuilder b;
    NodeId in = b.input(5, 40, 1);
    NodeId c1 = b.then("Conv2D", "c1", out(in));
    NodeId c2 = b.then("Conv2D", "c2", out(c1));
    b.then("Conv2D", "c3", out(c2));
    CheckResult r = checkGraph(b.graph);
    ASSERT_TRUE(r.has(codes::kSpatialCollapse)) << codesOf(r);
    const Diagnostic& d = expectDiagnostic(r, codes::kInputSizeIndivisible);
    EXPECT_THAT(d.message, HasSubstr("any H ≥ 7"));
    EXPECT_THAT(d.message, HasSubstr("nearest: 7 × 40"));
}

TEST(SymbolicShapes, FreeSizeLabelsShowTheInputsFraction) {
    UNetOptions o;
    o.depth = 4;
    o.filters = 16;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    NodeId data = g.findNodeByName("data")->id;
    NodeId bottleneck = g.findNodeByName("bottleneck_conv2")->id;
    NodeId dec1 = g.findNodeByName("dec1_concat")->id;

    CheckResult fixed = checkGraph(g);
    EXPECT_FALSE(fixed.freeSize);
    EXPECT_EQ(fixed.label({bottleneck, "output"}), "N×8×8×256 f32");
    EXPECT_EQ(fixed.label({bottleneck, "output"}),
              fixed.typeOf({bottleneck, "output"})->toString());
    auto sp = fixed.spatialOf({bottleneck, "output"});
    ASSERT_TRUE(sp.has_value());
    EXPECT_EQ((*sp)[0].toString(), "⌊H/16⌋");
    EXPECT_EQ((*sp)[1].toString(), "⌊W/16⌋");

    g.findNode(data)->attrs["variable_size"] = true;
    CheckResult free = checkGraph(g);
    EXPECT_TRUE(free.freeSize);
    EXPECT_FALSE(free.hasErrors()) << codesOf(free);
    EXPECT_EQ(free.label({bottleneck, "output"}), "N×H/16×W/16×256 f32");
    EXPECT_EQ(free.label({data, "image"}), "N×H×W×3 u8");
    EXPECT_EQ(free.label({dec1, "output"}), "N×H×W×32 f32");
    EXPECT_EQ(free.freeSizes[0].describe("H"), "H = 16k, k ≥ 1");
}

TEST(SymbolicShapes, SumsAreParenthesisedInLabels) {
    GraphBuilder b;
    NodeId in = b.input(32, 30, 3);
    b.graph.findNode(in)->attrs["variable_size"] = true;
    NodeId conv = b.then("Conv2D", "conv", out(in), {{"filters", std::int64_t{8}}});
    NodeId pool = b.then("MaxPool2D", "pool", out(conv));
    NodeId same = b.then("Conv2D", "same", out(pool),
                         {{"filters", std::int64_t{8}},
                          {"strides", std::int64_t{2}},
                          {"padding", std::string("same")}});
    CheckResult r = checkGraph(b.graph);
    ASSERT_TRUE(r.freeSize);
    EXPECT_EQ(r.label(out(in)), "N×H×W×3 f32");
    EXPECT_EQ(r.label(out(conv)), "N×(H−2)×(W−2)×8 f32");
    // No working size lies in one class here (any H ≥ 4 works): exact floors.
    EXPECT_EQ(r.freeSizes[0].describe("H"), "any H ≥ 4");
    EXPECT_EQ(r.label(out(pool)), "N×(⌊H/2⌋−1)×(⌊W/2⌋−1)×8 f32");
    // ⌈(⌊H/2⌋ − 1)/2⌉ folds to ⌊H/4⌋.
    EXPECT_EQ(r.label(out(same)), "N×⌊H/4⌋×⌊W/4⌋×8 f32");
}

TEST(SymbolicShapes, SymbolicWalkGoesOnPastAConcreteError) {
    // 100×100 fails at the example size, yet every wire keeps its expression.
    UNetOptions o;
    o.depth = 3;
    o.filters = 2;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    NodeId data = g.findNodeByName("data")->id;
    g.findNode(data)->attrs["height"] = std::int64_t{100};
    g.findNode(data)->attrs["width"] = std::int64_t{100};
    g.findNode(data)->attrs["variable_size"] = true;
    CheckResult r = checkGraph(g);
    ASSERT_TRUE(r.has(codes::kConcatShapeMismatch));
    NodeId output = g.findNodeByName("output")->id;
    EXPECT_FALSE(r.typeOf({output, "output"}).has_value());
    auto sp = r.spatialOf({output, "output"});
    ASSERT_TRUE(sp.has_value());
    EXPECT_EQ((*sp)[0].toString(), "H"); // the skip's size, as Concatenate's input 'a' has it
    EXPECT_EQ(r.label({output, "output"}), "?");
    EXPECT_EQ(r.freeSizes[0].describe("H"), "H = 8k, k ≥ 1");
}

TEST(SymbolicShapes, ConcatenateAlongHeightAddsNoHeightConstraint) {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 3);
    NodeId pool = b.then("MaxPool2D", "pool", out(in));
    NodeId cat = b.add("Concatenate", "cat", {{"axis", std::int64_t{1}}});
    b.wire(out(pool), {cat, "a"});
    b.wire(out(pool), {cat, "b"});
    CheckResult r = checkGraph(b.graph);
    auto sp = r.spatialOf({cat, "output"});
    ASSERT_TRUE(sp.has_value());
    EXPECT_FALSE((*sp)[0].isKnown());
    EXPECT_EQ((*sp)[1].toString(), "⌊W/2⌋");
    for (const SizeConstraint& c : r.sizeConstraints) {
        if (c.node == cat && c.kind == SizeConstraint::Kind::Equal) {
            EXPECT_EQ(c.axis, 1);
        }
    }
}
