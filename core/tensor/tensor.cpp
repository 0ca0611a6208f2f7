#include "tensor/tensor.hpp"

#include "util/str_cat.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace segforge::core {

Tensor::Tensor(Shape shape, DType dtype) : m_shape(std::move(shape)), m_dtype(dtype) {
    m_numel = 1;
    for (std::int64_t d : m_shape.dims()) {
        if (d < 0)
            throw std::invalid_argument("Tensor needs a concrete shape, got " + m_shape.toString());
        m_numel *= d;
    }
    m_storage.assign(static_cast<std::size_t>(m_numel) * static_cast<std::size_t>(dtypeSize(dtype)),
                     std::byte{0});
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
std::int32_t* Tensor::i32() {
    expect(DType::Int32);
    return reinterpret_cast<std::int32_t*>(m_storage.data());
}
const std::int32_t* Tensor::i32() const {
    expect(DType::Int32);
    return reinterpret_cast<const std::int32_t*>(m_storage.data());
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    std::int64_t n = 1;
    for (std::int64_t d : shape.dims())
        n *= d;
    if (n != m_numel)
        throw std::invalid_argument(strCat("cannot reshape ", describe(), " to ", shape.toString()));
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
