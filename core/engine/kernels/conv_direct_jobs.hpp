#pragma once

// The interface between the direct convolution's driver (conv_direct.cpp:
// packing, threading) and its micro-kernels (conv_direct_body.hpp, compiled
// once portable and once for AVX2). Plain structs and function pointers only:
// the AVX2 translation unit includes no standard-library templates, so no
// inline function compiled with -mavx2 can be picked by the linker for code
// that runs on a CPU without it.

#include <cstdint>

namespace segforge::core::kernels::direct {

/// Output channels per packed weight block (two 8-lane vectors).
inline constexpr std::int64_t kBlock = 16;

/// One output row of a stride-1 convolution of one image, all output channels.
struct RowJob {
    const float* in = nullptr; ///< the image, (H, W, C)
    std::int64_t h = 0, w = 0, c = 0;
    std::int64_t kh = 1, kw = 1, padTop = 0, padLeft = 0;
    const float* packed = nullptr; ///< [block][kh][kw][C][16]; the tail block zero-padded
    const float* bias = nullptr;   ///< F rounded up to 16, zero-padded; nullptr for none
    const float* zeros = nullptr;  ///< at least C zeros, read for taps in the padding
    std::int64_t f = 0;            ///< output channels
    std::int64_t ow = 0, oy = 0;
    float* out = nullptr;    ///< the output row, (OW, F)
    bool accumulate = false; ///< out += conv (no bias, no activation)
    bool relu = false;
};

/// The weight gradient contributed by output rows [oy0, oy1) of one image.
struct WeightJob {
    const float* in = nullptr; ///< the image, (H, W, C)
    std::int64_t h = 0, w = 0, c = 0;
    std::int64_t kh = 1, kw = 1, padTop = 0, padLeft = 0;
    const float* dz = nullptr; ///< the image's output gradient, (OH, OW, F)
    std::int64_t f = 0, ow = 0, oy0 = 0, oy1 = 0;
    float* dw = nullptr; ///< (kh, kw, C, F), accumulated
};

struct MicroKernels {
    void (*row)(const RowJob& job) = nullptr;
    void (*weights)(const WeightJob& job) = nullptr;
};

/// The portable set (always present).
const MicroKernels& portableKernels();
/// The AVX2+FMA set, or nullptr when it was not compiled in.
const MicroKernels* avx2Kernels();

} // namespace segforge::core::kernels::direct
