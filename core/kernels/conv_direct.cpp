// Driver of the direct convolution: choosing the micro-kernels, packing the
// weights, cutting the work into row jobs for the pool. Scratch buffers
// (packed weights, per-chunk weight-gradient partials) live in thread-local
// vectors that only grow, so a training step allocates nothing once warm.

#include "kernels/conv_direct.hpp"

#include "kernels/conv_direct_jobs.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/parallel.hpp"
#include "kernels/scratch_buffers.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace segforge::core::kernels {

namespace {

using direct::kBlock;

/// SEGFORGE_CONV_PATH=gemm|portable|avx2|avx512 picks the initial path (benchmarks
/// compare them without a rebuild); unset or unknown means Auto, and so does a kernel
/// set this CPU lacks (activeKernels() falls back).
ConvPath pathFromEnvironment() {
    const char* v = std::getenv("SEGFORGE_CONV_PATH");
    if (!v)
        return ConvPath::Auto;
    if (std::strcmp(v, "gemm") == 0)
        return ConvPath::Gemm;
    if (std::strcmp(v, "portable") == 0)
        return ConvPath::DirectPortable;
    if (std::strcmp(v, "avx2") == 0)
        return ConvPath::DirectAvx2;
    if (std::strcmp(v, "avx512") == 0)
        return ConvPath::DirectAvx512;
    return ConvPath::Auto;
}

std::atomic<ConvPath> g_path{pathFromEnvironment()};

bool cpuHasAvx2Fma() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    return has;
#else
    return false;
#endif
}

bool cpuHasAvx512() {
#if defined(__x86_64__) || defined(__i386__)
    static const bool has = __builtin_cpu_supports("avx512f") && cpuHasAvx2Fma();
    return has;
#else
    return false;
#endif
}

bool portableRequestedByEnvironment() {
    static const bool requested = [] {
        const char* v = std::getenv("SEGFORGE_CONV_PORTABLE");
        return v && *v && std::strcmp(v, "0") != 0;
    }();
    return requested;
}

const direct::MicroKernels& microKernels() {
    return direct::activeKernels();
}

struct Scratch {
    ScratchVector packed, bias, zeros;
    std::vector<ScratchVector> partial;
};

Scratch& scratch() {
    thread_local Scratch s;
    return s;
}

std::int64_t roundUp(std::int64_t f) {
    return (f + kBlock - 1) / kBlock * kBlock;
}

// w:(kh,kw,C,F), output channels [o0, o0 + n) -> dst [⌈n/16⌉][kh][kw][C][16], lanes past
// the range zero. With `adjoint`, the weights of the convolution that maps the output
// gradient back to the input, w'[ky][kx][f][c] = w[kh−1−ky][kw−1−kx][c][f], whose
// output channels are those of C.
void packRange(const float* w, std::int64_t kh, std::int64_t kw, std::int64_t c, std::int64_t f,
               bool adjoint, std::int64_t o0, std::int64_t n, float* dst) {
    const std::int64_t cin = adjoint ? f : c;
    const std::int64_t blockSize = kh * kw * cin * kBlock;
    for (std::int64_t b = 0; b * kBlock < n; ++b) {
        const std::int64_t first = o0 + b * kBlock, no = std::min(kBlock, n - b * kBlock);
        float* block = dst + b * blockSize;
        if (no < kBlock)
            std::fill(block, block + blockSize, 0.0f);
        for (std::int64_t ky = 0; ky < kh; ++ky) {
            for (std::int64_t kx = 0; kx < kw; ++kx) {
                float* tapDst = block + (ky * kw + kx) * cin * kBlock;
                if (!adjoint) {
                    const float* src = w + (ky * kw + kx) * c * f + first;
                    for (std::int64_t i = 0; i < cin; ++i)
                        std::copy(src + i * f, src + i * f + no, tapDst + i * kBlock);
                    continue;
                }
                const float* tap = w + ((kh - 1 - ky) * kw + (kw - 1 - kx)) * c * f;
                for (std::int64_t o = 0; o < no; ++o) { // o: a channel of C
                    const float* row = tap + (first + o) * f;
                    for (std::int64_t i = 0; i < cin; ++i) // i: a channel of F
                        tapDst[i * kBlock + o] = row[i];
                }
            }
        }
    }
}

// All output channels: [⌈F/16⌉][kh][kw][C][16] (see packRange).
void pack(const float* w, std::int64_t kh, std::int64_t kw, std::int64_t c, std::int64_t f,
          bool adjoint, ScratchVector& out) {
    const std::int64_t cin = adjoint ? f : c, cout = adjoint ? c : f;
    const std::int64_t blocks = roundUp(cout) / kBlock;
    const std::int64_t blockSize = kh * kw * cin * kBlock;
    float* p = grownTo(out, blocks * blockSize);
    parallelForFine(blocks, [&](std::int64_t b0, std::int64_t b1) {
        packRange(w, kh, kw, c, f, adjoint, b0 * kBlock, std::min(cout, b1 * kBlock) - b0 * kBlock,
                  p + b0 * blockSize);
    });
}

/// The gathered patches of a small-image layer: every output pixel's kh·kw·C inputs in
/// a row (im2col), taken for one call and given back after it.
ScratchVector gatheredPatches(const float* large, const ConvGeometry& g) {
    ScratchVector cols(static_cast<std::size_t>(g.n * g.oh * g.ow * g.patch()));
    parallelForFine(g.n * g.oh, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t)
            im2colRows(large, g, t / g.oh, t % g.oh, 1, cols.data() + t * g.ow * g.patch());
    });
    return cols;
}

/// Output channels per task of the gathered schedule: two 16-channel blocks, the row
/// kernel's widest tile.
constexpr std::int64_t kGatheredChannels = 2 * kBlock;

/// The gathered patches (P × K) times the weights (K × F) as one 1×1 convolution of a
/// single row of P pixels with K channels (the packed layout of a kh×kw×C kernel is
/// that of a 1×1 kernel over kh·kw·C channels). Each task packs 32 output channels'
/// weights (`adjoint`: see packRange) into a buffer of its thread, where they stay in
/// L2 while every 12-pixel tile of all pixels passes over them: the weights are read
/// once, and no packed copy of the whole layer is written or kept.
void gatheredRows(const direct::MicroKernels& mk, const float* cols, std::int64_t pixels,
                  const float* weights, const ConvGeometry& g, std::int64_t f, bool adjoint,
                  const float* bias, bool accumulate, bool relu, float* out) {
    const std::int64_t k = g.kh * g.kw * (adjoint ? f : g.c);
    const std::int64_t cout = adjoint ? g.c : f;
    direct::RowJob job;
    job.in = cols;
    job.h = 1;
    job.w = pixels;
    job.c = k;
    job.zeros = cols; // a 1×1 kernel without padding reads no padding
    job.ow = pixels;
    job.outStride = cout;
    job.accumulate = accumulate;
    job.relu = relu;
    parallelForFine((cout + kGatheredChannels - 1) / kGatheredChannels,
                    [&](std::int64_t u0, std::int64_t u1) {
                        thread_local ScratchVector packed;
                        direct::RowJob j = job;
                        for (std::int64_t u = u0; u < u1; ++u) {
                            const std::int64_t o0 = u * kGatheredChannels;
                            j.f = std::min(kGatheredChannels, cout - o0);
                            j.packed = grownTo(packed, kGatheredChannels * k);
                            packRange(weights, g.kh, g.kw, g.c, f, adjoint, o0, j.f, packed.data());
                            j.bias = bias ? bias + o0 : nullptr;
                            j.out = out + o0;
                            mk.row(j);
                        }
                    });
}

/// The input gradient's convolution: dz (N, OH, OW, F) with the flipped kernel, padded
/// by k − 1 − pad, producing (N, H, W, C).
ConvGeometry adjointGeometry(const ConvGeometry& g, std::int64_t f) {
    ConvGeometry a = g;
    a.h = g.oh;
    a.w = g.ow;
    a.c = f;
    a.oh = g.h;
    a.ow = g.w;
    a.padTop = g.kh - 1 - g.padTop;
    a.padLeft = g.kw - 1 - g.padLeft;
    return a;
}

} // namespace

bool useGatheredConv(const ConvGeometry& g, std::int64_t f) {
    // Few pixels for their channels (pixels · (C + F) ≤ C·F / 4: the deepest U-Net
    // levels at small batches): the Winograd transforms of 36·C·F filter values, or
    // the row schedule's pass over all weights per output row, then cost more memory
    // traffic than the products save. Both gathered buffers stay within 8 MiB.
    constexpr std::int64_t kMostFloats = std::int64_t{2} << 20;
    const std::int64_t taps = g.kh * g.kw;
    return useDirectConv(g) && taps > 1 && g.n * g.oh * g.ow * (g.c + f) * 4 <= g.c * f &&
           g.n * g.oh * g.ow * taps * g.c <= kMostFloats &&
           g.n * g.h * g.w * taps * f <= kMostFloats;
}

const direct::MicroKernels& direct::activeKernels() {
    switch (g_path.load()) {
    case ConvPath::DirectPortable:
        return portableKernels();
    case ConvPath::DirectAvx2: // forced; only the environment can force what is missing
        if (convAvx2Available())
            return *avx2Kernels();
        break;
    case ConvPath::DirectAvx512:
        if (convAvx512Available())
            return *avx512Kernels();
        break;
    case ConvPath::Auto:
    case ConvPath::Gemm:
        break;
    }
    if (portableRequestedByEnvironment())
        return portableKernels();
    if (convAvx512Available())
        return *avx512Kernels();
    if (convAvx2Available())
        return *avx2Kernels();
    return portableKernels();
}

bool convAvx2Available() {
    return cpuHasAvx2Fma() && direct::avx2Kernels() != nullptr;
}

bool convAvx512Available() {
    return cpuHasAvx512() && direct::avx512Kernels() != nullptr;
}

void setConvPath(ConvPath path) {
    if (path == ConvPath::DirectAvx2 && !convAvx2Available())
        throw std::logic_error("the AVX2 convolution kernels are not available on this CPU/build");
    if (path == ConvPath::DirectAvx512 && !convAvx512Available())
        throw std::logic_error(
            "the AVX-512 convolution kernels are not available on this CPU/build");
    g_path = path;
}

ConvPath convPath() {
    return g_path.load();
}

const char* convPathName() {
    switch (g_path.load()) {
    case ConvPath::Gemm:
        return "gemm";
    case ConvPath::DirectPortable:
        return "portable";
    case ConvPath::DirectAvx2:
    case ConvPath::DirectAvx512:
    case ConvPath::Auto:
        break;
    }
    const direct::MicroKernels* active = &microKernels();
    if (active == direct::avx512Kernels())
        return "avx512";
    if (active == direct::avx2Kernels())
        return "avx2";
    return "portable";
}

bool useDirectConv(const ConvGeometry& g) {
    return g_path.load() != ConvPath::Gemm && g.sh == 1 && g.sw == 1 && g.dh == 1 && g.dw == 1 &&
           g.c > 0 && g.oh > 0 && g.ow > 0;
}

bool convDirectForward(const float* x, const float* w, const float* bias, float* y,
                       const ConvGeometry& g, std::int64_t f, ActKind act) {
    const direct::MicroKernels& mk = microKernels();
    Scratch& s = scratch();
    const float* paddedBias = nullptr;
    if (bias) {
        float* b = zeroed(s.bias, roundUp(f));
        std::copy(bias, bias + f, b);
        paddedBias = b;
    }
    const bool fused = act == ActKind::Linear || act == ActKind::Relu;
    if (useGatheredConv(g, f)) {
        const ScratchVector cols = gatheredPatches(x, g);
        gatheredRows(mk, cols.data(), g.n * g.oh * g.ow, w, g, f, false, paddedBias, false,
                     act == ActKind::Relu, y);
        return fused;
    }
    pack(w, g.kh, g.kw, g.c, f, false, s.packed);
    const float* zeros = zeroed(s.zeros, g.c);
    direct::RowJob job;
    job.h = g.h;
    job.w = g.w;
    job.c = g.c;
    job.kh = g.kh;
    job.kw = g.kw;
    job.padTop = g.padTop;
    job.padLeft = g.padLeft;
    job.packed = s.packed.data();
    job.bias = paddedBias;
    job.zeros = zeros;
    job.f = f;
    job.ow = g.ow;
    job.relu = act == ActKind::Relu;
    // One task per output row: every row is computed the same way whoever runs it.
    parallelForFine(g.n * g.oh, [&](std::int64_t t0, std::int64_t t1) {
        direct::RowJob j = job;
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t n = t / g.oh;
            j.in = x + n * g.h * g.w * g.c;
            j.oy = t % g.oh;
            j.out = y + t * g.ow * f;
            mk.row(j);
        }
    });
    return fused;
}

void convDirectBackwardData(const float* dz, const float* w, float* dx, const ConvGeometry& g,
                            std::int64_t f) {
    const direct::MicroKernels& mk = microKernels();
    Scratch& s = scratch();
    if (useGatheredConv(g, f)) {
        const ScratchVector cols = gatheredPatches(dz, adjointGeometry(g, f));
        gatheredRows(mk, cols.data(), g.n * g.h * g.w, w, g, f, true, nullptr, true, false, dx);
        return;
    }
    pack(w, g.kh, g.kw, g.c, f, true, s.packed);
    const float* zeros = zeroed(s.zeros, f);
    const ConvGeometry a = adjointGeometry(g, f);
    direct::RowJob job;
    job.h = a.h;
    job.w = a.w;
    job.c = a.c;
    job.kh = a.kh;
    job.kw = a.kw;
    job.padTop = a.padTop;
    job.padLeft = a.padLeft;
    job.packed = s.packed.data();
    job.zeros = zeros;
    job.f = g.c;
    job.ow = g.w;
    job.accumulate = true;
    parallelForFine(g.n * g.h, [&](std::int64_t t0, std::int64_t t1) {
        direct::RowJob j = job;
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t n = t / g.h;
            j.in = dz + n * g.oh * g.ow * f;
            j.oy = t % g.h;
            j.out = dx + t * g.w * g.c;
            mk.row(j);
        }
    });
}

void convDirectBackwardWeights(const float* x, const float* dz, float* dw, const ConvGeometry& g,
                               std::int64_t f) {
    const direct::MicroKernels& mk = microKernels();
    Scratch& s = scratch();
    if (useGatheredConv(g, f)) {
        // dw (K × F) += patchesᵀ (K × P) · dz (P × F): tasks take 48 rows of dw each
        // (whole tiles of the 12- and 6-channel weight kernels) and write nothing else.
        constexpr std::int64_t kRows = 48;
        const ScratchVector cols = gatheredPatches(x, g);
        const std::int64_t k = g.patch(), pixels = g.n * g.oh * g.ow;
        direct::WeightJob job;
        job.h = 1;
        job.w = pixels;
        job.dz = dz;
        job.f = f;
        job.ow = pixels;
        job.oy0 = 0;
        job.oy1 = 1;
        job.inStride = k;
        parallelForFine((k + kRows - 1) / kRows, [&](std::int64_t r0, std::int64_t r1) {
            direct::WeightJob j = job;
            for (std::int64_t r = r0; r < r1; ++r) {
                j.in = cols.data() + r * kRows;
                j.c = std::min(kRows, k - r * kRows);
                j.dw = dw + r * kRows * f;
                mk.weights(j);
            }
        });
        return;
    }
    // A job covers enough rows for ~512 pixels, so its slices of x and dz stay in L2
    // while every (tap, channel block) tile passes over them.
    const std::int64_t rows =
        std::clamp<std::int64_t>(512 / std::max<std::int64_t>(g.ow, 1), 1, g.oh);
    const std::int64_t perImage = (g.oh + rows - 1) / rows;
    const std::int64_t units = g.n * perImage;
    const std::int64_t size = g.kh * g.kw * g.c * f;
    const int chunks = parallelChunks(units);
    for (int k = 1; k < chunks; ++k)
        zeroedPartial(s.partial, k, size);
    direct::WeightJob job;
    job.h = g.h;
    job.w = g.w;
    job.c = g.c;
    job.kh = g.kh;
    job.kw = g.kw;
    job.padTop = g.padTop;
    job.padLeft = g.padLeft;
    job.f = f;
    job.ow = g.ow;
    // Chunk 0 adds into dw, the others into partials summed in chunk order: the result
    // depends on the thread count, never on timing.
    parallelFor(units, [&](std::int64_t u0, std::int64_t u1, int chunk) {
        direct::WeightJob j = job;
        j.dw = chunk == 0 ? dw : s.partial[static_cast<std::size_t>(chunk)].data();
        for (std::int64_t u = u0; u < u1; ++u) {
            const std::int64_t n = u / perImage;
            j.in = x + n * g.h * g.w * g.c;
            j.dz = dz + n * g.oh * g.ow * f;
            j.oy0 = (u % perImage) * rows;
            j.oy1 = std::min(g.oh, j.oy0 + rows);
            mk.weights(j);
        }
    });
    for (int k = 1; k < chunks; ++k) {
        const float* p = s.partial[static_cast<std::size_t>(k)].data();
        for (std::int64_t i = 0; i < size; ++i)
            dw[i] += p[i];
    }
}

} // namespace segforge::core::kernels
