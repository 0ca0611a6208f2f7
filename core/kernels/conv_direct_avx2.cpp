// The AVX2+FMA direct-convolution micro-kernels: conv_direct_body.hpp over
// __m256. This file alone is compiled with -mavx2 -mfma (core/CMakeLists.txt);
// conv_direct.cpp calls it only after checking the CPU. It includes no
// standard-library header, so nothing compiled here can replace an inline
// function used elsewhere.

#include "kernels/conv_direct_jobs.hpp"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

namespace segforge::core::kernels::direct {

namespace {

struct Avx2Vec {
    using Reg = __m256;
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

#include "kernels/conv_direct_body.hpp"
#include "kernels/conv_winograd_body.hpp"

} // namespace

namespace {
constexpr MicroKernels kAvx2{&rowKernel<Avx2Vec>,
                             &weightKernel<Avx2Vec>,
                             &winogradInput<Avx2Vec>,
                             &winogradOutput<Avx2Vec>,
                             &winogradFilter<Avx2Vec>,
                             &winogradGradient<Avx2Vec>,
                             &winogradFilterGradient<Avx2Vec>};
}

// Only a constant's address: safe to call before the CPU check.
const MicroKernels* avx2Kernels() {
    return &kAvx2;
}

} // namespace segforge::core::kernels::direct

#else

namespace segforge::core::kernels::direct {

const MicroKernels* avx2Kernels() {
    return nullptr;
}

} // namespace segforge::core::kernels::direct

#endif
