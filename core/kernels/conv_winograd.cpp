// Driver of the Winograd convolution: transforming the filters, cutting the
// tiles into groups, and per group the input transform, 36 products on the
// row kernel and the output transform. Scratch lives in thread-local vectors
// that only grow: a warm training step allocates nothing.

#include "kernels/conv_winograd.hpp"

#include "kernels/conv_direct.hpp"
#include "kernels/conv_direct_jobs.hpp"
#include "kernels/parallel.hpp"
#include "kernels/scratch_buffers.hpp"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace segforge::core::kernels {

namespace {

using direct::kBlock;
constexpr std::int64_t kPositions = 36; // 6×6 transformed values per tile
constexpr std::int64_t kMinChannelPairs = 16 * 16;

bool winogradFromEnvironment() {
    const char* v = std::getenv("SEGFORGE_WINOGRAD");
    return !(v && std::strcmp(v, "0") == 0);
}

std::atomic<bool> g_winograd{winogradFromEnvironment()};

/// Floats between positions for `count` tiles of `channels`: whole cache lines, an odd
/// number of them (see WinogradTiles::stride).
std::int64_t planeStride(std::int64_t count, std::int64_t channels) {
    constexpr std::int64_t kLine = 16; // floats per 64-byte line
    std::int64_t lines = (count * channels + kLine - 1) / kLine;
    if (lines % 2 == 0)
        ++lines;
    return lines * kLine;
}

/// A stride-1 3×3 convolution as the Winograd driver sees it.
struct WinogradConv {
    const float* in = nullptr;   ///< (N, H, W, C)
    const float* mask = nullptr; ///< optional, as `in`: in counts only where mask > 0
    std::int64_t n = 0, h = 0, w = 0, c = 0, padTop = 0, padLeft = 0;
    const float* kernel = nullptr; ///< (3, 3, C, F)
    std::int64_t f = 0;
    float* out = nullptr; ///< (N, OH, OW, F)
    std::int64_t oh = 0, ow = 0;
    const float* bias = nullptr;
    bool relu = false, accumulate = false;
};

/// The convolution g describes, of `in` with F output channels (its adjoint swaps roles).
WinogradConv convolutionOf(const float* in, const ConvGeometry& g, std::int64_t f) {
    WinogradConv p;
    p.in = in;
    p.n = g.n;
    p.h = g.h;
    p.w = g.w;
    p.c = g.c;
    p.padTop = g.padTop;
    p.padLeft = g.padLeft;
    p.f = f;
    p.oh = g.oh;
    p.ow = g.ow;
    return p;
}

/// Every 4×4 output tile of p's images (the range to cut into groups).
direct::WinogradTiles allTiles(const WinogradConv& p) {
    direct::WinogradTiles all;
    all.tilesH = (p.oh + 3) / 4;
    all.tilesW = (p.ow + 3) / 4;
    all.count = p.n * all.tilesH * all.tilesW;
    return all;
}

/// Tiles per group. A group's transformed inputs and products should stay near 256 KiB,
/// but every group reads all 36 × C × F transformed weights once, so a group also
/// needs enough tiles that this is not the larger stream (C·F/(C+F) tiles: the deep,
/// low-resolution layers take all their tiles at once), and the groups should keep
/// every thread busy.
std::int64_t tilesPerGroup(std::int64_t totalTiles, std::int64_t c, std::int64_t f,
                           std::int64_t perThread) {
    const std::int64_t byCache = (64 * 1024) / (kPositions * std::max(c, f));
    const std::int64_t byReuse = (c * f + c + f - 1) / (c + f);
    const std::int64_t threads = engineThreads();
    const std::int64_t byThreads = (totalTiles + perThread * threads - 1) / (perThread * threads);
    return std::clamp<std::int64_t>(std::min(std::max(byCache, byReuse), byThreads), 1, 256);
}

/// Fills a group's transformed input patches (the same for the output and the weight
/// gradient).
void transformInput(const direct::MicroKernels& mk, const WinogradConv& p,
                    const direct::WinogradTiles& tiles, const float* zeros, float* v) {
    direct::WinogradInputJob in;
    in.tiles = tiles;
    in.in = p.in;
    in.h = p.h;
    in.w = p.w;
    in.c = p.c;
    in.padTop = p.padTop;
    in.padLeft = p.padLeft;
    in.zeros = zeros;
    in.mask = p.mask;
    in.v = v;
    mk.winogradInput(in);
}

void run(const WinogradConv& p) {
    const direct::MicroKernels& mk = direct::activeKernels();
    thread_local std::vector<float> packedStore, zerosStore;
    const std::int64_t blocks = (p.f + kBlock - 1) / kBlock;
    const std::int64_t plane = planeStride(1, blocks * p.c * kBlock);
    // The tail block's unused lanes must read zero.
    float* u = p.f % kBlock != 0 ? zeroed(packedStore, kPositions * plane)
                                 : grownTo(packedStore, kPositions * plane);
    parallelForFine(p.c, [&](std::int64_t c0, std::int64_t c1) {
        direct::WinogradFilterJob job;
        job.w = p.kernel;
        job.c = p.c;
        job.f = p.f;
        job.c0 = c0;
        job.c1 = c1;
        job.u = u;
        job.stride = plane;
        mk.winogradFilter(job);
    });
    const float* zeros = zeroed(zerosStore, p.c);

    const direct::WinogradTiles all = allTiles(p);
    const std::int64_t total = all.count;
    const std::int64_t group = tilesPerGroup(total, p.c, p.f, 4);
    parallelForFine((total + group - 1) / group, [&](std::int64_t g0, std::int64_t g1) {
        thread_local std::vector<float> vStore, mStore;
        const std::int64_t vStride = planeStride(group, p.c), mStride = planeStride(group, p.f);
        float* v = grownTo(vStore, kPositions * vStride);
        float* m = grownTo(mStore, kPositions * mStride);
        for (std::int64_t g = g0; g < g1; ++g) {
            direct::WinogradTiles tiles = all;
            tiles.t0 = g * group;
            tiles.count = std::min(group, total - tiles.t0);

            tiles.stride = vStride;
            transformInput(mk, p, tiles, zeros, v);

            direct::RowJob product; // 36 products: (tiles × C) · (C × F), as 1×1 convolutions
            product.h = 1;
            product.w = tiles.count;
            product.c = p.c;
            product.zeros = zeros;
            product.f = p.f;
            product.ow = tiles.count;
            for (std::int64_t pos = 0; pos < kPositions; ++pos) {
                product.in = v + pos * vStride;
                product.packed = u + pos * plane;
                product.out = m + pos * mStride;
                mk.row(product);
            }

            direct::WinogradOutputJob out;
            out.tiles = tiles;
            out.tiles.stride = mStride;
            out.m = m;
            out.f = p.f;
            out.oh = p.oh;
            out.ow = p.ow;
            out.out = p.out;
            out.bias = p.bias;
            out.accumulate = p.accumulate;
            out.relu = p.relu;
            mk.winogradOutput(out);
        }
    });
}

} // namespace

void setConvWinograd(bool on) {
    g_winograd = on;
}

bool convWinograd() {
    return g_winograd.load();
}

bool useWinogradConv(const ConvGeometry& g, std::int64_t f) {
    // Below 16×16 channel pairs the transforms cost about what the products save (the
    // U-Net's 16→16 layers at 128×128 already run 25–30 % faster than direct).
    return g_winograd.load() && useDirectConv(g) && g.kh == 3 && g.kw == 3 && g.c % 8 == 0 &&
           f % 8 == 0 && g.c * f >= kMinChannelPairs;
}

void convWinogradForward(const float* x, const float* w, const float* bias, float* y,
                         const ConvGeometry& g, std::int64_t f, bool relu) {
    WinogradConv p = convolutionOf(x, g, f);
    p.kernel = w;
    p.out = y;
    p.bias = bias;
    p.relu = relu;
    run(p);
}

void convWinogradBackwardData(const float* dz, const float* reluOut, const float* w, float* dx,
                              const ConvGeometry& g, std::int64_t f) {
    // The adjoint: dz convolved with the kernel flipped in space and transposed in
    // channels, w'[ky][kx][f][c] = w[2−ky][2−kx][c][f], padded by 2 − pad.
    thread_local std::vector<float> adjointStore;
    float* adjoint = grownTo(adjointStore, 9 * g.c * f);
    constexpr std::int64_t kTile = 16; // transposed in 16 × 16 blocks that stay in L1
    const std::int64_t cTiles = (g.c + kTile - 1) / kTile;
    parallelForFine(9 * cTiles, [&](std::int64_t t0, std::int64_t t1) {
        for (std::int64_t t = t0; t < t1; ++t) {
            const std::int64_t tap = t / cTiles, c0 = (t % cTiles) * kTile,
                               c1 = std::min(g.c, c0 + kTile);
            const float* src = w + (8 - tap) * g.c * f;
            float* dst = adjoint + tap * f * g.c;
            for (std::int64_t f0 = 0; f0 < f; f0 += kTile)
                for (std::int64_t ci = c0; ci < c1; ++ci)
                    for (std::int64_t fi = f0; fi < std::min(f, f0 + kTile); ++fi)
                        dst[fi * g.c + ci] = src[ci * f + fi];
        }
    });
    WinogradConv p;
    p.in = dz;
    p.mask = reluOut;
    p.n = g.n;
    p.h = g.oh;
    p.w = g.ow;
    p.c = f;
    p.padTop = 2 - g.padTop;
    p.padLeft = 2 - g.padLeft;
    p.kernel = adjoint;
    p.f = g.c;
    p.out = dx;
    p.oh = g.h;
    p.ow = g.w;
    p.accumulate = true;
    run(p);
}

void convWinogradBackwardWeights(const float* x, const float* dz, const float* reluOut, float* dw,
                                 float* db, const ConvGeometry& g, std::int64_t f) {
    const direct::MicroKernels& mk = direct::activeKernels();
    const WinogradConv p = convolutionOf(x, g, f);
    thread_local std::vector<float> zerosStore;
    thread_local std::vector<std::vector<float>> partialStore;
    thread_local std::vector<float> biasStore;
    std::vector<std::vector<float>>& partials = partialStore; // the workers use the caller's
    const float* zeros = zeroed(zerosStore, g.c);

    const direct::WinogradTiles all = allTiles(p);
    const std::int64_t total = all.count;
    const std::int64_t group = tilesPerGroup(total, g.c, f, 1);
    const std::int64_t groups = (total + group - 1) / group;
    // Each chunk sums its groups' products m[36][C][F] in a buffer of its own; the
    // buffers are added in chunk order, then transformed back once.
    const std::int64_t mStride = planeStride(1, g.c * f);
    const std::int64_t size = kPositions * mStride;
    const int chunks = parallelChunks(groups);
    for (int k = 0; k < chunks; ++k)
        zeroedPartial(partials, k, size);
    float* biasSums = zeroed(biasStore, chunks * f); // one row of F per chunk
    parallelFor(groups, [&](std::int64_t g0, std::int64_t g1, int chunk) {
        thread_local std::vector<float> vStore, wStore;
        const std::int64_t vStride = planeStride(group, g.c), wStride = planeStride(group, f);
        float* v = grownTo(vStore, kPositions * vStride);
        float* wt = grownTo(wStore, kPositions * wStride);
        float* m = partials[static_cast<std::size_t>(chunk)].data();
        for (std::int64_t gi = g0; gi < g1; ++gi) {
            direct::WinogradTiles tiles = all;
            tiles.t0 = gi * group;
            tiles.count = std::min(group, total - tiles.t0);
            tiles.stride = vStride;
            transformInput(mk, p, tiles, zeros, v);

            direct::WinogradGradientJob gj;
            gj.tiles = tiles;
            gj.tiles.stride = wStride;
            gj.dz = dz;
            gj.mask = reluOut;
            gj.biasSum = db ? biasSums + chunk * f : nullptr;
            gj.f = f;
            gj.oh = g.oh;
            gj.ow = g.ow;
            gj.w = wt;
            mk.winogradGradient(gj);

            direct::WeightJob product; // 36 products (C × tiles) · (tiles × F), summed into m
            product.h = 1;
            product.w = tiles.count;
            product.c = g.c;
            product.f = f;
            product.ow = tiles.count;
            product.oy0 = 0;
            product.oy1 = 1;
            for (std::int64_t pos = 0; pos < kPositions; ++pos) {
                product.in = v + pos * vStride;
                product.dz = wt + pos * wStride;
                product.dw = m + pos * mStride;
                mk.weights(product);
            }
        }
    });
    if (db)
        for (int k = 0; k < chunks; ++k)
            for (std::int64_t i = 0; i < f; ++i)
                db[i] += biasSums[k * f + i];
    float* m = partials[0].data();
    for (int k = 1; k < chunks; ++k) {
        const float* other = partials[static_cast<std::size_t>(k)].data();
        parallelForFine(size, [&](std::int64_t i0, std::int64_t i1) {
            for (std::int64_t i = i0; i < i1; ++i)
                m[i] += other[i];
        });
    }
    parallelForFine(g.c, [&](std::int64_t c0, std::int64_t c1) {
        direct::WinogradFilterGradientJob job;
        job.m = m;
        job.stride = mStride;
        job.c = g.c;
        job.f = f;
        job.c0 = c0;
        job.c1 = c1;
        job.dw = dw;
        mk.winogradFilterGradient(job);
    });
}

} // namespace segforge::core::kernels
