#include "tensor/buffer_allocator.hpp"

#include <cstdint>
#include <new>

#if defined(__unix__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define SEGFORGE_MAPPED_BUFFERS 1
#endif

namespace segforge::core {

namespace {

constexpr std::align_val_t kLine{64};

#if defined(SEGFORGE_MAPPED_BUFFERS)
std::size_t pageRounded(std::size_t bytes) {
    constexpr std::size_t kPage = 4096;
    return (bytes + kPage - 1) & ~(kPage - 1);
}

bool mapped(std::size_t bytes) {
    return bytes >= kMappedBufferBytes;
}

/// A mapping of `bytes` that starts on a 2 MiB boundary, so that every whole 2 MiB
/// of it can be one transparent huge page: one page fault instead of 512 when a
/// kernel first writes it, and one TLB entry where strided kernels (the Winograd
/// transforms, the weight-gradient products) would otherwise miss on every row.
/// Where the kernel gives no huge pages (transparent_hugepage=never), the advice is
/// ignored and this is an ordinary mapping.
void* mapHugeAligned(std::size_t bytes) {
    const std::size_t span = bytes + kHugePageBytes;
    void* p = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        throw std::bad_alloc();
    const auto begin = reinterpret_cast<std::uintptr_t>(p);
    const std::uintptr_t aligned = (begin + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    const std::uintptr_t end = aligned + pageRounded(bytes);
    if (aligned > begin)
        munmap(p, aligned - begin);
    if (begin + span > end)
        munmap(reinterpret_cast<void*>(end), begin + span - end);
    void* buffer = reinterpret_cast<void*>(aligned);
    madvise(buffer, bytes, MADV_HUGEPAGE);
    return buffer;
}
#endif

} // namespace

void* allocateBuffer(std::size_t bytes) {
#if defined(SEGFORGE_MAPPED_BUFFERS)
    if (bytes >= kHugePageBytes)
        return mapHugeAligned(bytes);
    if (mapped(bytes)) {
        void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            throw std::bad_alloc();
        return p;
    }
#endif
    return ::operator new(bytes, kLine);
}

void freeBuffer(void* p, std::size_t bytes) noexcept {
    if (!p)
        return;
#if defined(SEGFORGE_MAPPED_BUFFERS)
    if (mapped(bytes)) {
        munmap(p, pageRounded(bytes));
        return;
    }
#endif
    ::operator delete(p, bytes, kLine);
}

} // namespace segforge::core
