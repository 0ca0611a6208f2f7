// The 8-lane AVX2+FMA vector type that conv_direct_body.hpp and
// conv_winograd_body.hpp are written over. Included, after <immintrin.h>, inside
// the anonymous namespace of each translation unit compiled with AVX2+FMA
// (conv_direct_avx2.cpp, conv_direct_avx512.cpp), so every copy has internal
// linkage and none can stand in for another.

#ifndef SEGFORGE_VEC_AVX2_INCLUDED
#define SEGFORGE_VEC_AVX2_INCLUDED

struct Avx2Vec {
    using Reg = __m256;
    static constexpr int kLanes = 8;
    static Reg zero() { return _mm256_setzero_ps(); }
    static Reg load(const float* p) { return _mm256_loadu_ps(p); }
    static void store(float* p, Reg r) { _mm256_storeu_ps(p, r); }
    static Reg broadcast(const float* p) { return _mm256_broadcast_ss(p); }
    static Reg fma(Reg a, Reg b, Reg c) { return _mm256_fmadd_ps(a, b, c); }
    static Reg add(Reg a, Reg b) { return _mm256_add_ps(a, b); }
    static Reg sub(Reg a, Reg b) { return _mm256_sub_ps(a, b); }
    // max(r, 0) answers 0 for NaN, like the portable r > 0 ? r : 0.
    static Reg max0(Reg r) { return _mm256_max_ps(r, _mm256_setzero_ps()); }
    // v where m > 0, else 0 (NaN in m gives 0): ReLU's derivative applied to v.
    static Reg wherePositive(Reg m, Reg v) {
        return _mm256_and_ps(v, _mm256_cmp_ps(m, _mm256_setzero_ps(), _CMP_GT_OQ));
    }
};

#endif
