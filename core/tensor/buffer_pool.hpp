#pragma once

// Byte buffers the executor lends to values, gradients and saved state for part
// of a pass and takes back.
//
// Passes repeat: a training step at a batch size makes the same requests every
// time, and so does a validation pass. The executor names each request with a
// tag (this value's data, that value's gradient, a node's state) and starts
// every pass with its kind. The first pass of a kind is recorded; from it the
// pool plans which requests share a buffer (tensor/buffer_plan.hpp), and later
// passes of that kind get their planned buffers: they allocate nothing and hold
// about what is in use at the pass's peak. Plans of different kinds use the same
// buffers where sizes allow, and buffers no plan names are freed, so the pool
// holds what its largest plan needs. A pass that strays from its plan (a new tag,
// a larger request) still gets buffers, best fit, and is planned again.

#include "tensor/buffer_plan.hpp"
#include "tensor/tensor.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

namespace segforge::core {

class BufferPool {
public:
    /// A request without a tag is never planned: best fit among the free buffers.
    static constexpr std::uint64_t kUntagged = 0;

    /// A buffer of at least `bytes`: whatever it last held, or, new, uninitialised
    /// (its pages are first touched by the kernel that writes it).
    TensorStorage take(std::size_t bytes, std::uint64_t tag = kUntagged);
    /// Takes a buffer back (one it lent or any other).
    void give(TensorStorage buffer);
    /// Starts a pass of `kind`; the pass before it ends (and is planned if it was
    /// recorded). Buffers lent across the boundary stay lent.
    void beginPass(std::uint64_t kind);
    /// Frees every free buffer and forgets the plans.
    void clear();
    /// Capacity of the buffers the pool holds now.
    std::size_t freeBytes() const { return m_freeBytes; }
    /// Whether passes of `kind` follow a plan now.
    bool planned(std::uint64_t kind) const;

    /// Bytes of the buffers out on loan and of all buffers (lent and free), now and at
    /// their highest since the last resetPeaks(): what the engine's memory plan costs.
    struct Use {
        std::size_t lent = 0, held = 0, peakLent = 0, peakHeld = 0;
    };
    Use use() const { return m_use; }
    void resetPeaks();

private:
    using FreeList = std::multimap<std::size_t, TensorStorage>; ///< by capacity
    struct Slot {
        std::size_t capacity = 0;
        const std::byte* buffer = nullptr; ///< the buffer bound to it, if any
    };
    struct Plan {
        std::map<std::pair<std::uint64_t, int>, int> slotOf; ///< (tag, occurrence) -> slot
        std::vector<Slot> slotList;
        bool stale = false; ///< a pass strayed from it: plan the next recorded pass again
    };
    struct Recorded {
        std::uint64_t tag = 0;
        int occurrence = 0;
    };

    TensorStorage takeFree(FreeList::iterator it);
    TensorStorage takeBestFit(std::size_t bytes);
    TensorStorage takePlanned(Plan& plan, std::size_t bytes, std::uint64_t tag, int occurrence);
    void bind(Slot& slot, const std::byte* buffer);
    void endPass();
    void freeUnbound();
    void account();

    FreeList m_free;
    std::unordered_map<const std::byte*, FreeList::iterator> m_freeByData;
    std::size_t m_freeBytes = 0;
    /// Lent bytes can be given back by a buffer the pool did not lend (a tensor's own
    /// storage), so they are counted signed and shown clamped.
    std::int64_t m_lent = 0;
    Use m_use;

    std::map<std::uint64_t, Plan> m_plans;                ///< by kind of pass
    std::unordered_map<const std::byte*, int> m_bindings; ///< buffer -> how many slots name it
    bool m_inPass = false;
    std::uint64_t m_kind = 0;
    std::int64_t m_clock = 0;
    std::map<std::uint64_t, int> m_occurrences;               ///< per tag, this pass
    std::vector<BufferRequest> m_requests;                    ///< this pass's tagged requests
    std::vector<Recorded> m_recorded;                         ///< parallel to m_requests
    std::unordered_map<const std::byte*, std::size_t> m_open; ///< lent buffer -> request
};

} // namespace segforge::core
