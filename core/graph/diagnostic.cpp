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

std::string_view fixRankName(FixRank rank) {
    switch (rank) {
    case FixRank::Cause:
        return "cause";
    case FixRank::Rewire:
        return "rewire";
    case FixRank::Direct:
        return "direct";
    case FixRank::Mechanical:
        return "mechanical";
    case FixRank::Costly:
        return "costly";
    }
    return "?";
}

} // namespace segforge::core
