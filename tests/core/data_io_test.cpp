// Reading files, pairing them, decoding masks: every format and bit depth the
// loader claims, and the bad files it must survive.

#include "data/dataset_index.hpp"
#include "data/image_io.hpp"
#include "data/mask_codec.hpp"
#include "data_fixtures.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DataImageIo, ReadsPngAsRgbNotBgr) {
    TempDir t;
    cv::Mat bgr(4, 5, CV_8UC3, cv::Scalar(10, 20, 200)); // OpenCV order: B=10 G=20 R=200
    ASSERT_TRUE(cv::imwrite((t / "a.png").string(), bgr));
    ImageReadResult r = readImage(t / "a.png");
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.image.channels(), 3);
    EXPECT_EQ(r.image.depth(), CV_8U);
    const auto px = r.image.at<cv::Vec3b>(2, 3);
    EXPECT_EQ(px[0], 200); // red first
    EXPECT_EQ(px[1], 20);
    EXPECT_EQ(px[2], 10);
}

TEST(DataImageIo, ReadsRgbaGreyAnd16Bit) {
    TempDir t;
    ASSERT_TRUE(
        cv::imwrite((t / "rgba.png").string(), cv::Mat(3, 3, CV_8UC4, cv::Scalar(1, 2, 3, 4))));
    ASSERT_TRUE(
        cv::imwrite((t / "grey16.png").string(), cv::Mat(3, 3, CV_16UC1, cv::Scalar(40000))));
    ASSERT_TRUE(cv::imwrite((t / "grey.tif").string(), cv::Mat(2, 7, CV_8UC1, cv::Scalar(9))));
    ASSERT_TRUE(
        cv::imwrite((t / "col16.tif").string(), cv::Mat(2, 2, CV_16UC3, cv::Scalar(1, 2, 60000))));
    ImageReadResult rgba = readImage(t / "rgba.png");
    ASSERT_TRUE(rgba.ok()) << rgba.error;
    EXPECT_EQ(rgba.image.channels(), 4);
    EXPECT_EQ(rgba.image.at<cv::Vec4b>(0, 0), cv::Vec4b(3, 2, 1, 4));
    ImageReadResult g16 = readImage(t / "grey16.png");
    ASSERT_TRUE(g16.ok()) << g16.error;
    EXPECT_EQ(g16.image.depth(), CV_16U);
    EXPECT_EQ(g16.image.at<std::uint16_t>(1, 1), 40000);
    ImageReadResult tif = readImage(t / "grey.tif");
    ASSERT_TRUE(tif.ok()) << tif.error;
    EXPECT_EQ(tif.image.cols, 7);
    EXPECT_EQ(tif.image.at<std::uint8_t>(1, 6), 9);
    ImageReadResult c16 = readImage(t / "col16.tif");
    ASSERT_TRUE(c16.ok()) << c16.error;
    EXPECT_EQ(c16.image.depth(), CV_16U);
    EXPECT_EQ(c16.image.at<cv::Vec3w>(1, 1)[0], 60000);
}

TEST(DataImageIo, HeadersOfPngJpegBmpMatchDecode) {
    TempDir t;
    writeOrFail(t / "a.png", patternImage(17, 31));
    writeOrFail(t / "b.jpg", patternImage(19, 23));
    writeOrFail(t / "c.bmp", patternImage(5, 9));
    ASSERT_TRUE(cv::imwrite((t / "d.png").string(), cv::Mat(6, 8, CV_16UC1, cv::Scalar(7))));
    ASSERT_TRUE(cv::imwrite((t / "e.jpg").string(), cv::Mat(6, 8, CV_8UC1, cv::Scalar(7))));
    struct Want {
        const char* name;
        int h, w, c, bits;
    };
    for (const Want& want :
         {Want{"a.png", 17, 31, 3, 8}, Want{"b.jpg", 19, 23, 3, 8}, Want{"c.bmp", 5, 9, 3, 8},
          Want{"d.png", 6, 8, 1, 16}, Want{"e.jpg", 6, 8, 1, 8}}) {
        std::string err;
        auto h = readImageHeader(t / want.name, &err);
        ASSERT_TRUE(h) << want.name << ": " << err;
        EXPECT_EQ(h->height, want.h) << want.name;
        EXPECT_EQ(h->width, want.w) << want.name;
        EXPECT_EQ(h->channels, want.c) << want.name;
        EXPECT_EQ(h->bitDepth, want.bits) << want.name;
        ImageReadResult r = readImage(t / want.name);
        ASSERT_TRUE(r.ok()) << r.error;
        EXPECT_EQ(r.image.rows, want.h);
        EXPECT_EQ(r.image.channels(), want.c) << want.name;
    }
}

TEST(DataImageIo, CorruptTruncatedAndMissingFilesAreErrorsNotCrashes) {
    TempDir t;
    writeBytes(t / "garbage.png", "this is not an image at all, just text");
    writeOrFail(t / "cut.png", patternImage(64, 64));
    truncateFile(t / "cut.png", 100); // header intact, pixel data cut
    writeBytes(t / "empty.jpg", "");
    for (const char* name : {"garbage.png", "cut.png", "empty.jpg", "missing.png"}) {
        ImageReadResult r = readImage(t / name);
        EXPECT_FALSE(r.ok()) << name;
        EXPECT_TRUE(r.image.empty()) << name;
        EXPECT_FALSE(r.error.empty()) << name;
    }
    std::string err;
    EXPECT_FALSE(readImageHeader(t / "garbage.png", &err));
    EXPECT_THAT(err, HasSubstr("PNG"));
    // A truncated PNG still has a readable header: only a decode finds the damage.
    auto h = readImageHeader(t / "cut.png", &err);
    ASSERT_TRUE(h);
    EXPECT_EQ(h->width, 64);
}

TEST(DataIndex, PairsByStemAcrossFoldersAndReportsUnpaired) {
    TempDir t;
    auto images = t.dir("img");
    auto masks = t.dir("msk");
    for (const char* n : {"a.png", "b.jpg", "c.png", "notes.txt"})
        writeBytes(images / n, "x");
    for (const char* n : {"a.png", "b_mask.png", "z.png"})
        writeBytes(masks / n, "x");
    DatasetIndex idx = indexDataset({images, masks});
    ASSERT_TRUE(idx.error.empty()) << idx.error;
    ASSERT_EQ(idx.pairs.size(), 2u);
    EXPECT_EQ(idx.pairs[0].stem, "a");
    EXPECT_EQ(idx.pairs[1].stem, "b");
    EXPECT_EQ(idx.pairs[1].mask.filename(), "b_mask.png");
    EXPECT_THAT(idx.unpairedNames(), ElementsAre("c.png", "z.png"));
}

TEST(DataIndex, SingleFolderSuffixRule) {
    TempDir t;
    auto dir = t.dir("all");
    for (const char* n :
         {"x.png", "x_mask.png", "y.png", "y_mask.png", "lonely.png", "orphan_mask.png"})
        writeBytes(dir / n, "x");
    DatasetIndex idx = indexDataset({dir, {}});
    ASSERT_EQ(idx.pairs.size(), 2u);
    EXPECT_EQ(idx.pairs[0].image.filename(), "x.png");
    EXPECT_EQ(idx.pairs[0].mask.filename(), "x_mask.png");
    EXPECT_EQ(idx.pairs[1].mask.filename(), "y_mask.png");
    EXPECT_THAT(idx.unpairedNames(), ElementsAre("lonely.png", "orphan_mask.png"));
}

TEST(DataIndex, MissingFolderIsAnErrorValue) {
    TempDir t;
    DatasetIndex idx = indexDataset({t / "nope", t / "nope2"});
    EXPECT_TRUE(idx.pairs.empty());
    EXPECT_THAT(idx.error, HasSubstr("nope"));
}

TEST(DataMask, BinaryMapsBothEncodingsToZeroOne) {
    for (int fg : {1, 255}) {
        MaskDecodeResult r = decodeMask(halfMask(2, 4, 0, fg), MaskMode::Binary);
        ASSERT_TRUE(r.ok());
        EXPECT_EQ(r.mask.at<std::uint8_t>(0, 0), 0);
        EXPECT_EQ(r.mask.at<std::uint8_t>(1, 3), 1) << "fg=" << fg;
    }
}

TEST(DataMask, ClassIndexTakesFirstChannelAndKeeps16Bit) {
    cv::Mat grey3(2, 2, CV_8UC3, cv::Scalar(3, 3, 3));
    MaskDecodeResult r = decodeMask(grey3, MaskMode::ClassIndex);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.mask.channels(), 1);
    EXPECT_EQ(r.mask.at<std::uint8_t>(1, 1), 3);
    MaskDecodeResult r16 =
        decodeMask(cv::Mat(2, 2, CV_16UC1, cv::Scalar(300)), MaskMode::ClassIndex);
    EXPECT_EQ(r16.mask.depth(), CV_16U);
    EXPECT_EQ(r16.mask.at<std::uint16_t>(0, 1), 300);
}

TEST(DataMask, PaletteMapsColoursAndReportsUnknownOnes) {
    cv::Mat rgb(1, 3, CV_8UC3);
    rgb.at<cv::Vec3b>(0, 0) = {0, 0, 0};
    rgb.at<cv::Vec3b>(0, 1) = {255, 0, 0};
    rgb.at<cv::Vec3b>(0, 2) = {0, 128, 0};
    std::vector<Colour> palette{{0, 0, 0}, {0, 128, 0}, {255, 0, 0}};
    MaskDecodeResult r = decodeMask(rgb, MaskMode::Palette, palette);
    ASSERT_TRUE(r.ok()) << r.error;
    EXPECT_EQ(r.mask.at<std::uint8_t>(0, 0), 0);
    EXPECT_EQ(r.mask.at<std::uint8_t>(0, 1), 2);
    EXPECT_EQ(r.mask.at<std::uint8_t>(0, 2), 1);
    MaskDecodeResult bad = decodeMask(rgb, MaskMode::Palette, {{0, 0, 0}});
    EXPECT_FALSE(bad.ok());
    EXPECT_THAT(bad.error, HasSubstr("#ff0000"));
}
