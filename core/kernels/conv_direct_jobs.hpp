#pragma once

// The interface between the direct convolution's driver (conv_direct.cpp:
// packing, threading) and its micro-kernels (conv_direct_body.hpp, compiled
// once portable, once for AVX2 and once more for AVX-512). Plain structs and
// function pointers only: the AVX2 and AVX-512 translation units include no
// standard-library templates, so no inline function compiled with -mavx2 or
// -mavx512f can be picked by the linker for code that runs on a CPU without it.

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
    float* out = nullptr;       ///< the output row, (OW, F)
    std::int64_t outStride = 0; ///< floats between output pixels; 0: f
    bool accumulate = false;    ///< out += conv (no bias, no activation)
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
    /// Floats between pixels of `in` and of `dz`; 0: c and f. Larger strides take a
    /// block of channels out of wider rows (the Winograd weight gradient's units).
    std::int64_t inStride = 0, dzStride = 0;
};

/// Winograd F(4×4, 3×3) (conv_winograd.cpp): a range of 4×4 output tiles, numbered
/// image by image, row by row. Channel counts are multiples of 8.
struct WinogradTiles {
    std::int64_t tilesH = 0, tilesW = 0; ///< tiles per image
    std::int64_t t0 = 0, count = 0;      ///< the range [t0, t0 + count)
    /// Floats between two positions' planes of transformed values (each count ×
    /// channels): padded to an odd number of cache lines, so that the 36 planes a
    /// transform reads or writes at once do not crowd into a few L1 sets.
    std::int64_t stride = 0;
};

/// Input transform: 6×6 input patches of the tiles -> v[36][count][c] = Bᵀ d B
/// (positions tiles.stride apart).
struct WinogradInputJob {
    WinogradTiles tiles;
    const float* in = nullptr; ///< (N, H, W, C)
    std::int64_t h = 0, w = 0, c = 0, padTop = 0, padLeft = 0;
    const float* zeros = nullptr; ///< at least C zeros, read for pixels in the padding
    /// Optional, laid out as `in`: inputs count only where the mask is > 0 (the ReLU
    /// derivative, when `in` is an output gradient and `mask` that ReLU's output).
    const float* mask = nullptr;
    float* v = nullptr;
};

/// Output transform: m[36][count][f] (positions tiles.stride apart) -> the tiles' 4×4 outputs Aᵀ m
/// A (+ bias, ReLU), clipped to OH × OW.
struct WinogradOutputJob {
    WinogradTiles tiles;
    const float* m = nullptr;
    std::int64_t f = 0, oh = 0, ow = 0;
    float* out = nullptr;        ///< (N, OH, OW, F)
    const float* bias = nullptr; ///< F values, or nullptr
    bool accumulate = false;     ///< out += result (no bias, no activation)
    bool relu = false;
};

/// Filter transform: w (3, 3, C, F) for input channels [c0, c1) -> u = G g Gᵀ, packed
/// [36][F/16][C][16] as the row kernel's 1×1 weights (tail lanes left untouched).
struct WinogradFilterJob {
    const float* w = nullptr;
    std::int64_t c = 0, f = 0, c0 = 0, c1 = 0;
    float* u = nullptr;
    std::int64_t stride = 0; ///< floats between positions (≥ F/16·C·16; see WinogradTiles)
};

/// Weight gradient, first half: the output gradient's 4×4 tiles -> w[36][count][f] =
/// A dy Aᵀ, positions tiles.stride apart (rows and columns past OH × OW read zero).
struct WinogradGradientJob {
    WinogradTiles tiles;
    const float* dz = nullptr;   ///< (N, OH, OW, F)
    const float* mask = nullptr; ///< optional, as dz: dz counts only where mask > 0
    std::int64_t f = 0, oh = 0, ow = 0;
    float* w = nullptr;
    /// Optional: += the sum of the (masked) dz over the tiles, the bias gradient; it
    /// is position (1, 1) of A dy Aᵀ, whose row of A is all ones.
    float* biasSum = nullptr;
};

/// Weight gradient, second half: m[36][c1 − c0][fEnd − fBegin] (the products summed
/// over tiles) -> dw (3, 3, C, F) += Gᵀ m G, for input channels [c0, c1) and output
/// channels [fBegin, fEnd).
struct WinogradFilterGradientJob {
    const float* m = nullptr; ///< the products of (c0, fBegin) first
    std::int64_t stride = 0;  ///< floats between m's positions
    std::int64_t mRow = 0;    ///< floats between m's rows (input channels); 0: f
    std::int64_t c = 0, f = 0, c0 = 0, c1 = 0;
    std::int64_t fBegin = 0, fEnd = 0; ///< 0, 0: all of F (multiples of 8)
    float* dw = nullptr;
};

struct MicroKernels {
    void (*row)(const RowJob& job) = nullptr;
    void (*weights)(const WeightJob& job) = nullptr;
    void (*winogradInput)(const WinogradInputJob& job) = nullptr;
    void (*winogradOutput)(const WinogradOutputJob& job) = nullptr;
    void (*winogradFilter)(const WinogradFilterJob& job) = nullptr;
    void (*winogradGradient)(const WinogradGradientJob& job) = nullptr;
    void (*winogradFilterGradient)(const WinogradFilterGradientJob& job) = nullptr;
};

/// The portable set (always present).
const MicroKernels& portableKernels();
/// The AVX2+FMA set, or nullptr when it was not compiled in.
const MicroKernels* avx2Kernels();
/// The AVX-512 set (16-lane row and weight kernels, the AVX2 transforms), or nullptr
/// when it was not compiled in.
const MicroKernels* avx512Kernels();
/// The set the current ConvPath and CPU select (conv_direct.cpp).
const MicroKernels& activeKernels();

} // namespace segforge::core::kernels::direct
