// SeparableConv2D forward/backward (keras.layers.SeparableConv2D): a depthwise
// convolution that filters each input channel on its own (depth_multiplier
// filters per channel), then a 1×1 convolution that mixes the channels, then
// bias and activation. The depthwise result is kept from forward to backward.

#include "kernels/activation_math.hpp"
#include "kernels/channel_blocks.hpp"
#include "kernels/conv_geometry.hpp"
#include "kernels/eigen_maps.hpp"
#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <algorithm>
#include <vector>

namespace segforge::core::kernels {

namespace {

/// Calls fn(x index, weight index) for every tap of output pixel (n, oy, ox) that
/// falls inside the image; the indices are those of channel 0 (add c, c·dm + m).
template <typename Fn>
void forEachTap(const ConvGeometry& g, std::int64_t n, std::int64_t oy, std::int64_t ox,
                std::int64_t dm, Fn&& fn) {
    for (std::int64_t ky = 0; ky < g.kh; ++ky) {
        const std::int64_t iy = oy * g.sh - g.padTop + ky * g.dh;
        if (iy < 0 || iy >= g.h)
            continue;
        for (std::int64_t kx = 0; kx < g.kw; ++kx) {
            const std::int64_t ix = ox * g.sw - g.padLeft + kx * g.dw;
            if (ix < 0 || ix >= g.w)
                continue;
            fn(((n * g.h + iy) * g.w + ix) * g.c, (ky * g.kw + kx) * g.c * dm);
        }
    }
}

} // namespace

// in:(N,H,W,C) dw:(kh,kw,C,dm) pw:(1,1,C·dm,F) b:(F) -> t:(N,H',W',C·dm) -> out:(N,H',W',F)
void separableConv2dForward(const KernelContext& ctx) {
    const ConvGeometry g = convolutionGeometry(ctx);
    const std::int64_t dm = ctx.getInt("depth_multiplier");
    const std::int64_t cm = g.c * dm;
    Tensor& y = ctx.out(0);
    const std::int64_t f = y.channels();
    const std::int64_t pixels = g.n * g.oh * g.ow;
    float* t = ctx.stateTensor(0, Shape{g.n, g.oh, g.ow, cm}, DType::Float32).f32();
    const float* x = ctx.in(0).f32();
    const float* dw = ctx.param(0).f32();
    parallelForFine(pixels, [&](std::int64_t p0, std::int64_t p1) {
        for (std::int64_t p = p0; p < p1; ++p) {
            const std::int64_t n = p / (g.oh * g.ow), oy = (p / g.ow) % g.oh, ox = p % g.ow;
            float* tp = t + p * cm;
            std::fill(tp, tp + cm, 0.0f);
            forEachTap(g, n, oy, ox, dm, [&](std::int64_t xi, std::int64_t wi) {
                for (std::int64_t c = 0; c < g.c; ++c)
                    for (std::int64_t m = 0; m < dm; ++m)
                        tp[c * dm + m] += x[xi + c] * dw[wi + c * dm + m];
            });
        }
    });
    auto out = matrix(y.f32(), pixels, f);
    out.noalias() =
        matrix(static_cast<const float*>(t), pixels, cm) * matrix(ctx.param(1).f32(), cm, f);
    if (ctx.getBool("use_bias"))
        out.rowwise() += ConstRowVectorMap(ctx.param(2).f32(), static_cast<Eigen::Index>(f));
    activateInPlace(y.f32(), pixels, f, parseActivation(ctx.getString("activation")),
                    kDefaultLeakySlope);
}

// dout:(N,H',W',F) -> din:(N,H,W,C) ddw:(kh,kw,C,dm) dpw:(C·dm,F) db:(F), accumulated
void separableConv2dBackward(const KernelContext& ctx) {
    const ConvGeometry g = convolutionGeometry(ctx);
    const std::int64_t dm = ctx.getInt("depth_multiplier");
    const std::int64_t cm = g.c * dm;
    const Tensor& y = ctx.out(0);
    const std::int64_t f = y.channels();
    const std::int64_t pixels = g.n * g.oh * g.ow;
    const float* t = ctx.state().at(0).f32();

    // dz: dLoss/d(pre-activation).
    std::vector<float> dzBuf;
    const float* dz = ctx.outGrad(0).f32();
    const ActKind act = parseActivation(ctx.getString("activation"));
    if (act != ActKind::Linear) {
        dzBuf.resize(static_cast<std::size_t>(pixels * f));
        activationGrad(y.f32(), ctx.outGrad(0).f32(), dzBuf.data(), pixels, f, act,
                       kDefaultLeakySlope, false);
        dz = dzBuf.data();
    }
    const auto dzm = matrix(dz, pixels, f);
    const auto pw = matrix(ctx.param(1).f32(), cm, f);
    if (Tensor* dpw = ctx.paramGrad(1))
        matrix(dpw->f32(), cm, f).noalias() += matrix(t, pixels, cm).transpose() * dzm;
    if (ctx.getBool("use_bias"))
        if (Tensor* db = ctx.paramGrad(2))
            addColumnSums(dz, pixels, f, db->f32());

    std::vector<float> dtBuf(static_cast<std::size_t>(pixels * cm));
    matrix(dtBuf.data(), pixels, cm).noalias() = dzm * pw.transpose();
    const float* dt = dtBuf.data();
    const float* x = ctx.in(0).f32();
    const float* dw = ctx.param(0).f32();

    // The depthwise weights of channel c see only channel c: channels split the work.
    if (Tensor* ddw = ctx.paramGrad(0)) {
        float* gw = ddw->f32();
        parallelForFine(g.c, [&](std::int64_t c0, std::int64_t c1) {
            for (std::int64_t p = 0; p < pixels; ++p) {
                const std::int64_t n = p / (g.oh * g.ow), oy = (p / g.ow) % g.oh, ox = p % g.ow;
                const float* dtp = dt + p * cm;
                forEachTap(g, n, oy, ox, dm, [&](std::int64_t xi, std::int64_t wi) {
                    for (std::int64_t c = c0; c < c1; ++c)
                        for (std::int64_t m = 0; m < dm; ++m)
                            gw[wi + c * dm + m] += x[xi + c] * dtp[c * dm + m];
                });
            }
        });
    }
    // An image's input gradient comes from its own outputs only: images split the work.
    if (Tensor* dx = ctx.inGrad(0)) {
        float* gx = dx->f32();
        parallelForFine(g.n, [&](std::int64_t n0, std::int64_t n1) {
            for (std::int64_t n = n0; n < n1; ++n)
                for (std::int64_t oy = 0; oy < g.oh; ++oy)
                    for (std::int64_t ox = 0; ox < g.ow; ++ox) {
                        const float* dtp = dt + ((n * g.oh + oy) * g.ow + ox) * cm;
                        forEachTap(g, n, oy, ox, dm, [&](std::int64_t xi, std::int64_t wi) {
                            for (std::int64_t c = 0; c < g.c; ++c)
                                for (std::int64_t m = 0; m < dm; ++m)
                                    gx[xi + c] += dtp[c * dm + m] * dw[wi + c * dm + m];
                        });
                    }
        });
    }
}

} // namespace segforge::core::kernels
