#include "engine/buffer_pool.hpp"

namespace segforge::core {

namespace {

/// A free buffer larger than this for a request is left for a later, larger one.
bool tooLarge(std::size_t capacity, std::size_t bytes) {
    constexpr std::size_t kSlack = std::size_t{1} << 20;
    return capacity > 2 * bytes + kSlack;
}

} // namespace

TensorStorage BufferPool::take(std::size_t bytes) {
    auto it = m_free.lower_bound(bytes);
    if (it != m_free.end() && !tooLarge(it->first, bytes)) {
        TensorStorage buffer = std::move(it->second);
        m_free.erase(it);
        return buffer;
    }
    TensorStorage buffer(bytes);
    return buffer;
}

void BufferPool::give(TensorStorage buffer) {
    if (buffer.capacity() == 0)
        return;
    // At full size (uninitialised elements: nothing is written), so that a later,
    // smaller adoption only shrinks it.
    buffer.resize(buffer.capacity());
    const std::size_t capacity = buffer.capacity();
    m_free.emplace(capacity, std::move(buffer));
}

std::size_t BufferPool::freeBytes() const {
    std::size_t total = 0;
    for (const auto& [capacity, buffer] : m_free)
        total += capacity;
    return total;
}

} // namespace segforge::core
