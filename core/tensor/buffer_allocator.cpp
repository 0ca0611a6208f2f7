#include "tensor/buffer_allocator.hpp"

#include <new>

#if defined(__unix__) && !defined(__SANITIZE_ADDRESS__)
#include <sys/mman.h>
#define SEGFORGE_MAPPED_BUFFERS 1
#endif

namespace segforge::core {

namespace {

constexpr std::align_val_t kLine{64};

#if defined(SEGFORGE_MAPPED_BUFFERS)
bool mapped(std::size_t bytes) {
    return bytes >= kMappedBufferBytes;
}
#endif

} // namespace

void* allocateBuffer(std::size_t bytes) {
#if defined(SEGFORGE_MAPPED_BUFFERS)
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
        munmap(p, bytes);
        return;
    }
#endif
    ::operator delete(p, bytes, kLine);
}

} // namespace segforge::core
