#pragma once

// The header parsers behind readImageHeader (image_io.hpp): PNG, JPEG, BMP and
// TIFF (classic and BigTIFF), recognised by their signature. Used by the
// readers to refuse an image before OpenCV or libpng allocate for it.

#include "data/image_io.hpp"

#include <cstdint>
#include <span>
#include <string>

namespace segforge::core {

enum class HeaderParse {
    Ok,
    Bad,      ///< not an image header we read; `error` says why
    NeedMore, ///< the bytes end before the header does (a prefix, or a truncated file)
};

struct ParsedHeader {
    HeaderParse status = HeaderParse::Bad;
    ImageHeader header;
    /// The smallest file that can hold the declared pixels (0: no bound is
    /// known, as for JPEG). A PNG's pixels are deflated, which compresses at
    /// most 1032:1; an uncompressed BMP stores every row.
    std::uint64_t minFileBytes = 0;
};

/// Parses the header in `bytes`; on Bad, `error` says why.
ParsedHeader parseImageHeader(std::span<const std::uint8_t> bytes, std::string& error);

/// a × b, or UINT64_MAX when that overflows.
std::uint64_t saturatingMultiply(std::uint64_t a, std::uint64_t b);

} // namespace segforge::core
