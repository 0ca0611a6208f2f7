#pragma once

#include <cstddef>
#include <new>
#include <utility>

namespace segforge::core {

/// The allocator of tensor data and kernel scratch. Two differences from
/// std::allocator:
/// - growing a vector leaves the new elements uninitialised: a buffer's pages are
///   then first touched by the kernel that writes them, on the threads that write
///   them, and not zeroed in vain;
/// - every allocation starts on a 64-byte cache line (malloc gives 16 bytes): a
///   kernel's 32- and 64-byte vectors at offsets in whole vectors from the start
///   never straddle two lines.
template <typename T> struct BufferAllocator {
    using value_type = T;
    static constexpr std::align_val_t kAlignment{64};
    template <typename U> struct rebind { using other = BufferAllocator<U>; };
    BufferAllocator() = default;
    template <typename U> BufferAllocator(const BufferAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        return static_cast<T*>(::operator new(n * sizeof(T), kAlignment));
    }
    void deallocate(T* p, std::size_t n) noexcept {
        ::operator delete(p, n * sizeof(T), kAlignment);
    }
    template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <typename U, typename... Args> void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <typename U> bool operator==(const BufferAllocator<U>&) const noexcept { return true; }
};

} // namespace segforge::core
