// Applying the checker's fixes by name (segforge-cli fix --apply CODE@NODE#K)
// and the top fix of each finding until clean or stuck (--first).

#include "check/fix_application.hpp"
#include "graph_builder.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

AttrMap conv(std::int64_t filters, std::int64_t kernel, const std::string& activation = "relu") {
    return {{"filters", filters},
            {"kernel_size", kernel},
            {"padding", std::string("same")},
            {"activation", activation}};
}

/// A uint8 image into a convolution, and nothing else wrong (no loss is asked for).
Graph uint8IntoConv() {
    GraphBuilder b;
    NodeId in = b.input(32, 32, 3, "uint8");
    b.then("Conv2D", "conv1", out(in), conv(8, 3));
    return b.graph;
}

CheckOptions withoutLoss() {
    CheckOptions options;
    options.requireLoss = false;
    return options;
}

} // namespace

TEST(FixRequest, ParsesAndPrintsRoundTrip) {
    std::optional<FixRequest> r = parseFixRequest("concat-shape-mismatch@dec3_concat#2");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, "concat-shape-mismatch");
    EXPECT_EQ(r->node, "dec3_concat");
    EXPECT_EQ(r->index, 2);
    EXPECT_EQ(toString(*r), "concat-shape-mismatch@dec3_concat#2");
    EXPECT_EQ(parseFixRequest(toString(*r)), r);

    // Without #K: fix 1. A graph-level finding has no node.
    r = parseFixRequest("dtype-mismatch@conv1");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->index, 1);
    r = parseFixRequest("no-loss@");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->code, "no-loss");
    EXPECT_EQ(r->node, "");
    EXPECT_EQ(toString(*r), "no-loss@#1");
    EXPECT_EQ(parseFixRequest("no-loss@#1"), r);

    // The index is read after the last '#', so toString keeps any node name.
    const FixRequest odd{"bad-attribute", "block#3@x", 12};
    EXPECT_EQ(parseFixRequest(toString(odd)), odd);
}

TEST(FixRequest, MalformedRequestsSayWhy) {
    const std::vector<std::pair<std::string, std::string>> cases = {
        {"", "no '@'"},
        {"dtype-mismatch", "no '@'"},
        {"@conv1", "no diagnostic code"},
        {"dtype mismatch@conv1", "holds ' '"},
        {"dtype-mismatch@conv1#", "no fix number"},
        {"dtype-mismatch@conv1#0", "numbered from 1"},
        {"dtype-mismatch@conv1#-1", "not a whole number"},
        {"dtype-mismatch@conv1#two", "not a whole number"},
        {"dtype-mismatch@conv1#99999999999", "too large"},
    };
    for (const auto& [text, why] : cases) {
        std::string error;
        EXPECT_FALSE(parseFixRequest(text, &error)) << text;
        EXPECT_THAT(error, HasSubstr("bad fix '" + text + "'"));
        EXPECT_THAT(error, HasSubstr(why)) << text;
    }
    EXPECT_FALSE(parseFixRequest("x")); // no error string asked for
}

TEST(ApplyFix, DTypeMismatchIsFixedAndTheGraphRechecksClean) {
    Graph graph = uint8IntoConv();
    const CheckOptions options = withoutLoss();
    ASSERT_TRUE(checkGraph(graph, options).has(codes::kDTypeMismatch));

    FixOutcome outcome = applyFix(graph, {"dtype-mismatch", "conv1", 1}, options);
    ASSERT_TRUE(outcome.applied) << outcome.error;
    EXPECT_THAT(outcome.description, HasSubstr("Rescale"));
    EXPECT_TRUE(outcome.error.empty());
    EXPECT_EQ(graph.nodeCount(), 3u);
    CheckResult after = checkGraph(graph, options);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(ApplyFix, TheIndexPicksTheFix) {
    Graph graph = uint8IntoConv();
    const CheckOptions options = withoutLoss();
    const CheckResult before = checkGraph(graph, options);
    const Diagnostic& d = expectDiagnostic(before, codes::kDTypeMismatch);
    ASSERT_GE(d.fixes.size(), 2u);
    FixOutcome outcome = applyFix(graph, {"dtype-mismatch", "conv1", 2}, options);
    ASSERT_TRUE(outcome.applied) << outcome.error;
    EXPECT_EQ(outcome.description, d.fixes[1].description);
    EXPECT_EQ(outcome.rank, d.fixes[1].rank);
    EXPECT_FALSE(checkGraph(graph, options).has(codes::kDTypeMismatch));
}

TEST(ApplyFix, AGraphLevelFindingIsNamedWithoutANode) {
    GraphBuilder b;
    NodeId data =
        b.add("Dataset", "data", {{"height", std::int64_t{32}}, {"width", std::int64_t{32}}});
    NodeId s = b.then("Rescale", "scale", out(data, "image"));
    b.then("Conv2D", "head", out(s), conv(1, 1, "sigmoid"));
    ASSERT_TRUE(checkGraph(b.graph).has(codes::kNoLoss));
    FixOutcome outcome = applyFix(b.graph, *parseFixRequest("no-loss@"));
    ASSERT_TRUE(outcome.applied) << outcome.error;
    EXPECT_FALSE(checkGraph(b.graph).has(codes::kNoLoss));
}

TEST(ApplyFix, WrongRequestsLeaveTheGraphUnchangedAndSayWhy) {
    const Graph original = uint8IntoConv();
    const CheckOptions options = withoutLoss();
    const std::size_t fixCount =
        expectDiagnostic(checkGraph(original, options), codes::kDTypeMismatch).fixes.size();
    struct Case {
        FixRequest request;
        std::vector<std::string> says;
    };
    const std::vector<Case> cases = {
        // A code the node does not have: the codes it has are listed.
        {{"concat-shape-mismatch", "conv1", 1},
         {"'conv1' has no finding 'concat-shape-mismatch'", "its findings: dtype-mismatch"}},
        // A fix number past the end: how many there are.
        {{"dtype-mismatch", "conv1", static_cast<int>(fixCount) + 1},
         {"has " + std::to_string(fixCount) + " fixes", "no fix #" + std::to_string(fixCount + 1)}},
        // A node with no findings at all.
        {{"dtype-mismatch", "in", 1}, {"'in' has no findings"}},
        // A node that does not exist, with the closest name.
        {{"dtype-mismatch", "conv2", 1}, {"no node named 'conv2'", "did you mean 'conv1'"}},
        // A graph-level request where the graph has no such finding.
        {{"graph-cycle", "", 1}, {"the graph has no finding 'graph-cycle'"}},
    };
    for (const Case& c : cases) {
        Graph graph = original;
        FixOutcome outcome = applyFix(graph, c.request, options);
        EXPECT_FALSE(outcome.applied) << toString(c.request);
        for (const std::string& s : c.says)
            EXPECT_THAT(outcome.error, HasSubstr(s)) << toString(c.request);
        EXPECT_TRUE(graph == original) << toString(c.request);
    }
}

TEST(ApplyFirstFixes, SeveralIndependentErrorsEndClean) {
    GraphBuilder b;
    NodeId img1 = b.input(16, 16, 3, "uint8", "img1");
    NodeId img2 = b.input(16, 16, 3, "uint8", "img2");
    NodeId mask = b.input(16, 16, 1, "int32", "mask");
    NodeId a = b.then("Conv2D", "a", out(img1), conv(4, 3));
    NodeId c = b.then("Conv2D", "b", out(img2), conv(4, 3));
    NodeId sum = b.add("Add", "sum");
    b.wire(out(a), {sum, "a"});
    b.wire(out(c), {sum, "b"});
    NodeId head = b.then("Conv2D", "head", out(sum), conv(1, 1, "sigmoid"));
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(mask), {loss, "target"});
    const CheckResult before = checkGraph(b.graph);
    ASSERT_EQ(before.find(codes::kDTypeMismatch).size(), 3u) << codesOf(before);

    FirstFixesOutcome outcome = applyFirstFixes(b.graph);
    EXPECT_TRUE(outcome.clean) << outcome.stuck;
    EXPECT_TRUE(outcome.stuck.empty());
    ASSERT_EQ(outcome.applied.size(), 3u);
    std::set<std::string> nodes;
    for (const AppliedFix& f : outcome.applied) {
        EXPECT_EQ(f.request.code, codes::kDTypeMismatch);
        EXPECT_EQ(f.request.index, 1);
        EXPECT_FALSE(f.description.empty());
        nodes.insert(f.request.node);
    }
    EXPECT_EQ(nodes, (std::set<std::string>{"a", "b", "loss"}));
    EXPECT_FALSE(checkGraph(b.graph).hasErrors()) << codesOf(checkGraph(b.graph));
}

TEST(ApplyFirstFixes, AnUnfixableErrorEndsStuckWithoutLooping) {
    // A scalar loss fed into a convolution: no fix can make a scalar an image.
    GraphBuilder b;
    NodeId img = b.input(8, 8, 1, "float32", "img");
    NodeId loss = b.add("Dice", "loss");
    b.wire(out(img), {loss, "prediction"});
    b.wire(out(img), {loss, "target"});
    b.then("Conv2D", "c", out(loss, "loss"));
    const CheckResult before = checkGraph(b.graph);
    ASSERT_TRUE(before.has(codes::kRankMismatch)) << codesOf(before);

    FirstFixesOutcome outcome = applyFirstFixes(b.graph);
    EXPECT_FALSE(outcome.clean);
    EXPECT_THAT(outcome.stuck, HasSubstr("rank-mismatch@c"));
    const CheckResult after = checkGraph(b.graph);
    EXPECT_TRUE(after.has(codes::kRankMismatch));
    // Whatever was applied on the way removed something: nothing was undone for ever.
    EXPECT_LE(outcome.applied.size(), before.diagnostics.size());
}

TEST(ApplyFirstFixes, ACostlyTopFixIsNeverAppliedUnasked) {
    // Two separate inputs of 64×64 and 8×8 concatenated: the only repairs
    // resample by 8 (FixRank::Costly), which changes what the network computes.
    GraphBuilder b;
    NodeId big = b.input(64, 64, 4, "float32", "big");
    NodeId small = b.input(8, 8, 4, "float32", "small");
    NodeId cat = b.add("Concatenate", "cat");
    b.wire(out(big), {cat, "a"});
    b.wire(out(small), {cat, "b"});
    const CheckResult before = checkGraph(b.graph, withoutLoss());
    const auto found = before.find(codes::kConcatShapeMismatch);
    ASSERT_EQ(found.size(), 1u) << codesOf(before);
    ASSERT_FALSE(found.front()->fixes.empty());
    for (const FixIt& fix : found.front()->fixes)
        EXPECT_EQ(fix.rank, FixRank::Costly) << fix.description;

    const Graph unchanged = b.graph;
    FirstFixesOutcome outcome = applyFirstFixes(b.graph, withoutLoss());
    EXPECT_FALSE(outcome.clean);
    EXPECT_TRUE(outcome.applied.empty());
    EXPECT_THAT(outcome.stuck, HasSubstr("only costly fixes are left"));
    EXPECT_TRUE(b.graph == unchanged);
    // Named, it applies.
    EXPECT_TRUE(applyFix(b.graph, {"concat-shape-mismatch", "cat", 1}, withoutLoss()).applied);
}

TEST(ApplyFirstFixes, TheRoundLimitStopsItAndSaysSo) {
    Graph graph = uint8IntoConv();
    const Graph original = graph;
    FirstFixesOutcome outcome = applyFirstFixes(graph, withoutLoss(), 0);
    EXPECT_FALSE(outcome.clean);
    EXPECT_THAT(outcome.stuck, HasSubstr("gave up after 0 attempts"));
    EXPECT_THAT(outcome.stuck, HasSubstr("dtype-mismatch@conv1"));
    EXPECT_TRUE(outcome.applied.empty());
    EXPECT_TRUE(graph == original);
}

TEST(ApplyFirstFixes, ACleanGraphIsLeftAlone) {
    Graph graph = uint8IntoConv();
    ASSERT_TRUE(applyFix(graph, {"dtype-mismatch", "conv1", 1}, withoutLoss()).applied);
    const Graph fixed = graph;
    FirstFixesOutcome outcome = applyFirstFixes(graph, withoutLoss());
    EXPECT_TRUE(outcome.clean);
    EXPECT_TRUE(outcome.applied.empty());
    EXPECT_TRUE(graph == fixed);
}
