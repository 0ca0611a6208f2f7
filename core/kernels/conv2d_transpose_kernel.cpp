// Conv2DTranspose is the adjoint of a Conv2D that maps the (large) output
// grid to the (small) input grid with the same kernel, strides, dilation and
// TensorFlow padding. Keras stores its kernel as (kh, kw, F, Cin), which is
// exactly that Conv2D's kernel, a (kh·kw·F, Cin) matrix.
//
// When the kernel equals the strides (the U-Net's 2×2, stride 2), the windows
// do not overlap: every input pixel writes its own kh×kw block of output
// pixels. Then the layer is a 1×1 convolution to kh·kw·F channels followed by
// a depth-to-space shuffle, and runs on the direct 1×1 kernels.

#include "kernels/activation_math.hpp"
#include "kernels/channel_blocks.hpp"
#include "kernels/conv_direct.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/eigen_maps.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <cstring>
#include <vector>

namespace segforge::core::kernels {

namespace {

// Geometry of the adjoint Conv2D: large = output (N,H',W',F), positions = input grid.
ConvGeometry transposeGeometry(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const auto k = ctx.getPair("kernel_size");
    const auto s = ctx.getPair("strides");
    const auto d = ctx.getPair("dilation_rate");
    return makeConvGeometry(y.batch(), y.height(), y.width(), y.channels(), x.height(), x.width(),
                            k[0], k[1], s[0], s[1], d[0], d[1], ctx.getString("padding") == "same");
}

/// Kernel == strides, undilated, unpadded: non-overlapping windows (see the top).
bool isDepthToSpace(const ConvGeometry& g) {
    return g.kh == g.sh && g.kw == g.sw && g.dh == 1 && g.dw == 1 && g.padTop == 0 &&
           g.padLeft == 0 && g.h == g.oh * g.sh && g.w == g.ow * g.sw;
}

/// The 1×1 convolution over the input grid: Cin → kh·kw·F channels.
ConvGeometry pointwiseGeometry(const ConvGeometry& g, std::int64_t cin) {
    return makeConvGeometry(g.n, g.oh, g.ow, cin, g.oh, g.ow, 1, 1, 1, 1, 1, 1, false);
}

/// A buffer of this thread's that only grows, so warm steps do not allocate.
/// `slot` tells the buffers of one kernel apart.
float* scratch(int slot, std::int64_t n) {
    thread_local std::vector<float> buffers[5];
    auto& b = buffers[slot];
    if (b.size() < static_cast<std::size_t>(n))
        b.resize(static_cast<std::size_t>(n));
    return b.data();
}

/// w:(kh·kw·F, Cin) -> (Cin, kh·kw·F): the 1×1 kernel, output channel q = (ky·kw + kx)·F + f.
const float* pointwiseWeights(const float* w, std::int64_t patch, std::int64_t cin) {
    float* wp = scratch(0, patch * cin);
    matrix(wp, cin, patch).noalias() = matrix(w, patch, cin).transpose();
    return wp;
}

/// Moves between the output (N,H',W',F) and its blocks (N,H,W,kh·kw·F), where
/// block channel (ky·kw + kx)·F + f of input pixel (iy, ix) is output pixel
/// (iy·kh + ky, ix·kw + kx), channel f. ToBlocks gathers, otherwise it scatters.
template <bool ToBlocks> void shuffle(const ConvGeometry& g, const float* src, float* dst) {
    const std::int64_t f = g.c, patch = g.patch();
    const std::size_t bytes = static_cast<std::size_t>(f) * sizeof(float);
    parallelForFine(g.n * g.oh, [&](std::int64_t r0, std::int64_t r1) {
        for (std::int64_t r = r0; r < r1; ++r) {
            const std::int64_t n = r / g.oh, iy = r % g.oh;
            for (std::int64_t ix = 0; ix < g.ow; ++ix) {
                std::int64_t b = (r * g.ow + ix) * patch;
                for (std::int64_t ky = 0; ky < g.kh; ++ky) {
                    std::int64_t o = ((n * g.h + iy * g.kh + ky) * g.w + ix * g.kw) * f;
                    for (std::int64_t kx = 0; kx < g.kw; ++kx, b += f, o += f)
                        std::memcpy(dst + (ToBlocks ? b : o), src + (ToBlocks ? o : b), bytes);
                }
            }
        }
    });
}

void depthToSpaceForward(const KernelContext& ctx, const ConvGeometry& g, const ConvGeometry& pw) {
    const std::int64_t cin = pw.c, patch = g.patch(), f = g.c;
    const float* wp = pointwiseWeights(ctx.param(0).f32(), patch, cin);
    const float* bias = nullptr;
    if (ctx.getBool("use_bias")) {
        float* b = scratch(1, patch);
        for (std::int64_t q = 0; q < patch; ++q)
            b[q] = ctx.param(1).f32()[q % f];
        bias = b;
    }
    Tensor& y = ctx.out(0);
    float* blocks = scratch(2, y.numel());
    const ActKind act = parseActivation(ctx.getString("activation"));
    const bool activated = convDirectForward(ctx.in(0).f32(), wp, bias, blocks, pw, patch, act);
    shuffle<false>(g, blocks, y.f32());
    if (!activated)
        parallelFor(y.numel() / f, [&](std::int64_t p0, std::int64_t p1, int) {
            activateInPlace(y.f32() + p0 * f, p1 - p0, f, act, kDefaultLeakySlope);
        });
}

void depthToSpaceBackward(const KernelContext& ctx, const ConvGeometry& g, const ConvGeometry& pw,
                          const float* dz) {
    const std::int64_t cin = pw.c, patch = g.patch();
    float* blocks = scratch(2, ctx.out(0).numel());
    shuffle<true>(g, dz, blocks);
    const float* wp = pointwiseWeights(ctx.param(0).f32(), patch, cin);
    if (Tensor* dx = ctx.inGrad(0))
        convDirectBackwardData(blocks, wp, dx->f32(), pw, patch);
    if (Tensor* dw = ctx.paramGrad(0)) {
        float* dwp = scratch(3, cin * patch);
        std::fill(dwp, dwp + cin * patch, 0.0f);
        convDirectBackwardWeights(ctx.in(0).f32(), blocks, dwp, pw, patch);
        matrix(dw->f32(), patch, cin) += matrix(dwp, cin, patch).transpose();
    }
}

} // namespace

// in:(N,H,W,Cin) w:(kh,kw,F,Cin) b:(F) -> out:(N,H',W',F)
// Threads split the batch: each image scatters into its own part of the output.
void conv2dTransposeForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const ConvGeometry g = transposeGeometry(ctx);
    const std::int64_t cin = x.channels();
    if (const ConvGeometry pw = pointwiseGeometry(g, cin); isDepthToSpace(g) && useDirectConv(pw)) {
        depthToSpaceForward(ctx, g, pw);
        return;
    }
    const std::int64_t patch = g.patch();
    const auto w = matrix(ctx.param(0).f32(), patch, cin);
    y.fill(0.0f);
    const std::int64_t block = rowsPerBlock(g);
    parallelFor(g.n, [&](std::int64_t n0, std::int64_t n1, int) {
        std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
        for (std::int64_t n = n0; n < n1; ++n) {
            for (std::int64_t iy = 0; iy < g.oh; iy += block) {
                const std::int64_t rows = std::min(block, g.oh - iy);
                const auto xBlock =
                    matrix(x.f32() + (n * g.oh + iy) * g.ow * cin, rows * g.ow, cin);
                matrix(cols.data(), rows * g.ow, patch).noalias() = xBlock * w.transpose();
                col2imRowsAdd(cols.data(), g, n, iy, rows, y.f32());
            }
        }
    });
    const std::int64_t pixels = y.numel() / g.c;
    const bool bias = ctx.getBool("use_bias");
    const ActKind act = parseActivation(ctx.getString("activation"));
    parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
        if (bias)
            matrix(y.f32() + p0 * g.c, p1 - p0, g.c).rowwise() +=
                ConstRowVectorMap(ctx.param(1).f32(), g.c);
        activateInPlace(y.f32() + p0 * g.c, p1 - p0, g.c, act, kDefaultLeakySlope);
    });
}

// dout:(N,H',W',F) -> din:(N,H,W,Cin) dw:(kh,kw,F,Cin) db:(F), all accumulated
// Threads split the batch; dw is summed per thread and the sums added in thread order.
void conv2dTransposeBackward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const ConvGeometry g = transposeGeometry(ctx);
    const std::int64_t cin = x.channels();
    const std::int64_t patch = g.patch();
    const std::int64_t pixels = y.numel() / g.c;
    const ActKind act = parseActivation(ctx.getString("activation"));
    // A linear layer's pre-activation gradient is the output gradient itself; otherwise
    // it overwrites the output gradient when the lean plan frees that next, or goes to
    // a thread-local buffer that only grows (no allocation once warm).
    const float* dz = ctx.outGrad(0).f32();
    if (act != ActKind::Linear) {
        float* out = ctx.disposableOutGrad(0);
        if (!out)
            out = scratch(4, y.numel());
        parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
            activationGrad(y.f32() + p0 * g.c, ctx.outGrad(0).f32() + p0 * g.c, out + p0 * g.c,
                           p1 - p0, g.c, act, kDefaultLeakySlope, false);
        });
        dz = out;
    }
    if (Tensor* db = ctx.paramGrad(1); db && ctx.getBool("use_bias"))
        addColumnSums(dz, pixels, g.c, db->f32());
    if (const ConvGeometry pw = pointwiseGeometry(g, cin); isDepthToSpace(g) && useDirectConv(pw)) {
        depthToSpaceBackward(ctx, g, pw, dz);
        return;
    }
    Tensor* dwT = ctx.paramGrad(0);
    Tensor* dxT = ctx.inGrad(0);
    const auto w = matrix(ctx.param(0).f32(), patch, cin);
    const std::int64_t block = rowsPerBlock(g);
    const int chunks = parallelChunks(g.n);
    std::vector<std::vector<float>> partial(static_cast<std::size_t>(dwT ? chunks - 1 : 0));
    parallelFor(g.n, [&](std::int64_t n0, std::int64_t n1, int chunk) {
        float* dw = nullptr;
        if (dwT) {
            if (chunk == 0) {
                dw = dwT->f32();
            } else {
                auto& mine = partial[static_cast<std::size_t>(chunk - 1)];
                mine.assign(static_cast<std::size_t>(patch * cin), 0.0f);
                dw = mine.data();
            }
        }
        std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
        for (std::int64_t n = n0; n < n1; ++n) {
            for (std::int64_t iy = 0; iy < g.oh; iy += block) {
                const std::int64_t rows = std::min(block, g.oh - iy);
                im2colRows(dz, g, n, iy, rows, cols.data());
                const auto colsM = matrix(cols.data(), rows * g.ow, patch);
                const std::int64_t offset = (n * g.oh + iy) * g.ow * cin;
                if (dxT)
                    matrix(dxT->f32() + offset, rows * g.ow, cin).noalias() += colsM * w;
                if (dw)
                    matrix(dw, patch, cin).noalias() +=
                        colsM.transpose() * matrix(x.f32() + offset, rows * g.ow, cin);
            }
        }
    });
    for (const auto& p : partial)
        matrix(dwT->f32(), patch, cin) += matrix(p.data(), patch, cin);
}

} // namespace segforge::core::kernels
