// The training pipeline: split, order, values, augmentation that keeps image
// and mask aligned, determinism under the seed, prefetch, and bad files.

#include "data/image_pipeline.hpp"
#include "data_fixtures.hpp"

#include <gmock/gmock.h>
#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

PipelineOptions optionsFor(const TempDir& t, std::size_t batch = 4) {
    PipelineOptions o;
    o.spec = {t / "images", t / "masks"};
    o.batchSize = batch;
    o.maskMode = MaskMode::Binary;
    return o;
}

bool sameBatch(const Batch& a, const Batch& b) {
    return a.names == b.names && a.image.shape() == b.image.shape() &&
           a.mask.shape() == b.mask.shape() &&
           std::equal(a.image.bytes(), a.image.bytes() + a.image.byteSize(), b.image.bytes()) &&
           std::equal(a.mask.bytes(), a.mask.bytes() + a.mask.byteSize(), b.mask.bytes());
}

} // namespace

TEST(DataPipeline, SplitIsDisjointCompleteAndSeeded) {
    TempDir t;
    writeBinarySet(t, 20, 8, 8);
    ImageFolderSource a(optionsFor(t));
    EXPECT_EQ(a.validationSize(), 4u);
    EXPECT_EQ(a.trainSize(), 16u);
    EXPECT_EQ(a.trainBatchCount(), 4u);
    EXPECT_EQ(a.validationBatchCount(), 1u);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < a.trainBatchCount(); ++i) {
        for (const auto& n : a.trainBatch(i).names)
            EXPECT_TRUE(seen.insert(n).second) << n << " twice";
    }
    for (const auto& n : a.validationBatch(0).names)
        EXPECT_TRUE(seen.insert(n).second) << n << " in train and validation";
    EXPECT_EQ(seen.size(), 20u);

    ImageFolderSource same(optionsFor(t));
    EXPECT_EQ(same.validationStems(), a.validationStems());
    PipelineOptions other = optionsFor(t);
    other.seed = 7;
    EXPECT_NE(ImageFolderSource(other).validationStems(), a.validationStems());
}

TEST(DataPipeline, BatchesCarryTheFilesValues) {
    TempDir t;
    writeBinarySet(t, 6, 8, 12);
    PipelineOptions o = optionsFor(t, 3);
    o.validationFraction = 0;
    ImageFolderSource src(o);
    Batch b = src.trainBatch(0);
    EXPECT_EQ(b.image.describe(), "3×8×12×3 u8");
    EXPECT_EQ(b.mask.describe(), "3×8×12×1 u8");
    ASSERT_EQ(b.names.size(), 3u);
    for (std::size_t s = 0; s < 3; ++s) {
        const int index = std::stoi(b.names[s].substr(1)) - 100;
        const std::uint8_t* px = b.image.u8() + ((s * 8 + 5) * 12 + 7) * 3; // y=5, x=7
        EXPECT_EQ(px[0], 7);     // red = x (RGB order, not BGR)
        EXPECT_EQ(px[1], 5);     // green = y
        EXPECT_EQ(px[2], index); // blue = which file
        const std::uint8_t* m = b.mask.u8() + s * 8 * 12;
        EXPECT_EQ(m[5 * 12 + 2], 0);
        EXPECT_EQ(m[5 * 12 + 9], 1); // 255 decoded as class 1
    }
}

TEST(DataPipeline, AugmentationKeepsImageAndMaskAlignedAndIsSeeded) {
    TempDir t;
    writeBinarySet(t, 8, 16, 16); // mask = 1 exactly where red (= x) >= 8
    PipelineOptions o = optionsFor(t, 4);
    o.validationFraction = 0;
    o.augment.flips = true;
    o.augment.rotate90 = true;
    o.augment.cropHeight = 12;
    o.augment.cropWidth = 12;
    ImageFolderSource src(o);
    int changed = 0;
    for (int epoch = 0; epoch < 3; ++epoch) {
        src.beginEpoch(epoch);
        for (std::size_t i = 0; i < src.trainBatchCount(); ++i) {
            Batch b = src.trainBatch(i);
            ASSERT_EQ(b.image.describe(), "4×12×12×3 u8");
            for (std::int64_t k = 0; k < b.mask.numel(); ++k) {
                const std::uint8_t red = b.image.u8()[k * 3];
                ASSERT_EQ(b.mask.u8()[k], red >= 8 ? 1 : 0) << "pixel " << k;
            }
            // Un-augmented, red grows along x; count samples where it does not.
            changed += b.image.u8()[3] < b.image.u8()[0] || b.image.u8()[1] != b.image.u8()[4];
        }
    }
    EXPECT_GT(changed, 0);

    ImageFolderSource again(o);
    again.beginEpoch(2);
    src.beginEpoch(2);
    for (std::size_t i = 0; i < src.trainBatchCount(); ++i)
        EXPECT_TRUE(sameBatch(src.trainBatch(i), again.trainBatch(i))) << "batch " << i;
    src.beginEpoch(1);
    EXPECT_FALSE(sameBatch(src.trainBatch(0), again.trainBatch(0)));
}

TEST(DataPipeline, BrightnessContrastChangeImageOnly) {
    TempDir t;
    writeBinarySet(t, 4, 16, 16);
    PipelineOptions plain = optionsFor(t, 4);
    plain.validationFraction = 0;
    PipelineOptions bright = plain;
    bright.augment.brightness = 0.3;
    bright.augment.contrast = 0.3;
    Batch a = ImageFolderSource(plain).trainBatch(0);
    Batch b = ImageFolderSource(bright).trainBatch(0);
    ASSERT_EQ(a.names, b.names);
    EXPECT_TRUE(std::equal(a.mask.u8(), a.mask.u8() + a.mask.numel(), b.mask.u8()));
    EXPECT_FALSE(std::equal(a.image.u8(), a.image.u8() + a.image.numel(), b.image.u8()));
}

TEST(DataPipeline, PrefetchGivesTheSameBatches) {
    TempDir t;
    writeBinarySet(t, 24, 8, 8);
    PipelineOptions on = optionsFor(t, 4);
    on.augment.flips = true;
    PipelineOptions off = on;
    off.prefetch = false;
    ImageFolderSource a(on), b(off);
    for (int epoch = 0; epoch < 2; ++epoch) {
        a.beginEpoch(epoch);
        b.beginEpoch(epoch);
        for (std::size_t i = 0; i < a.trainBatchCount(); ++i)
            EXPECT_TRUE(sameBatch(a.trainBatch(i), b.trainBatch(i)));
    }
}

TEST(DataPipeline, CorruptFileIsSkippedAndReportedOrStops) {
    TempDir t;
    writeBinarySet(t, 8, 8, 8);
    writeBytes(t / "masks" / "s103.png", "\x89PNG\r\n\x1a\n garbage");
    PipelineOptions o = optionsFor(t, 4);
    o.validationFraction = 0;
    ImageFolderSource skip(o);
    for (std::size_t i = 0; i < skip.trainBatchCount(); ++i) {
        Batch b = skip.trainBatch(i);
        EXPECT_EQ(b.image.batch(), 4);
        for (const auto& n : b.names)
            EXPECT_NE(n, "s103");
    }
    ASSERT_EQ(skip.problems().size(), 1u);
    EXPECT_THAT(skip.problems()[0].reason, HasSubstr("s103.png"));

    o.stopOnError = true;
    ImageFolderSource stop(o);
    try {
        for (std::size_t i = 0; i < stop.trainBatchCount(); ++i)
            stop.trainBatch(i);
        FAIL() << "no DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr("s103.png"));
    }
}

TEST(DataPipeline, SizePolicies) {
    TempDir t;
    writeBinarySet(t, 3, 16, 16);
    writeOrFail(t / "images" / "s200.png", patternImage(10, 20));
    writeOrFail(t / "masks" / "s200.png", halfMask(10, 20, 0, 255));
    PipelineOptions o = optionsFor(t, 4);
    o.validationFraction = 0;
    o.prefetch = false;
    // Exact: the odd one out is a bad sample, named, never silently resized.
    ImageFolderSource exact(o);
    Batch e = exact.trainBatch(0);
    EXPECT_EQ(e.image.describe(), "4×16×16×3 u8");
    ASSERT_EQ(exact.problems().size(), 1u);
    EXPECT_THAT(exact.problems()[0].reason, HasSubstr("10×20"));
    o.sizePolicy = SizePolicy::Resize;
    o.height = o.width = 8;
    EXPECT_EQ(ImageFolderSource(o).trainBatch(0).image.describe(), "4×8×8×3 u8");
    o.sizePolicy = SizePolicy::CropOrPad;
    o.height = 12;
    o.width = 24;
    ImageFolderSource fit(o);
    Batch f = fit.trainBatch(0);
    EXPECT_EQ(f.mask.describe(), "4×12×24×1 u8");
    EXPECT_TRUE(fit.problems().empty());
}

TEST(DataPipeline, NoPairsIsADataError) {
    TempDir t;
    t.dir("images");
    t.dir("masks");
    EXPECT_THROW(ImageFolderSource{optionsFor(t)}, DataError);
}
