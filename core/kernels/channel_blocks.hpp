#pragma once

// Per-channel statistics of NHWC tensors for the normalisation kernels: the
// pixels are cut into blocks of whole pixels (never across samples), each block
// computes its per-channel partial in double, and the callers combine the
// blocks in block order. The blocks depend only on the sizes, never on the
// thread count, so the results are the same bits at any thread count; a block
// holds about kBlockValues values, so its second pass reads the cache.

#include "kernels/channel_sweeps.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace segforge::core::kernels {

/// The blocks of `samples` runs of `pixels` pixels of `channels` values each.
struct PixelBlocks {
    static constexpr std::int64_t kBlockValues = 16384;

    std::int64_t samples = 0, pixels = 0, channels = 0;
    std::int64_t blockPixels = 1; ///< pixels per block (the last of a sample may hold fewer)
    std::int64_t perSample = 0;   ///< blocks per sample

    PixelBlocks(std::int64_t samples_, std::int64_t pixels_, std::int64_t channels_)
        : samples(samples_)
        , pixels(pixels_)
        , channels(channels_)
        , blockPixels(
              std::max<std::int64_t>(1, kBlockValues / std::max<std::int64_t>(1, channels_)))
        , perSample(pixels_ > 0 ? (pixels_ + blockPixels - 1) / blockPixels : 0) {}

    std::int64_t count() const { return samples * perSample; }
    std::int64_t sampleOf(std::int64_t block) const { return block / perSample; }
    /// First pixel of `block`, counted from the tensor's start.
    std::int64_t begin(std::int64_t block) const {
        return sampleOf(block) * pixels + (block % perSample) * blockPixels;
    }
    std::int64_t size(std::int64_t block) const {
        return std::min(blockPixels, pixels - (block % perSample) * blockPixels);
    }
};

/// fn(p0, p1) over chunks of [0, pixels): in parallel chunks where the tensor is large
/// enough to be worth waking the pool, else on the caller in one piece.
template <typename Fn> void forPixelChunks(std::int64_t pixels, std::int64_t channels, Fn&& fn) {
    if (pixels * channels < PixelBlocks::kBlockValues)
        fn(std::int64_t{0}, pixels);
    else
        parallelForFine(pixels, fn);
}

/// Per block j and channel k: mean[j·C + k] and m2[j·C + k] = Σ (x − mean)² over the
/// block's pixels (two passes over the block, in double).
inline void blockMeanM2(const float* x, const PixelBlocks& pb, std::vector<double>& mean,
                        std::vector<double>& m2) {
    const std::int64_t c = pb.channels;
    mean.assign(static_cast<std::size_t>(pb.count() * c), 0.0);
    m2.assign(mean.size(), 0.0);
    parallelForFine(pb.count(), [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j) {
            const float* xb = x + pb.begin(j) * c;
            const std::int64_t len = pb.size(j);
            double* mu = mean.data() + j * c;
            addChannelSums(xb, len, c, mu);
            const double inv = 1.0 / static_cast<double>(len);
            for (std::int64_t k = 0; k < c; ++k)
                mu[k] *= inv;
            addChannelSquaredDeviations(xb, len, c, mu, m2.data() + j * c);
        }
    });
}

/// Two sums per block j and channel k, first[j·C + k] and second[j·C + k], in double:
/// sweep(p0, len, first + j·C, second + j·C) adds block j's pixels [p0, p0 + len); the
/// blocks run in parallel.
template <typename Sweep>
void blockSumPairs(const PixelBlocks& pb, std::vector<double>& first, std::vector<double>& second,
                   Sweep&& sweep) {
    const std::int64_t c = pb.channels;
    first.assign(static_cast<std::size_t>(pb.count() * c), 0.0);
    second.assign(first.size(), 0.0);
    parallelForFine(pb.count(), [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j)
            sweep(pb.begin(j), pb.size(j), first.data() + j * c, second.data() + j * c);
    });
}

/// Per block j and channel k: sumA[j·C + k] = Σ a and sumAB[j·C + k] = Σ a·b over the
/// block's pixels, in double.
inline void blockSums(const float* a, const float* b, const PixelBlocks& pb,
                      std::vector<double>& sumA, std::vector<double>& sumAB) {
    const std::int64_t c = pb.channels;
    blockSumPairs(pb, sumA, sumAB, [&](std::int64_t p0, std::int64_t len, double* s, double* sp) {
        addChannelSumsAndProducts(a + p0 * c, b + p0 * c, len, c, s, sp);
    });
}

/// out[k] += Σ over the rows of x[row·C + k], for a bias gradient: fixed blocks
/// of rows summed in parallel in double, then the blocks in block order, so the
/// result is the same bits at any thread count and no thread sums it all alone.
inline void addColumnSums(const float* x, std::int64_t rows, std::int64_t c, float* out) {
    const PixelBlocks pb(1, rows, c);
    std::vector<double> sums(static_cast<std::size_t>(pb.count() * c), 0.0);
    parallelForFine(pb.count(), [&](std::int64_t j0, std::int64_t j1) {
        for (std::int64_t j = j0; j < j1; ++j)
            addChannelSums(x + pb.begin(j) * c, pb.size(j), c, sums.data() + j * c);
    });
    for (std::int64_t k = 0; k < c; ++k) {
        double total = 0.0;
        for (std::int64_t j = 0; j < pb.count(); ++j)
            total += sums[static_cast<std::size_t>(j * c + k)];
        out[k] += static_cast<float>(total);
    }
}

/// Running (count, mean, M2) of a set of values, merged with Chan et al.'s formula.
struct MeanM2 {
    double count = 0.0, mean = 0.0, m2 = 0.0;

    void merge(double n, double mu, double sq) {
        if (n <= 0.0)
            return;
        const double total = count + n;
        const double delta = mu - mean;
        mean += delta * (n / total);
        m2 += sq + delta * delta * (count * n / total);
        count = total;
    }
    /// The biased variance (0 for no values).
    double variance() const { return count > 0.0 ? m2 / count : 0.0; }
};

} // namespace segforge::core::kernels
