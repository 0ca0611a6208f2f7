// Hostile and broken data: decompression bombs refused from their header,
// readers from memory, and every condition that makes training skip or refuse
// a file reported by the checker first, with the same file named.

#include "data/data_probe.hpp"
#include "data/image_io.hpp"
#include "data/image_pipeline.hpp"
#include "data/indexed_png.hpp"
#include "data_fixtures.hpp"
#include "graph_builder.hpp"

#include <fstream>
#include <gmock/gmock.h>
#include <opencv2/imgcodecs.hpp>
#include <zlib.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;
using ::testing::Not;

namespace {

using Bytes = std::vector<std::uint8_t>;

void put32(std::string& s, std::uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8)
        s.push_back(static_cast<char>((v >> shift) & 0xFF));
}

std::string chunk(const std::string& type, const std::string& data) {
    std::string out;
    put32(out, static_cast<std::uint32_t>(data.size()));
    const std::string body = type + data;
    out += body;
    put32(out, static_cast<std::uint32_t>(crc32(0, reinterpret_cast<const Bytef*>(body.data()),
                                                static_cast<uInt>(body.size()))));
    return out;
}

/// A PNG written by hand, so tests can forge what no encoder writes: a huge
/// declared size over a few bytes of data, palette indices past the palette.
std::string craftPng(std::uint32_t w, std::uint32_t h, int depth, int colour,
                     const std::string& raw, const std::string& plte = "") {
    std::string ihdr;
    put32(ihdr, w);
    put32(ihdr, h);
    ihdr += {static_cast<char>(depth), static_cast<char>(colour), 0, 0, 0};
    uLongf size = compressBound(static_cast<uLong>(raw.size()));
    std::string z(size, '\0');
    compress2(reinterpret_cast<Bytef*>(z.data()), &size, reinterpret_cast<const Bytef*>(raw.data()),
              static_cast<uLong>(raw.size()), 9);
    z.resize(size);
    return std::string("\x89PNG\r\n\x1a\n", 8) + chunk("IHDR", ihdr) +
           (plte.empty() ? "" : chunk("PLTE", plte)) + chunk("IDAT", z) + chunk("IEND", "");
}

/// The header of a w×h RGB PNG and the first rows of its zeros: what a
/// decompression bomb looks like before its (highly compressed) data.
std::string bombPng(std::uint32_t w, std::uint32_t h, int colour = 2) {
    return craftPng(w, h, 8, colour, std::string(static_cast<std::size_t>(w) * 3 + 1, '\0'),
                    colour == 3 ? std::string(6, '\0') : "");
}

Bytes bytesOf(const std::string& s) {
    return Bytes(s.begin(), s.end());
}

/// An 8-bit palette PNG: rows of `indices`, `entries` palette colours.
std::string palettePng(const cv::Mat& indices, int entries) {
    std::string raw;
    for (int y = 0; y < indices.rows; ++y) {
        raw.push_back('\0');
        raw.append(reinterpret_cast<const char*>(indices.ptr(y)),
                   static_cast<std::size_t>(indices.cols));
    }
    std::string plte;
    for (int k = 0; k < entries; ++k)
        plte +=
            {static_cast<char>(k * 60), static_cast<char>(255 - k * 60), static_cast<char>(k * 20)};
    return craftPng(static_cast<std::uint32_t>(indices.cols),
                    static_cast<std::uint32_t>(indices.rows), 8, 3, raw, plte);
}

/// Dataset → Rescale → Conv2D head → BCE, mask → Cast → target.
struct DataGraph {
    GraphBuilder b;
    NodeId data = kNoNode;
};

DataGraph makeGraph(const TempDir& t, const std::string& maskMode, int size) {
    DataGraph g;
    g.data = g.b.add("Dataset", "data",
                     {{"images", (t / "images").string()},
                      {"masks", (t / "masks").string()},
                      {"mask_mode", maskMode},
                      {"height", std::int64_t{size}},
                      {"width", std::int64_t{size}}});
    NodeId s = g.b.then("Rescale", "scale", out(g.data, "image"), {{"scale", 1.0 / 255.0}});
    NodeId head = g.b.then("Conv2D", "head", out(s),
                           {{"filters", std::int64_t{1}},
                            {"kernel_size", std::int64_t{1}},
                            {"activation", std::string("sigmoid")}});
    NodeId loss = g.b.add("BCEDice", "loss");
    g.b.wire(out(head), {loss, "prediction"});
    NodeId cast =
        g.b.then("Cast", "mask_f32", out(g.data, "mask"), {{"dtype", std::string("float32")}});
    g.b.wire(out(cast), {loss, "target"});
    return g;
}

CheckResult checkForTraining(const DataGraph& g, const TempDir& t, bool forTraining = true) {
    CheckOptions o;
    ProbeOptions all;
    all.fullScan = true;
    o.dataProbes[g.data] = probeDataset({t / "images", t / "masks"}, all);
    o.forTraining = forTraining;
    return checkGraph(g.b.graph, o);
}

PipelineOptions pipelineFor(const TempDir& t, MaskMode mode, int size, bool stop = false) {
    PipelineOptions o;
    o.spec = {t / "images", t / "masks"};
    o.maskMode = mode;
    o.height = size;
    o.width = size;
    o.batchSize = 8;
    o.validationFraction = 0;
    o.prefetch = false;
    o.stopOnError = stop;
    return o;
}

/// Every training batch of an epoch; DataError (and any other throw) passes through.
void runEpoch(ImageFolderSource& source) {
    for (std::size_t b = 0; b < source.trainBatchCount(); ++b)
        (void)source.trainBatch(b);
}

} // namespace

TEST(DataHostile, BombPngIsRefusedFromItsHeaderWithTheLimitNamed) {
    const Bytes bomb = bytesOf(bombPng(30000, 30000));
    EXPECT_LT(bomb.size(), 200000u);
    std::string why;
    auto header = readImageHeader(bomb, &why);
    ASSERT_TRUE(header) << why;
    EXPECT_EQ(header->width, 30000);
    EXPECT_EQ(header->pixels(), 900000000u);
    for (const ImageReadResult& r : {readImage(bomb), readMaskImage(bomb)}) {
        EXPECT_FALSE(r.ok());
        EXPECT_TRUE(r.tooLarge);
        EXPECT_TRUE(r.image.empty());
        EXPECT_EQ(r.error, "declares 30000×30000 pixels, more than the limit of 67108864 "
                           "(SEGFORGE_MAX_IMAGE_PIXELS)");
    }
    // A palette PNG goes through libpng, not OpenCV: refused the same way.
    const Bytes paletteBomb = bytesOf(bombPng(50000, 50000, 3));
    ASSERT_TRUE(isIndexedPng(paletteBomb));
    const ImageReadResult mask = readMaskImage(paletteBomb);
    EXPECT_TRUE(mask.tooLarge);
    EXPECT_THAT(mask.error, HasSubstr("declares 50000×50000 pixels"));
    const IndexedPng png = readIndexedPng(paletteBomb);
    EXPECT_TRUE(png.tooLarge);
    // Sides past OpenCV's own limit are refused whatever the pixel budget.
    const ImageReadResult wide =
        readImage(bytesOf(bombPng(2000000, 1)), ImageLimits{std::uint64_t{1} << 40});
    EXPECT_TRUE(wide.tooLarge);
    EXPECT_THAT(wide.error, HasSubstr("more than the limit of 1048576 pixels per side"));
}

TEST(DataHostile, PixelLimitIsConfigurableAndNamesWidthThenHeight) {
    cv::Mat image(30, 40, CV_8UC3, cv::Scalar(1, 2, 3));
    std::vector<std::uint8_t> png;
    ASSERT_TRUE(cv::imencode(".png", image, png));
    const ImageReadResult refused = readImage(png, ImageLimits{1199});
    EXPECT_TRUE(refused.tooLarge);
    EXPECT_EQ(refused.error,
              "declares 40×30 pixels, more than the limit of 1199 (SEGFORGE_MAX_IMAGE_PIXELS)");
    const ImageReadResult exact = readImage(png, ImageLimits{1200});
    ASSERT_TRUE(exact.ok()) << exact.error;
    EXPECT_EQ(exact.image.cols, 40);
    EXPECT_EQ(exact.image.rows, 30);
    EXPECT_EQ(kDefaultMaxImagePixels, 67108864u);
}

TEST(DataHostile, SmallFileDeclaringManyPixelsIsRefusedBeforeAllocating) {
    // 3000×3000 is within the limit, but deflate cannot fit 27 MB into 100 bytes.
    const std::string forged = bombPng(3000, 3000);
    ASSERT_LT(forged.size(), 200u);
    const ImageReadResult r = readImage(bytesOf(forged));
    EXPECT_FALSE(r.tooLarge);
    EXPECT_THAT(r.error,
                HasSubstr("declares 3000×3000 pixels, which need a file of at least 26165 bytes"));
    EXPECT_THAT(r.error, HasSubstr("(truncated or forged)"));
}

TEST(DataHostile, FormatsAreKnownBySignatureAndOthersRefused) {
    TempDir t;
    writeBytes(t / "animation.png", std::string("GIF89a\x01\x00\x01\x00\x00\x00\x00;", 14));
    const ImageReadResult gif = readImage(t / "animation.png");
    EXPECT_EQ(gif.error, "not a PNG, JPEG, BMP or TIFF file (unknown signature)");
    // A JPEG named .png is read as the JPEG it is, as OpenCV would decode it.
    std::vector<std::uint8_t> jpeg;
    ASSERT_TRUE(cv::imencode(".jpg", patternImage(12, 20), jpeg));
    std::ofstream(t / "photo.png", std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
    std::string why;
    auto h = readImageHeader(t / "photo.png", &why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->format, ImageFormat::Jpeg);
    EXPECT_EQ(h->width, 20);
    EXPECT_EQ(h->height, 12);
    // TIFF (its directory after the pixels, as libtiff writes it) and a hand-made BigTIFF.
    ASSERT_TRUE(
        cv::imwrite((t / "big.tif").string(), cv::Mat(300, 70, CV_16UC3, cv::Scalar(1, 2, 3))));
    h = readImageHeader(t / "big.tif", &why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->format, ImageFormat::Tiff);
    EXPECT_EQ(h->width, 70);
    EXPECT_EQ(h->height, 300);
    EXPECT_EQ(h->channels, 3);
    EXPECT_EQ(h->bitDepth, 16);
    std::string bigTiff("II\x2b\x00\x08\x00\x00\x00\x10\x00\x00\x00\x00\x00\x00\x00", 16);
    auto le = [&](std::uint64_t v, int n) {
        for (int k = 0; k < n; ++k)
            bigTiff.push_back(static_cast<char>((v >> (8 * k)) & 0xFF));
    };
    le(2, 8);                                    // two directory entries
    for (const std::uint64_t tag : {256, 257}) { // width 50000, height 60000: LONG, one value
        le(tag, 2);
        le(4, 2);
        le(1, 8);
        le(tag == 256 ? 50000 : 60000, 8);
    }
    le(0, 8);
    h = readImageHeader(bytesOf(bigTiff), &why);
    ASSERT_TRUE(h) << why;
    EXPECT_EQ(h->width, 50000);
    EXPECT_EQ(h->height, 60000);
    EXPECT_TRUE(readImage(bytesOf(bigTiff)).tooLarge);
}

TEST(DataHostile, TooLargeImageIsOneLocatedFindingForCheckAndASkipForTraining) {
    TempDir t;
    writeBinarySet(t, 4, 8, 8, 1);
    writeBytes(t / "images" / "s101.png", bombPng(50000, 50000));
    DataGraph g = makeGraph(t, "binary", 8);
    CheckResult r = checkForTraining(g, t);
    const Diagnostic& d = expectDiagnostic(r, codes::kImageTooLarge);
    EXPECT_EQ(d.severity, Severity::Warning); // on_error='skip'
    EXPECT_EQ(d.node, g.data);
    const std::string reason =
        "image s101.png: declares 50000×50000 pixels, more than the limit of 67108864 "
        "(SEGFORGE_MAX_IMAGE_PIXELS)";
    EXPECT_EQ(d.message, reason + ". It is skipped (on_error='skip')");
    // Left out of the sizes: no contradictory size mismatch, no type mismatch.
    EXPECT_FALSE(r.has(codes::kImageSizeMismatch)) << codesOf(r);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);

    ImageFolderSource source(pipelineFor(t, MaskMode::Binary, 8));
    runEpoch(source);
    ASSERT_EQ(source.problems().size(), 1u);
    EXPECT_EQ(source.problems()[0].name, "s101");
    EXPECT_EQ(source.problems()[0].reason, reason); // the file and the words check used

    // on_error='stop': an error for check, and the pipeline stops at that file.
    g.b.graph.findNode(g.data)->attrs["on_error"] = std::string("stop");
    EXPECT_EQ(expectDiagnostic(checkForTraining(g, t), codes::kImageTooLarge).severity,
              Severity::Error);
    ImageFolderSource stopping(pipelineFor(t, MaskMode::Binary, 8, /*stop=*/true));
    try {
        runEpoch(stopping);
        ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(e.what(), HasSubstr("image s101.png: declares 50000×50000 pixels"));
    }
}

TEST(DataHostile, OneThreeChannelMaskAmongGreyOnesIsAMixedTypeInAsStoredMode) {
    TempDir t;
    writeBinarySet(t, 4, 8, 8, 255);
    cv::Mat grey = halfMask(8, 8, 0, 255), rgb;
    cv::merge(std::vector<cv::Mat>{grey, grey, grey}, rgb);
    writeOrFail(t / "masks" / "s102.png", rgb);
    DataGraph g = makeGraph(t, "as_stored", 8);
    const CheckResult dCheck = checkForTraining(g, t);
    const Diagnostic& d = expectDiagnostic(dCheck, codes::kMixedSampleTypes);
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_EQ(d.port, "mask");
    EXPECT_THAT(d.message, HasSubstr("mask s102.png: 3-channel 8-bit, but 3 of the 4 masks read"));
    EXPECT_THAT(d.message, HasSubstr("1-channel 8-bit"));
    // What training does with it: a batch mixing them is refused.
    ImageFolderSource source(pipelineFor(t, MaskMode::AsStored, 8));
    EXPECT_THROW(runEpoch(source), DataError);
    // In binary mode every mask becomes one 0/1 channel: nothing to report.
    DataGraph binary = makeGraph(t, "binary", 8);
    EXPECT_FALSE(checkForTraining(binary, t).has(codes::kMixedSampleTypes));
}

TEST(DataHostile, RgbaImagesForAThreeChannelDatasetAreATypeMismatchWithAFix) {
    TempDir t;
    writeBinarySet(t, 3, 8, 8, 1);
    for (int i = 0; i < 3; ++i)
        writeOrFail(t / "images" / ("s" + std::to_string(100 + i) + ".png"),
                    cv::Mat(8, 8, CV_8UC4, cv::Scalar(10, 20, 30, 255)));
    DataGraph g = makeGraph(t, "binary", 8);
    // The editor shows the data as it is; a check for training compares it
    // with what the engine will be built for.
    EXPECT_FALSE(checkForTraining(g, t, false).hasErrors());
    CheckResult r = checkForTraining(g, t);
    const Diagnostic& d = expectDiagnostic(r, codes::kDatasetTypeMismatch);
    EXPECT_THAT(d.message, HasSubstr("the data gives images N×8×8×4 u8"));
    EXPECT_THAT(d.message, HasSubstr("its attributes declare N×8×8×3 u8"));
    ASSERT_EQ(d.fixes.size(), 1u);
    EXPECT_EQ(d.fixes[0].description, "Set channels=4 on 'data' (the data's types)");
    ASSERT_TRUE(applyEdits(g.b.graph, d.fixes[0].edits).ok);
    CheckResult after = checkForTraining(g, t);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
}

TEST(DataHostile, BinaryModeRefusesARampWarnsOnNoiseAndTakesTwoLevels) {
    TempDir t;
    writeBinarySet(t, 4, 16, 16, 255);
    DataGraph g = makeGraph(t, "binary", 16);
    EXPECT_FALSE(checkForTraining(g, t).has(codes::kMaskNotBinary));
    // 0/1, 0/255 and 16-bit 0/65535 masks are all two levels.
    writeOrFail(t / "masks" / "s101.png", halfMask(16, 16, 0, 1));
    ASSERT_TRUE(
        cv::imwrite((t / "masks" / "s102.png").string(), halfMask(16, 16, 0, 65535, CV_16UC1)));
    EXPECT_FALSE(checkForTraining(g, t).has(codes::kMaskNotBinary))
        << codesOf(checkForTraining(g, t));

    // Lossy noise: a few faint values near 0 become foreground.
    cv::Mat noisy = halfMask(16, 16, 0, 255);
    noisy.at<std::uint8_t>(0, 0) = 3;
    noisy.at<std::uint8_t>(1, 0) = 2;
    noisy.at<std::uint8_t>(0, 15) = 250;
    writeOrFail(t / "masks" / "s103.png", noisy);
    const CheckResult warningCheck = checkForTraining(g, t);
    const Diagnostic& warning = expectDiagnostic(warningCheck, codes::kMaskNotBinary);
    EXPECT_EQ(warning.severity, Severity::Warning);
    EXPECT_THAT(warning.message, HasSubstr("mask s103.png: holds 5 values near 0 and 255"));
    EXPECT_THAT(warning.message, HasSubstr("0.8% of its pixels are faint (1 to 31)"));

    // A ramp: 16 values, 75% of the pixels far from both ends.
    cv::Mat ramp(16, 16, CV_8UC1);
    for (int y = 0; y < 16; ++y)
        for (int x = 0; x < 16; ++x)
            ramp.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(x * 17);
    writeOrFail(t / "masks" / "s100.png", ramp);
    const CheckResult errorCheck = checkForTraining(g, t);
    const Diagnostic& error = expectDiagnostic(errorCheck, codes::kMaskNotBinary);
    EXPECT_EQ(error.severity, Severity::Error);
    EXPECT_EQ(error.port, "mask");
    EXPECT_THAT(error.message,
                HasSubstr("mask s100.png: holds 16 values from 0 to 255 and 75% of its pixels"));
    EXPECT_THAT(error.message, HasSubstr("(2 of 4 masks read hold more than two values)"));
    // Only binary mode cares: as stored, the values are what they are.
    DataGraph asStored = makeGraph(t, "as_stored", 16);
    EXPECT_FALSE(checkForTraining(asStored, t).has(codes::kMaskNotBinary));
}

TEST(DataHostile, PaletteIndicesPastThePaletteAreAnErrorNamingTheFile) {
    TempDir t;
    writeBinarySet(t, 3, 8, 8, 1);
    cv::Mat indices(8, 8, CV_8UC1);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            indices.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(x % 7); // 0..6, palette of 4
    for (int i = 0; i < 3; ++i)
        writeBytes(t / "masks" / ("s" + std::to_string(100 + i) + ".png"),
                   palettePng(i == 1 ? indices : cv::Mat(indices / 2), 4));
    // libpng itself reads them without a word.
    const ImageReadResult read = readMaskImage(t / "masks" / "s101.png");
    ASSERT_TRUE(read.ok()) << read.error;
    EXPECT_EQ(read.palette.size(), 4u);
    for (const std::string mode : {"class_index", "as_stored"}) {
        DataGraph g = makeGraph(t, mode, 8);
        const CheckResult dCheck = checkForTraining(g, t);
        const Diagnostic& d = expectDiagnostic(dCheck, codes::kMaskPaletteIndex);
        EXPECT_EQ(d.severity, Severity::Error);
        EXPECT_EQ(
            d.message,
            "mask s101.png: palette indices up to 6, but its palette has 4 entries (24 pixels use "
            "an index past it); 1 mask like this — the file is damaged or was written with a cut "
            "palette")
            << mode;
    }
}

TEST(DataHostile, NoReadablePairIsAnEmptyDatasetLikeTheTrainingRefusal) {
    TempDir t;
    writeBinarySet(t, 2, 8, 8, 1);
    writeBytes(t / "images" / "s100.png", "not an image");
    writeBytes(t / "images" / "s101.png", bombPng(40000, 40000));
    DataGraph g = makeGraph(t, "binary", 8);
    const CheckResult dCheck = checkForTraining(g, t);
    const Diagnostic& d = expectDiagnostic(dCheck, codes::kDatasetEmpty);
    EXPECT_EQ(d.severity, Severity::Error);
    EXPECT_THAT(
        d.message,
        HasSubstr("none of its 2 pairs can be read — image s101.png: declares 40000×40000"));
    // Skipping, the pipeline leaves both out before the split, and has nothing.
    try {
        ImageFolderSource source(pipelineFor(t, MaskMode::Binary, 8));
        ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
        EXPECT_THAT(
            e.what(),
            HasSubstr("none of the 2 image/mask pairs can be read; the first: image s100.png: "
                      "not a PNG, JPEG, BMP or TIFF file"));
    }
}

TEST(DataHostile, AFileVanishingDuringTrainingIsALocatedDataError) {
    TempDir t;
    writeBinarySet(t, 4, 8, 8, 1);
    ImageFolderSource source(pipelineFor(t, MaskMode::Binary, 8, /*stop=*/true));
    std::filesystem::remove(t / "masks" / "s102.png");
    try {
        runEpoch(source);
        ADD_FAILURE() << "no DataError";
    } catch (const DataError& e) {
        EXPECT_EQ(std::string(e.what()),
                  "mask s102.png: file does not exist or is not a regular file");
    }
}

TEST(DataHostile, SkippedFilesAreLeftOutBeforeTheSplitSoValidationKeepsReadableSamples) {
    TempDir t;
    writeBinarySet(t, 4, 8, 8, 1);
    writeBytes(t / "images" / "s101.png", bombPng(50000, 50000));
    PipelineOptions o = pipelineFor(t, MaskMode::Binary, 8);
    o.validationFraction = 0.25;
    for (std::uint64_t seed = 0; seed < 8; ++seed) { // whichever sample the split would have picked
        o.seed = seed;
        ImageFolderSource source(o);
        EXPECT_EQ(source.trainSize() + source.validationSize(), 3u);
        ASSERT_EQ(source.validationBatchCount(), 1u);
        EXPECT_NO_THROW((void)source.validationBatch(0));
        runEpoch(source);
        ASSERT_EQ(source.problems().size(), 1u);
        EXPECT_THAT(source.problems()[0].reason,
                    HasSubstr("image s101.png: declares 50000×50000 pixels"));
    }
}
