#include "data/indexed_png.hpp"

#include "util/str_cat.hpp"

#include <png.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

namespace segforge::core {
namespace {

// Larger than any mask a U-Net trains on, small enough that a forged header
// cannot make us allocate gigabytes.
constexpr std::uint64_t kMaxPixels = std::uint64_t{1} << 28;

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

std::uint32_t bigEndian32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) | p[3];
}

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
    png_set_user_limits(png, width, height);
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
    for (int pass = 0; pass < passes; ++pass)
        for (png_uint_32 y = 0; y < h; ++y)
            png_read_row(png, out + static_cast<std::size_t>(y) * w, nullptr);
    png_read_end(png, nullptr);
    png_destroy_read_struct(&png, &info, nullptr);
    return true;
}

std::vector<unsigned char> readBytes(const std::filesystem::path& path, std::size_t limit) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return {};
    std::vector<unsigned char> bytes(limit);
    in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(limit));
    bytes.resize(static_cast<std::size_t>(in.gcount()));
    return bytes;
}

bool indexedHeader(const std::vector<unsigned char>& b) {
    static constexpr unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    return b.size() >= 26 && std::memcmp(b.data(), kSig, 8) == 0 && std::memcmp(&b[12], "IHDR", 4) == 0 &&
           b[25] == PNG_COLOR_TYPE_PALETTE;
}

} // namespace

bool isIndexedPng(const std::filesystem::path& path) { return indexedHeader(readBytes(path, 32)); }

IndexedPng readIndexedPng(const std::filesystem::path& path) {
    IndexedPng r;
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        r.error = "cannot open the file";
        return r;
    }
    const std::vector<unsigned char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (!indexedHeader(bytes)) {
        r.error = "not a palette (indexed) PNG file";
        return r;
    }
    const std::uint32_t width = bigEndian32(&bytes[16]);
    const std::uint32_t height = bigEndian32(&bytes[20]);
    if (width == 0 || height == 0 || width > 0x7fffffffu || height > 0x7fffffffu ||
        std::uint64_t{width} * height > kMaxPixels) {
        r.error = strCat("PNG header gives an invalid or too large size ", width, "×", height);
        return r;
    }
    cv::Mat indices(static_cast<int>(height), static_cast<int>(width), CV_8UC1);
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

} // namespace segforge::core
