// The Winograd F(4×4, 3×3) transforms (Lavin & Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016; interpolation points 0, ±1, ±2, ∞),
// written over a vector type V of V::kLanes lanes: the 8-lane types of
// conv_direct_body.hpp (portable and AVX2) and the 16-lane AVX-512 one. Each
// transform is separable: one 1-D pass down the columns into a small stack
// array, one along its rows. Vectors run over channels, so C and F are
// multiples of V::kLanes (8 always; 16 where conv_direct_avx512.cpp takes them).
//
//        ⎡4  0 −5  0 1 0⎤        ⎡ 1/4    0     0  ⎤        ⎡1 1  1 1  1 0⎤
//        ⎢0 −4 −4  1 1 0⎥        ⎢−1/6 −1/6  −1/6 ⎥   Aᵀ = ⎢0 1 −1 2 −2 0⎥
//   Bᵀ = ⎢0  4 −4 −1 1 0⎥   G =  ⎢−1/6  1/6  −1/6 ⎥        ⎢0 1  1 4  4 0⎥
//        ⎢0 −2 −1  2 1 0⎥        ⎢1/24 1/12  1/6  ⎥        ⎣0 1 −1 8 −8 1⎦
//        ⎢0  2 −1 −2 1 0⎥        ⎢1/24 −1/12 1/6  ⎥
//        ⎣0  4  0 −5 0 1⎦        ⎣  0    0     1  ⎦
//
// A 4×4 output tile is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A for its 6×6 input patch d;
// summed over input channels, the ⊙ becomes 36 small matrix products, which
// the driver runs with the row kernel as 1×1 convolutions.
//
// Include inside the same anonymous namespace as conv_direct_body.hpp.

#ifndef SEGFORGE_CONV_WINOGRAD_BODY_INCLUDED
#define SEGFORGE_CONV_WINOGRAD_BODY_INCLUDED

inline constexpr int kWinoTile = 4;  ///< outputs per tile side
inline constexpr int kWinoPatch = 6; ///< inputs per tile side

/// The transforms' constants, broadcast from memory (V has no set1).
struct WinoConstants {
    float c2 = 2, c4 = 4, c8 = 8, cm4 = -4, cm5 = -5;
    float quarter = 0.25f, minusSixth = -1.0f / 6, sixth = 1.0f / 6;
    float twelfth = 1.0f / 12, minusTwelfth = -1.0f / 12, twentyFourth = 1.0f / 24;
};
inline constexpr WinoConstants kWino{};

/// Bᵀ d for one column of six vectors.
template <class V> void winoInput1d(const typename V::Reg* d, typename V::Reg* t) {
    using R = typename V::Reg;
    const R c2 = V::broadcast(&kWino.c2), c4 = V::broadcast(&kWino.c4);
    const R cm4 = V::broadcast(&kWino.cm4), cm5 = V::broadcast(&kWino.cm5);
    const R d42 = V::sub(d[4], d[2]);
    t[0] = V::fma(c4, d[0], V::fma(cm5, d[2], d[4]));
    t[1] = V::fma(cm4, V::add(d[1], d[2]), V::add(d[3], d[4]));
    t[2] = V::fma(c4, V::sub(d[1], d[2]), V::sub(d[4], d[3]));
    t[3] = V::fma(c2, V::sub(d[3], d[1]), d42);
    t[4] = V::fma(c2, V::sub(d[1], d[3]), d42);
    t[5] = V::fma(c4, d[1], V::fma(cm5, d[3], d[5]));
}

/// Aᵀ m for one column of six vectors.
template <class V> void winoOutput1d(const typename V::Reg* m, typename V::Reg* o) {
    using R = typename V::Reg;
    const R c2 = V::broadcast(&kWino.c2), c4 = V::broadcast(&kWino.c4),
            c8 = V::broadcast(&kWino.c8);
    const R a = V::add(m[1], m[2]), b = V::sub(m[1], m[2]);
    const R c = V::add(m[3], m[4]), d = V::sub(m[3], m[4]);
    o[0] = V::add(V::add(m[0], a), c);
    o[1] = V::fma(c2, d, b);
    o[2] = V::fma(c4, c, a);
    o[3] = V::add(V::fma(c8, d, b), m[5]);
}

/// G g for one column of three vectors.
template <class V> void winoFilter1d(const typename V::Reg* g, typename V::Reg* u) {
    using R = typename V::Reg;
    const R q = V::broadcast(&kWino.quarter), ms = V::broadcast(&kWino.minusSixth);
    const R s6 = V::broadcast(&kWino.sixth), t12 = V::broadcast(&kWino.twelfth);
    const R mt12 = V::broadcast(&kWino.minusTwelfth), t24 = V::broadcast(&kWino.twentyFourth);
    const R s02 = V::add(g[0], g[2]);
    const R p = V::fma(t24, g[0], V::fma(s6, g[2], V::zero()));
    u[0] = V::fma(q, g[0], V::zero());
    u[1] = V::fma(ms, V::add(s02, g[1]), V::zero());
    u[2] = V::fma(ms, V::sub(s02, g[1]), V::zero());
    u[3] = V::fma(t12, g[1], p);
    u[4] = V::fma(mt12, g[1], p);
    u[5] = g[2];
}

/// A dy for one column of four vectors (the weight gradient's transform of dy:
/// by the transposition principle, dW = Gᵀ[(A dY Aᵀ) ⊙ (Bᵀ D B)]G summed over tiles).
template <class V> void winoGradient1d(const typename V::Reg* g, typename V::Reg* w) {
    using R = typename V::Reg;
    const R c2 = V::broadcast(&kWino.c2), c4 = V::broadcast(&kWino.c4),
            c8 = V::broadcast(&kWino.c8);
    const R even = V::fma(c4, g[2], g[0]), odd = V::add(g[1], g[3]);
    const R even2 = V::add(g[0], g[2]), odd2 = V::fma(c8, g[3], V::fma(c2, g[1], V::zero()));
    w[0] = g[0];
    w[1] = V::add(even2, odd);
    w[2] = V::sub(even2, odd);
    w[3] = V::add(even, odd2);
    w[4] = V::sub(even, odd2);
    w[5] = g[3];
}

/// Gᵀ m for one column of six vectors.
template <class V> void winoFilterGradient1d(const typename V::Reg* m, typename V::Reg* o) {
    using R = typename V::Reg;
    const R q = V::broadcast(&kWino.quarter), ms = V::broadcast(&kWino.minusSixth);
    const R s6 = V::broadcast(&kWino.sixth), t12 = V::broadcast(&kWino.twelfth);
    const R t24 = V::broadcast(&kWino.twentyFourth);
    const R s12 = V::add(m[1], m[2]), d12 = V::sub(m[2], m[1]);
    const R s34 = V::add(m[3], m[4]), d34 = V::sub(m[3], m[4]);
    o[0] = V::fma(q, m[0], V::fma(ms, s12, V::fma(t24, s34, V::zero())));
    o[1] = V::fma(s6, d12, V::fma(t12, d34, V::zero()));
    o[2] = V::add(V::fma(s6, V::sub(s34, s12), V::zero()), m[5]);
}

/// The image, row and column of the tile numbered t.
struct WinoTilePos {
    std::int64_t n, ty, tx;
};
inline WinoTilePos winoTilePos(const WinogradTiles& tiles, std::int64_t t) {
    const std::int64_t perImage = tiles.tilesH * tiles.tilesW;
    const std::int64_t r = t % perImage;
    return {t / perImage, r / tiles.tilesW, r % tiles.tilesW};
}

/// Bᵀ d B of one tile's 6×6 patch, channel vector by channel vector, into
/// dst[(i·6 + jj)·plane + channel]; load(a, b, c0) answers the patch's row a,
/// column b at channels [c0, c0 + V::kLanes).
template <class V, class Load>
void winoInputPatch(Load load, std::int64_t c, float* dst, std::int64_t plane) {
    using R = typename V::Reg;
    for (std::int64_t c0 = 0; c0 < c; c0 += V::kLanes) {
        R cols[kWinoPatch][kWinoPatch]; // cols[i][b]: row i of Bᵀ d, column b
        SEGFORGE_UNROLL
        for (int b = 0; b < kWinoPatch; ++b) {
            R d[kWinoPatch], t[kWinoPatch];
            SEGFORGE_UNROLL
            for (int a = 0; a < kWinoPatch; ++a)
                d[a] = load(a, b, c0);
            winoInput1d<V>(d, t);
            SEGFORGE_UNROLL
            for (int i = 0; i < kWinoPatch; ++i)
                cols[i][b] = t[i];
        }
        SEGFORGE_UNROLL
        for (int i = 0; i < kWinoPatch; ++i) {
            R t[kWinoPatch];
            winoInput1d<V>(cols[i], t);
            SEGFORGE_UNROLL
            for (int jj = 0; jj < kWinoPatch; ++jj)
                V::store(dst + (i * kWinoPatch + jj) * plane + c0, t[jj]);
        }
    }
}

template <class V> void winogradInput(const WinogradInputJob& j) {
    const std::int64_t plane = j.tiles.stride;
    const std::int64_t c = j.c, rowStride = j.w * c;
    for (std::int64_t k = 0; k < j.tiles.count; ++k) {
        const WinoTilePos pos = winoTilePos(j.tiles, j.tiles.t0 + k);
        const std::int64_t iy0 = pos.ty * kWinoTile - j.padTop,
                           ix0 = pos.tx * kWinoTile - j.padLeft;
        const std::int64_t image = pos.n * j.h * rowStride;
        float* dst = j.v + k * c;
        if (iy0 >= 0 && iy0 + kWinoPatch <= j.h && ix0 >= 0 && ix0 + kWinoPatch <= j.w) {
            // The whole patch inside the image: rows rowStride apart, pixels c apart.
            const std::int64_t at0 = image + iy0 * rowStride + ix0 * c;
            const float* in = j.in + at0;
            if (j.mask) {
                const float* mask = j.mask + at0;
                winoInputPatch<V>(
                    [&](int a, int b, std::int64_t c0) {
                        const std::int64_t at = a * rowStride + b * c + c0;
                        return V::wherePositive(V::load(mask + at), V::load(in + at));
                    },
                    c, dst, plane);
            } else {
                winoInputPatch<V>(
                    [&](int a, int b, std::int64_t c0) {
                        return V::load(in + a * rowStride + b * c + c0);
                    },
                    c, dst, plane);
            }
            continue;
        }
        // A patch across the image's edge: pixels outside read zeros.
        const float* src[kWinoPatch][kWinoPatch];
        const float* msk[kWinoPatch][kWinoPatch];
        for (int a = 0; a < kWinoPatch; ++a) {
            const std::int64_t iy = iy0 + a;
            for (int b = 0; b < kWinoPatch; ++b) {
                const std::int64_t ix = ix0 + b;
                const bool inside = iy >= 0 && iy < j.h && ix >= 0 && ix < j.w;
                const std::int64_t at = image + iy * rowStride + ix * c;
                src[a][b] = inside ? j.in + at : j.zeros;
                msk[a][b] = inside && j.mask ? j.mask + at : j.zeros;
            }
        }
        if (j.mask)
            winoInputPatch<V>(
                [&](int a, int b, std::int64_t c0) {
                    return V::wherePositive(V::load(msk[a][b] + c0), V::load(src[a][b] + c0));
                },
                c, dst, plane);
        else
            winoInputPatch<V>(
                [&](int a, int b, std::int64_t c0) { return V::load(src[a][b] + c0); }, c, dst,
                plane);
    }
}

template <class V> void winogradOutput(const WinogradOutputJob& j) {
    using R = typename V::Reg;
    const std::int64_t plane = j.tiles.stride;
    for (std::int64_t k = 0; k < j.tiles.count; ++k) {
        const WinoTilePos pos = winoTilePos(j.tiles, j.tiles.t0 + k);
        const std::int64_t oy0 = pos.ty * kWinoTile, ox0 = pos.tx * kWinoTile;
        const std::int64_t rows = minI(kWinoTile, j.oh - oy0),
                           colsOut = minI(kWinoTile, j.ow - ox0);
        float* image = j.out + pos.n * j.oh * j.ow * j.f;
        const float* src = j.m + k * j.f;
        for (std::int64_t f0 = 0; f0 < j.f; f0 += V::kLanes) {
            R half[kWinoTile][kWinoPatch]; // half[i][b]: row i of Aᵀ m, column b
            SEGFORGE_UNROLL
            for (int b = 0; b < kWinoPatch; ++b) {
                R m[kWinoPatch], o[kWinoTile];
                SEGFORGE_UNROLL
                for (int a = 0; a < kWinoPatch; ++a)
                    m[a] = V::load(src + (a * kWinoPatch + b) * plane + f0);
                winoOutput1d<V>(m, o);
                SEGFORGE_UNROLL
                for (int i = 0; i < kWinoTile; ++i)
                    half[i][b] = o[i];
            }
            const R bias = j.bias ? V::load(j.bias + f0) : V::zero();
            for (std::int64_t i = 0; i < rows; ++i) {
                R o[kWinoTile];
                winoOutput1d<V>(half[i], o);
                float* row = image + ((oy0 + i) * j.ow + ox0) * j.f + f0;
                for (std::int64_t x = 0; x < colsOut; ++x) {
                    R r = o[x];
                    if (j.accumulate) {
                        r = V::add(r, V::load(row + x * j.f));
                    } else {
                        r = V::add(r, bias);
                        if (j.relu)
                            r = V::max0(r);
                    }
                    V::store(row + x * j.f, r);
                }
            }
        }
    }
}

template <class V> void winogradFilter(const WinogradFilterJob& j) {
    using R = typename V::Reg;
    const std::int64_t plane = j.stride; // u's stride between positions
    // Block by block, so the stores run along 36 sequential streams (one per position),
    // not 36 per block.
    for (std::int64_t fb = 0; fb < j.f; fb += kBlock) {
        for (std::int64_t ci = j.c0; ci < j.c1; ++ci) {
            for (std::int64_t f0 = fb; f0 < minI(fb + kBlock, j.f); f0 += V::kLanes) {
                R rows[kWinoPatch][3]; // rows[i][kx]: row i of G g
                SEGFORGE_UNROLL
                for (int kx = 0; kx < 3; ++kx) {
                    R g[3], t[kWinoPatch];
                    SEGFORGE_UNROLL
                    for (int ky = 0; ky < 3; ++ky)
                        g[ky] = V::load(j.w + ((ky * 3 + kx) * j.c + ci) * j.f + f0);
                    winoFilter1d<V>(g, t);
                    SEGFORGE_UNROLL
                    for (int i = 0; i < kWinoPatch; ++i)
                        rows[i][kx] = t[i];
                }
                float* dst = j.u + ((f0 / kBlock) * j.c + ci) * kBlock + f0 % kBlock;
                SEGFORGE_UNROLL
                for (int i = 0; i < kWinoPatch; ++i) {
                    R t[kWinoPatch];
                    winoFilter1d<V>(rows[i], t);
                    SEGFORGE_UNROLL
                    for (int jj = 0; jj < kWinoPatch; ++jj)
                        V::store(dst + (i * kWinoPatch + jj) * plane, t[jj]);
                }
            }
        }
    }
}

template <class V> void winogradGradient(const WinogradGradientJob& j) {
    using R = typename V::Reg;
    const std::int64_t plane = j.tiles.stride;
    for (std::int64_t k = 0; k < j.tiles.count; ++k) {
        const WinoTilePos pos = winoTilePos(j.tiles, j.tiles.t0 + k);
        const std::int64_t oy0 = pos.ty * kWinoTile, ox0 = pos.tx * kWinoTile;
        const std::int64_t rows = minI(kWinoTile, j.oh - oy0), colsIn = minI(kWinoTile, j.ow - ox0);
        const std::int64_t image = pos.n * j.oh * j.ow * j.f;
        float* dst = j.w + k * j.f;
        for (std::int64_t f0 = 0; f0 < j.f; f0 += V::kLanes) {
            R cols[kWinoPatch][kWinoTile]; // cols[i][x]: row i of A dy, column x
            SEGFORGE_UNROLL
            for (int x = 0; x < kWinoTile; ++x) {
                R g[kWinoTile], t[kWinoPatch];
                SEGFORGE_UNROLL
                for (int y = 0; y < kWinoTile; ++y) {
                    const std::int64_t at = image + ((oy0 + y) * j.ow + ox0 + x) * j.f + f0;
                    g[y] = V::zero();
                    if (y < rows && x < colsIn)
                        g[y] = j.mask ? V::wherePositive(V::load(j.mask + at), V::load(j.dz + at))
                                      : V::load(j.dz + at);
                }
                winoGradient1d<V>(g, t);
                SEGFORGE_UNROLL
                for (int i = 0; i < kWinoPatch; ++i)
                    cols[i][x] = t[i];
            }
            SEGFORGE_UNROLL
            for (int i = 0; i < kWinoPatch; ++i) {
                R t[kWinoPatch];
                winoGradient1d<V>(cols[i], t);
                SEGFORGE_UNROLL
                for (int jj = 0; jj < kWinoPatch; ++jj)
                    V::store(dst + (i * kWinoPatch + jj) * plane + f0, t[jj]);
                if (i == 1 && j.biasSum)
                    V::store(j.biasSum + f0, V::add(V::load(j.biasSum + f0), t[1]));
            }
        }
    }
}

template <class V> void winogradFilterGradient(const WinogradFilterGradientJob& j) {
    using R = typename V::Reg;
    const std::int64_t plane = j.stride;
    const std::int64_t mRow = j.mRow ? j.mRow : j.f;
    const std::int64_t fEnd = j.fEnd ? j.fEnd : j.f;
    for (std::int64_t ci = j.c0; ci < j.c1; ++ci) {
        for (std::int64_t f0 = j.fBegin; f0 < fEnd; f0 += V::kLanes) {
            const float* src = j.m + (ci - j.c0) * mRow + (f0 - j.fBegin);
            R rows[3][kWinoPatch]; // rows[ky][b]: row ky of Gᵀ m, column b
            SEGFORGE_UNROLL
            for (int b = 0; b < kWinoPatch; ++b) {
                R m[kWinoPatch], o[3];
                SEGFORGE_UNROLL
                for (int a = 0; a < kWinoPatch; ++a)
                    m[a] = V::load(src + (a * kWinoPatch + b) * plane);
                winoFilterGradient1d<V>(m, o);
                SEGFORGE_UNROLL
                for (int ky = 0; ky < 3; ++ky)
                    rows[ky][b] = o[ky];
            }
            SEGFORGE_UNROLL
            for (int ky = 0; ky < 3; ++ky) {
                R o[3];
                winoFilterGradient1d<V>(rows[ky], o);
                SEGFORGE_UNROLL
                for (int kx = 0; kx < 3; ++kx) {
                    float* d = j.dw + ((ky * 3 + kx) * j.c + ci) * j.f + f0;
                    V::store(d, V::add(V::load(d), o[kx]));
                }
            }
        }
    }
}

#endif
