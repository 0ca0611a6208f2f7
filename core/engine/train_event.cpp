#include "engine/train_event.hpp"

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

} // namespace segforge::core
