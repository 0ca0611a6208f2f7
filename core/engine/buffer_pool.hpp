#pragma once

// Byte buffers the executor lends to values and gradients for part of a step and
// takes back. A request gets the smallest free buffer that holds it, unless that
// one is far too large; the sequence of requests repeats every step, so after the
// first step a step allocates nothing.

#include <cstddef>
#include <map>
#include <vector>

namespace segforge::core {

class BufferPool {
public:
    /// A buffer of at least `bytes` (its contents are whatever it last held).
    std::vector<std::byte> take(std::size_t bytes);
    /// Takes a buffer back for later requests.
    void give(std::vector<std::byte> buffer);
    /// Frees every buffer the pool holds.
    void clear() { m_free.clear(); }
    /// Capacity of the buffers the pool holds now.
    std::size_t freeBytes() const;

private:
    std::multimap<std::size_t, std::vector<std::byte>> m_free; ///< by capacity
};

} // namespace segforge::core
