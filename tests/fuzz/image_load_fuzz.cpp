// Fuzz target for the image and mask loading path, from memory (nothing is
// written to disk): header parsing, decoding under a pixel limit, palette PNGs
// read as indices, and every mask mode. Any bytes must give an image or a
// message — never a crash, a hang, an allocation beyond the limit, or an image
// whose size differs from what its header declared.

#include "data/image_io.hpp"
#include "data/indexed_png.hpp"
#include "data/mask_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

namespace {

using namespace segforge::core;

// Small, so that a few kilobytes of input never decode to more than a few
// megabytes: a larger declared size must be refused from the header.
constexpr std::uint64_t kFuzzMaxPixels = std::uint64_t{1} << 18;

void require(bool condition, const char* what) {
    if (!condition) {
        std::fprintf(stderr, "image_load_fuzz: broken invariant: %s\n", what);
        std::abort();
    }
}

/// What every successful read must satisfy, whatever the bytes were.
void checkRead(const ImageReadResult& r, const std::optional<ImageHeader>& header) {
    if (!r.ok()) {
        require(r.image.empty(), "a failed read returns no image");
        require(!r.error.empty(), "a failed read says why");
        // The decoder allocating for a size other than the one our parser
        // checked against the limit would be a way around the limit.
        require(r.error.find("but its header declares") == std::string::npos,
                "the header parser and the decoder agree on the size");
        return;
    }
    require(header.has_value(), "a decoded image has a readable header");
    require(r.image.cols == header->width && r.image.rows == header->height,
            "the decoded size is the size the header declared");
    require(static_cast<std::uint64_t>(r.image.total()) <= kFuzzMaxPixels, "the pixel limit holds");
    const int c = r.image.channels();
    require(c == 1 || c == 3 || c == 4, "1, 3 or 4 channels");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    const ImageLimits limits{kFuzzMaxPixels};
    std::string error;
    const std::optional<ImageHeader> header = readImageHeader(bytes, &error);
    require(header.has_value() || !error.empty(), "a refused header says why");
    if (header)
        (void)pixelLimitError(*header, limits);

    checkRead(readImage(bytes, limits), header);
    const ImageReadResult mask = readMaskImage(bytes, limits);
    checkRead(mask, header);
    if (isIndexedPng(bytes)) {
        const IndexedPng png = readIndexedPng(bytes, limits);
        require(png.ok() == mask.ok(), "the palette reader agrees with readMaskImage");
    }
    if (!mask.ok())
        return 0;
    std::vector<Colour> filePalette(mask.palette.begin(), mask.palette.end());
    for (MaskMode mode :
         {MaskMode::AsStored, MaskMode::Binary, MaskMode::ClassIndex, MaskMode::Palette}) {
        const MaskDecodeResult decoded = decodeMask(mask.image, mode, {}, filePalette);
        require(decoded.ok() != decoded.mask.empty(), "a mask or a message");
    }
    // An explicit palette: palette PNGs expand their indices (past-the-end ones
    // are an error), colour masks are looked up colour by colour.
    const std::vector<Colour> palette = {{0, 0, 0}, {255, 255, 255}, {255, 0, 0}};
    const MaskDecodeResult mapped = decodeMask(mask.image, MaskMode::Palette, palette, filePalette);
    require(mapped.ok() != mapped.mask.empty(), "a palette mask or a message");
    return 0;
}
