// Conv2D forward/backward: im2col over blocks of output rows, then one GEMM
// per block (Eigen). 1×1 stride-1 convolutions skip im2col: NHWC pixels are
// already the rows of the patch matrix.

#include "engine/kernels/activation_math.hpp"
#include "engine/kernels/conv_geometry.hpp"
#include "engine/kernels/eigen_maps.hpp"
#include "engine/kernels/kernels.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core::kernels {

namespace {

ConvGeometry conv2dGeometry(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const auto k = ctx.getPair("kernel_size");
    const auto s = ctx.getPair("strides");
    const auto d = ctx.getPair("dilation_rate");
    return makeConvGeometry(x.batch(), x.height(), x.width(), x.channels(), y.height(), y.width(),
                            k[0], k[1], s[0], s[1], d[0], d[1], ctx.getString("padding") == "same");
}

bool isPointwise(const ConvGeometry& g) {
    return g.kh == 1 && g.kw == 1 && g.sh == 1 && g.sw == 1 && g.padTop == 0 && g.padLeft == 0 &&
           g.oh == g.h && g.ow == g.w;
}

float fusedSlope(const KernelContext&) { return kDefaultLeakySlope; }

} // namespace

// in:(N,H,W,Cin) w:(kh,kw,Cin,F) b:(F) -> out:(N,H',W',F)
void conv2dForward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    Tensor& y = ctx.out(0);
    const ConvGeometry g = conv2dGeometry(ctx);
    const std::int64_t f = y.channels();
    const std::int64_t patch = g.patch();
    const auto w = matrix(ctx.param(0).f32(), patch, f);
    const float* xp = x.f32();
    float* yp = y.f32();
    if (isPointwise(g)) {
        matrix(yp, g.n * g.oh * g.ow, f).noalias() = matrix(xp, g.n * g.h * g.w, g.c) * w;
    } else {
        const std::int64_t block = rowsPerBlock(g);
        std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
        for (std::int64_t n = 0; n < g.n; ++n) {
            for (std::int64_t oy = 0; oy < g.oh; oy += block) {
                const std::int64_t rows = std::min(block, g.oh - oy);
                im2colRows(xp, g, n, oy, rows, cols.data());
                matrix(yp + (n * g.oh + oy) * g.ow * f, rows * g.ow, f).noalias() =
                    matrix(cols.data(), rows * g.ow, patch) * w;
            }
        }
    }
    const std::int64_t pixels = g.n * g.oh * g.ow;
    if (ctx.getBool("use_bias"))
        matrix(yp, pixels, f).rowwise() += ConstRowVectorMap(ctx.param(1).f32(), f);
    activateInPlace(yp, pixels, f, parseActivation(ctx.getString("activation")), fusedSlope(ctx));
}

// dout:(N,H',W',F) -> din:(N,H,W,Cin) dw:(kh,kw,Cin,F) db:(F), all accumulated
void conv2dBackward(const KernelContext& ctx) {
    const Tensor& x = ctx.in(0);
    const Tensor& y = ctx.out(0);
    const ConvGeometry g = conv2dGeometry(ctx);
    const std::int64_t f = y.channels();
    const std::int64_t patch = g.patch();
    const std::int64_t pixels = g.n * g.oh * g.ow;
    std::vector<float> dz(static_cast<std::size_t>(y.numel()));
    activationGrad(y.f32(), ctx.outGrad(0).f32(), dz.data(), pixels, f,
                   parseActivation(ctx.getString("activation")), fusedSlope(ctx), false);
    const auto dzAll = matrix(dz.data(), pixels, f);
    if (Tensor* db = ctx.paramGrad(1); db && ctx.getBool("use_bias"))
        RowVectorMap(db->f32(), f) += dzAll.colwise().sum();
    Tensor* dwT = ctx.paramGrad(0);
    Tensor* dxT = ctx.inGrad(0);
    const auto w = matrix(ctx.param(0).f32(), patch, f);
    const float* xp = x.f32();
    if (isPointwise(g)) {
        const auto xm = matrix(xp, pixels, g.c);
        if (dwT)
            matrix(dwT->f32(), patch, f).noalias() += xm.transpose() * dzAll;
        if (dxT)
            matrix(dxT->f32(), pixels, g.c).noalias() += dzAll * w.transpose();
        return;
    }
    const std::int64_t block = rowsPerBlock(g);
    std::vector<float> cols(static_cast<std::size_t>(block * g.ow * patch));
    std::vector<float> dcols(dxT ? cols.size() : 0);
    for (std::int64_t n = 0; n < g.n; ++n) {
        for (std::int64_t oy = 0; oy < g.oh; oy += block) {
            const std::int64_t rows = std::min(block, g.oh - oy);
            const auto dzBlock = matrix(dz.data() + (n * g.oh + oy) * g.ow * f, rows * g.ow, f);
            if (dwT) {
                im2colRows(xp, g, n, oy, rows, cols.data());
                matrix(dwT->f32(), patch, f).noalias() +=
                    matrix(cols.data(), rows * g.ow, patch).transpose() * dzBlock;
            }
            if (dxT) {
                matrix(dcols.data(), rows * g.ow, patch).noalias() = dzBlock * w.transpose();
                col2imRowsAdd(dcols.data(), g, n, oy, rows, dxT->f32());
            }
        }
    }
}

} // namespace segforge::core::kernels
