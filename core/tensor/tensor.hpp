#pragma once

#include "tensor/buffer_allocator.hpp"
#include "tensor/dtype.hpp"
#include "tensor/shape.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace segforge::core {

/// The bytes of a tensor, from a cache line on.
using TensorStorage = std::vector<std::byte, BufferAllocator<std::byte>>;

/// A runtime value: NHWC, contiguous, row-major, with a concrete shape (no
/// symbolic batch). Networks compute in float32; uint8/uint16/int32 appear only at
/// the data boundary until an explicit Cast/Rescale converts them.
class Tensor {
public:
    Tensor() = default;
    /// Zero-filled tensor. Every dimension must be ≥ 0 (no symbolic batch) and
    /// the byte size must be representable; otherwise throws
    /// std::invalid_argument (before allocating anything). Readers of files
    /// check sizes against the file first and never get here with absurd shapes.
    Tensor(Shape shape, DType dtype);
    /// The same checks, but no data yet (hasStorage() is false until adoptStorage()).
    static Tensor unallocated(Shape shape, DType dtype);

    const Shape& shape() const { return m_shape; }
    DType dtype() const { return m_dtype; }
    std::int64_t numel() const { return m_numel; }
    bool empty() const { return m_numel == 0; }
    std::size_t byteSize() const { return m_storage.size(); }

    // NHWC accessors (rank-4 tensors).
    std::int64_t batch() const { return m_shape[0]; }
    std::int64_t height() const { return m_shape[1]; }
    std::int64_t width() const { return m_shape[2]; }
    std::int64_t channels() const { return m_shape[3]; }

    /// Typed views; throw std::logic_error on a dtype mismatch (a programming
    /// error: kernels are only called on checked graphs).
    float* f32();
    const float* f32() const;
    std::uint8_t* u8();
    const std::uint8_t* u8() const;
    std::uint16_t* u16();
    const std::uint16_t* u16() const;
    std::int32_t* i32();
    const std::int32_t* i32() const;
    std::byte* bytes() { return m_storage.data(); }
    const std::byte* bytes() const { return m_storage.data(); }

    /// Element i of any dtype as a double, for code that is not a hot loop
    /// (statistics, metrics on targets, casts); bool reads as 0/1.
    double valueAt(std::int64_t i) const;
    /// Stores v into element i, truncating toward zero and saturating for the
    /// integer dtypes (as a C cast would, without its undefined behaviour).
    void setValueAt(std::int64_t i, double v);

    /// Storage lending, for the engine's memory plan: takeStorage() moves the bytes out
    /// (the tensor keeps its shape and dtype but has no data: hasStorage() is false and
    /// the typed views return nullptr); adoptStorage() gives it bytes again, reusing
    /// `storage`'s capacity when it suffices. The contents are whatever `storage` held.
    bool hasStorage() const { return m_numel == 0 || !m_storage.empty(); }
    TensorStorage takeStorage();
    void adoptStorage(TensorStorage storage);
    /// Bytes the data occupies (also when it has been taken).
    std::size_t dataBytes() const { return static_cast<std::size_t>(m_numel) * dtypeSize(m_dtype); }

    /// Same data, new shape with the same element count.
    Tensor reshaped(Shape shape) const;
    void fill(float value);
    /// "4×128×128×3 u8"
    std::string describe() const;

private:
    void expect(DType dtype) const;

    Shape m_shape;
    DType m_dtype = DType::Float32;
    std::int64_t m_numel = 0;
    TensorStorage m_storage;
};

} // namespace segforge::core
