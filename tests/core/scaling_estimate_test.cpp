// The typical step of a scaling profile: each chunk, loop overhead and serial
// stretch at its median over the recorded steps.

#include "engine/scaling_estimate.hpp"

#include <gtest/gtest.h>
#include <vector>

using namespace segforge::core;

namespace {

/// A step of two stretches: node 1 runs 0.5 ms serial and one loop of `chunks`
/// (overhead 0.1 ms); the tail after it runs 0.25 ms serial.
StepRecord step(std::vector<double> chunks) {
    StretchRecord node{1, 0.5, {LoopRecord{0.1, std::move(chunks)}}};
    StretchRecord tail{kNoNode, 0.25, {}};
    return {node, tail};
}

} // namespace

TEST(TypicalStretches, TheBoundIsTheMakespanOfTheMedianChunksAndTheWorkTheirSum) {
    const std::vector<StepRecord> steps{step({1, 1, 1, 3}), step({1, 1, 1, 3}), step({1, 1, 1, 3})};
    const std::vector<StretchEstimate> two = typicalStretches(steps, 2);
    ASSERT_EQ(two.size(), 2u);
    EXPECT_EQ(two[0].node, NodeId{1});
    EXPECT_EQ(two[0].loops, 1);
    EXPECT_DOUBLE_EQ(two[0].serialMs, 0.5);
    EXPECT_DOUBLE_EQ(two[0].workMs, 0.5 + 0.1 + 6.0);
    // Two threads claim in order: {1, 1} on one, {1, 3} on the other: makespan 4.
    EXPECT_DOUBLE_EQ(two[0].boundMs, 0.5 + 0.1 + 4.0);
    EXPECT_EQ(two[1].node, kNoNode);
    EXPECT_DOUBLE_EQ(two[1].workMs, 0.25);
    EXPECT_DOUBLE_EQ(two[1].boundMs, 0.25);
    EXPECT_EQ(two[1].loops, 0);
    // Four threads: the slow chunk is the bound.
    EXPECT_DOUBLE_EQ(typicalStretches(steps, 4)[0].boundMs, 0.5 + 0.1 + 3.0);
}

TEST(TypicalStretches, AChunkHeldUpInOneStepDropsOutAndOneSlowInEveryStepStays) {
    // Step 2's chunk 0 was held up (10 ms); chunk 3 is slow in every step.
    const std::vector<StepRecord> steps{step({1, 1, 1, 2}), step({10, 1, 1, 2}),
                                        step({1, 1, 1, 2})};
    const StretchEstimate four = typicalStretches(steps, 4)[0];
    EXPECT_DOUBLE_EQ(four.workMs, 0.5 + 0.1 + 5.0);
    EXPECT_DOUBLE_EQ(four.boundMs, 0.5 + 0.1 + 2.0);

    // The medians are per chunk, not per step: a different chunk held up in each
    // step leaves every step's own bound at 10 ms, the typical one at 1.
    const std::vector<StepRecord> spread{step({10, 1, 1, 1}), step({1, 10, 1, 1}),
                                         step({1, 1, 10, 1})};
    EXPECT_DOUBLE_EQ(typicalStretches(spread, 4)[0].boundMs, 0.5 + 0.1 + 1.0);
}

TEST(TypicalStretches, StepsCutUnlikeMostAreLeftOut) {
    // The second step's loop had three chunks: the two alike steps decide.
    const std::vector<StepRecord> steps{step({1, 1, 1, 1}), step({7, 7, 7}), step({3, 3, 3, 3})};
    const StretchEstimate e = typicalStretches(steps, 2)[0];
    EXPECT_DOUBLE_EQ(e.workMs, 0.5 + 0.1 + 8.0); // median of 1 and 3: 2 per chunk
    // One alike step against another of a stretch more: each group has one, the earliest wins.
    StepRecord longer = step({5, 5});
    longer.push_back({2, 1.0, {}});
    const std::vector<StretchEstimate> tie = typicalStretches({longer, step({1, 1})}, 2);
    ASSERT_EQ(tie.size(), 3u);
    EXPECT_DOUBLE_EQ(tie[0].boundMs, 0.5 + 0.1 + 5.0);
    EXPECT_TRUE(typicalStretches({}, 2).empty());
}
