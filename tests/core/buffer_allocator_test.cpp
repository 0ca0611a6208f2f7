// Tensor data and kernel scratch start on 64-byte cache lines (BufferAllocator):
// the 16-lane kernels' loads and stores at whole-vector offsets then never
// straddle two lines.

#include "kernels/scratch_buffers.hpp"
#include "tensor/buffer_allocator.hpp"
#include "tensor/buffer_pool.hpp"
#include "tensor/tensor.hpp"

#include <cstdint>
#include <gtest/gtest.h>

namespace segforge::core {
namespace {

bool onCacheLine(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p) % 64 == 0;
}

TEST(BufferAllocator, TensorDataStartsOnACacheLine) {
    // Sizes that malloc serves from its small bins, its large bins and mmap.
    for (std::int64_t n : {1, 3, 5, 17, 100, 4099, 70000, 1 << 20}) {
        SCOPED_TRACE(n);
        Tensor t(Shape{n}, DType::Float32);
        EXPECT_TRUE(onCacheLine(t.f32()));
        Tensor bytes(Shape{n}, DType::UInt8);
        EXPECT_TRUE(onCacheLine(bytes.u8()));
        EXPECT_EQ(t.f32()[n - 1], 0.0f); // still zero-filled
    }
}

TEST(BufferAllocator, PooledBuffersStartOnACacheLine) {
    BufferPool pool;
    for (std::size_t bytes : {4u, 36u, 1000u, 300000u}) {
        Tensor t = Tensor::unallocated(Shape{static_cast<std::int64_t>(bytes / 4)}, DType::Float32);
        t.adoptStorage(pool.take(bytes));
        EXPECT_TRUE(onCacheLine(t.f32())) << bytes << " bytes";
        pool.give(t.takeStorage());
    }
}

TEST(BufferAllocator, ScratchStartsOnACacheLineAndKeepsItsContentsWhileItFits) {
    kernels::ScratchVector v;
    float* p = kernels::grownTo(v, 7);
    EXPECT_TRUE(onCacheLine(p));
    p[6] = 42.0f;
    EXPECT_EQ(kernels::grownTo(v, 5), p); // big enough: the same storage
    EXPECT_EQ(p[6], 42.0f);
    EXPECT_TRUE(onCacheLine(kernels::grownTo(v, 100003)));
    const float* z = kernels::zeroed(v, 33);
    for (int i = 0; i < 33; ++i)
        EXPECT_EQ(z[i], 0.0f);

    kernels::ScratchBuffer b;
    float* q = kernels::grownTo(b, 1000);
    EXPECT_TRUE(onCacheLine(q));
    EXPECT_EQ(kernels::grownTo(b, 999), q);
    EXPECT_TRUE(onCacheLine(kernels::grownTo(b, 50001)));
    EXPECT_GE(b.data.size(), 50001u);
}

TEST(BufferAllocator, BigBuffersStartOnAHugePageAndAreWhollyUsable) {
    // Sizes on and off page boundaries: the mapping is trimmed to whole pages and
    // unmapped with the same rounding.
    for (std::size_t bytes : {kHugePageBytes, kHugePageBytes + 3, 5 * kHugePageBytes + 4100}) {
        SCOPED_TRACE(bytes);
        auto* p = static_cast<unsigned char*>(allocateBuffer(bytes));
#if !defined(__SANITIZE_ADDRESS__) && defined(__unix__)
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % kHugePageBytes, 0u);
#endif
        EXPECT_TRUE(onCacheLine(p));
        for (std::size_t i = 0; i < bytes; i += 4096)
            p[i] = static_cast<unsigned char>(i / 4096);
        p[bytes - 1] = 7;
        EXPECT_EQ(p[4096], 1);
        EXPECT_EQ(p[bytes - 1], 7);
        freeBuffer(p, bytes);
    }
}

} // namespace
} // namespace segforge::core
