#include "engine/value_lifetimes.hpp"

#include <algorithm>

namespace segforge::core {

std::vector<ValueLifetime> planValueLifetimes(const std::vector<LifetimeStep>& steps,
                                              std::size_t valueCount,
                                              const std::vector<std::size_t>& backwardOrder) {
    std::vector<ValueLifetime> life(valueCount);
    auto at = [&](int value) -> ValueLifetime& { return life[static_cast<std::size_t>(value)]; };
    std::vector<int> producer(valueCount, -1);
    for (std::size_t i = 0; i < steps.size(); ++i) {
        const LifetimeStep& s = steps[i];
        for (int out : s.outputs) {
            producer[static_cast<std::size_t>(out)] = static_cast<int>(i);
            at(out).pinned = s.source || s.reported;
        }
        for (int in : s.inputs) {
            at(in).lastForwardUse = std::max(at(in).lastForwardUse, static_cast<int>(i));
            if (s.reported)
                at(in).pinned = true;
        }
    }
    for (ValueLifetime& v : life)
        if (v.lastForwardUse < 0)
            v.pinned = true; // a graph output: whoever compiled the graph reads it
    for (std::size_t pos = 0; pos < backwardOrder.size(); ++pos) {
        const LifetimeStep& s = steps[backwardOrder[pos]];
        auto reads = [&](int value) {
            at(value).lastBackwardRead =
                std::max(at(value).lastBackwardRead, static_cast<int>(pos));
        };
        if (s.backwardReadsInputs)
            for (int in : s.inputs)
                reads(in);
        if (s.backwardReadsOutputs)
            for (int out : s.outputs)
                reads(out);
    }
    auto recomputable = [&](std::size_t v) {
        const int p = producer[v];
        return p >= 0 && steps[static_cast<std::size_t>(p)].recomputable && !life[v].pinned;
    };
    // Producers come before consumers, so from the last value back: recomputing a
    // value needs its producer's inputs when its last backward reader runs — kept
    // until then, or recomputed themselves.
    for (std::size_t v = valueCount; v-- > 0;) {
        if (life[v].lastBackwardRead < 0 || !recomputable(v))
            continue;
        life[v].recompute = true;
        for (int in : steps[static_cast<std::size_t>(producer[v])].inputs)
            at(in).lastBackwardRead = std::max(at(in).lastBackwardRead, life[v].lastBackwardRead);
    }
    return life;
}

} // namespace segforge::core
