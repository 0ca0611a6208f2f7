#include "data/image_io.hpp"

#include "data/image_header.hpp"
#include "data/indexed_png.hpp"
#include "util/constants.hpp"
#include "util/str_cat.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <climits>
#include <cstdlib>
#include <fstream>
#include <new>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

namespace segforge::core {
namespace {

std::string lowerExtension(const std::filesystem::path& path) {
    std::string ext = path.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return ext;
}

/// No image within the pixel limit needs a larger file: 4 channels of float32
/// per pixel, uncompressed, plus room for metadata.
std::uint64_t maxFileBytes(const ImageLimits& limits) {
    const std::uint64_t pixels = saturatingMultiply(limits.maxPixels, 16);
    return pixels > UINT64_MAX - (std::uint64_t{64} << 20) ? UINT64_MAX
                                                           : pixels + (std::uint64_t{64} << 20);
}

/// The first `limit` bytes of a file (all of it when shorter). `whole` tells
/// whether that is the entire file.
bool readFileBytes(const std::filesystem::path& path, std::uint64_t limit,
                   std::vector<std::uint8_t>& out, bool& whole, std::string& error) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        error = "file does not exist or is not a regular file";
        return false;
    }
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (ec) {
        error = strCat("cannot read the file size: ", ec.message());
        return false;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open the file";
        return false;
    }
    const std::uint64_t n = std::min<std::uint64_t>(size, limit);
    try {
        out.resize(static_cast<std::size_t>(n));
    } catch (const std::bad_alloc&) {
        error = strCat("not enough memory to read its ", n, " bytes");
        return false;
    }
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(n));
    out.resize(static_cast<std::size_t>(in.gcount()));
    whole = out.size() >= size;
    return true;
}

/// The whole file, unless it is larger than any image within `limits` can be.
bool readWholeFile(const std::filesystem::path& path, const ImageLimits& limits,
                   std::vector<std::uint8_t>& out, std::string& error) {
    std::error_code ec;
    const std::uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec && size > maxFileBytes(limits)) {
        error = strCat("the file has ", size, " bytes, more than an image within the limit of ",
                       limits.maxPixels, " pixels can take");
        return false;
    }
    bool whole = false;
    return readFileBytes(path, maxFileBytes(limits), out, whole, error);
}

/// The parsed header, or why there is none (`err` holds the parser's reason
/// for a bad one; a header cut short is said here).
std::optional<ImageHeader> headerOf(const ParsedHeader& p, std::size_t bytes, std::string& err) {
    if (p.status == HeaderParse::NeedMore)
        err = strCat("the file is truncated: its ", bytes, " bytes end inside the header");
    if (p.status != HeaderParse::Ok)
        return std::nullopt;
    return p.header;
}

/// The header, or an error: what every reader checks before decoding.
std::optional<ImageHeader> admit(std::span<const std::uint8_t> bytes, const ImageLimits& limits,
                                 ImageReadResult& r) {
    std::string error;
    const ParsedHeader p = parseImageHeader(bytes, error);
    if (!headerOf(p, bytes.size(), error)) {
        r.error = std::move(error);
        return std::nullopt;
    }
    if (std::string e = pixelLimitError(p.header, limits); !e.empty()) {
        r.error = std::move(e);
        r.tooLarge = true;
        return std::nullopt;
    }
    if (p.minFileBytes > bytes.size()) {
        r.error = strCat("declares ", p.header.width, "×", p.header.height,
                         " pixels, which need a file of at least ", p.minFileBytes,
                         " bytes, but it has ", bytes.size(), " (truncated or forged)");
        return std::nullopt;
    }
    if (bytes.size() > static_cast<std::size_t>(INT_MAX)) { // cv::Mat's columns are an int
        r.error = strCat("the file has ", bytes.size(), " bytes, more than 2 GiB");
        return std::nullopt;
    }
    return p.header;
}

ImageReadResult decode(std::span<const std::uint8_t> bytes, const ImageHeader& header) {
    ImageReadResult r;
    cv::Mat raw;
    try {
        // imdecode only reads the buffer; the Mat header merely wraps it.
        const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1,
                             const_cast<std::uint8_t*>(bytes.data()));
        raw = cv::imdecode(buffer, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception& e) { // OpenCV throws on some malformed files
        r.error = strCat("OpenCV could not decode it: ", e.what());
        return r;
    } catch (const std::bad_alloc&) {
        r.error =
            strCat("not enough memory to decode its ", header.width, "×", header.height, " pixels");
        return r;
    }
    if (raw.empty()) {
        r.error = "OpenCV could not decode it (corrupt, truncated or unsupported)";
        return r;
    }
    // The limit was checked on the header; an image of another size would mean
    // the decoder read a different header than we did.
    if (raw.cols != header.width || raw.rows != header.height) {
        // OpenCV turns some TIFFs by their orientation tag: the same pixels,
        // but check (which reads headers) and training would see other sizes.
        const bool turned = raw.cols == header.height && raw.rows == header.width;
        r.error =
            turned ? strCat("decoded as ", raw.cols, "×", raw.rows, " pixels, its header's ",
                            header.width, "×", header.height,
                            " turned by an orientation tag, which is not supported")
                   : strCat("decoded as ", raw.cols, "×", raw.rows,
                            " pixels but its header declares ", header.width, "×", header.height);
        return r;
    }
    const int depth = raw.depth();
    if (depth != CV_8U && depth != CV_16U && depth != CV_32F) {
        r.error = strCat("unsupported sample type (OpenCV depth ", depth,
                         "); supported are 8-bit, 16-bit unsigned and 32-bit float");
        return r;
    }
    try {
        switch (raw.channels()) {
        case 1:
            r.image = raw;
            break;
        case 3:
            cv::cvtColor(raw, r.image, cv::COLOR_BGR2RGB);
            break;
        case 4:
            cv::cvtColor(raw, r.image, cv::COLOR_BGRA2RGBA);
            break;
        default:
            r.error = strCat("unsupported channel count ", raw.channels(), " (1, 3 or 4 expected)");
            return r;
        }
    } catch (const cv::Exception& e) {
        r.error = strCat("OpenCV could not convert it: ", e.what());
    } catch (const std::bad_alloc&) {
        r.error = "not enough memory to convert it to RGB";
    }
    return r;
}

} // namespace

std::uint64_t defaultMaxImagePixels() {
    static const std::uint64_t value = [] {
        const char* text = std::getenv(kMaxImagePixelsVariable);
        if (!text || !*text)
            return kDefaultMaxImagePixels;
        std::uint64_t v = 0;
        const char* end = text + std::char_traits<char>::length(text);
        const auto [ptr, ec] = std::from_chars(text, end, v);
        return ec == std::errc() && ptr == end && v > 0 ? v : kDefaultMaxImagePixels;
    }();
    return value;
}

std::string pixelLimitError(const ImageHeader& h, const ImageLimits& limits) {
    if (h.width > kMaxImageSide || h.height > kMaxImageSide)
        return strCat("declares ", h.width, "×", h.height, " pixels, more than the limit of ",
                      kMaxImageSide, " pixels per side");
    if (h.pixels() > limits.maxPixels)
        return strCat("declares ", h.width, "×", h.height, " pixels, more than the limit of ",
                      limits.maxPixels, " (", kMaxImagePixelsVariable, ")");
    return {};
}

bool isImageFile(const std::filesystem::path& path) {
    const std::string ext = lowerExtension(path);
    return std::find(kImageExtensions.begin(), kImageExtensions.end(), ext) !=
           kImageExtensions.end();
}

ImageReadResult readImage(std::span<const std::uint8_t> bytes, const ImageLimits& limits) {
    ImageReadResult r;
    const auto header = admit(bytes, limits, r);
    return header ? decode(bytes, *header) : r;
}

ImageReadResult readImage(const std::filesystem::path& path, const ImageLimits& limits) {
    ImageReadResult r;
    std::vector<std::uint8_t> bytes;
    if (!readWholeFile(path, limits, bytes, r.error))
        return r;
    return readImage(bytes, limits);
}

ImageReadResult readMaskImage(std::span<const std::uint8_t> bytes, const ImageLimits& limits) {
    ImageReadResult r;
    const auto header = admit(bytes, limits, r);
    if (!header)
        return r;
    if (!header->indexed)
        return decode(bytes, *header);
    IndexedPng png = readIndexedPng(bytes, limits);
    if (!png.ok()) {
        r.error = png.error;
        r.tooLarge = png.tooLarge;
        return r;
    }
    r.image = png.indices;
    r.palette = std::move(png.palette);
    return r;
}

ImageReadResult readMaskImage(const std::filesystem::path& path, const ImageLimits& limits) {
    ImageReadResult r;
    std::vector<std::uint8_t> bytes;
    if (!readWholeFile(path, limits, bytes, r.error))
        return r;
    return readMaskImage(bytes, limits);
}

std::optional<ImageHeader> readImageHeader(std::span<const std::uint8_t> bytes,
                                           std::string* error) {
    std::string scratch;
    std::string& err = error ? *error : scratch;
    return headerOf(parseImageHeader(bytes, err), bytes.size(), err);
}

std::optional<ImageHeader> readImageHeader(const std::filesystem::path& path, std::string* error) {
    std::string scratch;
    std::string& err = error ? *error : scratch;
    // JPEG frame headers can follow large EXIF blocks; 64 KiB covers nearly all.
    std::vector<std::uint8_t> bytes;
    bool whole = false;
    if (!readFileBytes(path, 65536, bytes, whole, err))
        return std::nullopt;
    ParsedHeader p = parseImageHeader(bytes, err);
    if (p.status == HeaderParse::NeedMore && !whole) {
        // A TIFF directory usually sits at the end of the file; a JPEG frame
        // header may follow a large thumbnail.
        if (!readWholeFile(path, ImageLimits{}, bytes, err))
            return std::nullopt;
        p = parseImageHeader(bytes, err);
    }
    return headerOf(p, bytes.size(), err);
}

std::string writeImage(const std::filesystem::path& path, const cv::Mat& rgb) {
    cv::Mat bgr;
    switch (rgb.channels()) {
    case 1:
        bgr = rgb;
        break;
    case 3:
        cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
        break;
    case 4:
        cv::cvtColor(rgb, bgr, cv::COLOR_RGBA2BGRA);
        break;
    default:
        return strCat("cannot write a ", rgb.channels(), "-channel image");
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
