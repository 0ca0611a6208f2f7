#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace segforge::cli {

/// Minimal command-line parser: positionals, `--flag`, `--key value`, `-o value`.
/// Unknown options are errors, so a typo never silently changes behaviour.
class Arguments {
public:
    /// `valued` lists options that take a value; `flags` those that do not.
    Arguments(const std::vector<std::string>& args, const std::vector<std::string>& valued,
              const std::vector<std::string>& flags);

    bool ok() const { return m_error.empty(); }
    const std::string& error() const { return m_error; }
    const std::vector<std::string>& positionals() const { return m_positionals; }
    bool flag(const std::string& name) const;
    std::optional<std::string> value(const std::string& name) const;
    /// Integer option; sets error() when present but not an integer.
    std::optional<int> integer(const std::string& name);

private:
    std::vector<std::string> m_positionals;
    std::map<std::string, std::string> m_values;
    std::vector<std::string> m_flags;
    std::string m_error;
};

} // namespace segforge::cli
