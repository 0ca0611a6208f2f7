#include "engine/train_event.hpp"

#include <cmath>
#include <cstdio>

namespace segforge::core {

std::string_view trainEventKindName(TrainEventKind kind) {
    switch (kind) {
    case TrainEventKind::Batch:
        return "batch";
    case TrainEventKind::Epoch:
        return "epoch";
    case TrainEventKind::Paused:
        return "paused";
    case TrainEventKind::NonFinite:
        return "non-finite";
    case TrainEventKind::Stopped:
        return "stopped";
    case TrainEventKind::Finished:
        return "finished";
    }
    return "?";
}

std::string formatDuration(double seconds) {
    char buf[64];
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    if (seconds < 60)
        std::snprintf(buf, sizeof buf, "%.1fs", seconds);
    else if (seconds < 3600)
        std::snprintf(buf, sizeof buf, "%dm%02ds", static_cast<int>(seconds) / 60,
                      static_cast<int>(seconds) % 60);
    else
        std::snprintf(buf, sizeof buf, "%dh%02dm", static_cast<int>(seconds) / 3600,
                      static_cast<int>(seconds) % 3600 / 60);
    return buf;
}

} // namespace segforge::core
