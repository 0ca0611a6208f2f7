#pragma once

#include <cstddef>
#include <utility>

namespace segforge::core {

/// At least `bytes` bytes starting on a 64-byte line; throws std::bad_alloc. From
/// kMappedBufferBytes on, whole pages mapped for the buffer alone, which
/// freeBuffer() unmaps: freed activations leave the resident set at once, whatever
/// the order of frees. (Through malloc they would stay in its heap whenever its
/// dynamic mmap threshold had risen past their size, and the peak RSS of the same
/// step differed by tens of MiB from run to run.) Sanitizer builds take everything
/// from the heap, where AddressSanitizer sees overruns.
/// From kHugePageBytes on, the mapping starts on a 2 MiB boundary and is advised
/// for transparent huge pages (see buffer_allocator.cpp).
void* allocateBuffer(std::size_t bytes);
void freeBuffer(void* p, std::size_t bytes) noexcept;
inline constexpr std::size_t kMappedBufferBytes = std::size_t{1} << 18;
inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

/// The allocator of tensor data and kernel scratch. Three differences from
/// std::allocator:
/// - growing a vector leaves the new elements uninitialised: a buffer's pages are
///   then first touched by the kernel that writes them, on the threads that write
///   them, and not zeroed in vain;
/// - every allocation starts on a 64-byte cache line (malloc gives 16 bytes): a
///   kernel's 32- and 64-byte vectors at offsets in whole vectors from the start
///   never straddle two lines;
/// - big buffers are pages of their own, given back to the system when freed
///   (allocateBuffer).
template <typename T> struct BufferAllocator {
    using value_type = T;
    template <typename U> struct rebind { using other = BufferAllocator<U>; };
    BufferAllocator() = default;
    template <typename U> BufferAllocator(const BufferAllocator<U>&) noexcept {}

    T* allocate(std::size_t n) { return static_cast<T*>(allocateBuffer(n * sizeof(T))); }
    void deallocate(T* p, std::size_t n) noexcept { freeBuffer(p, n * sizeof(T)); }
    template <typename U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
    template <typename U, typename... Args> void construct(U* p, Args&&... args) {
        ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
    }
    template <typename U> bool operator==(const BufferAllocator<U>&) const noexcept { return true; }
};

} // namespace segforge::core
