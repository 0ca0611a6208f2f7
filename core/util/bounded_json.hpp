#pragma once

// JSON from files a user (or an attacker) hands us, and JSON values quoted
// back in error messages. nlohmann's parser is iterative, but copying,
// comparing and dump() recurse once per nesting level: a 120 KB file nested
// 47,000 deep overflowed the stack when an error message quoted it. So the
// nesting is measured on the raw text before anything is built, and values
// are quoted through a bounded, non-recursive, UTF-8-safe excerpt.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace segforge::core {

/// Deeper than any real project, Keras config or safetensors header (a Keras 3
/// model nested in a model nests about 20 levels), far below what recursion
/// over a json value can survive.
inline constexpr int kMaxJsonDepth = 512;

/// Parsed JSON or a located reason it is refused. `error` reads
/// "LINE:COLUMN: what" (no file name; the caller prefixes its own location).
struct BoundedJson {
    nlohmann::json value;
    std::string error;
    bool ok() const { return error.empty(); }
};

/// Refuses nesting deeper than `maxDepth` (found by a scan of the text, before
/// any value is built), then parses; syntax errors and out-of-range numbers
/// come back as located messages, never as exceptions.
BoundedJson parseBoundedJson(std::string_view text, int maxDepth = kMaxJsonDepth);

/// The first place where arrays/objects nest deeper than `maxDepth`, as
/// "LINE:COLUMN: ...", or "" when the text stays within it. Brackets inside
/// strings do not count.
std::string jsonNestingError(std::string_view text, int maxDepth = kMaxJsonDepth);

/// "LINE:COLUMN" (1-based) of a byte offset in `text`.
std::string lineColumn(std::string_view text, std::size_t byteOffset);

/// A short rendering of `value` for a message: at most about `maxChars`
/// characters ("…" marks the cut), valid UTF-8 whatever the value's strings
/// hold, and walked without recursion, so any depth is safe.
std::string jsonExcerpt(const nlohmann::json& value, std::size_t maxChars = 80);

/// "an object", "an array", "a string", "an integer", … for "expected X, got Y".
std::string jsonTypeName(const nlohmann::json& value);

/// `text` in single quotes for a message: control characters shown as '?',
/// cut to about `maxBytes` ("…" marks the cut) without splitting a character,
/// valid UTF-8 — for names and values a file supplies.
std::string quotedText(std::string_view text, std::size_t maxBytes);

/// The reason of a nlohmann exception fit for a message: without the
/// "[json.exception.…]" tag, valid UTF-8, at most about 200 bytes.
std::string jsonExceptionReason(const nlohmann::json::exception& e);

/// `text` with every byte sequence that is not valid UTF-8 replaced by U+FFFD,
/// so it can be written into JSON output (nlohmann's dump throws otherwise).
std::string validUtf8(std::string_view text);

} // namespace segforge::core
