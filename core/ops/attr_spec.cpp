#include "ops/attr_spec.hpp"

#include "util/str_cat.hpp"

#include <cmath>

namespace segforge::core {

std::string_view attrTypeName(AttrType type) {
    switch (type) {
    case AttrType::Int:
        return "int";
    case AttrType::Float:
        return "float";
    case AttrType::Bool:
        return "bool";
    case AttrType::Enum:
        return "enum";
    case AttrType::String:
        return "string";
    case AttrType::IntList:
        return "int list";
    }
    return "?";
}

namespace {

bool inRange(const AttrSpec& spec, double v) {
    if (spec.min && v < *spec.min)
        return false;
    if (spec.max && (spec.maxExclusive ? v >= *spec.max : v > *spec.max))
        return false;
    return true;
}

std::optional<std::int64_t> asInt(const AttrValue& value) {
    if (auto* i = std::get_if<std::int64_t>(&value))
        return *i;
    if (auto* d = std::get_if<double>(&value)) {
        if (std::isfinite(*d) && std::floor(*d) == *d && std::fabs(*d) < 1e15)
            return static_cast<std::int64_t>(*d);
    }
    return std::nullopt;
}

std::optional<AttrValue> fail(std::string* why, std::string text) {
    if (why)
        *why = std::move(text);
    return std::nullopt;
}

} // namespace

std::string describeAttrDomain(const AttrSpec& spec) {
    std::string range;
    if (spec.min || spec.max) {
        range = strCat(" in [", spec.min ? formatNumber(*spec.min) : std::string("-inf"), ", ",
                       spec.max ? formatNumber(*spec.max) : std::string("inf"),
                       spec.maxExclusive ? ")" : "]");
    }
    switch (spec.type) {
    case AttrType::Int:
        return "an integer" + range;
    case AttrType::Float:
        return "a number" + range;
    case AttrType::Bool:
        return "true or false";
    case AttrType::String:
        return "a string";
    case AttrType::Enum: {
        std::string out = "one of ";
        for (std::size_t i = 0; i < spec.choices.size(); ++i)
            out += (i ? ", " : "") + spec.choices[i];
        return out;
    }
    case AttrType::IntList:
        return strCat("an integer or a list of ", spec.listSize, " integers",
                      range.empty() ? "" : ", each" + range);
    }
    return "?";
}

std::optional<AttrValue> coerceAttribute(const AttrSpec& spec, const AttrValue& value,
                                         std::string* why) {
    // Built only on failure: this runs for every attribute on every re-check.
    auto domain = [&spec] { return describeAttrDomain(spec); };
    switch (spec.type) {
    case AttrType::Int: {
        auto i = asInt(value);
        if (!i)
            return fail(why, strCat("expected ", domain(), ", got ", attrToString(value)));
        if (!inRange(spec, static_cast<double>(*i)))
            return fail(why, strCat(*i, " is out of range: expected ", domain()));
        return AttrValue{*i};
    }
    case AttrType::Float: {
        double d = 0;
        if (auto* p = std::get_if<double>(&value))
            d = *p;
        else if (auto* q = std::get_if<std::int64_t>(&value))
            d = static_cast<double>(*q);
        else
            return fail(why, strCat("expected ", domain(), ", got ", attrToString(value)));
        if (!std::isfinite(d) || !inRange(spec, d))
            return fail(why, strCat(formatNumber(d), " is out of range: expected ", domain()));
        return AttrValue{d};
    }
    case AttrType::Bool:
        if (auto* b = std::get_if<bool>(&value))
            return AttrValue{*b};
        return fail(why, strCat("expected true or false, got ", attrToString(value)));
    case AttrType::String:
        if (auto* s = std::get_if<std::string>(&value))
            return AttrValue{*s};
        return fail(why, strCat("expected a string, got ", attrToString(value)));
    case AttrType::Enum: {
        auto* s = std::get_if<std::string>(&value);
        if (s) {
            for (const auto& c : spec.choices) {
                if (c == *s)
                    return AttrValue{*s};
            }
        }
        return fail(why, strCat(attrToString(value), " is not allowed: expected ", domain()));
    }
    case AttrType::IntList: {
        std::vector<std::int64_t> list;
        if (auto i = asInt(value)) {
            list.assign(static_cast<std::size_t>(spec.listSize), *i);
        } else if (auto* v = std::get_if<std::vector<std::int64_t>>(&value)) {
            if (static_cast<int>(v->size()) == spec.listSize)
                list = *v;
            else if (spec.listSize == 4 && v->size() == 2)
                list = {(*v)[0], (*v)[0], (*v)[1], (*v)[1]}; // symmetric (height, width)
            else
                return fail(why, strCat("expected ", domain(), ", got ", attrToString(value)));
        } else {
            return fail(why, strCat("expected ", domain(), ", got ", attrToString(value)));
        }
        for (std::int64_t x : list) {
            if (!inRange(spec, static_cast<double>(x)))
                return fail(why,
                            strCat(attrToString(value), " is out of range: expected ", domain()));
        }
        return AttrValue{list};
    }
    }
    return fail(why, "unknown attribute type");
}

AttrSpec intAttr(std::string name, std::int64_t def, std::optional<double> min,
                 std::optional<double> max, std::string description) {
    AttrSpec s{std::move(name), AttrType::Int, def, min, max};
    s.description = std::move(description);
    return s;
}

AttrSpec floatAttr(std::string name, double def, std::optional<double> min,
                   std::optional<double> max, std::string description, bool maxExclusive) {
    AttrSpec s{std::move(name), AttrType::Float, def, min, max};
    s.maxExclusive = maxExclusive;
    s.description = std::move(description);
    return s;
}

AttrSpec boolAttr(std::string name, bool def, std::string description) {
    AttrSpec s{std::move(name), AttrType::Bool, def};
    s.description = std::move(description);
    return s;
}

AttrSpec enumAttr(std::string name, std::string def, std::vector<std::string> choices,
                  std::string description) {
    AttrSpec s{std::move(name), AttrType::Enum, std::move(def)};
    s.choices = std::move(choices);
    s.description = std::move(description);
    return s;
}

AttrSpec stringAttr(std::string name, std::string def, std::string description) {
    AttrSpec s{std::move(name), AttrType::String, std::move(def)};
    s.description = std::move(description);
    return s;
}

AttrSpec folderAttr(std::string name, std::string description) {
    AttrSpec spec = stringAttr(std::move(name), "", std::move(description));
    spec.path = AttrSpec::Path::Folder;
    return spec;
}

AttrSpec pairAttr(std::string name, std::int64_t def, std::optional<double> min,
                  std::optional<double> max, std::string description) {
    AttrSpec s{std::move(name), AttrType::IntList, std::vector<std::int64_t>{def, def}, min, max};
    s.listSize = 2;
    s.description = std::move(description);
    return s;
}

AttrSpec quadAttr(std::string name, std::int64_t def, std::optional<double> min,
                  std::string description) {
    AttrSpec s{std::move(name), AttrType::IntList, std::vector<std::int64_t>(4, def), min};
    s.listSize = 4;
    s.description = std::move(description);
    return s;
}

} // namespace segforge::core
