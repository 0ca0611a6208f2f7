#include "graph/diagnostic.hpp"

namespace segforge::core {

std::string_view severityName(Severity severity) {
    switch (severity) {
    case Severity::Error:
        return "error";
    case Severity::Warning:
        return "warning";
    case Severity::Info:
        return "info";
    }
    return "?";
}

} // namespace segforge::core
