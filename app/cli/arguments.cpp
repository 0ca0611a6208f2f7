#include "cli/arguments.hpp"

#include <algorithm>
#include <charconv>

namespace segforge::cli {

Arguments::Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valued,
                     const std::vector<std::string>& flags) {
    auto contains = [](const std::vector<std::string>& v, const std::string& s) {
        return std::find(v.begin(), v.end(), s) != v.end();
    };
    for (std::size_t i = 0; i < args.size(); ++i) {
        const std::string& a = args[i];
        if (a.size() < 2 || a[0] != '-') {
            m_positionals.push_back(a);
            continue;
        }
        std::string name = a;
        std::string inlineValue;
        bool hasInline = false;
        if (auto eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
            name = a.substr(0, eq);
            inlineValue = a.substr(eq + 1);
            hasInline = true;
        }
        if (contains(flags, name)) {
            m_flags.push_back(name);
        } else if (contains(valued, name)) {
            if (hasInline) {
                m_values[name] = inlineValue;
            } else if (i + 1 < args.size()) {
                m_values[name] = args[++i];
            } else {
                m_error = "option " + name + " needs a value";
                return;
            }
        } else {
            m_error = "unknown option " + name;
            return;
        }
    }
}

bool Arguments::flag(const std::string& name) const {
    return std::find(m_flags.begin(), m_flags.end(), name) != m_flags.end();
}

std::optional<std::string> Arguments::value(const std::string& name) const {
    auto it = m_values.find(name);
    if (it == m_values.end())
        return std::nullopt;
    return it->second;
}

std::optional<int> Arguments::integer(const std::string& name) {
    auto v = value(name);
    if (!v)
        return std::nullopt;
    int out = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc() || ptr != v->data() + v->size()) {
        m_error = "option " + name + " expects an integer, got '" + *v + "'";
        return std::nullopt;
    }
    return out;
}

} // namespace segforge::cli
