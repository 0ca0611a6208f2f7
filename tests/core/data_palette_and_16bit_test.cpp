// Data that OpenCV alone would misread: palette PNG masks (their indices are
// the classes, Pascal VOC style) and 16-bit images and masks (u16 on the
// wires, not widened to i32).

#include "data/data_probe.hpp"
#include "data/image_pipeline.hpp"
#include "data/indexed_png.hpp"
#include "data_fixtures.hpp"
#include "graph_builder.hpp"
#include "tensor/tensor.hpp"

#include <cmath>
#include <gmock/gmock.h>
#include <png.h>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

/// Writes a palette PNG with libpng; libpng packs ≤ 16 colours into 1-, 2-
/// or 4-bit indices, so small palettes also exercise the unpacking.
void writePalettePng(const std::filesystem::path& p, const cv::Mat& indices,
                     const std::vector<Colour>& palette) {
    png_image image{};
    image.version = PNG_IMAGE_VERSION;
    image.width = static_cast<png_uint_32>(indices.cols);
    image.height = static_cast<png_uint_32>(indices.rows);
    image.format = PNG_FORMAT_RGB_COLORMAP;
    image.colormap_entries = static_cast<png_uint_32>(palette.size());
    std::vector<std::uint8_t> colours;
    for (const Colour& c : palette)
        colours.insert(colours.end(), c.begin(), c.end());
    ASSERT_TRUE(
        png_image_write_to_file(&image, p.c_str(), 0, indices.data, indices.cols, colours.data()))
        << image.message;
}

// Deliberately not in sorted colour order: green (0,128,0) sorts before red.
const std::vector<Colour> kPalette{{0, 0, 0}, {255, 0, 0}, {0, 128, 0}, {255, 255, 255}};

/// Index pattern: left third 0, middle third 1, right third 2, top row 3.
cv::Mat indexPattern(int h, int w) {
    cv::Mat m(h, w, CV_8UC1);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            m.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(y == 0 ? 3 : (3 * x) / w);
    return m;
}

/// The Pascal VOC colour map: 256 entries, class k's colour from k's bits.
std::vector<Colour> vocPalette() {
    std::vector<Colour> p(256);
    for (int k = 0; k < 256; ++k) {
        int c = k;
        std::uint8_t r = 0, g = 0, b = 0;
        for (int j = 0; j < 8; ++j, c >>= 3) {
            r |= static_cast<std::uint8_t>(((c >> 0) & 1) << (7 - j));
            g |= static_cast<std::uint8_t>(((c >> 1) & 1) << (7 - j));
            b |= static_cast<std::uint8_t>(((c >> 2) & 1) << (7 - j));
        }
        p[static_cast<std::size_t>(k)] = {r, g, b};
    }
    return p;
}

void writePaletteSet(const TempDir& t, int n, int h, int w) {
    const auto images = t.dir("images");
    const auto masks = t.dir("masks");
    for (int i = 0; i < n; ++i) {
        writeOrFail(images / ("p" + std::to_string(i) + ".png"), patternImage(h, w, i));
        writePalettePng(masks / ("p" + std::to_string(i) + ".png"), indexPattern(h, w), kPalette);
    }
}

PipelineOptions allTraining(const TempDir& t, MaskMode mode) {
    PipelineOptions o;
    o.spec = {t / "images", t / "masks"};
    o.maskMode = mode;
    o.batchSize = 2;
    o.validationFraction = 0;
    o.prefetch = false;
    return o;
}

} // namespace

TEST(IndexedPng, MasksReadAsIndicesInTheFilesOrderImagesAsColours) {
    TempDir t;
    const cv::Mat indices = indexPattern(5, 9);
    writePalettePng(t / "m.png", indices, kPalette);
    ASSERT_TRUE(isIndexedPng(t / "m.png"));

    ImageReadResult mask = readMaskImage(t / "m.png");
    ASSERT_TRUE(mask.ok()) << mask.error;
    ASSERT_EQ(mask.image.type(), CV_8UC1);
    EXPECT_EQ(cv::countNonZero(mask.image != indices), 0);
    EXPECT_EQ(mask.palette, kPalette);

    ImageReadResult image = readImage(t / "m.png"); // as an image it is the colours
    ASSERT_TRUE(image.ok()) << image.error;
    ASSERT_EQ(image.image.type(), CV_8UC3);
    EXPECT_EQ(image.image.at<cv::Vec3b>(2, 5), cv::Vec3b(255, 0, 0)); // index 1: red
    EXPECT_EQ(image.image.at<cv::Vec3b>(2, 8), cv::Vec3b(0, 128, 0));

    std::string why;
    auto header = readImageHeader(t / "m.png", &why);
    ASSERT_TRUE(header) << why;
    EXPECT_TRUE(header->indexed);
}

TEST(IndexedPng, FullVocPaletteAndBadFilesAreErrorsNotCrashes) {
    TempDir t;
    cv::Mat indices(6, 7, CV_8UC1, cv::Scalar(15));
    indices.row(0).setTo(255);
    writePalettePng(t / "voc.png", indices, vocPalette());
    IndexedPng png = readIndexedPng(t / "voc.png");
    ASSERT_TRUE(png.ok()) << png.error;
    EXPECT_EQ(png.palette.size(), 256u);
    EXPECT_EQ(png.palette[15], (Colour{192, 128, 128})); // VOC 'person'
    EXPECT_EQ(png.indices.at<std::uint8_t>(0, 3), 255);
    EXPECT_EQ(png.indices.at<std::uint8_t>(4, 3), 15);

    truncateFile(t / "voc.png", 60);
    ImageReadResult cut = readMaskImage(t / "voc.png");
    EXPECT_FALSE(cut.ok());
    EXPECT_THAT(cut.error, HasSubstr("libpng could not decode it"));

    writeOrFail(t / "rgb.png", patternImage(4, 4));
    EXPECT_FALSE(isIndexedPng(t / "rgb.png"));
    EXPECT_THAT(readIndexedPng(t / "rgb.png").error, HasSubstr("not a palette"));
    EXPECT_TRUE(readMaskImage(t / "rgb.png").ok()); // plain files still read through OpenCV
}

TEST(IndexedPng, ProbeSeesOneChannelOfIndices) {
    TempDir t;
    writePaletteSet(t, 3, 6, 9);
    DataProbe p = probeDataset({t / "images", t / "masks"});
    EXPECT_TRUE(p.maskIndexed);
    EXPECT_EQ(p.masks.channels, 1);
    EXPECT_EQ(p.masks.dtype(), DType::UInt8);
    EXPECT_EQ(p.maskValuesText(), "{0, 1, 2, 3}");
    EXPECT_EQ(p.maskHistogram.at(3), 3 * 9); // the top rows
    EXPECT_TRUE(p.maskColours.empty());
}

TEST(IndexedPng, PipelineKeepsIndicesOrMapsAnExplicitPalette) {
    TempDir t;
    writePaletteSet(t, 2, 6, 9);
    const cv::Mat want = indexPattern(6, 9);
    for (MaskMode mode : {MaskMode::Palette, MaskMode::ClassIndex, MaskMode::AsStored}) {
        ImageFolderSource src(allTraining(t, mode));
        Batch b = src.trainBatch(0);
        ASSERT_EQ(b.mask.describe(), "2×6×9×1 u8") << maskModeName(mode);
        for (int i = 0; i < 6 * 9; ++i)
            ASSERT_EQ(b.mask.u8()[54 + i], want.data[i]) << maskModeName(mode) << " pixel " << i;
    }
    // An explicit palette names classes by colour: white 0, green 1, red 2, black 3.
    PipelineOptions o = allTraining(t, MaskMode::Palette);
    o.palette = {{255, 255, 255}, {0, 128, 0}, {255, 0, 0}, {0, 0, 0}};
    ImageFolderSource src(o);
    Batch b = src.trainBatch(0);
    const std::uint8_t* m = b.mask.u8();
    EXPECT_EQ(m[0], 0);     // top row: index 3, white
    EXPECT_EQ(m[9 + 0], 3); // index 0, black
    EXPECT_EQ(m[9 + 4], 2); // index 1, red
    EXPECT_EQ(m[9 + 8], 1); // index 2, green
    // Binary: any index but 0 is foreground.
    ImageFolderSource binary(allTraining(t, MaskMode::Binary));
    EXPECT_EQ(binary.trainBatch(0).mask.u8()[9 + 4], 1);
    EXPECT_EQ(binary.trainBatch(0).mask.u8()[9 + 0], 0);
}

TEST(IndexedPng, VocBorderIsAMaskValueRangeErrorForTwoClasses) {
    TempDir t;
    const auto images = t.dir("images");
    const auto masks = t.dir("masks");
    for (int i = 0; i < 2; ++i) {
        writeOrFail(images / ("v" + std::to_string(i) + ".png"), patternImage(16, 16, i));
        cv::Mat m = halfMask(16, 16, 0, 1);
        m.row(0).setTo(255);
        writePalettePng(masks / ("v" + std::to_string(i) + ".png"), m, vocPalette());
    }
    GraphBuilder b;
    NodeId data = b.add("Dataset", "data",
                        {{"images", images.string()},
                         {"masks", masks.string()},
                         {"mask_mode", std::string("palette")}});
    NodeId scale = b.then("Rescale", "scale", out(data, "image"), {{"scale", 1.0 / 255.0}});
    NodeId head = b.then("Conv2D", "head", out(scale),
                         {{"filters", std::int64_t{2}},
                          {"kernel_size", std::int64_t{1}},
                          {"activation", std::string("softmax")}});
    NodeId loss = b.add("SparseCategoricalCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(data, "mask"), {loss, "target"});
    CheckOptions o;
    o.dataProbes[data] = probeDataset({images, masks});
    CheckResult r = checkGraph(b.graph, o);
    EXPECT_EQ(r.typeOf(out(data, "mask"))->toString(), "N×16×16×1 u8");
    const Diagnostic& d = expectDiagnostic(r, codes::kMaskValueRange);
    EXPECT_EQ(d.node, loss);
    EXPECT_THAT(d.message, HasSubstr("{0, 1, 255}"));
    EXPECT_THAT(d.message, HasSubstr("Received a label value of 255"));
    EXPECT_FALSE(r.has(codes::kMaskChannels)) << codesOf(r);
}

TEST(SixteenBit, ImagesAndMasksBatchAsU16WithTheirValues) {
    TempDir t;
    const auto images = t.dir("images");
    const auto masks = t.dir("masks");
    for (int i = 0; i < 2; ++i) {
        cv::Mat img(4, 5, CV_16UC3,
                    cv::Scalar(100, 30000 + i, 65535)); // RGB after the BGR swap: 65535, …, 100
        ASSERT_TRUE(cv::imwrite((images / ("s" + std::to_string(i) + ".png")).string(), img));
        ASSERT_TRUE(cv::imwrite((masks / ("s" + std::to_string(i) + ".png")).string(),
                                halfMask(4, 5, 2, 300 + i, CV_16UC1)));
    }
    DataProbe p = probeDataset({images, masks});
    EXPECT_EQ(p.images.dtype(), DType::UInt16);
    EXPECT_EQ(p.images.range.hi, 65535);
    EXPECT_EQ(p.masks.dtype(), DType::UInt16);

    PipelineOptions o;
    o.spec = {images, masks};
    o.maskMode = MaskMode::ClassIndex;
    o.batchSize = 2;
    o.validationFraction = 0;
    ImageFolderSource src(o);
    Batch b = src.trainBatch(0);
    EXPECT_EQ(b.image.describe(), "2×4×5×3 u16");
    EXPECT_EQ(b.mask.describe(), "2×4×5×1 u16");
    EXPECT_EQ(b.image.u16()[0], 65535);
    EXPECT_EQ(b.image.u16()[2], 100);
    const int first = std::stoi(b.names[0].substr(1));
    EXPECT_EQ(b.image.u16()[1], 30000 + first);
    EXPECT_EQ(b.mask.u16()[4], 300 + first); // right half of the top row
    EXPECT_EQ(b.mask.u16()[0], 2);
}

namespace {

/// Two 16×16 grey uint16 images (values 1000 and 2000) with 0/255 uint8 half masks.
void writeU16ImagesWithU8Masks(const std::filesystem::path& images,
                               const std::filesystem::path& masks) {
    for (int i = 0; i < 2; ++i) {
        ASSERT_TRUE(cv::imwrite((images / ("s" + std::to_string(i) + ".png")).string(),
                                cv::Mat(16, 16, CV_16UC1, cv::Scalar(1000 * (i + 1)))));
        writeOrFail(masks / ("s" + std::to_string(i) + ".png"), halfMask(16, 16, 0, 255));
    }
}

} // namespace

TEST(SixteenBit, CheckerShowsU16AndOffersRescaleBy65535) {
    TempDir t;
    const auto images = t.dir("images");
    const auto masks = t.dir("masks");
    ASSERT_NO_FATAL_FAILURE(writeU16ImagesWithU8Masks(images, masks));
    GraphBuilder b;
    NodeId data = b.add("Dataset", "data",
                        {{"images", images.string()},
                         {"masks", masks.string()},
                         {"mask_mode", std::string("binary")}});
    NodeId head = b.then("Conv2D", "head", out(data, "image"),
                         {{"filters", std::int64_t{1}},
                          {"kernel_size", std::int64_t{1}},
                          {"activation", std::string("sigmoid")}});
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    NodeId cast =
        b.then("Cast", "mask_f32", out(data, "mask"), {{"dtype", std::string("float32")}});
    b.wire(out(cast), {loss, "target"});
    CheckOptions o;
    o.dataProbes[data] = probeDataset({images, masks});
    Graph& g = b.graph;
    CheckResult r = checkGraph(g, o);
    EXPECT_EQ(r.typeOf(out(data, "image"))->toString(), "N×16×16×1 u16");
    const Diagnostic& d = expectDiagnostic(r, codes::kDTypeMismatch);
    EXPECT_EQ(d.node, head);
    ASSERT_FALSE(d.fixes.empty());
    EXPECT_THAT(d.fixes[0].description, HasSubstr("Rescale(scale=1/65535)"));
    EditOutcome applied = applyEdits(g, d.fixes[0].edits);
    ASSERT_TRUE(applied.ok) << applied.error;
    CheckResult after = checkGraph(g, o);
    EXPECT_FALSE(after.hasErrors()) << codesOf(after);
    const Node* rescale = nullptr;
    for (const auto& [id, n] : g.nodes())
        if (n.op == "Rescale")
            rescale = &n;
    ASSERT_NE(rescale, nullptr);
    EXPECT_NEAR(std::get<double>(rescale->attrs.at("scale")), 1.0 / 65535.0, 1e-15);
}

TEST(SixteenBit, RescaleBy255OnU16IsAWarningWithTheRightScaleAsFix) {
    TempDir t;
    const auto images = t.dir("images");
    const auto masks = t.dir("masks");
    ASSERT_NO_FATAL_FAILURE(writeU16ImagesWithU8Masks(images, masks));
    GraphBuilder b;
    NodeId data = b.add("Dataset", "data",
                        {{"images", images.string()},
                         {"masks", masks.string()},
                         {"mask_mode", std::string("binary")}});
    NodeId scale = b.then("Rescale", "scale", out(data, "image"), {{"scale", 1.0 / 255.0}});
    NodeId head = b.then("Conv2D", "head", out(scale),
                         {{"filters", std::int64_t{1}},
                          {"kernel_size", std::int64_t{1}},
                          {"activation", std::string("sigmoid")}});
    NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    NodeId maskScale = b.then("Rescale", "mask_scale", out(data, "mask"), {{"scale", 1.0 / 255.0}});
    b.wire(out(maskScale), {loss, "target"});
    CheckOptions o;
    o.dataProbes[data] = probeDataset({images, masks});
    Graph& g = b.graph;
    CheckResult r = checkGraph(g, o);
    EXPECT_FALSE(r.hasErrors()) << codesOf(r);
    // The images (u16, up to 2000 here) reach 7.8; the u8 mask (0/255) reaches 1: no finding.
    const Diagnostic& d = expectDiagnostic(r, codes::kRescaleRange);
    EXPECT_EQ(d.node, scale);
    EXPECT_EQ(d.severity, Severity::Warning);
    EXPECT_THAT(d.message, HasSubstr("uint16 values up to 2000"));
    EXPECT_THAT(d.message, HasSubstr("1/65535"));
    ASSERT_EQ(d.fixes.size(), 1u);
    EditOutcome applied = applyEdits(g, d.fixes[0].edits);
    ASSERT_TRUE(applied.ok) << applied.error;
    EXPECT_NEAR(std::get<double>(g.findNode(scale)->attrs.at("scale")), 1.0 / 65535.0, 1e-15);
    CheckResult after = checkGraph(g, o);
    for (const Diagnostic& other : after.diagnostics)
        EXPECT_NE(other.code, codes::kRescaleRange) << other.message;
}

TEST(TensorValues, ValueAtReadsEveryDTypeAndSetValueAtSaturates) {
    Tensor u16(Shape{1, 1, 1, 3}, DType::UInt16);
    u16.setValueAt(0, 65535.9);
    u16.setValueAt(1, -3.0);
    u16.setValueAt(2, 70000.0);
    EXPECT_EQ(u16.u16()[0], 65535);
    EXPECT_EQ(u16.u16()[1], 0);
    EXPECT_EQ(u16.u16()[2], 65535);
    EXPECT_EQ(u16.valueAt(0), 65535.0);
    EXPECT_EQ(u16.describe(), "1×1×1×3 u16");

    Tensor u8(Shape{1, 1, 1, 3}, DType::UInt8);
    u8.setValueAt(0, 2.9);
    u8.setValueAt(1, -2.9);
    u8.setValueAt(2, std::nan(""));
    EXPECT_EQ(u8.u8()[0], 2);
    EXPECT_EQ(u8.u8()[1], 0);
    EXPECT_EQ(u8.u8()[2], 0);

    Tensor i32(Shape{1, 1, 1, 2}, DType::Int32);
    i32.setValueAt(0, -7.8);
    i32.setValueAt(1, 1e12);
    EXPECT_EQ(i32.valueAt(0), -7.0);
    EXPECT_EQ(i32.i32()[1], 2147483647);

    Tensor flag(Shape{1, 1, 1, 2}, DType::Bool);
    flag.setValueAt(0, 0.25);
    EXPECT_EQ(flag.valueAt(0), 1.0);
    EXPECT_EQ(flag.valueAt(1), 0.0);
    EXPECT_EQ(dtypeSize(DType::UInt16), 2);
    EXPECT_EQ(parseDType("u16"), DType::UInt16);
    EXPECT_EQ(parseDType("uint16"), DType::UInt16);
    EXPECT_TRUE(isIntegral(DType::UInt16));
}
