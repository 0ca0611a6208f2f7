// Conv2DTranspose is the adjoint of a Conv2D that maps the (large) output
// grid to the (small) input grid with the same kernel, strides, dilation and
// TensorFlow padding. Keras stores its kernel as (kh, kw, F, Cin), which is
// exactly that Conv2D's kernel, a (kh·kw·F, Cin) matrix.

#include "engine/kernels/activation_math.hpp"
#include "engine/kernels/conv_geometry.hpp"
#include "engine/kernels/eigen_maps.hpp"
#include "engine/kernels/kernels.hpp"
#include "engine/parallel.hpp"

#include <algorithm>
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

} // namespace

// in:(N,H,W,Cin) w:(kh,kw,F,Cin) b:(F) -> out:(N,H',W',F)
// Threads split the batch: each image scatters into its own part of the output.
void conv2dTransposeForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const ConvGeometry g = transposeGeometry(ctx);
    const std::int64_t cin = x.channels();
    const std::int64_t patch = g.patch();
    const auto w = matrix(ctx.param(0).f32(), patch, cin);
    y.fill(0.0f);
    const std::int64_t block = rowsPerBlock(g);
    parallelFor(g.n, [&](std::int64_t n0, std::int64_t n1, int) {
        std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
        for (std::int64_t n = n0; n < n1; ++n) {
            for (std::int64_t iy = 0; iy < g.oh; iy += block) {
                const std::int64_t rows = std::min(block, g.oh - iy);
                const auto xBlock = matrix(x.f32() + (n * g.oh + iy) * g.ow * cin, rows * g.ow, cin);
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
            matrix(y.f32() + p0 * g.c, p1 - p0, g.c).rowwise() += ConstRowVectorMap(ctx.param(1).f32(), g.c);
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
    // it goes to a thread-local buffer that only grows (no allocation once warm).
    const float* dz = ctx.outGrad(0).f32();
    if (act != ActKind::Linear) {
        thread_local std::vector<float> scratch;
        if (scratch.size() < static_cast<std::size_t>(y.numel()))
            scratch.resize(static_cast<std::size_t>(y.numel()));
        float* out = scratch.data();
        parallelFor(pixels, [&](std::int64_t p0, std::int64_t p1, int) {
            activationGrad(y.f32() + p0 * g.c, ctx.outGrad(0).f32() + p0 * g.c, out + p0 * g.c, p1 - p0, g.c, act,
                           kDefaultLeakySlope, false);
        });
        dz = out;
    }
    if (Tensor* db = ctx.paramGrad(1); db && ctx.getBool("use_bias"))
        RowVectorMap(db->f32(), g.c) += matrix(dz, pixels, g.c).colwise().sum();
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
                    matrix(dw, patch, cin).noalias() += colsM.transpose() * matrix(x.f32() + offset, rows * g.ow, cin);
            }
        }
    });
    for (const auto& p : partial)
        matrix(dwT->f32(), patch, cin) += matrix(p.data(), patch, cin);
}

} // namespace segforge::core::kernels
