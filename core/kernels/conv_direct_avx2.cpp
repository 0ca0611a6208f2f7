// The AVX2+FMA direct-convolution micro-kernels: conv_direct_body.hpp over
// __m256 (kernels/vec_avx2.hpp). This file is compiled with -mavx2 -mfma
// (core/CMakeLists.txt); conv_direct.cpp calls it only after checking the CPU.
// It includes no standard-library header, so nothing compiled here can replace
// an inline function used elsewhere.

#include "kernels/conv_direct_jobs.hpp"

#if defined(__AVX2__) && defined(__FMA__)

#include <immintrin.h>

namespace segforge::core::kernels::direct {

namespace {

#include "kernels/conv_direct_body.hpp"
#include "kernels/conv_winograd_body.hpp"
#include "kernels/vec_avx2.hpp"

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
