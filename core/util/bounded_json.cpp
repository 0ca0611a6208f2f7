#include "util/bounded_json.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core {

using nlohmann::json;

namespace {

/// nlohmann's messages quote the token they stopped at, which may be long or
/// hold the very bytes that made the text invalid.
constexpr std::size_t kMaxReasonBytes = 200;

/// Cuts `text` to at most `maxBytes` without splitting a UTF-8 sequence.
void cutAtCharBoundary(std::string& text, std::size_t maxBytes) {
    if (text.size() <= maxBytes)
        return;
    std::size_t n = maxBytes;
    while (n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80)
        --n;
    text.resize(n);
}

std::string boundedReason(const std::string& what) {
    std::string reason = what;
    // "[json.exception.parse_error.101] parse error at line 1, column 2: syntax error …":
    // the tag and the position (the caller gives its own) go.
    if (auto pos = reason.find("] ");
        reason.rfind("[json.exception.", 0) == 0 && pos != std::string::npos)
        reason = reason.substr(pos + 2);
    if (reason.rfind("parse error at line ", 0) == 0)
        if (auto pos = reason.find(": "); pos != std::string::npos)
            reason = reason.substr(pos + 2);
    reason = validUtf8(reason);
    if (reason.size() > kMaxReasonBytes) {
        cutAtCharBoundary(reason, kMaxReasonBytes);
        reason += "…";
    }
    return reason;
}

void appendEscaped(std::string& out, std::string_view text, std::size_t budget) {
    for (char c : text) {
        if (budget == 0)
            return;
        --budget;
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (static_cast<unsigned char>(c) < 0x20) {
            out += c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\u00";
            if (c != '\n' && c != '\t') {
                static constexpr char kHex[] = "0123456789abcdef";
                out += kHex[(c >> 4) & 0xF];
                out += kHex[c & 0xF];
            }
        } else {
            out += c;
        }
    }
}

} // namespace

std::string jsonExceptionReason(const json::exception& e) {
    return boundedReason(e.what());
}

std::string jsonTypeName(const json& value) {
    switch (value.type()) {
    case json::value_t::null:
        return "null";
    case json::value_t::object:
        return "an object";
    case json::value_t::array:
        return "an array";
    case json::value_t::string:
        return "a string";
    case json::value_t::boolean:
        return "a boolean";
    case json::value_t::number_float:
        return "a number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
        return "an integer";
    default:
        return "an unsupported value";
    }
}

std::string quotedText(std::string_view text, std::size_t maxBytes) {
    std::string out;
    for (char c : text.substr(0, maxBytes))
        out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
    out = validUtf8(out); // the cut may have split a character
    if (text.size() > maxBytes)
        out += "…";
    return "'" + out + "'";
}

std::string lineColumn(std::string_view text, std::size_t byteOffset) {
    std::size_t line = 1;
    std::size_t column = 1;
    for (std::size_t i = 0; i < text.size() && i < byteOffset; ++i) {
        if (text[i] == '\n') {
            ++line;
            column = 1;
        } else {
            ++column;
        }
    }
    return strCat(line, ":", column);
}

std::string jsonNestingError(std::string_view text, int maxDepth) {
    int depth = 0;
    bool inString = false;
    bool escaped = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (inString) {
            if (escaped)
                escaped = false;
            else if (c == '\\')
                escaped = true;
            else if (c == '"')
                inString = false;
            continue;
        }
        if (c == '"') {
            inString = true;
        } else if (c == '[' || c == '{') {
            if (++depth > maxDepth)
                return strCat(lineColumn(text, i), ": lists and objects nest deeper than ",
                              maxDepth, " levels here; no real file does, so it is refused");
        } else if (c == ']' || c == '}') {
            --depth; // unbalanced text is the parser's to report
        }
    }
    return {};
}

BoundedJson parseBoundedJson(std::string_view text, int maxDepth) {
    BoundedJson out;
    out.error = jsonNestingError(text, maxDepth);
    if (!out.ok())
        return out;
    try {
        out.value = json::parse(text.begin(), text.end());
    } catch (const json::parse_error& e) {
        out.error = strCat(lineColumn(text, e.byte > 0 ? e.byte - 1 : 0),
                           ": not valid JSON: ", boundedReason(e.what()));
    } catch (const json::exception& e) {
        // out_of_range: "number overflow parsing '1e99999'" carries no position;
        // the token it quotes is found in the text instead.
        const std::string what = e.what();
        std::size_t at = 0;
        if (auto open = what.find('\''), close = what.rfind('\'');
            open != std::string::npos && close > open + 1)
            at = std::min(text.find(std::string_view(what).substr(open + 1, close - open - 1)),
                          text.size());
        out.error = strCat(lineColumn(text, at), ": not valid JSON: ", boundedReason(what));
    }
    if (!out.ok())
        out.value = json();
    return out;
}

std::string jsonExcerpt(const json& value, std::size_t maxChars) {
    std::string out;
    struct Frame {
        const json* container;
        json::const_iterator next;
        bool first;
    };
    std::vector<Frame> stack;
    auto open = [&](const json& v) {
        if (v.is_object() || v.is_array()) {
            out += v.is_object() ? '{' : '[';
            stack.push_back({&v, v.cbegin(), true});
        } else if (v.is_string()) {
            const auto& s = v.get_ref<const std::string&>();
            out += '"';
            appendEscaped(out, s, maxChars > out.size() ? maxChars - out.size() : 0);
            if (out.size() < maxChars)
                out += '"';
        } else if (v.is_binary()) {
            out += "<binary>";
        } else {
            out += v.dump(); // a number, boolean or null: not recursive, ASCII
        }
    };
    open(value);
    while (!stack.empty() && out.size() < maxChars) {
        Frame& f = stack.back();
        if (f.next == f.container->cend()) {
            out += f.container->is_object() ? '}' : ']';
            stack.pop_back();
            continue;
        }
        if (!f.first)
            out += ", ";
        f.first = false;
        const json& child = *f.next;
        if (f.container->is_object()) {
            out += '"';
            appendEscaped(out, f.next.key(), maxChars);
            out += "\": ";
        }
        ++f.next;
        open(child); // may grow the stack: `f` is not used after this
    }
    if (out.size() > maxChars || !stack.empty()) {
        cutAtCharBoundary(out, maxChars);
        out += "…";
    }
    return validUtf8(out);
}

std::string validUtf8(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    const auto* s = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t n = text.size();
    std::size_t i = 0;
    while (i < n) {
        const unsigned char c = s[i];
        std::size_t len = 0;
        std::uint32_t min = 0;
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            min = 0x10000;
        }
        bool ok = len > 0 && i + len <= n;
        std::uint32_t code = len == 2 ? (c & 0x1Fu) : len == 3 ? (c & 0x0Fu) : (c & 0x07u);
        for (std::size_t k = 1; ok && k < len; ++k) {
            ok = (s[i + k] & 0xC0) == 0x80;
            code = (code << 6) | (s[i + k] & 0x3Fu);
        }
        ok = ok && code >= min && code <= 0x10FFFF && !(code >= 0xD800 && code <= 0xDFFF);
        if (ok) {
            out.append(text.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD"; // U+FFFD, then resynchronise on the next byte
            ++i;
        }
    }
    return out;
}

} // namespace segforge::core
