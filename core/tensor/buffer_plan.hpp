#pragma once

// Which requests of a recorded pass can share a buffer: two can when their
// lifetimes do not overlap. The buffer pool plans each kind of pass (a training
// step at a batch size, an inference pass) from one recorded pass of that kind,
// so that the next ones hold about as many bytes as are ever in use at once.

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace segforge::core {

/// One request of a pass: its size, and the clock when it was taken and given back.
struct BufferRequest {
    static constexpr std::int64_t kNeverGiven = std::numeric_limits<std::int64_t>::max();
    std::size_t bytes = 0;
    std::int64_t taken = 0;
    std::int64_t given = kNeverGiven;
};

struct BufferPlan {
    std::vector<int> bufferOf;         ///< per request: the buffer it uses
    std::vector<std::size_t> capacity; ///< per buffer: its size, the largest of its requests
    std::size_t totalBytes() const;
};

/// Greedy by size, the heuristic of inference engines' tensor planners: the requests,
/// largest first, each go to the smallest buffer none of whose requests overlaps
/// its lifetime (every buffer made so far holds it), or to a new buffer of its size.
BufferPlan planBuffers(const std::vector<BufferRequest>& requests);

} // namespace segforge::core
