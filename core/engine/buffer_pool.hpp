#pragma once

// Byte buffers the executor lends to values and gradients for part of a step and
// takes back. A request gets the smallest free buffer that holds it, unless that
// one is far too large; the sequence of requests repeats every step, so after the
// first step a step allocates nothing.

#include "tensor/tensor.hpp"

#include <cstddef>
#include <map>

namespace segforge::core {

class BufferPool {
public:
    /// A buffer of at least `bytes`: whatever it last held, or, new, uninitialised
    /// (its pages are first touched by the kernel that writes it).
    TensorStorage take(std::size_t bytes);
    /// Takes a buffer back for later requests.
    void give(TensorStorage buffer);
    /// Frees every buffer the pool holds.
    void clear() { m_free.clear(); }
    /// Capacity of the buffers the pool holds now.
    std::size_t freeBytes() const;

private:
    std::multimap<std::size_t, TensorStorage> m_free; ///< by capacity
};

} // namespace segforge::core
