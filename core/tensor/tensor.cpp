#include "tensor/tensor.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <utility>

namespace segforge::core {

namespace {

/// The byte size of a tensor of `shape` and `dtype`; throws when a dimension is
/// symbolic or the size cannot be addressed.
std::size_t checkedBytes(const Shape& shape, DType dtype, std::int64_t& numel) {
    for (std::int64_t d : shape.dims())
        if (d < 0)
            throw std::invalid_argument("Tensor needs a concrete shape, got " + shape.toString());
    const std::optional<std::int64_t> count = shape.checkedNumel();
    std::int64_t bytes = 0;
    // Both products are checked: a signed overflow here is undefined behaviour, and a
    // wrapped size would allocate a small buffer that every kernel then overruns.
    if (!count ||
        __builtin_mul_overflow(*count, static_cast<std::int64_t>(dtypeSize(dtype)), &bytes) ||
        static_cast<std::uint64_t>(bytes) > std::numeric_limits<std::size_t>::max())
        throw std::invalid_argument("Tensor shape " + shape.toString() +
                                    " has too many elements to address");
    numel = *count;
    return static_cast<std::size_t>(bytes);
}

} // namespace

Tensor::Tensor(Shape shape, DType dtype)
    : m_shape(std::move(shape))
    , m_dtype(dtype) {
    m_storage.assign(checkedBytes(m_shape, m_dtype, m_numel), std::byte{0});
}

Tensor Tensor::unallocated(Shape shape, DType dtype) {
    Tensor t;
    t.m_shape = std::move(shape);
    t.m_dtype = dtype;
    checkedBytes(t.m_shape, dtype, t.m_numel);
    return t;
}

TensorStorage Tensor::takeStorage() {
    return std::exchange(m_storage, {});
}

void Tensor::adoptStorage(TensorStorage storage) {
    m_storage = std::move(storage);
    m_storage.resize(dataBytes());
}

void Tensor::expect(DType dtype) const {
    if (dtype != m_dtype)
        throw std::logic_error(strCat("tensor ", describe(), " accessed as ", dtypeName(dtype)));
}

float* Tensor::f32() {
    expect(DType::Float32);
    return reinterpret_cast<float*>(m_storage.data());
}
const float* Tensor::f32() const {
    expect(DType::Float32);
    return reinterpret_cast<const float*>(m_storage.data());
}
std::uint8_t* Tensor::u8() {
    expect(DType::UInt8);
    return reinterpret_cast<std::uint8_t*>(m_storage.data());
}
const std::uint8_t* Tensor::u8() const {
    expect(DType::UInt8);
    return reinterpret_cast<const std::uint8_t*>(m_storage.data());
}
std::uint16_t* Tensor::u16() {
    expect(DType::UInt16);
    return reinterpret_cast<std::uint16_t*>(m_storage.data());
}
const std::uint16_t* Tensor::u16() const {
    expect(DType::UInt16);
    return reinterpret_cast<const std::uint16_t*>(m_storage.data());
}
std::int32_t* Tensor::i32() {
    expect(DType::Int32);
    return reinterpret_cast<std::int32_t*>(m_storage.data());
}
const std::int32_t* Tensor::i32() const {
    expect(DType::Int32);
    return reinterpret_cast<const std::int32_t*>(m_storage.data());
}

double Tensor::valueAt(std::int64_t i) const {
    const std::byte* p = m_storage.data();
    switch (m_dtype) {
    case DType::Float32:
        return reinterpret_cast<const float*>(p)[i];
    case DType::UInt8:
    case DType::Bool:
        return reinterpret_cast<const std::uint8_t*>(p)[i];
    case DType::UInt16:
        return reinterpret_cast<const std::uint16_t*>(p)[i];
    case DType::Int32:
        return reinterpret_cast<const std::int32_t*>(p)[i];
    }
    return 0.0;
}

namespace {
template <typename T> T saturate(double v) {
    // NaN becomes 0, like the other out-of-range values becoming the nearest bound.
    if (!(v == v))
        return T{0};
    const double t = std::trunc(v);
    if (t <= static_cast<double>(std::numeric_limits<T>::lowest()))
        return std::numeric_limits<T>::lowest();
    if (t >= static_cast<double>(std::numeric_limits<T>::max()))
        return std::numeric_limits<T>::max();
    return static_cast<T>(t);
}
} // namespace

void Tensor::setValueAt(std::int64_t i, double v) {
    std::byte* p = m_storage.data();
    switch (m_dtype) {
    case DType::Float32:
        reinterpret_cast<float*>(p)[i] = static_cast<float>(v);
        return;
    case DType::UInt8:
        reinterpret_cast<std::uint8_t*>(p)[i] = saturate<std::uint8_t>(v);
        return;
    case DType::Bool:
        reinterpret_cast<std::uint8_t*>(p)[i] = v != 0.0 ? 1 : 0;
        return;
    case DType::UInt16:
        reinterpret_cast<std::uint16_t*>(p)[i] = saturate<std::uint16_t>(v);
        return;
    case DType::Int32:
        reinterpret_cast<std::int32_t*>(p)[i] = saturate<std::int32_t>(v);
        return;
    }
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    const std::optional<std::int64_t> n = shape.checkedNumel();
    if (!n || *n != m_numel)
        throw std::invalid_argument(
            strCat("cannot reshape ", describe(), " to ", shape.toString()));
    t.m_shape = std::move(shape);
    return t;
}

void Tensor::fill(float value) {
    float* p = f32();
    std::fill(p, p + m_numel, value);
}

std::string Tensor::describe() const {
    return strCat(m_shape.toString(), " ", dtypeShortName(m_dtype));
}

} // namespace segforge::core
