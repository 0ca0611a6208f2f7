#pragma once

// SEGFORGE_CLONED_FOR_WIDE_VECTORS before a function with a hot, vectorisable loop:
// where GCC can, the function is compiled three times (AVX-512, AVX2, the baseline
// ISA) and the loader picks the widest the CPU runs (target_clones, an ifunc). The
// build never requires either extension. A clone must give the baseline's bits: loops
// of float arithmetic compiled this way live in files built with -ffp-contract=off
// (core/CMakeLists.txt), so no clone fuses a multiply and an add the others round twice.

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define SEGFORGE_CLONED_FOR_WIDE_VECTORS                                                           \
    __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define SEGFORGE_CLONED_FOR_WIDE_VECTORS
#endif
