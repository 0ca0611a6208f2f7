#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace segforge::core {

/// Dimensions of a tensor. Images are rank-4 NHWC; the batch dimension is
/// symbolic (kBatch, printed as "N") because one graph serves every batch size.
/// Rank 0 is a scalar (losses and metrics).
class Shape {
public:
    static constexpr std::int64_t kBatch = -1;

    Shape() = default;
    Shape(std::initializer_list<std::int64_t> dims)
        : m_dims(dims) {}
    explicit Shape(std::vector<std::int64_t> dims)
        : m_dims(std::move(dims)) {}

    /// N×H×W×C with a symbolic batch.
    static Shape image(std::int64_t height, std::int64_t width, std::int64_t channels) {
        return Shape{kBatch, height, width, channels};
    }
    static Shape scalar() { return Shape{}; }

    int rank() const { return static_cast<int>(m_dims.size()); }
    std::int64_t operator[](int axis) const { return m_dims[static_cast<std::size_t>(axis)]; }
    std::int64_t& operator[](int axis) { return m_dims[static_cast<std::size_t>(axis)]; }
    const std::vector<std::int64_t>& dims() const { return m_dims; }

    bool isImage() const { return rank() == 4; }
    std::int64_t height() const { return (*this)[1]; }
    std::int64_t width() const { return (*this)[2]; }
    std::int64_t channels() const { return (*this)[3]; }

    /// Elements per sample (every dimension but a symbolic batch).
    std::int64_t elementsPerSample() const;

    /// The element count of a concrete shape, or nullopt when a dimension is
    /// negative (symbolic) or the product of the non-zero dimensions overflows
    /// int64. The order of the dimensions does not matter (2^62×2^62×0 is
    /// refused like 0×2^62×2^62), so any code that multiplies the dimensions
    /// one by one afterwards cannot overflow either.
    std::optional<std::int64_t> checkedNumel() const;

    /// "N×128×128×16"; a scalar prints as "scalar".
    std::string toString() const;

    friend bool operator==(const Shape&, const Shape&) = default;

private:
    std::vector<std::int64_t> m_dims;
};

} // namespace segforge::core
