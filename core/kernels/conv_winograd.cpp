// Driver of the Winograd convolution: transforming the filters, cutting the
// tiles into groups, and per group the input transform, 36 products on the
// row kernel and the output transform.
//
// Scratch is bounded whatever the layer: layers whose 36 × C × F transformed
// filters (or weight-gradient sums) exceed a budget (the deep, low-resolution
// ones) are cut into blocks of channels and "super-groups" of tiles that fit
// fixed budgets, instead of holding 36·C·F floats per call or per thread.
// Buffers are thread-local and only grow, so a warm training step allocates
// nothing; with the budgets, what each thread keeps is bounded too: the big
// ones live on the calling thread only and are shared by all schemes.

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
constexpr std::int64_t kFloat = sizeof(float);
/// Tiles per unit of the parallel transforms of a super-group (and per bias-sum row).
constexpr std::int64_t kTransformTiles = 4;
/// The fewest tiles a group of the many-tile schemes holds: the product kernel's
/// tile of 12 pixels.
constexpr std::int64_t kMinGroupTiles = 12;
/// Tiles per unit of a blocked forward product (a multiple of the row kernel's 6 pixels).
constexpr std::int64_t kProductTiles = 24;

bool winogradFromEnvironment() {
    const char* v = std::getenv("SEGFORGE_WINOGRAD");
    return !(v && std::strcmp(v, "0") == 0);
}

std::atomic<bool> g_winograd{winogradFromEnvironment()};

std::atomic<std::int64_t> g_filterBytes{WinogradScratchLimits{}.filterBytes};
std::atomic<std::int64_t> g_tileBytes{WinogradScratchLimits{}.tileBytes};
std::atomic<std::int64_t> g_partialBytes{WinogradScratchLimits{}.partialBytes};

/// The big buffers, on the calling thread (the workers use the caller's), shared by
/// all schemes: a layer's call holds them, and what stays between calls is one
/// tile budget, one filter budget and the gathered filters, never one set per scheme.
struct CallerScratch {
    ScratchBuffer tiles;    ///< transformed tiles (≤ tileBytes) or chunk sums (≤ partialBytes)
    ScratchBuffer filters;  ///< transformed filters (≤ filterBytes)
    ScratchBuffer gathered; ///< a block of filters gathered for the transform
};

CallerScratch& callerScratch() {
    thread_local CallerScratch s;
    return s;
}

/// A many-tile group's transformed inputs and products (or output gradients), on each
/// thread that runs groups, shared by the forward and the weight-gradient scheme.
struct GroupScratch {
    ScratchVector in, out;
};

GroupScratch& groupScratch() {
    thread_local GroupScratch s;
    return s;
}

std::int64_t ceilDiv(std::int64_t a, std::int64_t b) {
    return (a + b - 1) / b;
}

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
    /// (3, 3, C, F); or, when `adjoint`, the forward layer's (3, 3, F, C), read
    /// flipped in space and transposed in channels.
    const float* kernel = nullptr;
    bool adjoint = false;
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

/// Tiles cut into `count` groups of nearly equal size, as parallelFor cuts a range.
struct TileGroups {
    std::int64_t total = 0, count = 1;
    std::int64_t most() const { return ceilDiv(total, count); } ///< tiles in the largest
    std::int64_t begin(std::int64_t g) const { return total * g / count; }
    std::int64_t size(std::int64_t g) const { return begin(g + 1) - begin(g); }
};

/// The groups of a many-tile scheme. A group's transformed inputs and products should
/// stay near 256 KiB, but every group reads all 36 × C × F transformed weights once, so
/// a group also needs enough tiles that this is not the larger stream (C·F/(C+F)
/// tiles), and the groups should keep every thread busy: `perThread` each, and a
/// multiple of the thread count of them, so that no thread holds one group more than
/// the others while they wait (43 groups on 16 threads take 3 rounds where 2.7 would
/// do; found with `bench --scaling`).
TileGroups tileGroups(std::int64_t totalTiles, std::int64_t c, std::int64_t f,
                      std::int64_t perThread) {
    const std::int64_t byCache = (64 * 1024) / (kPositions * std::max(c, f));
    const std::int64_t byReuse = (c * f + c + f - 1) / (c + f);
    const std::int64_t threads = engineThreads();
    // Several groups per thread, but none under the product kernel's tile of 12 pixels:
    // a smaller group streams all the transformed filters for a sliver of tiles.
    const std::int64_t byThreads = std::max<std::int64_t>(
        kMinGroupTiles, (totalTiles + perThread * threads - 1) / (perThread * threads));
    // Each thread keeps its group's scratch (36 × group × (C + F)): at most 4 MiB.
    const std::int64_t byMemory = (4 << 20) / (kPositions * (c + f) * kFloat);
    const std::int64_t group = std::clamp<std::int64_t>(
        std::min({std::max(byCache, byReuse), byThreads, byMemory}), 1, 256);
    std::int64_t groups = ceilDiv(totalTiles, group);
    if (groups > threads)
        groups = std::min(totalTiles, ceilDiv(groups, threads) * threads);
    return {totalTiles, groups};
}

/// Super-groups: tiles whose transforms of `channels` (in + out) fit the tile budget,
/// as equal as possible. Depends on the layer only, never on the thread count.
struct SuperGroups {
    std::int64_t count = 1, size = 0;
};
SuperGroups superGroups(std::int64_t totalTiles, std::int64_t channels) {
    const std::int64_t perTile = kPositions * channels * kFloat;
    const std::int64_t most = std::max<std::int64_t>(kTransformTiles, g_tileBytes.load() / perTile);
    SuperGroups s;
    s.count = ceilDiv(totalTiles, most);
    s.size = ceilDiv(totalTiles, s.count);
    return s;
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

/// The weight gradient's output-gradient transform of a group of tiles (the masked dz
/// of p's output, F channels) into w, positions `stride` apart; adds the tiles' bias
/// gradient to biasSum unless it is nullptr.
void transformGradient(const direct::MicroKernels& mk, const WinogradConv& p,
                       direct::WinogradTiles tiles, std::int64_t stride, const float* dz,
                       const float* reluOut, float* biasSum, float* w) {
    direct::WinogradGradientJob gj;
    gj.tiles = tiles;
    gj.tiles.stride = stride;
    gj.dz = dz;
    gj.mask = reluOut;
    gj.biasSum = biasSum;
    gj.f = p.f;
    gj.oh = p.oh;
    gj.ow = p.ow;
    gj.w = w;
    mk.winogradGradient(gj);
}

/// Transforms output channels [f0, f1) of p's filters into u, packed
/// [36][(f1 − f0)/16][C][16] with `plane` floats between positions (tail lanes left as
/// they were). `gathered` holds 9 × C × (f1 − f0) floats when the filters must first be
/// gathered (a block of F, or the adjoint); it may be null otherwise.
void transformFilters(const direct::MicroKernels& mk, const WinogradConv& p, std::int64_t f0,
                      std::int64_t f1, float* gathered, float* u, std::int64_t plane) {
    const std::int64_t fn = f1 - f0;
    const bool direct = !p.adjoint && fn == p.f;
    parallelForFine(p.c, [&](std::int64_t c0, std::int64_t c1) {
        if (!direct) { // gathered[tap][c][k] for this range of c
            for (std::int64_t tap = 0; tap < 9; ++tap) {
                float* dst = gathered + tap * p.c * fn;
                if (p.adjoint) { // w'[tap][c][k] = w[8 − tap][f0 + k][c], w: (3, 3, F, C)
                    // Rows of dst in order (strided reads, not strided writes).
                    const float* src = p.kernel + (8 - tap) * p.f * p.c + f0 * p.c;
                    for (std::int64_t ci = c0; ci < c1; ++ci)
                        for (std::int64_t k = 0; k < fn; ++k)
                            dst[ci * fn + k] = src[k * p.c + ci];
                } else {
                    const float* src = p.kernel + tap * p.c * p.f + f0;
                    for (std::int64_t ci = c0; ci < c1; ++ci)
                        std::copy(src + ci * p.f, src + ci * p.f + fn, dst + ci * fn);
                }
            }
        }
        direct::WinogradFilterJob job;
        job.w = direct ? p.kernel : gathered;
        job.c = p.c;
        job.f = fn;
        job.c0 = c0;
        job.c1 = c1;
        job.u = u;
        job.stride = plane;
        mk.winogradFilter(job);
    });
}

/// Output transform of tiles [t0, t0 + count) from m (the group's products, tile 0 first).
void transformOutput(const direct::MicroKernels& mk, const WinogradConv& p,
                     const direct::WinogradTiles& tiles, const float* m) {
    direct::WinogradOutputJob out;
    out.tiles = tiles;
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

/// The many-tile layers (36·C·F within the filter budget): all filters transformed once,
/// then each group of tiles transformed, multiplied and transformed back while it is
/// in cache.
void runAllFilters(const WinogradConv& p) {
    const direct::MicroKernels& mk = direct::activeKernels();
    thread_local ScratchVector zerosStore;
    CallerScratch& scratch = callerScratch();
    const std::int64_t blocks = (p.f + kBlock - 1) / kBlock;
    const std::int64_t plane = planeStride(1, blocks * p.c * kBlock);
    float* u = grownTo(scratch.filters, kPositions * plane);
    if (p.f % kBlock != 0) // the tail block's unused lanes must read zero
        std::fill(u, u + kPositions * plane, 0.0f);
    float* gathered = p.adjoint ? grownTo(scratch.gathered, 9 * p.c * p.f) : nullptr;
    transformFilters(mk, p, 0, p.f, gathered, u, plane);
    const float* zeros = zeroed(zerosStore, p.c);

    const direct::WinogradTiles all = allTiles(p);
    const std::int64_t total = all.count;
    const TileGroups groups = tileGroups(total, p.c, p.f, 4);
    const std::int64_t group = groups.most();
    parallelForFine(groups.count, [&](std::int64_t g0, std::int64_t g1) {
        GroupScratch& gs = groupScratch();
        const std::int64_t vStride = planeStride(group, p.c), mStride = planeStride(group, p.f);
        float* v = grownTo(gs.in, kPositions * vStride);
        float* m = grownTo(gs.out, kPositions * mStride);
        for (std::int64_t g = g0; g < g1; ++g) {
            direct::WinogradTiles tiles = all;
            tiles.t0 = groups.begin(g);
            tiles.count = groups.size(g);

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

            tiles.stride = mStride;
            transformOutput(mk, p, tiles, m);
        }
    });
}

/// The weight-heavy layers (few tiles, many channels): per super-group of tiles, the
/// inputs are transformed once; the filters are transformed one block of output
/// channels at a time, and each block's 36 products are cut into (position, tiles)
/// units; the output transform runs once all blocks are done. Scratch: 36 × S × (C + F)
/// for the tiles, 36 × C × block (+ 9 × C × block gathered) for the filters.
void runBlocked(const WinogradConv& p) {
    const direct::MicroKernels& mk = direct::activeKernels();
    thread_local ScratchVector zerosStore;
    CallerScratch& scratch = callerScratch();
    const float* zeros = zeroed(zerosStore, p.c);

    const std::int64_t fRounded = ceilDiv(p.f, kBlock) * kBlock;
    const std::int64_t byBudget =
        g_filterBytes.load() / (kPositions * p.c * kFloat) / kBlock * kBlock;
    const std::int64_t fBlock = std::clamp<std::int64_t>(byBudget, kBlock, fRounded);
    const std::int64_t plane = planeStride(1, fBlock * p.c);
    float* u = grownTo(scratch.filters, kPositions * plane);
    float* gathered = grownTo(scratch.gathered, 9 * p.c * fBlock);

    const direct::WinogradTiles all = allTiles(p);
    const SuperGroups sg = superGroups(all.count, p.c + p.f);
    const std::int64_t vStride = planeStride(sg.size, p.c), mStride = planeStride(sg.size, p.f);
    float* v = grownTo(scratch.tiles, kPositions * (vStride + mStride));
    float* m = v + kPositions * vStride;

    for (std::int64_t s = 0; s < sg.count; ++s) {
        const std::int64_t t0 = s * sg.size, count = std::min(sg.size, all.count - t0);
        const std::int64_t units = ceilDiv(count, kTransformTiles);
        parallelForFine(units, [&](std::int64_t k0, std::int64_t k1) {
            for (std::int64_t k = k0; k < k1; ++k) {
                direct::WinogradTiles tiles = all;
                tiles.t0 = t0 + k * kTransformTiles;
                tiles.count = std::min(kTransformTiles, count - k * kTransformTiles);
                tiles.stride = vStride;
                transformInput(mk, p, tiles, zeros, v + k * kTransformTiles * p.c);
            }
        });
        for (std::int64_t f0 = 0; f0 < p.f; f0 += fBlock) {
            const std::int64_t f1 = std::min(p.f, f0 + fBlock);
            if ((f1 - f0) % kBlock != 0) // the tail block's unused lanes must read zero
                std::fill(u, u + kPositions * plane, 0.0f);
            transformFilters(mk, p, f0, f1, gathered, u, plane);
            const std::int64_t ranges = ceilDiv(count, kProductTiles);
            parallelForFine(kPositions * ranges, [&](std::int64_t k0, std::int64_t k1) {
                for (std::int64_t k = k0; k < k1; ++k) {
                    const std::int64_t pos = k / ranges, r0 = (k % ranges) * kProductTiles;
                    const std::int64_t n = std::min(kProductTiles, count - r0);
                    direct::RowJob product; // (n × C) · (C × block), a 1×1 convolution
                    product.h = 1;
                    product.w = n;
                    product.c = p.c;
                    product.zeros = zeros;
                    product.f = f1 - f0;
                    product.ow = n;
                    product.in = v + pos * vStride + r0 * p.c;
                    product.packed = u + pos * plane;
                    product.out = m + pos * mStride + r0 * p.f + f0;
                    product.outStride = p.f;
                    mk.row(product);
                }
            });
        }
        parallelForFine(units, [&](std::int64_t k0, std::int64_t k1) {
            for (std::int64_t k = k0; k < k1; ++k) {
                direct::WinogradTiles tiles = all;
                tiles.t0 = t0 + k * kTransformTiles;
                tiles.count = std::min(kTransformTiles, count - k * kTransformTiles);
                tiles.stride = mStride;
                transformOutput(mk, p, tiles, m + k * kTransformTiles * p.f);
            }
        });
    }
}

/// Layers with few tiles for their channels (tiles·(C + F) ≤ C·F: the deep, low-resolution
/// ones), where holding 36·C·F floats is the larger cost. Measured on the 2-core machine
/// (tests/bench/winograd_bench.cpp): the blocked schemes run these 1.3–1.9× faster (8×8
/// and 16×16 layers of 256–512 channels), the old ones win from about 1.5× as many tiles;
/// below 1 MiB of 36·C·F either is cheap and the old scheme has more parallel units.
bool weightHeavy(const WinogradConv& p) {
    const std::int64_t tiles = allTiles(p).count;
    return tiles * (p.c + p.f) <= p.c * p.f && kPositions * p.c * p.f * kFloat > (1 << 20);
}

/// Whether the tiles are too few for the many-tile scheme to give every thread a
/// group of the product kernel's tile of 12 pixels (many threads, few tiles): its
/// groups would then be slivers, each streaming all the transformed filters. The
/// blocked scheme's products come in 36 positions × ranges of tiles and go round
/// any thread count. Found with `bench --scaling`: at 16 threads the 16-filter
/// U-Net's 16×16 decoder layer at batch 8 did 1.5× its 1-thread work.
bool tooFewTilesPerThread(const WinogradConv& p) {
    return allTiles(p).count < kMinGroupTiles * engineThreads();
}

void run(const WinogradConv& p) {
    if (kPositions * p.c * p.f * kFloat <= g_filterBytes.load() && !weightHeavy(p) &&
        !tooFewTilesPerThread(p))
        runAllFilters(p);
    else
        runBlocked(p);
}

/// The weight gradient's transforms of a super-group's tiles [t0, t0 + count): inputs
/// into v, output gradients into wt (positions vStride and wStride apart), in units of
/// 4 tiles; the bias gradient summed per unit, then the units in order into db.
void transformSuperGroup(const direct::MicroKernels& mk, const WinogradConv& p,
                         const direct::WinogradTiles& all, std::int64_t t0, std::int64_t count,
                         std::int64_t vStride, std::int64_t wStride, const float* dz,
                         const float* reluOut, const float* zeros, float* v, float* wt, float* db) {
    thread_local ScratchVector biasStore;
    const std::int64_t transformUnits = ceilDiv(count, kTransformTiles);
    float* biasSums = db ? zeroed(biasStore, transformUnits * p.f) : nullptr; // a row per unit
    parallelForFine(transformUnits, [&](std::int64_t k0, std::int64_t k1) {
        for (std::int64_t k = k0; k < k1; ++k) {
            direct::WinogradTiles tiles = all;
            tiles.t0 = t0 + k * kTransformTiles;
            tiles.count = std::min(kTransformTiles, count - k * kTransformTiles);
            tiles.stride = vStride;
            transformInput(mk, p, tiles, zeros, v + k * kTransformTiles * p.c);
            transformGradient(mk, p, tiles, wStride, dz, reluOut,
                              biasSums ? biasSums + k * p.f : nullptr,
                              wt + k * kTransformTiles * p.f);
        }
    });
    if (db)
        for (std::int64_t k = 0; k < transformUnits; ++k)
            for (std::int64_t i = 0; i < p.f; ++i)
                db[i] += biasSums[k * p.f + i];
}

/// dw += Gᵀ m G for all of m[36][C][F] (positions mStride apart), by ranges of input
/// channels.
void addFilterGradient(const direct::MicroKernels& mk, const WinogradConv& p, const float* m,
                       std::int64_t mStride, float* dw) {
    parallelForFine(p.c, [&](std::int64_t c0, std::int64_t c1) {
        direct::WinogradFilterGradientJob job;
        job.m = m + c0 * p.f;
        job.stride = mStride;
        job.c = p.c;
        job.f = p.f;
        job.c0 = c0;
        job.c1 = c1;
        job.dw = dw;
        mk.winogradFilterGradient(job);
    });
}

/// The many-tile layers' weight gradient (36·C·F within the partial budget): each
/// parallelFor chunk sums its groups' products m[36][C][F] in a buffer of its own; the
/// buffers are added in chunk order, then transformed back once. The result depends on
/// the thread count (the chunks), never on timing.
void weightsByChunks(const WinogradConv& p, const float* dz, const float* reluOut, float* dw,
                     float* db) {
    const direct::MicroKernels& mk = direct::activeKernels();
    thread_local ScratchVector zerosStore, biasStore;
    CallerScratch& scratch = callerScratch();
    const float* zeros = zeroed(zerosStore, p.c);

    const direct::WinogradTiles all = allTiles(p);
    const std::int64_t total = all.count;
    const TileGroups cut = tileGroups(total, p.c, p.f, 1);
    const std::int64_t group = cut.most(), groups = cut.count;
    const std::int64_t mStride = planeStride(1, p.c * p.f);
    const std::int64_t size = kPositions * mStride;
    const int chunks = parallelChunks(groups);
    float* partials = grownTo(scratch.tiles, chunks * size); // each chunk zeroes its own
    float* biasSums = zeroed(biasStore, chunks * p.f);       // one row of F per chunk
    parallelFor(groups, [&](std::int64_t g0, std::int64_t g1, int chunk) {
        GroupScratch& gs = groupScratch();
        const std::int64_t vStride = planeStride(group, p.c), wStride = planeStride(group, p.f);
        float* v = grownTo(gs.in, kPositions * vStride);
        float* wt = grownTo(gs.out, kPositions * wStride);
        float* m = partials + chunk * size;
        std::fill(m, m + size, 0.0f);
        for (std::int64_t gi = g0; gi < g1; ++gi) {
            direct::WinogradTiles tiles = all;
            tiles.t0 = cut.begin(gi);
            tiles.count = cut.size(gi);
            tiles.stride = vStride;
            transformInput(mk, p, tiles, zeros, v);

            transformGradient(mk, p, tiles, wStride, dz, reluOut,
                              db ? biasSums + chunk * p.f : nullptr, wt);

            direct::WeightJob product; // 36 products (C × tiles) · (tiles × F), summed into m
            product.h = 1;
            product.w = tiles.count;
            product.c = p.c;
            product.f = p.f;
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
            for (std::int64_t i = 0; i < p.f; ++i)
                db[i] += biasSums[k * p.f + i];
    // One pass over m, each element summing the chunks in order: no serial step per chunk.
    float* m = partials;
    if (chunks > 1)
        parallelForFine(size, [&](std::int64_t i0, std::int64_t i1) {
            for (int k = 1; k < chunks; ++k) {
                const float* other = partials + k * size;
                for (std::int64_t i = i0; i < i1; ++i)
                    m[i] += other[i];
            }
        });
    addFilterGradient(mk, p, m, mStride, dw);
}

/// One super-group of tiles of a weight gradient, its inputs and output gradients
/// transformed (transformSuperGroup): positions vStride and wStride apart.
struct SuperGroupTiles {
    std::int64_t count = 0; ///< tiles
    const float* v = nullptr;
    const float* wt = nullptr;
    std::int64_t vStride = 0, wStride = 0;
    /// With `spare`: as many floats again, laid out alike (inputs first), for the
    /// caller's own copy of the transforms.
    float* spare = nullptr;
};

/// The super-group schemes' pass over the tiles: cut into super-groups that fit the
/// tile budget, each one's inputs and output gradients transformed once (its bias
/// gradient summed into db), then `products(tiles)`. Scratch: 36 × S × (C + F) on
/// the caller, twice that with `spare`.
template <typename Products>
void forEachSuperGroup(const WinogradConv& p, const float* dz, const float* reluOut, float* db,
                       bool spare, Products&& products) {
    const direct::MicroKernels& mk = direct::activeKernels();
    thread_local ScratchVector zerosStore;
    const float* zeros = zeroed(zerosStore, p.c);
    const direct::WinogradTiles all = allTiles(p);
    const SuperGroups sg = superGroups(all.count, p.c + p.f);
    SuperGroupTiles tiles;
    tiles.vStride = planeStride(sg.size, p.c);
    tiles.wStride = planeStride(sg.size, p.f);
    const std::int64_t planes = kPositions * (tiles.vStride + tiles.wStride);
    float* v = grownTo(callerScratch().tiles, spare ? 2 * planes : planes);
    float* wt = v + kPositions * tiles.vStride;
    tiles.v = v;
    tiles.wt = wt;
    tiles.spare = spare ? v + planes : nullptr;
    for (std::int64_t s = 0; s < sg.count; ++s) {
        const std::int64_t t0 = s * sg.size;
        tiles.count = std::min(sg.size, all.count - t0);
        transformSuperGroup(mk, p, all, t0, tiles.count, tiles.vStride, tiles.wStride, dz, reluOut,
                            zeros, v, wt, db);
        products(tiles);
    }
}

/// The weight gradient of layers whose 36·C·F sums fit the filter budget when the
/// chunk scheme would give its chunks few tiles each (many threads for the tiles):
/// its sums per chunk and their reduction grow with the thread count, and a chunk
/// of a dozen tiles is mostly overhead. Per super-group of tiles, the inputs and
/// output gradients are transformed once; then each unit, one position and a block
/// of input channels, adds its products over the super-group's tiles straight into
/// m[36][C][F]; each element has one writer and sums the tiles in order, so the
/// result is the same bits at any thread count, and the work does not grow with it.
/// Then Gᵀ m G per range of input channels. Scratch: 36 × S × (C + F) for the tiles,
/// 36·C·F for m.
void weightsByPositions(const WinogradConv& p, const float* dz, const float* reluOut, float* dw,
                        float* db) {
    const direct::MicroKernels& mk = direct::activeKernels();
    const std::int64_t mStride = planeStride(1, p.c * p.f);
    float* m = grownTo(callerScratch().filters, kPositions * mStride);
    parallelForFine(kPositions, [&](std::int64_t pos0, std::int64_t pos1) {
        std::fill(m + pos0 * mStride, m + pos1 * mStride, 0.0f);
    });
    constexpr std::int64_t cBlock = 24; // four of the weight kernel's 6-channel tiles
    const std::int64_t cBlocks = ceilDiv(p.c, cBlock);

    forEachSuperGroup(p, dz, reluOut, db, false, [&](const SuperGroupTiles& t) {
        parallelForFine(kPositions * cBlocks, [&](std::int64_t u0, std::int64_t u1) {
            for (std::int64_t u = u0; u < u1; ++u) {
                const std::int64_t pos = u / cBlocks, c0 = (u % cBlocks) * cBlock;
                direct::WeightJob product; // (block × tiles) · (tiles × F), into m
                product.h = 1;
                product.w = t.count;
                product.c = std::min(cBlock, p.c - c0);
                product.f = p.f;
                product.ow = t.count;
                product.oy0 = 0;
                product.oy1 = 1;
                product.in = t.v + pos * t.vStride + c0;
                product.inStride = p.c;
                product.dz = t.wt + pos * t.wStride;
                product.dw = m + pos * mStride + c0 * p.f;
                mk.weights(product);
            }
        });
    });
    addFilterGradient(mk, p, m, mStride, dw);
}

/// rows (count × channels) -> panels: for each block of `block` channels (the last one
/// narrower), that block of every row, rows of the block's width one after another.
void toPanels(const float* rows, std::int64_t count, std::int64_t channels, std::int64_t block,
              float* panels) {
    for (std::int64_t c0 = 0; c0 < channels; c0 += block) {
        const std::int64_t width = std::min(block, channels - c0);
        float* dst = panels + c0 * count;
        for (std::int64_t t = 0; t < count; ++t)
            std::copy(rows + t * channels + c0, rows + t * channels + c0 + width, dst + t * width);
    }
}

/// The weight-heavy layers' weight gradient: per super-group of tiles, the inputs and
/// output gradients are transformed once; then each unit, a block of input × output
/// channels, sums its 36 products over the super-group's tiles in a small buffer of its
/// own and adds Gᵀ m G to its own block of dw. No unit shares what it writes, so the
/// result is the same for every thread count; scratch is 36 × S × (C + F) plus one
/// block's sums per thread.
void weightsBlocked(const WinogradConv& p, const float* dz, const float* reluOut, float* dw,
                    float* db) {
    const direct::MicroKernels& mk = direct::activeKernels();
    // Blocks of channels: 24 inputs (four of the weight kernel's 6-channel tiles) × 64
    // outputs, made smaller until there are four units per thread. Any blocking gives
    // the same sums (each is over all the super-group's tiles, in order).
    std::int64_t cBlock = 24, fBlock = 64;
    const std::int64_t wanted = 4 * static_cast<std::int64_t>(engineThreads());
    const auto units = [&] { return ceilDiv(p.c, cBlock) * ceilDiv(p.f, fBlock); };
    while (units() < wanted && fBlock > kBlock)
        fBlock /= 2;
    while (units() < wanted && cBlock > 6)
        cBlock /= 2;
    const std::int64_t fBlocks = ceilDiv(p.f, fBlock);
    const std::int64_t mPlane = planeStride(1, cBlock * fBlock);

    // The transforms as written (tiles × channels per position), then the same values
    // as panels in the spare scratch (per position, each block of channels over all
    // tiles, contiguous).
    forEachSuperGroup(p, dz, reluOut, db, true, [&](const SuperGroupTiles& t) {
        float* vPanels = t.spare;
        float* wPanels = t.spare + kPositions * t.vStride;
        // A unit's products then read two contiguous panels instead of a few channels
        // out of every tile's row (rows of 1024 channels are 4 KiB apart: every read
        // a new page, and all of them in the same few L1 sets).
        parallelForFine(kPositions, [&](std::int64_t pos0, std::int64_t pos1) {
            for (std::int64_t pos = pos0; pos < pos1; ++pos) {
                toPanels(t.v + pos * t.vStride, t.count, p.c, cBlock, vPanels + pos * t.vStride);
                toPanels(t.wt + pos * t.wStride, t.count, p.f, fBlock, wPanels + pos * t.wStride);
            }
        });

        parallelForFine(units(), [&](std::int64_t u0, std::int64_t u1) {
            thread_local ScratchBuffer mStore;
            float* m = grownTo(mStore, kPositions * mPlane);
            for (std::int64_t unit = u0; unit < u1; ++unit) {
                const std::int64_t c0 = (unit / fBlocks) * cBlock, c1 = std::min(p.c, c0 + cBlock);
                const std::int64_t f0 = (unit % fBlocks) * fBlock, f1 = std::min(p.f, f0 + fBlock);
                std::fill(m, m + kPositions * mPlane, 0.0f);
                direct::WeightJob product; // (block × tiles) · (tiles × block), into m
                product.h = 1;
                product.w = t.count;
                product.c = c1 - c0;
                product.f = f1 - f0;
                product.ow = t.count;
                product.oy0 = 0;
                product.oy1 = 1;
                for (std::int64_t pos = 0; pos < kPositions; ++pos) {
                    product.in = vPanels + pos * t.vStride + c0 * t.count;
                    product.dz = wPanels + pos * t.wStride + f0 * t.count;
                    product.dw = m + pos * mPlane;
                    mk.weights(product);
                }
                direct::WinogradFilterGradientJob job;
                job.m = m;
                job.stride = mPlane;
                job.mRow = f1 - f0;
                job.c = p.c;
                job.f = p.f;
                job.c0 = c0;
                job.c1 = c1;
                job.fBegin = f0;
                job.fEnd = f1;
                job.dw = dw;
                mk.winogradFilterGradient(job);
            }
        });
    });
}

} // namespace

void setConvWinograd(bool on) {
    g_winograd = on;
}

bool convWinograd() {
    return g_winograd.load();
}

void setWinogradScratchLimits(const WinogradScratchLimits& limits) {
    g_filterBytes = limits.filterBytes;
    g_tileBytes = limits.tileBytes;
    g_partialBytes = limits.partialBytes;
}

WinogradScratchLimits winogradScratchLimits() {
    return {g_filterBytes.load(), g_tileBytes.load(), g_partialBytes.load()};
}

bool useWinogradConv(const ConvGeometry& g, std::int64_t f) {
    // Below 16×16 channel pairs the transforms cost about what the products save (the
    // U-Net's 16→16 layers at 128×128 already run 25–30 % faster than direct).
    return g_winograd.load() && useDirectConv(g) && g.kh == 3 && g.kw == 3 && g.c % 8 == 0 &&
           f % 8 == 0 && g.c * f >= kMinChannelPairs && !useGatheredConv(g, f);
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
                              const ConvGeometry& g, std::int64_t f, bool accumulate) {
    // The adjoint: dz convolved with the kernel flipped in space and transposed in
    // channels, w'[ky][kx][f][c] = w[2−ky][2−kx][c][f], padded by 2 − pad (gathered
    // block by block as the filters are transformed).
    WinogradConv p;
    p.in = dz;
    p.mask = reluOut;
    p.n = g.n;
    p.h = g.oh;
    p.w = g.ow;
    p.c = f;
    p.padTop = 2 - g.padTop;
    p.padLeft = 2 - g.padLeft;
    p.kernel = w;
    p.adjoint = true;
    p.f = g.c;
    p.out = dx;
    p.oh = g.h;
    p.ow = g.w;
    p.accumulate = accumulate;
    run(p);
}

void convWinogradBackwardWeights(const float* x, const float* dz, const float* reluOut, float* dw,
                                 float* db, const ConvGeometry& g, std::int64_t f) {
    const WinogradConv p = convolutionOf(x, g, f);
    // The chunk scheme holds one 36·C·F sum per chunk: within the budget, and not for
    // weight-heavy layers, where the blocked scheme is faster too.
    // A chunk of fewer than 32 tiles (many threads for the tiles) spends more on its
    // sums than it saves; then m is summed by position instead, where it fits.
    constexpr std::int64_t kMinChunkTiles = 32;
    const std::int64_t tiles = allTiles(p).count;
    const std::int64_t chunks = parallelChunks(tileGroups(tiles, g.c, f, 1).count);
    const std::int64_t sums = kPositions * g.c * f * kFloat;
    if (weightHeavy(p))
        weightsBlocked(p, dz, reluOut, dw, db);
    else if (chunks * sums <= g_partialBytes.load() && tiles >= kMinChunkTiles * chunks)
        weightsByChunks(p, dz, reluOut, dw, db);
    else if (sums <= g_filterBytes.load())
        weightsByPositions(p, dz, reluOut, dw, db);
    else
        weightsBlocked(p, dz, reluOut, dw, db);
}

} // namespace segforge::core::kernels
