#include "engine/buffer_pool.hpp"

namespace segforge::core {

namespace {

/// A free buffer larger than this for a request is left for a later, larger one.
bool tooLarge(std::size_t capacity, std::size_t bytes) {
    constexpr std::size_t kSlack = std::size_t{1} << 20;
    return capacity > 2 * bytes + kSlack;
}

} // namespace

std::vector<std::byte> BufferPool::take(std::size_t bytes) {
    auto it = m_free.lower_bound(bytes);
    if (it != m_free.end() && !tooLarge(it->first, bytes)) {
        std::vector<std::byte> buffer = std::move(it->second);
        m_free.erase(it);
        return buffer;
    }
    std::vector<std::byte> buffer(bytes);
    return buffer;
}

void BufferPool::give(std::vector<std::byte> buffer) {
    if (buffer.capacity() == 0)
        return;
    // At full size, so that a later, smaller adoption only shrinks it (no zeroing).
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
