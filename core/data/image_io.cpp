#include "data/image_io.hpp"

#include "data/indexed_png.hpp"
#include "util/str_cat.hpp"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <fstream>
#include <vector>

namespace segforge::core {
namespace {

std::string lowerExtension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

std::uint32_t bigEndian32(const unsigned char* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}
std::uint32_t littleEndian32(const unsigned char* p) {
    return (std::uint32_t{p[3]} << 24) | (std::uint32_t{p[2]} << 16) | (std::uint32_t{p[1]} << 8) |
           std::uint32_t{p[0]};
}

std::optional<ImageHeader> pngHeader(const std::vector<unsigned char>& b, std::string* error) {
    static constexpr std::array<unsigned char, 8> kSig{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (b.size() < 26 || !std::equal(kSig.begin(), kSig.end(), b.begin()) ||
        std::string(b.begin() + 12, b.begin() + 16) != "IHDR") {
        *error = "not a valid PNG file (bad signature or missing IHDR header)";
        return std::nullopt;
    }
    ImageHeader h;
    h.width = static_cast<int>(bigEndian32(&b[16]));
    h.height = static_cast<int>(bigEndian32(&b[20]));
    const int depth = b[24];
    const int colour = b[25];
    h.bitDepth = depth == 16 ? 16 : 8;
    switch (colour) {
    case 0: h.channels = 1; break;
    case 2: h.channels = 3; break;
    case 3: // palette: readImage expands it to colours, readMaskImage keeps the indices
        h.channels = 3;
        h.bitDepth = 8;
        h.indexed = true;
        break;
    case 4: h.channels = 4; break;                 // grey + alpha decodes as RGBA
    case 6: h.channels = 4; break;
    default: *error = strCat("PNG colour type ", colour, " is invalid"); return std::nullopt;
    }
    if (h.width <= 0 || h.height <= 0) {
        *error = strCat("PNG header gives an invalid size ", h.width, "×", h.height);
        return std::nullopt;
    }
    return h;
}

std::optional<ImageHeader> jpegHeader(const std::vector<unsigned char>& b, std::string* error) {
    if (b.size() < 4 || b[0] != 0xFF || b[1] != 0xD8) {
        *error = "not a valid JPEG file (bad signature)";
        return std::nullopt;
    }
    std::size_t i = 2;
    while (i + 9 < b.size()) {
        if (b[i] != 0xFF) {
            ++i;
            continue;
        }
        const unsigned char marker = b[i + 1];
        if (marker == 0xFF) {
            ++i;
            continue;
        }
        const std::size_t length = (std::size_t{b[i + 2]} << 8) | b[i + 3];
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                         marker != 0xCC;
        if (sof) {
            ImageHeader h;
            h.bitDepth = b[i + 4] > 8 ? 16 : 8;
            h.height = (b[i + 5] << 8) | b[i + 6];
            h.width = (b[i + 7] << 8) | b[i + 8];
            h.channels = b[i + 9] == 1 ? 1 : 3;
            return h;
        }
        i += 2 + length;
    }
    *error = "JPEG file has no frame header (truncated?)";
    return std::nullopt;
}

std::optional<ImageHeader> bmpHeader(const std::vector<unsigned char>& b, std::string* error) {
    if (b.size() < 30 || b[0] != 'B' || b[1] != 'M') {
        *error = "not a valid BMP file (bad signature)";
        return std::nullopt;
    }
    ImageHeader h;
    h.width = static_cast<int>(littleEndian32(&b[18]));
    h.height = std::abs(static_cast<int>(littleEndian32(&b[22])));
    const int bpp = b[28] | (b[29] << 8);
    h.channels = bpp == 32 ? 4 : (bpp == 8 ? 1 : 3);
    return h;
}

} // namespace

bool isImageFile(const std::filesystem::path& path) {
    static const std::array<std::string_view, 6> kExts{".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp"};
    const std::string ext = lowerExtension(path);
    return std::find(kExts.begin(), kExts.end(), ext) != kExts.end();
}

ImageReadResult readImage(const std::filesystem::path& path) {
    ImageReadResult r;
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        r.error = "file does not exist or is not a regular file";
        return r;
    }
    cv::Mat raw;
    try {
        raw = cv::imread(path.string(), cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) { // OpenCV throws on some malformed headers
        r.error = strCat("OpenCV could not decode it: ", e.what());
        return r;
    }
    if (raw.empty()) {
        r.error = "OpenCV could not decode it (corrupt, truncated or unsupported)";
        return r;
    }
    const int depth = raw.depth();
    if (depth != CV_8U && depth != CV_16U && depth != CV_32F) {
        r.error = strCat("unsupported sample type (OpenCV depth ", depth,
                         "); supported are 8-bit, 16-bit unsigned and 32-bit float");
        return r;
    }
    switch (raw.channels()) {
    case 1: r.image = raw; break;
    case 3: cv::cvtColor(raw, r.image, cv::COLOR_BGR2RGB); break;
    case 4: cv::cvtColor(raw, r.image, cv::COLOR_BGRA2RGBA); break;
    default:
        r.error = strCat("unsupported channel count ", raw.channels(), " (1, 3 or 4 expected)");
        return r;
    }
    return r;
}

ImageReadResult readMaskImage(const std::filesystem::path& path) {
    if (lowerExtension(path) != ".png" || !isIndexedPng(path))
        return readImage(path);
    IndexedPng png = readIndexedPng(path);
    ImageReadResult r;
    if (!png.ok()) {
        r.error = png.error;
        return r;
    }
    r.image = png.indices;
    r.palette = std::move(png.palette);
    return r;
}

std::optional<ImageHeader> readImageHeader(const std::filesystem::path& path, std::string* error) {
    std::string scratch;
    std::string& err = error ? *error : scratch;
    const std::string ext = lowerExtension(path);
    if (ext == ".png" || ext == ".jpg" || ext == ".jpeg" || ext == ".bmp") {
        std::ifstream in(path, std::ios::binary);
        if (!in) {
            err = "cannot open the file";
            return std::nullopt;
        }
        // JPEG frame headers can follow large EXIF blocks; 64 KiB covers nearly all.
        std::vector<unsigned char> bytes(ext == ".png" || ext == ".bmp" ? 32 : 65536);
        in.read(reinterpret_cast<char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
        bytes.resize(static_cast<std::size_t>(in.gcount()));
        if (ext == ".png")
            return pngHeader(bytes, &err);
        if (ext == ".bmp")
            return bmpHeader(bytes, &err);
        if (auto h = jpegHeader(bytes, &err))
            return h;
        if (bytes.size() < 65536)
            return std::nullopt;
        // Frame header beyond the first 64 KiB: fall through to a decode.
    }
    ImageReadResult r = readImage(path);
    if (!r.ok()) {
        err = r.error;
        return std::nullopt;
    }
    ImageHeader h;
    h.width = r.image.cols;
    h.height = r.image.rows;
    h.channels = r.image.channels();
    h.bitDepth = r.image.depth() == CV_8U ? 8 : (r.image.depth() == CV_16U ? 16 : 32);
    return h;
}

std::string writeImage(const std::filesystem::path& path, const cv::Mat& rgb) {
    cv::Mat bgr;
    switch (rgb.channels()) {
    case 1: bgr = rgb; break;
    case 3: cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR); break;
    case 4: cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA); break;
    default: return strCat("cannot write a ", rgb.channels(), "-channel image");
    }
    try {
        if (!cv::imwrite(path.string(), bgr))
            return strCat("could not write ", path.string());
    } catch (const cv::Exception& e) {
        return strCat("could not write ", path.string(), ": ", e.what());
    }
    return {};
}

} // namespace segforge::core
