#include "tensor/buffer_plan.hpp"

#include <algorithm>
#include <numeric>
#include <utility>

namespace segforge::core {

std::size_t BufferPlan::totalBytes() const {
    return std::accumulate(capacity.begin(), capacity.end(), std::size_t{0});
}

BufferPlan planBuffers(const std::vector<BufferRequest>& requests) {
    std::vector<std::size_t> bySize(requests.size());
    std::iota(bySize.begin(), bySize.end(), std::size_t{0});
    // Largest first; equal sizes in the order they were taken, so the plan is the
    // same for the same pass.
    std::stable_sort(bySize.begin(), bySize.end(), [&](std::size_t a, std::size_t b) {
        return requests[a].bytes > requests[b].bytes;
    });
    BufferPlan plan;
    plan.bufferOf.assign(requests.size(), -1);
    std::vector<std::vector<std::pair<std::int64_t, std::int64_t>>> lifetimes; // per buffer
    for (std::size_t r : bySize) {
        const BufferRequest& q = requests[r];
        const auto overlaps = [&](const std::pair<std::int64_t, std::int64_t>& l) {
            return q.taken < l.second && l.first < q.given;
        };
        int best = -1;
        for (std::size_t b = 0; b < lifetimes.size(); ++b) {
            if (std::any_of(lifetimes[b].begin(), lifetimes[b].end(), overlaps))
                continue;
            if (best < 0 || plan.capacity[b] < plan.capacity[static_cast<std::size_t>(best)])
                best = static_cast<int>(b);
        }
        if (best < 0) {
            best = static_cast<int>(lifetimes.size());
            lifetimes.emplace_back();
            plan.capacity.push_back(q.bytes);
        }
        lifetimes[static_cast<std::size_t>(best)].emplace_back(q.taken, q.given);
        plan.bufferOf[r] = best;
    }
    return plan;
}

} // namespace segforge::core
