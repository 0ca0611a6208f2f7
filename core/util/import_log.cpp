#include "util/import_log.hpp"

#include "util/str_cat.hpp"

#include <algorithm>

namespace segforge::core {

void ImportLog::warning(const std::string& path, const std::string& what) {
    std::string line =
        path.empty() ? strCat(m_file, ": ", what) : strCat(m_file, ":", path, ": ", what);
    for (const Entry& e : m_warnings) {
        if (e.kind.empty() && e.line == line)
            return; // said once is enough
    }
    m_warnings.push_back({std::move(line), ""});
}

void ImportLog::warning(const std::string& path, const std::string& what, WarningGroup group) {
    for (Entry& e : m_warnings) {
        if (!e.kind.empty() && e.kind == group.kind) {
            e.subjects.push_back(std::move(group.subject));
            return;
        }
    }
    std::string line =
        path.empty() ? strCat(m_file, ": ", what) : strCat(m_file, ":", path, ": ", what);
    m_warnings.push_back({std::move(line),
                          std::move(group.kind),
                          {std::move(group.subject)},
                          std::move(group.tail)});
}

void ImportLog::note(const std::string& what) {
    m_warnings.push_back({strCat(m_file, ": note: ", what), ""});
}

std::vector<std::string> ImportLog::warnings() const {
    constexpr std::size_t kNamed = 3;
    std::vector<std::string> out;
    out.reserve(m_warnings.size());
    for (const Entry& e : m_warnings) {
        if (e.subjects.size() < 2) {
            out.push_back(e.line);
            continue;
        }
        std::string names;
        for (std::size_t i = 0; i < e.subjects.size() && i < kNamed; ++i)
            names += (i ? ", " : "") + e.subjects[i];
        if (e.subjects.size() > kNamed)
            names += strCat(", … and ", e.subjects.size() - kNamed, " more");
        out.push_back(strCat(m_file, ": ", e.kind, " on ", e.subjects.size(), " ", m_subjects, " (",
                             names, ")", e.tail));
    }
    return out;
}

std::size_t ImportLog::countOf(const std::string& kind) const {
    for (const Entry& e : m_warnings) {
        if (e.kind == kind && !kind.empty())
            return e.subjects.size();
    }
    return 0;
}

void ImportLog::drop(const std::string& kind) {
    std::erase_if(m_warnings, [&](const Entry& e) { return !kind.empty() && e.kind == kind; });
}

void ImportLog::error(const std::string& path, const std::string& what) {
    m_errors.push_back(path.empty() ? strCat(m_file, ": ", what)
                                    : strCat(m_file, ":", path, ": ", what));
}

} // namespace segforge::core
