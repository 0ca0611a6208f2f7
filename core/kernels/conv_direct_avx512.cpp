// The AVX-512 direct-convolution micro-kernels. This file alone is compiled with
// -mavx512f (and AVX2+FMA; core/CMakeLists.txt); conv_direct.cpp calls it only
// after checking the CPU. Like conv_direct_avx2.cpp it includes no
// standard-library header, so nothing compiled here can replace an inline
// function used elsewhere.
//
// The packed layout is the 8-lane kernels' ([block][kh][kw][C][16]): one 16-lane
// register holds a whole block of output channels, and the 32 registers hold a
// tile of 12 pixels × 2 blocks (the row kernel) or 12 input channels × 2 blocks
// (the weight kernel), four times the 8-lane tiles' multiply-adds per load. Every
// output lane sums the same terms in the same order as the 8-lane kernels (the
// taps, then the input channels, one fused multiply-add each; then bias,
// accumulation and ReLU), so the results are the same bits as conv_direct_avx2.cpp's;
// conv_direct_test checks it. The Winograd transforms (conv_winograd_body.hpp) run
// over 16 lanes where the channels they sweep come in sixteens, over the AVX2
// type's 8 elsewhere: lane by lane the same operations, so again the same bits.

#include "kernels/conv_direct_jobs.hpp"

#if defined(__AVX512F__) && defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

namespace segforge::core::kernels::direct {

namespace {

#include "kernels/conv_direct_body.hpp"
#include "kernels/conv_winograd_body.hpp"
#include "kernels/vec_avx2.hpp"

/// The 16-lane vector type of conv_winograd_body.hpp.
struct Avx512Vec {
    using Reg = __m512;
    static constexpr int kLanes = 16;
    static Reg zero() { return _mm512_setzero_ps(); }
    static Reg load(const float* p) { return _mm512_loadu_ps(p); }
    static void store(float* p, Reg r) { _mm512_storeu_ps(p, r); }
    static Reg broadcast(const float* p) { return _mm512_set1_ps(*p); }
    static Reg fma(Reg a, Reg b, Reg c) { return _mm512_fmadd_ps(a, b, c); }
    static Reg add(Reg a, Reg b) { return _mm512_add_ps(a, b); }
    static Reg sub(Reg a, Reg b) { return _mm512_sub_ps(a, b); }
    // max(r, 0), 0 for NaN, as Avx2Vec (GCC 12 warns about _mm512_max_ps's undefined
    // pass-through, not about the masked form's zeros).
    static Reg max0(Reg r) {
        return _mm512_maskz_max_ps(static_cast<__mmask16>(0xFFFF), r, _mm512_setzero_ps());
    }
    // v where m > 0, else 0 (NaN in m gives 0).
    static Reg wherePositive(Reg m, Reg v) {
        return _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(m, _mm512_setzero_ps(), _CMP_GT_OQ), v);
    }
};

/// Runs a transform over 16 lanes when `channels` (the ones it sweeps) come in sixteens.
template <class Job, void (*Wide)(const Job&), void (*Narrow)(const Job&)>
void bySixteens(const Job& j, std::int64_t channels) {
    (channels % Avx512Vec::kLanes == 0 ? Wide : Narrow)(j);
}

void wideWinogradInput(const WinogradInputJob& j) {
    bySixteens<WinogradInputJob, winogradInput<Avx512Vec>, winogradInput<Avx2Vec>>(j, j.c);
}
void wideWinogradOutput(const WinogradOutputJob& j) {
    bySixteens<WinogradOutputJob, winogradOutput<Avx512Vec>, winogradOutput<Avx2Vec>>(j, j.f);
}
void wideWinogradFilter(const WinogradFilterJob& j) {
    bySixteens<WinogradFilterJob, winogradFilter<Avx512Vec>, winogradFilter<Avx2Vec>>(j, j.f);
}
void wideWinogradGradient(const WinogradGradientJob& j) {
    bySixteens<WinogradGradientJob, winogradGradient<Avx512Vec>, winogradGradient<Avx2Vec>>(j, j.f);
}
void wideWinogradFilterGradient(const WinogradFilterGradientJob& j) {
    const std::int64_t fEnd = j.fEnd ? j.fEnd : j.f;
    bySixteens<WinogradFilterGradientJob, winogradFilterGradient<Avx512Vec>,
               winogradFilterGradient<Avx2Vec>>(j, fEnd - j.fBegin);
}

/// Pixels (row kernel) or input channels (weight kernel) per 16-lane tile.
constexpr int kWideTile = 12;

/// The lanes of a block of 16 output channels that exist: all but in the tail block.
__mmask16 laneMask(std::int64_t lanes) {
    return lanes >= kBlock ? static_cast<__mmask16>(0xFFFF)
                           : static_cast<__mmask16>((1u << lanes) - 1u);
}

/// Sets every register of a tile to zero.
template <int NB, int N> void zeroTile(__m512 (&acc)[NB][N]) {
    SEGFORGE_UNROLL
    for (int b = 0; b < NB; ++b) {
        SEGFORGE_UNROLL
        for (int k = 0; k < N; ++k)
            acc[b][k] = _mm512_setzero_ps();
    }
}

/// One tap of the kernel: acc[b][p] += pixel(p, ci) · w[ci] of block b, over the input
/// channels ci in order (wp: the tap's weights of the first block, blocks blockSize apart).
template <int NB, int P, class Pixel>
void addTap(__m512 (&acc)[NB][P], const float* wp, std::int64_t blockSize, std::int64_t c,
            Pixel pixel) {
    for (std::int64_t ci = 0; ci < c; ++ci, wp += kBlock) {
        __m512 w[NB];
        SEGFORGE_UNROLL
        for (int b = 0; b < NB; ++b)
            w[b] = _mm512_loadu_ps(wp + b * blockSize);
        SEGFORGE_UNROLL
        for (int p = 0; p < P; ++p) {
            const __m512 x = _mm512_set1_ps(pixel(p, ci));
            SEGFORGE_UNROLL
            for (int b = 0; b < NB; ++b)
                acc[b][p] = _mm512_fmadd_ps(x, w[b], acc[b][p]);
        }
    }
}

// in:(H,W,C) -> out pixels [ox0, ox0+P) of row oy, channels [f0, f0 + 16·NB)
template <int NB, int P>
void wideRowTile(const RowJob& j, const float* wBlock, std::int64_t blockSize, std::int64_t f0,
                 std::int64_t ox0) {
    __m512 acc[NB][P];
    zeroTile(acc);
    const std::int64_t c = j.c;
    for (std::int64_t ky = 0; ky < j.kh; ++ky) {
        const std::int64_t iy = j.oy + ky - j.padTop;
        if (iy < 0 || iy >= j.h)
            continue;
        const float* rowIn = j.in + iy * j.w * c;
        for (std::int64_t kx = 0; kx < j.kw; ++kx) {
            const std::int64_t ix0 = ox0 + kx - j.padLeft;
            const float* wp = wBlock + (ky * j.kw + kx) * c * kBlock;
            if (ix0 >= 0 && ix0 + P <= j.w) {
                // Every tap inside the row: the pixels lie c floats apart.
                const float* src = rowIn + ix0 * c;
                addTap(acc, wp, blockSize, c,
                       [&](int p, std::int64_t ci) { return src[p * c + ci]; });
                continue;
            }
            // Taps in the padding read zeros.
            const float* src[P];
            SEGFORGE_UNROLL
            for (int p = 0; p < P; ++p) {
                const std::int64_t ix = ix0 + p;
                src[p] = ix >= 0 && ix < j.w ? rowIn + ix * c : j.zeros;
            }
            addTap(acc, wp, blockSize, c, [&](int p, std::int64_t ci) { return src[p][ci]; });
        }
    }
    const std::int64_t outStride = j.outStride ? j.outStride : j.f;
    const __m512 zero = _mm512_setzero_ps();
    SEGFORGE_UNROLL
    for (int b = 0; b < NB; ++b) {
        const std::int64_t fb = f0 + b * kBlock;
        const __mmask16 lanes = laneMask(j.f - fb);
        const __m512 bias = j.bias ? _mm512_loadu_ps(j.bias + fb) : zero;
        SEGFORGE_UNROLL
        for (int p = 0; p < P; ++p) {
            float* o = j.out + (ox0 + p) * outStride + fb;
            __m512 r = acc[b][p];
            if (j.bias)
                r = _mm512_add_ps(r, bias);
            if (j.accumulate)
                r = _mm512_add_ps(r, _mm512_maskz_loadu_ps(lanes, o));
            if (j.relu) // (GCC 12 warns about _mm512_max_ps's undefined pass-through)
                r = _mm512_maskz_max_ps(lanes, r, zero);
            _mm512_mask_storeu_ps(o, lanes, r);
        }
    }
}

/// wideRowTile<NB, n> for a run of n < P pixels.
template <int NB, int P>
void wideRowRest(std::int64_t n, const RowJob& j, const float* wBlock, std::int64_t blockSize,
                 std::int64_t f0, std::int64_t ox0) {
    if constexpr (P > 0) {
        if (n == P)
            wideRowTile<NB, P>(j, wBlock, blockSize, f0, ox0);
        else
            wideRowRest<NB, P - 1>(n, j, wBlock, blockSize, f0, ox0);
    }
}

template <int NB>
void wideRowBlocks(const RowJob& j, const float* wBlock, std::int64_t blockSize, std::int64_t f0) {
    std::int64_t ox = 0;
    for (; ox + kWideTile <= j.ow; ox += kWideTile)
        wideRowTile<NB, kWideTile>(j, wBlock, blockSize, f0, ox);
    wideRowRest<NB, kWideTile - 1>(j.ow - ox, j, wBlock, blockSize, f0, ox);
}

void wideRowKernel(const RowJob& j) {
    const std::int64_t blocks = (j.f + kBlock - 1) / kBlock;
    const std::int64_t blockSize = j.kh * j.kw * j.c * kBlock;
    std::int64_t b = 0;
    for (; b + 2 <= blocks; b += 2)
        wideRowBlocks<2>(j, j.packed + b * blockSize, blockSize, b * kBlock);
    if (b < blocks)
        wideRowBlocks<1>(j, j.packed + b * blockSize, blockSize, b * kBlock);
}

// in:(H,W,C) dz:(OH,OW,F) -> dw[ky][kx][c0, c0+CB)[f0, f0 + 16·NB) += Σ over rows [oy0, oy1)
template <int NB, int CB>
void wideWeightTile(const WeightJob& j, std::int64_t ky, std::int64_t kx, std::int64_t c0,
                    std::int64_t f0) {
    const std::int64_t xlo = maxI(0, j.padLeft - kx);
    const std::int64_t xhi = minI(j.ow, j.w + j.padLeft - kx);
    if (xlo >= xhi)
        return;
    __mmask16 lanes[NB];
    SEGFORGE_UNROLL
    for (int b = 0; b < NB; ++b)
        lanes[b] = laneMask(j.f - f0 - b * kBlock);
    float* d = j.dw + ((ky * j.kw + kx) * j.c + c0) * j.f + f0;
    const std::int64_t inStride = j.inStride ? j.inStride : j.c;
    const std::int64_t dzStride = j.dzStride ? j.dzStride : j.f;
    __m512 acc[NB][CB];
    zeroTile(acc);
    for (std::int64_t oy = j.oy0; oy < j.oy1; ++oy) {
        const std::int64_t iy = oy + ky - j.padTop;
        if (iy < 0 || iy >= j.h)
            continue;
        const float* xin = j.in + (iy * j.w + xlo + kx - j.padLeft) * inStride + c0;
        const float* g = j.dz + (oy * j.ow + xlo) * dzStride + f0;
        for (std::int64_t ox = xlo; ox < xhi; ++ox, xin += inStride, g += dzStride) {
            __m512 gv[NB];
            SEGFORGE_UNROLL
            for (int b = 0; b < NB; ++b) // lanes past F read zero, never past the row
                gv[b] = _mm512_maskz_loadu_ps(lanes[b], g + b * kBlock);
            SEGFORGE_UNROLL
            for (int k = 0; k < CB; ++k) {
                const __m512 x = _mm512_set1_ps(xin[k]);
                SEGFORGE_UNROLL
                for (int b = 0; b < NB; ++b)
                    acc[b][k] = _mm512_fmadd_ps(x, gv[b], acc[b][k]);
            }
        }
    }
    SEGFORGE_UNROLL
    for (int k = 0; k < CB; ++k) {
        float* row = d + k * j.f;
        SEGFORGE_UNROLL
        for (int b = 0; b < NB; ++b) {
            float* r = row + b * kBlock;
            _mm512_mask_storeu_ps(r, lanes[b],
                                  _mm512_add_ps(acc[b][k], _mm512_maskz_loadu_ps(lanes[b], r)));
        }
    }
}

/// wideWeightTile<NB, n> for a run of n < CB input channels.
template <int NB, int CB>
void wideWeightRest(std::int64_t n, const WeightJob& j, std::int64_t ky, std::int64_t kx,
                    std::int64_t c0, std::int64_t f0) {
    if constexpr (CB > 0) {
        if (n == CB)
            wideWeightTile<NB, CB>(j, ky, kx, c0, f0);
        else
            wideWeightRest<NB, CB - 1>(n, j, ky, kx, c0, f0);
    }
}

void wideWeightKernel(const WeightJob& j) {
    const std::int64_t blocks = (j.f + kBlock - 1) / kBlock;
    for (std::int64_t ky = 0; ky < j.kh; ++ky) {
        for (std::int64_t kx = 0; kx < j.kw; ++kx) {
            for (std::int64_t c0 = 0; c0 < j.c; c0 += kWideTile) {
                const std::int64_t n = minI(kWideTile, j.c - c0);
                std::int64_t b = 0;
                for (; b + 2 <= blocks; b += 2)
                    wideWeightRest<2, kWideTile>(n, j, ky, kx, c0, b * kBlock);
                if (b < blocks)
                    wideWeightRest<1, kWideTile>(n, j, ky, kx, c0, b * kBlock);
            }
        }
    }
}

constexpr MicroKernels kAvx512{
    &wideRowKernel,      &wideWeightKernel,     &wideWinogradInput,         &wideWinogradOutput,
    &wideWinogradFilter, &wideWinogradGradient, &wideWinogradFilterGradient};

} // namespace

// Only a constant's address: safe to call before the CPU check.
const MicroKernels* avx512Kernels() {
    return &kAvx512;
}

} // namespace segforge::core::kernels::direct

#else

namespace segforge::core::kernels::direct {

const MicroKernels* avx512Kernels() {
    return nullptr;
}

} // namespace segforge::core::kernels::direct

#endif
