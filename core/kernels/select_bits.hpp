#pragma once

// cond ? a : b on the bits, for loops that must vectorise. GCC (without
// -fno-trapping-math) moves arithmetic used by only one arm of a ?: into that
// arm and then will not if-convert it, as the arithmetic might trap; a select
// of bits keeps both values computed unconditionally, so the loop stays
// straight-line and becomes vector blends.

#include <bit>
#include <cstdint>

namespace segforge::core::kernels {

inline float selectBits(bool cond, float a, float b) {
    const std::int32_t m = -static_cast<std::int32_t>(cond);
    return std::bit_cast<float>((std::bit_cast<std::int32_t>(a) & m) |
                                (std::bit_cast<std::int32_t>(b) & ~m));
}

inline double selectBits(bool cond, double a, double b) {
    const std::int64_t m = -static_cast<std::int64_t>(cond);
    return std::bit_cast<double>((std::bit_cast<std::int64_t>(a) & m) |
                                 (std::bit_cast<std::int64_t>(b) & ~m));
}

} // namespace segforge::core::kernels
