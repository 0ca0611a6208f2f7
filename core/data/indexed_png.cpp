#include "data/indexed_png.hpp"

#include "data/image_header.hpp"
#include "util/str_cat.hpp"

#include <array>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <png.h>

namespace segforge::core {
namespace {

struct MemoryReader {
    const unsigned char* data;
    std::size_t size;
    std::size_t pos;
    char message[200];
};

void readFromMemory(png_structp png, png_bytep out, std::size_t n) {
    auto* r = static_cast<MemoryReader*>(png_get_io_ptr(png));
    if (n > r->size - r->pos)
        png_error(png, "the file is truncated");
    std::memcpy(out, r->data + r->pos, n);
    r->pos += n;
}

[[noreturn]] void onError(png_structp png, png_const_charp message) {
    auto* r = static_cast<MemoryReader*>(png_get_error_ptr(png));
    std::snprintf(r->message, sizeof r->message, "%s", message);
    png_longjmp(png, 1);
}

void onWarning(png_structp, png_const_charp) {}

/// libpng reports errors by longjmp, so nothing with a destructor may live in
/// this frame: the caller owns the buffers, this function only fills them.
bool decodeIndices(MemoryReader* reader, unsigned char* out, png_uint_32 width, png_uint_32 height,
                   png_color* palette, int* paletteSize) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, onError, onWarning);
    if (!png) {
        std::snprintf(reader->message, sizeof reader->message, "libpng could not start");
        return false;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_read_struct(&png, nullptr, nullptr);
        std::snprintf(reader->message, sizeof reader->message, "libpng could not start");
        return false;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, nullptr);
        return false;
    }
    png_set_read_fn(png, reader, readFromMemory);
    // The caller allocated exactly width×height from the checked header: any
    // other size is an error, and no ancillary chunk (text, ICC profile) may
    // inflate to more than 1 MiB or come by the thousand.
    png_set_user_limits(png, width, height);
    png_set_chunk_malloc_max(png, png_alloc_size_t{1} << 20);
    png_set_chunk_cache_max(png, 128);
    png_read_info(png, info);
    png_uint_32 w = 0, h = 0;
    int depth = 0, colour = 0;
    png_get_IHDR(png, info, &w, &h, &depth, &colour, nullptr, nullptr, nullptr);
    if (colour != PNG_COLOR_TYPE_PALETTE || w != width || h != height)
        png_error(png, "the header changed while reading");
    png_colorp plte = nullptr;
    int count = 0;
    if (png_get_PLTE(png, info, &plte, &count) != PNG_INFO_PLTE || count <= 0 || count > 256)
        png_error(png, "the palette (PLTE chunk) is missing");
    std::memcpy(palette, plte, static_cast<std::size_t>(count) * sizeof(png_color));
    *paletteSize = count;
    if (depth < 8)
        png_set_packing(png); // 1/2/4-bit indices to one byte each
    const int passes = png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_rowbytes(png, info) != w)
        png_error(png, "unexpected row size");
    for (int pass = 0; pass < passes; ++pass)
        for (png_uint_32 y = 0; y < h; ++y)
            png_read_row(png, out + static_cast<std::size_t>(y) * w, nullptr);
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

bool indexedHeader(std::span<const std::uint8_t> b) {
    static constexpr unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return b.size() >= 26 && std::memcmp(b.data(), kSig, 8) == 0 &&
           std::memcmp(&b[12], "IHDR", 4) == 0 && b[25] == PNG_COLOR_TYPE_PALETTE;
}

} // namespace

bool isIndexedPng(std::span<const std::uint8_t> bytes) {
    return indexedHeader(bytes);
}

bool isIndexedPng(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::array<std::uint8_t, 32> bytes{};
    in.read(reinterpret_cast<char*>(bytes.data()), bytes.size());
    return in.gcount() >= 26 &&
           indexedHeader(std::span(bytes.data(), static_cast<std::size_t>(in.gcount())));
}

IndexedPng readIndexedPng(std::span<const std::uint8_t> bytes, const ImageLimits& limits) {
    IndexedPng r;
    if (!indexedHeader(bytes)) {
        r.error = "not a palette (indexed) PNG file";
        return r;
    }
    const ParsedHeader parsed = parseImageHeader(bytes, r.error);
    if (parsed.status != HeaderParse::Ok) {
        if (r.error.empty())
            r.error = "the file is truncated inside its header";
        return r;
    }
    if (std::string e = pixelLimitError(parsed.header, limits); !e.empty()) {
        r.error = std::move(e);
        r.tooLarge = true;
        return r;
    }
    const auto width = static_cast<std::uint32_t>(parsed.header.width);
    const auto height = static_cast<std::uint32_t>(parsed.header.height);
    if (parsed.minFileBytes > bytes.size()) {
        r.error = strCat("declares ", width, "×", height, " pixels, which need a file of at least ",
                         parsed.minFileBytes, " bytes, but it has ", bytes.size(),
                         " (truncated or forged)");
        return r;
    }
    cv::Mat indices;
    try {
        indices.create(static_cast<int>(height), static_cast<int>(width), CV_8UC1);
    } catch (const std::exception&) { // cv::Exception or std::bad_alloc
        r.error = strCat("not enough memory for its ", width, "×", height, " pixels");
        return r;
    }
    png_color palette[256];
    int paletteSize = 0;
    MemoryReader reader{bytes.data(), bytes.size(), 0, {}};
    if (!decodeIndices(&reader, indices.data, width, height, palette, &paletteSize)) {
        r.error = strCat("libpng could not decode it: ", reader.message);
        return r;
    }
    r.indices = indices;
    r.palette.reserve(static_cast<std::size_t>(paletteSize));
    for (int k = 0; k < paletteSize; ++k)
        r.palette.push_back({palette[k].red, palette[k].green, palette[k].blue});
    return r;
}

IndexedPng readIndexedPng(const std::filesystem::path& path, const ImageLimits& limits) {
    IndexedPng r;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        r.error = "cannot open the file";
        return r;
    }
    const std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                          std::istreambuf_iterator<char>());
    return readIndexedPng(bytes, limits);
}

} // namespace segforge::core
