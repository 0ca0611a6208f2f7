#include "check/input_size_sweep.hpp"
#include "templates/unet_template.hpp"

#include <gtest/gtest.h>

using namespace segforge::core;

TEST(InputSizeRule, DescribesPatterns) {
    std::int64_t period = 0, offset = 0;
    EXPECT_EQ(describeWorkingSizes({16, 32, 48, 64}, 70, &period, &offset),
              "multiples of 16, from 16");
    EXPECT_EQ(period, 16);
    EXPECT_EQ(offset, 0);
    EXPECT_EQ(describeWorkingSizes({28, 44, 60}, 70, &period, &offset), "16k + 12 (28, 44, 60, …)");
    EXPECT_EQ(offset, 12);
    EXPECT_EQ(describeWorkingSizes({5, 6, 7, 8}, 8), "any size from 5");
    EXPECT_EQ(describeWorkingSizes({}, 64), "none up to 64");
    EXPECT_EQ(describeWorkingSizes({3, 5, 9}, 12), "3, 5, 9");
    EXPECT_EQ(describeWorkingSizes({7}, 12), "only 7");
}

TEST(InputSizeSweep, UNetDepthThreeNeedsMultiplesOfEight) {
    UNetOptions o;
    o.depth = 3;
    o.filters = 2;
    o.size = 64;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    InputSizeReport r = sweepInputSizes(g, 128);
    ASSERT_TRUE(r.applicable);
    EXPECT_TRUE(r.height.currentWorks);
    EXPECT_EQ(r.height.period, 8);
    EXPECT_EQ(r.height.rule, "multiples of 8, from 8");
    EXPECT_EQ(r.height.working.front(), 8);
    EXPECT_EQ(r.height.working.size(), 16u);
}

TEST(InputSizeSweep, ValidPaddingUNetFollowsTheOriginalPaperRule) {
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
    InputSizeReport r = sweepInputSizes(g, 64);
    // Even heights survive the pooling; c2 needs at least 3 rows: from 8.
    EXPECT_EQ(r.height.rule, "multiples of 2, from 8");
    EXPECT_EQ(r.height.working.front(), 8);
    EXPECT_TRUE(r.height.currentWorks);
}
