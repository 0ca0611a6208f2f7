// Conv2D forward/backward. 3×3 stride-1 layers with channels in multiples of 8
// run Winograd F(4×4, 3×3) (conv_winograd.cpp), with bias and ReLU fused into
// the output transform and the ReLU derivative and bias gradient into the
// backward transforms. Other stride-1 undilated convolutions (the first 3×3
// layer, 1×1 layers) run the direct kernels of conv_direct.cpp, bias and ReLU
// fused into the output tile. Everything else: im2col over blocks of output
// rows, then one GEMM per block (Eigen); 1×1 stride-1 convolutions and heads
// with a few classes skip im2col, since NHWC pixels are already the rows of the
// patch matrix. A 1×1 head with fewer than 8 classes runs
// conv_pointwise_head.cpp: a dot product per pixel, bias and activation fused.

#include "kernels/activation_math.hpp"
#include "kernels/channel_blocks.hpp"
#include "kernels/conv_direct.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/conv_pointwise_head.hpp"
#include "kernels/conv_winograd.hpp"
#include "kernels/eigen_maps.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"
#include "kernels/tensor_sweeps.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core::kernels {

namespace {

bool isPointwise(const ConvGeometry& g) {
    return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0 &&
           g.oh == g.h && g.ow == g.w;
}

float fusedSlope(const KernelContext&) {
    return kDefaultLeakySlope;
}

/// The direct kernels compute 16 output channels at a time: a 1×1 head with one or
/// a few classes runs conv_pointwise_head.cpp (or Eigen when ConvPath::Gemm is forced).
bool useDirect(const ConvGeometry& g, std::int64_t f) {
    return useDirectConv(g) && !(isPointwise(g) && f < 8);
}

/// Winograd takes the layer, its ReLU (or none) fused into the transforms.
bool useWinograd(const ConvGeometry& g, std::int64_t f, ActKind act) {
    return useWinogradConv(g, f) && (act == ActKind::Linear || act == ActKind::Relu);
}

/// Pixels per task of a 1×1 convolution: fixed, so results do not depend on the thread count.
constexpr std::int64_t kPointwiseRows = 4096;

/// dLoss/d(pre-activation) of the last backward on this thread; grows, never shrinks,
/// so a warm training step does not allocate it.
std::vector<float>& preActivationGrad(std::int64_t n) {
    thread_local std::vector<float> dz;
    if (dz.size() < static_cast<std::size_t>(n))
        dz.resize(static_cast<std::size_t>(n));
    return dz;
}

} // namespace

// in:(N,H,W,Cin) w:(kh,kw,Cin,F) b:(F) -> out:(N,H',W',F)
// Blocks of output rows are independent, so threads split them; a block's result
// does not depend on which thread computes it.
void conv2dForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const ConvGeometry g = convolutionGeometry(ctx);
    const std::int64_t f = y.channels();
    const std::int64_t patch = g.patch();
    const auto w = matrix(ctx.param(0).f32(), patch, f);
    const float* xp = x.f32();
    float* yp = y.f32();
    const std::int64_t pixels = g.n * g.oh * g.ow;
    const bool bias = ctx.getBool("use_bias");
    const ActKind act = parseActivation(ctx.getString("activation"));
    if (useWinograd(g, f, act)) {
        convWinogradForward(xp, ctx.param(0).f32(), bias ? ctx.param(1).f32() : nullptr, yp, g, f,
                            act == ActKind::Relu);
        return;
    }
    if (usePointwiseHead(g, f)) {
        pointwiseHeadForward(xp, ctx.param(0).f32(), bias ? ctx.param(1).f32() : nullptr, yp,
                             pixels, g.c, f, act, fusedSlope(ctx));
        return;
    }
    if (useDirect(g, f)) {
        if (!convDirectForward(xp, ctx.param(0).f32(), bias ? ctx.param(1).f32() : nullptr, yp, g,
                               f, act))
            parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
                activateInPlace(yp + p0 * f, p1 - p0, f, act, fusedSlope(ctx));
            });
        return;
    }
    if (isPointwise(g)) {
        const std::int64_t blocks = (pixels + kPointwiseRows - 1) / kPointwiseRows;
        parallelFor(blocks, [&](std::int64_t b0, std::int64_t b1, int) {
            for (std::int64_t b = b0; b < b1; ++b) {
                const std::int64_t r0 = b * kPointwiseRows,
                                   rows = std::min(kPointwiseRows, pixels - r0);
                matrix(yp + r0 * f, rows, f).noalias() = matrix(xp + r0 * g.c, rows, g.c) * w;
            }
        });
    } else {
        const std::int64_t block = rowsPerBlock(g);
        const std::int64_t perImage = (g.oh + block - 1) / block;
        parallelFor(g.n * perImage, [&](std::int64_t t0, std::int64_t t1, int) {
            std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
            for (std::int64_t t = t0; t < t1; ++t) {
                const std::int64_t n = t / perImage, oy = (t % perImage) * block;
                const std::int64_t rows = std::min(block, g.oh - oy);
                im2colRows(xp, g, n, oy, rows, cols.data());
                matrix(yp + (n * g.oh + oy) * g.ow * f, rows * g.ow, f).noalias() =
                    matrix(cols.data(), rows * g.ow, patch) * w;
            }
        });
    }
    parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
        if (bias)
            matrix(yp + p0 * f, p1 - p0, f).rowwise() += ConstRowVectorMap(ctx.param(1).f32(), f);
        activateInPlace(yp + p0 * f, p1 - p0, f, act, fusedSlope(ctx));
    });
}

// dout:(N,H',W',F) -> din:(N,H,W,Cin) dw:(kh,kw,Cin,F) db:(F), all accumulated (a fresh
// din is written by Winograd, zeroed first on the other paths)
// Threads split the batch: images write disjoint parts of din, and each thread sums
// its images' dw in a buffer of its own; the buffers are added in thread order, so
// the result depends on the thread count but never on timing.
void conv2dBackward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const ConvGeometry g = convolutionGeometry(ctx);
    const std::int64_t f = y.channels();
    const std::int64_t patch = g.patch();
    const std::int64_t pixels = g.n * g.oh * g.ow;
    const ActKind act = parseActivation(ctx.getString("activation"));
    Tensor* dwT = ctx.paramGrad(0);
    Tensor* dxT = ctx.inGrad(0);
    Tensor* dbT = ctx.getBool("use_bias") ? ctx.paramGrad(1) : nullptr;
    const float* xp = x.f32();
    // Winograd applies the ReLU derivative while it transforms the output gradient, and
    // the bias gradient falls out of that transform: no pass over a pre-activation copy.
    if (dwT && useWinograd(g, f, act)) {
        const float* mask = act == ActKind::Relu ? y.f32() : nullptr;
        const float* dy = ctx.outGrad(0).f32();
        convWinogradBackwardWeights(xp, dy, mask, dwT->f32(), dbT ? dbT->f32() : nullptr, g, f);
        if (dxT)
            convWinogradBackwardData(dy, mask, ctx.param(0).f32(), dxT->f32(), g, f,
                                     !ctx.inputGradFresh(0));
        return;
    }
    if (dxT && ctx.inputGradFresh(0))
        zeroFill(dxT->f32(), dxT->numel());
    if (usePointwiseHead(g, f)) {
        pointwiseHeadBackward(xp, y.f32(), ctx.outGrad(0).f32(), ctx.param(0).f32(),
                              dxT ? dxT->f32() : nullptr, dwT ? dwT->f32() : nullptr,
                              dbT ? dbT->f32() : nullptr, pixels, g.c, f, act, fusedSlope(ctx));
        return;
    }
    // A linear convolution's pre-activation gradient is the output gradient itself.
    const float* dzp = ctx.outGrad(0).f32();
    if (act != ActKind::Linear) {
        float* dz = ctx.disposableOutGrad(0);
        if (!dz)
            dz = preActivationGrad(y.numel()).data();
        parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
            activationGrad(y.f32() + p0 * f, ctx.outGrad(0).f32() + p0 * f, dz + p0 * f, p1 - p0, f,
                           act, fusedSlope(ctx), false);
        });
        dzp = dz;
    }
    if (dbT)
        addColumnSums(dzp, pixels, f, dbT->f32());
    if (useDirect(g, f)) {
        if (dwT)
            convDirectBackwardWeights(xp, dzp, dwT->f32(), g, f);
        if (dxT && useWinogradConv(g, f))
            convWinogradBackwardData(dzp, nullptr, ctx.param(0).f32(), dxT->f32(), g, f);
        else if (dxT)
            convDirectBackwardData(dzp, ctx.param(0).f32(), dxT->f32(), g, f);
        return;
    }
    const auto w = matrix(ctx.param(0).f32(), patch, f);
    const bool pointwise = isPointwise(g);
    // Pointwise: rows of the pixel matrix; otherwise whole images.
    const std::int64_t units = pointwise ? pixels : g.n;
    const int chunks = parallelChunks(units);
    std::vector<std::vector<float>> partial(static_cast<std::size_t>(dwT ? chunks - 1 : 0));
    parallelFor(units, [&](std::int64_t u0, std::int64_t u1, int chunk) {
        float* dw = nullptr;
        if (dwT) {
            if (chunk == 0) {
                dw = dwT->f32();
            } else {
                auto& mine = partial[static_cast<std::size_t>(chunk - 1)];
                mine.assign(static_cast<std::size_t>(patch * f), 0.0f);
                dw = mine.data();
            }
        }
        if (pointwise) {
            const auto dzRows = matrix(dzp + u0 * f, u1 - u0, f);
            if (dw)
                matrix(dw, patch, f).noalias() +=
                    matrix(xp + u0 * g.c, u1 - u0, g.c).transpose() * dzRows;
            if (dxT)
                matrix(dxT->f32() + u0 * g.c, u1 - u0, g.c).noalias() += dzRows * w.transpose();
            return;
        }
        const std::int64_t block = rowsPerBlock(g);
        std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
        std::vector<float> dcols(dxT ? cols.size() : 0);
        for (std::int64_t n = u0; n < u1; ++n) {
            for (std::int64_t oy = 0; oy < g.oh; oy += block) {
                const std::int64_t rows = std::min(block, g.oh - oy);
                const auto dzBlock = matrix(dzp + (n * g.oh + oy) * g.ow * f, rows * g.ow, f);
                if (dw) {
                    im2colRows(xp, g, n, oy, rows, cols.data());
                    matrix(dw, patch, f).noalias() +=
                        matrix(cols.data(), rows * g.ow, patch).transpose() * dzBlock;
                }
                if (dxT) {
                    matrix(dcols.data(), rows * g.ow, patch).noalias() = dzBlock * w.transpose();
                    col2imRowsAdd(dcols.data(), g, n, oy, rows, dxT->f32());
                }
            }
        }
    });
    for (const auto& p : partial)
        matrix(dwT->f32(), patch, f) += matrix(p.data(), patch, f);
}

} // namespace segforge::core::kernels
