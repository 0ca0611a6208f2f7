#include "cli/options.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace segforge::cli {

namespace {

/// "≥ 1", "> 0", "≥ 0 and ≤ 1": what `bounds` allows.
std::string describe(const Bounds& b) {
    auto num = [](double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%g", v);
        return std::string(buf);
    };
    std::string out;
    if (b.lowest)
        out = "≥ " + num(*b.lowest);
    if (b.above)
        out += (out.empty() ? "" : " and ") + std::string("> ") + num(*b.above);
    if (b.highest)
        out += (out.empty() ? "" : " and ") + std::string("≤ ") + num(*b.highest);
    return out;
}

bool within(const Bounds& b, double v) {
    return (!b.lowest || v >= *b.lowest) && (!b.above || v > *b.above) &&
           (!b.highest || v <= *b.highest);
}

/// The option's name as messages use it: its long name ("-o,--out" → "--out"), else the first.
std::string nameOf(const std::string& names) {
    std::string first;
    std::size_t start = 0;
    while (start <= names.size()) {
        const std::size_t comma = std::min(names.find(',', start), names.size());
        const std::string name = names.substr(start, comma - start);
        if (name.rfind("--", 0) == 0)
            return name;
        if (first.empty())
            first = name;
        start = comma + 1;
    }
    return first;
}

std::string withBounds(const std::string& description, const Bounds& bounds) {
    const std::string b = describe(bounds);
    return b.empty() ? description : description + "; must be " + b;
}

/// Parses one value with `parse`, checks `bounds`, stores it in `into`; a
/// ValidationError whose message is the whole sentence otherwise.
template <typename T, typename Target, typename Parse>
CLI::Option* addBounded(CLI::App& command, const std::string& names, Target& into,
                        const std::string& description, Bounds bounds, const char* kind,
                        const char* typeName, Parse parse) {
    // The check is the option's callback, not a CLI11 validator: a validator's
    // message is prefixed "NAME: ", and this one is a sentence of its own.
    const std::string name = nameOf(names);
    auto store = [&into, bounds, name, kind, parse](const std::string& text) {
        const std::optional<T> value = parse(text);
        if (!value)
            throw CLI::ValidationError("option " + name + " expects " + kind + ", got '" + text +
                                       "'");
        if (!within(bounds, static_cast<double>(*value)))
            throw CLI::ValidationError("option " + name + " must be " + describe(bounds) +
                                       ", got '" + text + "'");
        into = *value;
    };
    CLI::Option* option = command.add_option_function<std::string>(names, std::move(store),
                                                                   withBounds(description, bounds));
    return option->type_name(typeName);
}

} // namespace

namespace {

std::optional<int> parseInteger(const std::string& text) {
    int v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size())
        return std::nullopt;
    return v;
}

} // namespace

CLI::Option* addInteger(CLI::App& command, const std::string& names, std::optional<int>& into,
                        const std::string& description, Bounds bounds) {
    return addBounded<int>(command, names, into, description, bounds, "an integer", "INT",
                           parseInteger);
}

CLI::Option* addInteger(CLI::App& command, const std::string& names, int& into,
                        const std::string& description, Bounds bounds) {
    return addBounded<int>(command, names, into, description, bounds, "an integer", "INT",
                           parseInteger);
}

CLI::Option* addNumber(CLI::App& command, const std::string& names, std::optional<double>& into,
                       const std::string& description, Bounds bounds) {
    return addBounded<double>(command, names, into, description, bounds, "a number", "NUMBER",
                              [](const std::string& text) -> std::optional<double> {
                                  char* end = nullptr;
                                  const double v = std::strtod(text.c_str(), &end);
                                  if (text.empty() || !end || *end != '\0' || !std::isfinite(v))
                                      return std::nullopt;
                                  return v;
                              });
}

CLI::Option* addText(CLI::App& command, const std::string& names, std::optional<std::string>& into,
                     const std::string& description, const std::string& typeName) {
    return command
        .add_option_function<std::string>(
            names, [&into](const std::string& text) { into = text; }, description)
        ->type_name(typeName);
}

std::string leftoverArgument(const CLI::App& command) {
    const std::vector<std::string> left = command.remaining();
    if (left.empty())
        return "";
    const std::string& first = left.front();
    return first.size() > 1 && first[0] == '-' ? "unknown option " + first
                                               : "unexpected argument '" + first + "'";
}

} // namespace segforge::cli
