#include "onnx/onnx_importer.hpp"
#include "util/str_cat.hpp"

// The ONNX import's messages: "file: what", notes "file: note: what", and one
// line for a warning said of several nodes ("… on 58 nodes (a, b, c, … and 55 more)").

namespace segforge::core::interop {

// --- OnnxLog --------------------------------------------------------------

void OnnxLog::warning(const std::string& what) {
    const std::string line = strCat(m_file, ": ", what);
    for (const Entry& e : m_entries)
        if (e.kind.empty() && e.line == line)
            return;
    m_entries.push_back({line, ""});
}

void OnnxLog::warning(const std::string& kind, const std::string& subject,
                      const std::string& what) {
    for (Entry& e : m_entries) {
        if (e.kind == kind) {
            e.subjects.push_back(subject);
            return;
        }
    }
    m_entries.push_back({strCat(m_file, ": ", what), kind, {subject}});
}

void OnnxLog::note(const std::string& what) {
    m_entries.push_back({strCat(m_file, ": note: ", what), ""});
}

void OnnxLog::error(const std::string& what) {
    m_errors.push_back(strCat(m_file, ": ", what));
}

std::vector<std::string> OnnxLog::warnings() const {
    constexpr std::size_t kNamed = 3;
    std::vector<std::string> out;
    for (const Entry& e : m_entries) {
        if (e.subjects.size() < 2) {
            out.push_back(e.line);
            continue;
        }
        std::string names;
        for (std::size_t i = 0; i < e.subjects.size() && i < kNamed; ++i)
            names += (i ? ", " : "") + e.subjects[i];
        if (e.subjects.size() > kNamed)
            names += strCat(", … and ", e.subjects.size() - kNamed, " more");
        out.push_back(
            strCat(m_file, ": ", e.kind, " on ", e.subjects.size(), " nodes (", names, ")"));
    }
    return out;
}

} // namespace segforge::core::interop
