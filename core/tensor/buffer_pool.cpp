#include "tensor/buffer_pool.hpp"

#include <algorithm>
#include <unordered_set>

namespace segforge::core {

namespace {

/// A free buffer larger than this for a request is left for a later, larger one.
bool tooLarge(std::size_t capacity, std::size_t bytes) {
    constexpr std::size_t kSlack = std::size_t{1} << 20;
    return capacity > 2 * bytes + kSlack;
}

} // namespace

TensorStorage BufferPool::take(std::size_t bytes, std::uint64_t tag) {
    if (bytes == 0)
        return TensorStorage();
    ++m_clock;
    const bool tagged = m_inPass && tag != kUntagged;
    const int occurrence = tagged ? m_occurrences[tag]++ : 0;
    TensorStorage buffer;
    if (tagged)
        if (auto plan = m_plans.find(m_kind); plan != m_plans.end() && !plan->second.stale)
            buffer = takePlanned(plan->second, bytes, tag, occurrence);
    if (buffer.capacity() == 0)
        buffer = takeBestFit(bytes);
    m_lent += static_cast<std::int64_t>(buffer.capacity());
    account();
    if (tagged) {
        m_open[buffer.data()] = m_requests.size();
        m_requests.push_back({bytes, m_clock, BufferRequest::kNeverGiven});
        m_recorded.push_back({tag, occurrence});
    }
    return buffer;
}

TensorStorage BufferPool::takeFree(FreeList::iterator it) {
    TensorStorage buffer = std::move(it->second);
    m_freeByData.erase(buffer.data());
    m_free.erase(it);
    m_freeBytes -= buffer.capacity();
    return buffer;
}

TensorStorage BufferPool::takeBestFit(std::size_t bytes) {
    auto it = m_free.lower_bound(bytes);
    if (it != m_free.end() && !tooLarge(it->first, bytes))
        return takeFree(it);
    return TensorStorage(bytes);
}

TensorStorage BufferPool::takePlanned(Plan& plan, std::size_t bytes, std::uint64_t tag,
                                      int occurrence) {
    auto it = plan.slotOf.find({tag, occurrence});
    if (it == plan.slotOf.end() ||
        plan.slotList[static_cast<std::size_t>(it->second)].capacity < bytes) {
        plan.stale = true; // not the pass it was planned from
        return TensorStorage();
    }
    Slot& slot = plan.slotList[static_cast<std::size_t>(it->second)];
    if (slot.buffer)
        if (auto f = m_freeByData.find(slot.buffer); f != m_freeByData.end())
            return takeFree(f->second);
    // Bind the slot: the best-fitting free buffer that no other slot of this plan
    // names (another plan's buffers are free during this pass), else a new one.
    std::unordered_set<const std::byte*> ours;
    for (const Slot& s : plan.slotList)
        if (s.buffer)
            ours.insert(s.buffer);
    TensorStorage buffer;
    for (auto f = m_free.lower_bound(slot.capacity);
         f != m_free.end() && !tooLarge(f->first, slot.capacity); ++f)
        if (!ours.count(f->second.data())) {
            buffer = takeFree(f);
            break;
        }
    if (buffer.capacity() == 0)
        buffer = TensorStorage(slot.capacity);
    bind(slot, buffer.data());
    return buffer;
}

void BufferPool::bind(Slot& slot, const std::byte* buffer) {
    if (slot.buffer) {
        auto b = m_bindings.find(slot.buffer);
        if (b != m_bindings.end() && --b->second == 0)
            m_bindings.erase(b);
    }
    slot.buffer = buffer;
    if (buffer)
        ++m_bindings[buffer];
}

void BufferPool::give(TensorStorage buffer) {
    if (buffer.capacity() == 0)
        return;
    ++m_clock;
    if (auto open = m_open.find(buffer.data()); open != m_open.end()) {
        m_requests[open->second].given = m_clock;
        m_open.erase(open);
    }
    m_lent -= static_cast<std::int64_t>(buffer.capacity());
    if (!m_bindings.count(buffer.data())) { // no plan names it: freed now
        buffer = TensorStorage();
        account();
        return;
    }
    // At full size (uninitialised elements: nothing is written), so that a later,
    // smaller adoption only shrinks it.
    buffer.resize(buffer.capacity());
    const std::size_t capacity = buffer.capacity();
    const std::byte* data = buffer.data();
    m_freeByData[data] = m_free.emplace(capacity, std::move(buffer));
    m_freeBytes += capacity;
    account();
}

void BufferPool::beginPass(std::uint64_t kind) {
    endPass();
    m_inPass = true;
    m_kind = kind;
}

bool BufferPool::planned(std::uint64_t kind) const {
    auto it = m_plans.find(kind);
    return it != m_plans.end() && !it->second.stale;
}

void BufferPool::endPass() {
    if (!m_inPass)
        return;
    auto old = m_plans.find(m_kind);
    if (!m_requests.empty() && (old == m_plans.end() || old->second.stale)) {
        if (old != m_plans.end())
            for (Slot& s : old->second.slotList)
                bind(s, nullptr);
        const BufferPlan planned = planBuffers(m_requests);
        Plan plan;
        plan.slotList.resize(planned.capacity.size());
        for (std::size_t b = 0; b < planned.capacity.size(); ++b)
            plan.slotList[b].capacity = planned.capacity[b];
        for (std::size_t r = 0; r < m_requests.size(); ++r)
            plan.slotOf[{m_recorded[r].tag, m_recorded[r].occurrence}] = planned.bufferOf[r];
        m_plans[m_kind] = std::move(plan);
        freeUnbound();
    }
    m_requests.clear();
    m_recorded.clear();
    m_open.clear();
    m_occurrences.clear();
    m_clock = 0;
    m_inPass = false;
}

void BufferPool::freeUnbound() {
    for (auto it = m_free.begin(); it != m_free.end();) {
        if (m_bindings.count(it->second.data())) {
            ++it;
            continue;
        }
        m_freeBytes -= it->first;
        m_freeByData.erase(it->second.data());
        it = m_free.erase(it);
    }
    account();
}

void BufferPool::clear() {
    m_free.clear();
    m_freeByData.clear();
    m_freeBytes = 0;
    m_plans.clear();
    m_bindings.clear();
    m_requests.clear(); // nothing left to plan: endPass only forgets the pass under way
    endPass();
    account();
}

void BufferPool::resetPeaks() {
    m_use.peakLent = m_use.lent;
    m_use.peakHeld = m_use.held;
}

void BufferPool::account() {
    m_use.lent = m_lent > 0 ? static_cast<std::size_t>(m_lent) : 0;
    m_use.held = m_use.lent + m_freeBytes;
    m_use.peakLent = std::max(m_use.peakLent, m_use.lent);
    m_use.peakHeld = std::max(m_use.peakHeld, m_use.held);
}

} // namespace segforge::core
