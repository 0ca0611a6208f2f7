#include "kernels/denormals.hpp"

#if defined(__SSE__) || defined(__x86_64__)
#include <xmmintrin.h>
#define SEGFORGE_HAS_MXCSR 1
#endif

namespace segforge::core {

namespace {

#if defined(SEGFORGE_HAS_MXCSR)
constexpr unsigned kFlushToZero = 0x8000;      // MXCSR bit 15
constexpr unsigned kDenormalsAreZero = 0x0040; // MXCSR bit 6
constexpr unsigned kFlush = kFlushToZero | kDenormalsAreZero;
#endif

} // namespace

DenormalsFlushed::DenormalsFlushed() {
#if defined(SEGFORGE_HAS_MXCSR)
    m_saved = _mm_getcsr();
    if ((m_saved & kFlush) != kFlush)
        _mm_setcsr(m_saved | kFlush);
#endif
}

DenormalsFlushed::~DenormalsFlushed() {
#if defined(SEGFORGE_HAS_MXCSR)
    if ((m_saved & kFlush) != kFlush)
        _mm_setcsr(m_saved);
#endif
}

void flushDenormalsOnThisThread() {
#if defined(SEGFORGE_HAS_MXCSR)
    _mm_setcsr(_mm_getcsr() | kFlush);
#endif
}

bool denormalsFlushed() {
#if defined(SEGFORGE_HAS_MXCSR)
    return (_mm_getcsr() & kFlush) == kFlush;
#else
    return false;
#endif
}

} // namespace segforge::core
