#include "data/image_header.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <array>
#include <limits>
#include <optional>

namespace segforge::core {
namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint32_t bigEndian16(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 8) | p[1];
}
std::uint32_t littleEndian16(const std::uint8_t* p) {
    return (std::uint32_t{p[1]} << 8) | p[0];
}
std::uint32_t bigEndian32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           p[3];
}
std::uint32_t littleEndian32(const std::uint8_t* p) {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           p[0];
}

ParsedHeader bad(std::string& error, std::string why) {
    error = std::move(why);
    return {};
}
ParsedHeader needMore() {
    return {HeaderParse::NeedMore, {}, 0};
}

bool startsWith(Bytes b, std::initializer_list<std::uint8_t> sig) {
    return b.size() >= sig.size() && std::equal(sig.begin(), sig.end(), b.begin());
}

ParsedHeader png(Bytes b, std::string& error) {
    // Signature, then the IHDR chunk: length 13, "IHDR", width, height, depth, colour, …
    if (b.size() < 26)
        return needMore();
    if (bigEndian32(&b[8]) != 13 || std::string(b.begin() + 12, b.begin() + 16) != "IHDR")
        return bad(error, "not a valid PNG file (the IHDR header is missing)");
    ParsedHeader p{HeaderParse::Ok, {}, 0};
    ImageHeader& h = p.header;
    h.format = ImageFormat::Png;
    h.width = bigEndian32(&b[16]);
    h.height = bigEndian32(&b[20]);
    const int depth = b[24];
    const int colour = b[25];
    // Samples per pixel in the file, and the bit depths the PNG standard allows.
    int samples = 0;
    bool depthOk = false;
    switch (colour) {
    case 0:
        samples = 1, h.channels = 1;
        depthOk = depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
        break;
    case 2:
        samples = 3, h.channels = 3;
        depthOk = depth == 8 || depth == 16;
        break;
    case 3: // palette: readImage expands it to colours, readMaskImage keeps the indices
        samples = 1, h.channels = 3, h.indexed = true;
        depthOk = depth == 1 || depth == 2 || depth == 4 || depth == 8;
        break;
    case 4: // grey + alpha decodes as RGBA
        samples = 2, h.channels = 4;
        depthOk = depth == 8 || depth == 16;
        break;
    case 6:
        samples = 4, h.channels = 4;
        depthOk = depth == 8 || depth == 16;
        break;
    default:
        return bad(error, strCat("PNG colour type ", colour, " is invalid"));
    }
    if (!depthOk)
        return bad(error, strCat("PNG bit depth ", depth, " is invalid for colour type ", colour));
    h.bitDepth = depth == 16 ? 16 : 8;
    // The standard caps both sides at 2^31 − 1.
    if (h.width <= 0 || h.height <= 0 || h.width > 0x7fffffff || h.height > 0x7fffffff)
        return bad(error, strCat("PNG header gives an invalid size ", h.width, "×", h.height));
    const std::uint64_t rowBytes =
        1 + (saturatingMultiply(static_cast<std::uint64_t>(h.width), samples * depth) + 7) / 8;
    p.minFileBytes = saturatingMultiply(rowBytes, static_cast<std::uint64_t>(h.height)) / 1032;
    return p;
}

bool isStartOfFrame(std::uint8_t marker) {
    return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

ParsedHeader jpeg(Bytes b, std::string& error) {
    // Walk the marker segments as libjpeg does until the frame header (SOFn).
    std::size_t i = 2;
    while (i + 1 < b.size()) {
        if (b[i] != 0xFF) { // stray bytes between segments: libjpeg skips them too
            ++i;
            continue;
        }
        const std::uint8_t marker = b[i + 1];
        if (marker == 0xFF) { // fill byte
            ++i;
            continue;
        }
        if (marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
            i += 2; // markers without a length
            continue;
        }
        if (marker == 0xD9 || marker == 0xDA)
            return bad(error, "JPEG file has no frame header (scan data or end before it)");
        if (i + 3 >= b.size())
            return needMore();
        const std::size_t length = bigEndian16(&b[i + 2]);
        if (length < 2)
            return bad(error, strCat("JPEG segment length ", length, " is invalid"));
        if (isStartOfFrame(marker)) {
            if (i + 9 >= b.size())
                return needMore();
            ParsedHeader p{HeaderParse::Ok, {}, 0};
            ImageHeader& h = p.header;
            h.format = ImageFormat::Jpeg;
            h.bitDepth = b[i + 4] > 8 ? 16 : 8;
            h.height = bigEndian16(&b[i + 5]);
            h.width = bigEndian16(&b[i + 7]);
            h.channels = b[i + 9] == 1 ? 1 : 3;
            if (h.width == 0 || h.height == 0) // height 0 defers to a DNL marker: unsupported
                return bad(error, strCat("JPEG frame header gives an invalid size ", h.width, "×",
                                         h.height));
            return p;
        }
        i += 2 + length;
    }
    return needMore();
}

ParsedHeader bmp(Bytes b, std::string& error) {
    if (b.size() < 26)
        return needMore();
    const std::uint32_t dibSize = littleEndian32(&b[14]);
    ParsedHeader p{HeaderParse::Ok, {}, 0};
    ImageHeader& h = p.header;
    h.format = ImageFormat::Bmp;
    std::uint32_t bpp = 0;
    std::uint32_t compression = 0;
    if (dibSize == 12) { // OS/2 BITMAPCOREHEADER: 16-bit sides
        h.width = littleEndian16(&b[18]);
        h.height = littleEndian16(&b[20]);
        bpp = littleEndian16(&b[24]);
    } else {
        if (dibSize < 40)
            return bad(error, strCat("BMP info header size ", dibSize, " is invalid"));
        if (b.size() < 34)
            return needMore();
        h.width = static_cast<std::int32_t>(littleEndian32(&b[18]));
        // A negative height marks a top-down bitmap.
        const std::int64_t height = static_cast<std::int32_t>(littleEndian32(&b[22]));
        h.height = height < 0 ? -height : height;
        bpp = littleEndian16(&b[28]);
        compression = littleEndian32(&b[30]);
    }
    if (h.width <= 0 || h.height <= 0)
        return bad(error, strCat("BMP header gives an invalid size ", h.width, "×", h.height));
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32)
        return bad(error, strCat("BMP bit count ", bpp, " is invalid"));
    h.channels = bpp == 32 ? 4 : (bpp == 8 ? 1 : 3);
    h.bitDepth = 8;
    // Uncompressed (BI_RGB) and BI_BITFIELDS bitmaps store every row, padded
    // to 4 bytes; run-length ones can skip pixels, so they have no bound.
    if (compression == 0 || compression == 3) {
        const std::uint64_t rowBytes =
            (saturatingMultiply(static_cast<std::uint64_t>(h.width), bpp) + 31) / 32 * 4;
        p.minFileBytes = saturatingMultiply(rowBytes, static_cast<std::uint64_t>(h.height));
    }
    return p;
}

/// Classic TIFF and BigTIFF: the first image file directory (IFD), which is
/// the page OpenCV decodes.
class TiffReader {
public:
    TiffReader(Bytes b, bool little, bool big)
        : m_b(b)
        , m_little(little)
        , m_big(big) {}

    ParsedHeader parse(std::string& error) {
        const std::uint64_t ifd = m_big ? get(8, 8) : get(4, 4);
        const std::uint64_t countSize = m_big ? 8 : 2;
        const std::uint64_t entrySize = m_big ? 20 : 12;
        if (ifd < 8)
            return bad(error, strCat("TIFF first directory offset ", ifd, " is invalid"));
        if (!has(ifd, countSize))
            return needMore();
        const std::uint64_t count = get(ifd, static_cast<int>(countSize));
        if (count == 0 || count > 65535)
            return bad(error, strCat("TIFF first directory has ", count, " entries"));
        if (!has(ifd + countSize, count * entrySize))
            return needMore();
        std::uint64_t width = 0, height = 0, samples = 1, bits = 1, format = 1, photometric = 1;
        bool seen[6] = {};
        for (std::uint64_t k = 0; k < count; ++k) {
            const std::uint64_t e = ifd + countSize + k * entrySize;
            const std::uint32_t tag = static_cast<std::uint32_t>(get(e, 2));
            std::uint64_t* field = nullptr;
            int slot = 0;
            switch (tag) {
            case 256:
                field = &width, slot = 0;
                break;
            case 257:
                field = &height, slot = 1;
                break;
            case 258:
                field = &bits, slot = 2;
                break;
            case 262:
                field = &photometric, slot = 3;
                break;
            case 277:
                field = &samples, slot = 4;
                break;
            case 339:
                field = &format, slot = 5;
                break;
            default:
                continue;
            }
            if (seen[slot])
                continue; // libtiff ignores a repeated tag; so do we
            seen[slot] = true;
            const auto value = firstValue(e);
            if (!value)
                return m_needMore ? needMore()
                                  : bad(error, strCat("TIFF tag ", tag, " has an invalid type"));
            *field = *value;
        }
        if (!seen[0] || !seen[1] || width == 0 || height == 0)
            return bad(error,
                       strCat("TIFF first image has no valid size (", width, "×", height, ")"));
        ParsedHeader p{HeaderParse::Ok, {}, 0};
        ImageHeader& h = p.header;
        h.format = ImageFormat::Tiff;
        // Beyond any limit either way; clamping keeps the arithmetic in range.
        h.width = static_cast<std::int64_t>(std::min<std::uint64_t>(width, 0xffffffffu));
        h.height = static_cast<std::int64_t>(std::min<std::uint64_t>(height, 0xffffffffu));
        h.channels = photometric == 3 ? 3 : (samples == 1 ? 1 : (samples == 3 ? 3 : 4));
        h.bitDepth = bits <= 8 ? 8 : (bits <= 16 && format != 3 ? 16 : 32);
        return p;
    }

private:
    bool has(std::uint64_t offset, std::uint64_t n) const {
        return offset <= m_b.size() && n <= m_b.size() - offset;
    }
    std::uint64_t get(std::uint64_t offset, int n) const {
        std::uint64_t v = 0;
        for (int k = 0; k < n; ++k) {
            const std::uint64_t byte = m_b[offset + (m_little ? n - 1 - k : k)];
            v = (v << 8) | byte;
        }
        return v;
    }
    /// The first value of a SHORT, LONG or LONG8 entry: inline, or at its offset.
    std::optional<std::uint64_t> firstValue(std::uint64_t entry) {
        const std::uint32_t type = static_cast<std::uint32_t>(get(entry + 2, 2));
        const int size = type == 3 ? 2 : (type == 4 ? 4 : (type == 16 && m_big ? 8 : 0));
        if (size == 0)
            return std::nullopt;
        const std::uint64_t count = m_big ? get(entry + 4, 8) : get(entry + 4, 4);
        const std::uint64_t inlineBytes = m_big ? 8 : 4;
        const std::uint64_t field = entry + (m_big ? 12 : 8);
        if (count == 0)
            return std::nullopt;
        if (saturatingMultiply(count, static_cast<std::uint64_t>(size)) <= inlineBytes)
            return get(field, size);
        const std::uint64_t at = m_big ? get(field, 8) : get(field, 4);
        if (!has(at, static_cast<std::uint64_t>(size))) {
            m_needMore = true;
            return std::nullopt;
        }
        return get(at, size);
    }

    Bytes m_b;
    bool m_little;
    bool m_big;
    bool m_needMore = false;
};

ParsedHeader tiff(Bytes b, std::string& error) {
    const bool little = b[0] == 'I';
    const bool big = (little ? b[2] : b[3]) == 43;
    if (b.size() < (big ? 16u : 8u))
        return needMore();
    if (big && (littleEndian16(&b[4]) != (little ? 8u : 0x0800u) || b[6] != 0 || b[7] != 0))
        return bad(error, "BigTIFF header gives an invalid offset size");
    return TiffReader(b, little, big).parse(error);
}

} // namespace

std::uint64_t saturatingMultiply(std::uint64_t a, std::uint64_t b) {
    std::uint64_t out = 0;
    return __builtin_mul_overflow(a, b, &out) ? std::numeric_limits<std::uint64_t>::max() : out;
}

ParsedHeader parseImageHeader(std::span<const std::uint8_t> b, std::string& error) {
    if (startsWith(b, {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}))
        return png(b, error);
    if (startsWith(b, {0xFF, 0xD8, 0xFF}))
        return jpeg(b, error);
    if (startsWith(b, {'B', 'M'}))
        return bmp(b, error);
    if (startsWith(b, {'I', 'I', 42, 0}) || startsWith(b, {'M', 'M', 0, 42}) ||
        startsWith(b, {'I', 'I', 43, 0}) || startsWith(b, {'M', 'M', 0, 43}))
        return tiff(b, error);
    if (b.size() < 8)
        return bad(error, strCat("not an image: the file has only ", b.size(), " bytes"));
    return bad(error, "not a PNG, JPEG, BMP or TIFF file (unknown signature)");
}

} // namespace segforge::core
