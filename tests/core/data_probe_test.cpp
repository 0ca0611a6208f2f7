// The data probe on real files: true dtypes, sizes, value ranges, histograms,
// and the bad files it must name instead of crashing.

#include "data/data_probe.hpp"
#include "data_fixtures.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

TEST(DataProbe, BinaryPngSetReportsTrueTypesAndHistogram) {
    TempDir t;
    writeBinarySet(t, 5, 24, 40);
    DataProbe p = probeDataset({t / "images", t / "masks"});
    ASSERT_TRUE(p.folderError.empty()) << p.folderError;
    EXPECT_EQ(p.pairCount, 5u);
    EXPECT_EQ(p.decodedCount, 5u);
    EXPECT_EQ(p.images.height, 24);
    EXPECT_EQ(p.images.width, 40);
    EXPECT_EQ(p.images.channels, 3);
    EXPECT_EQ(p.images.dtype(), DType::UInt8);
    EXPECT_EQ(p.images.range.lo, 0);
    EXPECT_EQ(p.images.range.hi, 39); // pattern: red = x, green = y, blue = index 0..4
    EXPECT_EQ(p.masks.channels, 1);
    ASSERT_EQ(p.maskHistogram.size(), 2u);
    EXPECT_EQ(p.maskHistogram.at(0), 5 * 24 * 20);
    EXPECT_EQ(p.maskHistogram.at(255), 5 * 24 * 20);
    EXPECT_EQ(p.maskValuesText(), "{0, 255}");
    EXPECT_DOUBLE_EQ(p.maskValueShare(255), 0.5);
    EXPECT_TRUE(p.unreadable.empty());
    EXPECT_TRUE(p.sizeMismatches.empty());
}

TEST(DataProbe, SixteenBitClassMasksAreUInt16WithClassHistogram) {
    TempDir t;
    auto images = t.dir("i");
    auto masks = t.dir("m");
    for (int i = 0; i < 3; ++i) {
        writeOrFail(images / ("a" + std::to_string(i) + ".png"), patternImage(8, 8));
        ASSERT_TRUE(cv::imwrite((masks / ("a" + std::to_string(i) + ".png")).string(),
                                halfMask(8, 8, 2, 1000 + i, CV_16UC1)));
    }
    DataProbe p = probeDataset({images, masks});
    EXPECT_EQ(p.masks.bitDepth, 16);
    EXPECT_EQ(p.masks.dtype(), DType::UInt16);
    EXPECT_EQ(p.masks.range.lo, 2);
    EXPECT_EQ(p.masks.range.hi, 1002);
    EXPECT_EQ(p.maskHistogram.size(), 4u);
    EXPECT_EQ(p.maskHistogram.at(2), 3 * 32);
    EXPECT_EQ(p.maskHistogram.at(1001), 32);
}

TEST(DataProbe, FastScanDecodesASampleButReadsEveryHeader) {
    TempDir t;
    writeBinarySet(t, 40, 16, 16);
    // One mask of the wrong size, far from the sampled files.
    writeOrFail(t / "masks" / "s137.png", halfMask(8, 16, 0, 255));
    DataProbe fast = probeDataset({t / "images", t / "masks"}, {4, false});
    EXPECT_EQ(fast.pairCount, 40u);
    EXPECT_EQ(fast.decodedCount, 4u);
    ASSERT_EQ(fast.sizeMismatches.size(), 1u);
    EXPECT_EQ(fast.sizeMismatches[0].stem, "s137");
    EXPECT_EQ(fast.sizeMismatches[0].maskHeight, 8);
    EXPECT_EQ(fast.sizeMismatches[0].imageHeight, 16);
    DataProbe full = probeDataset({t / "images", t / "masks"}, {4, true});
    EXPECT_EQ(full.decodedCount, 40u);
    EXPECT_TRUE(full.fullScan);
}

TEST(DataProbe, CorruptAndTruncatedFilesAreNamedNotFatal) {
    TempDir t;
    writeBinarySet(t, 4, 32, 32);
    writeBytes(t / "masks" / "s101.png", "GIF89a not a png");
    truncateFile(t / "images" / "s102.png", 120);
    DataProbe p = probeDataset({t / "images", t / "masks"}, {16, false});
    ASSERT_EQ(p.unreadable.size(), 2u);
    std::vector<std::string> names{p.unreadable[0].name, p.unreadable[1].name};
    std::sort(names.begin(), names.end());
    EXPECT_EQ(names[0], "s101.png");
    EXPECT_EQ(names[1], "s102.png");
    EXPECT_EQ(p.decodedCount, 2u);
    EXPECT_EQ(p.images.height, 32); // the good files still describe the set
}

TEST(DataProbe, ColourMasksListTheirColours) {
    TempDir t;
    auto images = t.dir("i");
    auto masks = t.dir("m");
    writeOrFail(images / "a.png", patternImage(4, 4));
    cv::Mat m(4, 4, CV_8UC3, cv::Scalar(0, 0, 0));
    m(cv::Rect(0, 0, 2, 4)).setTo(cv::Scalar(255, 0, 0));
    m(cv::Rect(3, 0, 1, 4)).setTo(cv::Scalar(0, 255, 0));
    writeOrFail(masks / "a.png", m);
    DataProbe p = probeDataset({images, masks});
    EXPECT_EQ(p.masks.channels, 3);
    EXPECT_FALSE(p.maskChannelsEqual);
    ASSERT_EQ(p.maskColours.size(), 3u);
    EXPECT_EQ(p.maskColours[0], (std::array<std::uint8_t, 3>{0, 0, 0}));
    EXPECT_EQ(p.maskColours[2], (std::array<std::uint8_t, 3>{255, 0, 0}));
}

TEST(DataProbe, MissingFolderAndEmptyFolder) {
    TempDir t;
    DataProbe missing = probeDataset({t / "nope", t / "nope"});
    EXPECT_THAT(missing.folderError, HasSubstr("nope"));
    EXPECT_EQ(missing.pairCount, 0u);
    DataProbe empty = probeDataset({t.dir("a"), t.dir("b")});
    EXPECT_TRUE(empty.folderError.empty());
    EXPECT_EQ(empty.pairCount, 0u);
}
