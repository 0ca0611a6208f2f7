// The direct-convolution micro-kernels, written once over an 8-lane vector
// type V and compiled twice: by conv_direct_portable.cpp with plain arrays and
// by conv_direct_avx2.cpp with __m256. Include it inside an anonymous namespace
// after defining V, so each copy has internal linkage. No standard-library
// templates here (see conv_direct_jobs.hpp).
//
// V provides: Reg, kLanes (8), zero(), load(p), store(p, r), broadcast(p),
// fma(a, b, c) = a·b + c, add(a, b), max0(r) = r > 0 ? r : 0.

#ifndef SEGFORGE_CONV_DIRECT_BODY_INCLUDED
#define SEGFORGE_CONV_DIRECT_BODY_INCLUDED

// Loops over the register tile must be unrolled completely, or the compiler keeps the
// accumulator arrays in memory and stores them on every iteration.
#if defined(__clang__)
#define SEGFORGE_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define SEGFORGE_UNROLL _Pragma("GCC unroll 16")
#else
#define SEGFORGE_UNROLL
#endif

inline std::int64_t minI(std::int64_t a, std::int64_t b) {
    return a < b ? a : b;
}
inline std::int64_t maxI(std::int64_t a, std::int64_t b) {
    return a > b ? a : b;
}

/// Pixels per forward tile: 6 pixels × 2 vectors = 12 accumulators, plus two weight
/// vectors and one broadcast, fill the 16 AVX2 registers.
inline constexpr int kTilePixels = 6;
/// Input channels per weight-gradient tile, for the same register budget.
inline constexpr int kTileChannels = 6;

// in:(H,W,C) packed:[kh][kw][C][16] -> out pixels [ox0, ox0+P) of row oy, channels [f0, f0+16)
template <class V, int P>
void rowTile(const RowJob& j, const float* wBlock, std::int64_t f0, std::int64_t ox0) {
    using R = typename V::Reg;
    R a0[P], a1[P];
    SEGFORGE_UNROLL
    for (int p = 0; p < P; ++p) {
        a0[p] = V::zero();
        a1[p] = V::zero();
    }
    const std::int64_t c = j.c;
    for (std::int64_t ky = 0; ky < j.kh; ++ky) {
        const std::int64_t iy = j.oy + ky - j.padTop;
        if (iy < 0 || iy >= j.h)
            continue;
        const float* rowIn = j.in + iy * j.w * c;
        for (std::int64_t kx = 0; kx < j.kw; ++kx) {
            // Taps in the padding read zeros: one loop for edges and interior.
            const float* src[P];
            SEGFORGE_UNROLL
            for (int p = 0; p < P; ++p) {
                const std::int64_t ix = ox0 + p + kx - j.padLeft;
                src[p] = ix >= 0 && ix < j.w ? rowIn + ix * c : j.zeros;
            }
            const float* wp = wBlock + (ky * j.kw + kx) * c * kBlock;
            for (std::int64_t ci = 0; ci < c; ++ci, wp += kBlock) {
                const R w0 = V::load(wp);
                const R w1 = V::load(wp + 8);
                SEGFORGE_UNROLL
                for (int p = 0; p < P; ++p) {
                    const R b = V::broadcast(src[p] + ci);
                    a0[p] = V::fma(b, w0, a0[p]);
                    a1[p] = V::fma(b, w1, a1[p]);
                }
            }
        }
    }
    const std::int64_t nf = minI(kBlock, j.f - f0);
    const std::int64_t outStride = j.outStride ? j.outStride : j.f;
    SEGFORGE_UNROLL
    for (int p = 0; p < P; ++p) {
        float* o = j.out + (ox0 + p) * outStride + f0;
        R r0 = a0[p], r1 = a1[p];
        if (j.bias) {
            r0 = V::add(r0, V::load(j.bias + f0));
            r1 = V::add(r1, V::load(j.bias + f0 + 8));
        }
        if (nf == kBlock) {
            if (j.accumulate) {
                r0 = V::add(r0, V::load(o));
                r1 = V::add(r1, V::load(o + 8));
            }
            if (j.relu) {
                r0 = V::max0(r0);
                r1 = V::max0(r1);
            }
            V::store(o, r0);
            V::store(o + 8, r1);
        } else { // the last, partial block of channels
            float tmp[kBlock];
            V::store(tmp, r0);
            V::store(tmp + 8, r1);
            for (std::int64_t k = 0; k < nf; ++k) {
                float v = j.accumulate ? o[k] + tmp[k] : tmp[k];
                if (j.relu)
                    v = v > 0 ? v : 0.0f;
                o[k] = v;
            }
        }
    }
}

template <class V> void rowKernel(const RowJob& j) {
    const std::int64_t blocks = (j.f + kBlock - 1) / kBlock;
    const std::int64_t blockSize = j.kh * j.kw * j.c * kBlock;
    for (std::int64_t b = 0; b < blocks; ++b) {
        const float* wBlock = j.packed + b * blockSize;
        const std::int64_t f0 = b * kBlock;
        std::int64_t ox = 0;
        for (; ox + kTilePixels <= j.ow; ox += kTilePixels)
            rowTile<V, kTilePixels>(j, wBlock, f0, ox);
        switch (j.ow - ox) {
        case 5:
            rowTile<V, 5>(j, wBlock, f0, ox);
            break;
        case 4:
            rowTile<V, 4>(j, wBlock, f0, ox);
            break;
        case 3:
            rowTile<V, 3>(j, wBlock, f0, ox);
            break;
        case 2:
            rowTile<V, 2>(j, wBlock, f0, ox);
            break;
        case 1:
            rowTile<V, 1>(j, wBlock, f0, ox);
            break;
        default:
            break;
        }
    }
}

// in:(H,W,C) dz:(OH,OW,F) -> dw[ky][kx][c0, c0+CB)[f0, f0+16) += Σ over rows [oy0, oy1)
template <class V, int CB>
void weightTile(const WeightJob& j, std::int64_t ky, std::int64_t kx, std::int64_t c0,
                std::int64_t f0) {
    using R = typename V::Reg;
    const std::int64_t nf = minI(kBlock, j.f - f0);
    const std::int64_t xlo = maxI(0, j.padLeft - kx);
    const std::int64_t xhi = minI(j.ow, j.w + j.padLeft - kx);
    if (xlo >= xhi)
        return;
    float* d = j.dw + ((ky * j.kw + kx) * j.c + c0) * j.f + f0;
    const std::int64_t inStride = j.inStride ? j.inStride : j.c;
    const std::int64_t dzStride = j.dzStride ? j.dzStride : j.f;
    R a0[CB], a1[CB];
    SEGFORGE_UNROLL
    for (int k = 0; k < CB; ++k) {
        a0[k] = V::zero();
        a1[k] = V::zero();
    }
    for (std::int64_t oy = j.oy0; oy < j.oy1; ++oy) {
        const std::int64_t iy = oy + ky - j.padTop;
        if (iy < 0 || iy >= j.h)
            continue;
        const float* xin = j.in + (iy * j.w + xlo + kx - j.padLeft) * inStride + c0;
        const float* g = j.dz + (oy * j.ow + xlo) * dzStride + f0;
        if (nf == kBlock) {
            for (std::int64_t ox = xlo; ox < xhi; ++ox, xin += inStride, g += dzStride) {
                const R g0 = V::load(g);
                const R g1 = V::load(g + 8);
                SEGFORGE_UNROLL
                for (int k = 0; k < CB; ++k) {
                    const R b = V::broadcast(xin + k);
                    a0[k] = V::fma(b, g0, a0[k]);
                    a1[k] = V::fma(b, g1, a1[k]);
                }
            }
        } else { // the last, partial block of channels: never read past the row
            float tmp[kBlock] = {};
            for (std::int64_t ox = xlo; ox < xhi; ++ox, xin += inStride, g += dzStride) {
                for (std::int64_t k = 0; k < nf; ++k)
                    tmp[k] = g[k];
                const R g0 = V::load(tmp);
                const R g1 = V::load(tmp + 8);
                SEGFORGE_UNROLL
                for (int k = 0; k < CB; ++k) {
                    const R b = V::broadcast(xin + k);
                    a0[k] = V::fma(b, g0, a0[k]);
                    a1[k] = V::fma(b, g1, a1[k]);
                }
            }
        }
    }
    SEGFORGE_UNROLL
    for (int k = 0; k < CB; ++k) {
        float* row = d + k * j.f;
        if (nf == kBlock) {
            V::store(row, V::add(a0[k], V::load(row)));
            V::store(row + 8, V::add(a1[k], V::load(row + 8)));
        } else {
            float tmp[kBlock];
            V::store(tmp, a0[k]);
            V::store(tmp + 8, a1[k]);
            for (std::int64_t q = 0; q < nf; ++q)
                row[q] += tmp[q];
        }
    }
}

template <class V> void weightKernel(const WeightJob& j) {
    for (std::int64_t ky = 0; ky < j.kh; ++ky) {
        for (std::int64_t kx = 0; kx < j.kw; ++kx) {
            for (std::int64_t c0 = 0; c0 < j.c; c0 += kTileChannels) {
                for (std::int64_t f0 = 0; f0 < j.f; f0 += kBlock) {
                    switch (minI(kTileChannels, j.c - c0)) {
                    case 6:
                        weightTile<V, 6>(j, ky, kx, c0, f0);
                        break;
                    case 5:
                        weightTile<V, 5>(j, ky, kx, c0, f0);
                        break;
                    case 4:
                        weightTile<V, 4>(j, ky, kx, c0, f0);
                        break;
                    case 3:
                        weightTile<V, 3>(j, ky, kx, c0, f0);
                        break;
                    case 2:
                        weightTile<V, 2>(j, ky, kx, c0, f0);
                        break;
                    default:
                        weightTile<V, 1>(j, ky, kx, c0, f0);
                        break;
                    }
                }
            }
        }
    }
}

#endif
