#pragma once

#include "tensor/dtype.hpp"
#include "tensor/shape.hpp"

#include <optional>
#include <string>

namespace segforge::core {

/// What is known about the values on a wire, beyond shape and dtype. The
/// checker uses it for contracts such as "BinaryCrossentropy expects
/// probabilities" without ever running the network.
enum class ValueKind : std::uint8_t {
    Unknown,      ///< nothing known (e.g. a linear convolution: logits)
    Probability,  ///< each element in [0, 1] independently (sigmoid)
    Distribution, ///< non-negative, sums to 1 over channels (softmax)
};

struct ValueRange {
    double lo = 0;
    double hi = 0;
    friend bool operator==(const ValueRange&, const ValueRange&) = default;
};

/// The type flowing along an edge: shape and dtype, plus value hints.
/// Equality compares shape and dtype only; hints never make two types differ.
struct TensorType {
    Shape shape{};
    DType dtype = DType::Float32;
    ValueKind kind = ValueKind::Unknown;
    std::optional<ValueRange> range{};

    /// "N×128×128×16 f32"
    std::string toString() const;

    friend bool operator==(const TensorType& a, const TensorType& b) {
        return a.shape == b.shape && a.dtype == b.dtype;
    }
};

} // namespace segforge::core
