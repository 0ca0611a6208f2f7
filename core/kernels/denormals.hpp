#pragma once

// The engine computes with denormal floats flushed to zero.
//
// A float below 2^-126 in magnitude is denormal; on x86, an instruction that
// takes one as input or gives one as result can leave the fast path for a
// microcode assist that costs about a hundred cycles. Training makes them: a
// 64-filter U-Net's first step after its warm-up spent 1.4× as long in the
// convolutions' products as every later step, until they were flushed.
// TensorFlow runs its CPU kernels this way (FTZ and DAZ in its thread pools);
// values this small are far below anything a loss or a weight can resolve.
//
// So every thread runs engine work in that mode: the pool's workers always
// (parallel.cpp), and the calling thread for the length of each parallelFor and
// executor pass (a scope), so a kernel's result does not depend on which thread
// ran which chunk. Elsewhere than x86 with SSE the scope does nothing.

namespace segforge::core {

/// Flush-to-zero and denormals-are-zero (x86 MXCSR FTZ, DAZ) while alive; the
/// thread's previous mode afterwards. Nests.
class DenormalsFlushed {
public:
    DenormalsFlushed();
    ~DenormalsFlushed();
    DenormalsFlushed(const DenormalsFlushed&) = delete;
    DenormalsFlushed& operator=(const DenormalsFlushed&) = delete;

private:
    unsigned m_saved = 0;
};

/// The same mode for the rest of this thread's life (the pool's workers).
void flushDenormalsOnThisThread();

/// Whether this thread flushes denormals now (false where the scope does nothing).
bool denormalsFlushed();

} // namespace segforge::core
