// Ops that move values without arithmetic on them: Concatenate, Cropping2D,
// ZeroPadding2D. Cropping and padding accept any dtype (they may act on masks).

#include "kernels/kernels.hpp"
#include "kernels/parallel.hpp"

#include <cstring>

namespace segforge::core::kernels {

namespace {

/// Product of the dims before / after an axis.
std::int64_t outerSize(const Shape& s, int axis) {
    std::int64_t n = 1;
    for (int a = 0; a < axis; ++a)
        n *= s[a];
    return n;
}
std::int64_t innerSize(const Shape& s, int axis) {
    std::int64_t n = 1;
    for (int a = axis + 1; a < s.rank(); ++a)
        n *= s[a];
    return n;
}

int concatAxis(const KernelContext& ctx) {
    const std::int64_t axis = ctx.getInt("axis");
    return static_cast<int>(axis < 0 ? axis + 4 : axis);
}

/// dst[0, n) = src[0, n) in 64-byte pieces the compiler inlines: a pixel's channels
/// are too short to pay for a memcpy call each.
inline void copyFloats(float* dst, const float* src, std::int64_t n) {
    constexpr std::int64_t kPiece = 16;
    std::int64_t k = 0;
    for (; k + kPiece <= n; k += kPiece)
        std::memcpy(dst + k, src + k, kPiece * sizeof(float));
    for (; k < n; ++k)
        dst[k] = src[k];
}

/// dst[0, n) += src[0, n); the two never overlap (restrict), which spares each short
/// row the overlap check before the vector loop.
inline void addFloats(float* __restrict dst, const float* __restrict src, std::int64_t n) {
    for (std::int64_t k = 0; k < n; ++k)
        dst[k] += src[k];
}

/// Copies (or, for gradients, adds) a spatial window between two NHWC tensors:
/// small[n, y, x] <-> large[n, y + top, x + left].
void spatialWindow(const Tensor& large, const Tensor& small, std::int64_t top, std::int64_t left,
                   const std::byte* from, std::byte* to, bool toLarge) {
    const std::int64_t es = dtypeSize(large.dtype());
    const std::size_t row = static_cast<std::size_t>(small.width() * small.channels() * es);
    for (std::int64_t n = 0; n < small.batch(); ++n) {
        for (std::int64_t y = 0; y < small.height(); ++y) {
            const std::int64_t li =
                ((n * large.height() + y + top) * large.width() + left) * large.channels();
            const std::int64_t si = (n * small.height() + y) * small.width() * small.channels();
            if (toLarge)
                std::memcpy(to + li * es, from + si * es, row);
            else
                std::memcpy(to + si * es, from + li * es, row);
        }
    }
}

void addWindow(const Tensor& large, const Tensor& small, std::int64_t top, std::int64_t left,
               const float* from, float* to, bool toLarge) {
    const std::int64_t row = small.width() * small.channels();
    for (std::int64_t n = 0; n < small.batch(); ++n) {
        for (std::int64_t y = 0; y < small.height(); ++y) {
            const std::int64_t li =
                ((n * large.height() + y + top) * large.width() + left) * large.channels();
            const std::int64_t si = (n * small.height() + y) * row;
            for (std::int64_t k = 0; k < row; ++k) {
                if (toLarge)
                    to[li + k] += from[si + k];
                else
                    to[si + k] += from[li + k];
            }
        }
    }
}

} // namespace

// in_i:(N,H,W,C_i) -> out:(N,H,W,ΣC_i) (or along H / W for axis 1 / 2)
void concatenateForward(const KernelContext& ctx) {
    const int axis = concatAxis(ctx);
    Tensor& y = ctx.out(0);
    const std::int64_t outer = outerSize(y.shape(), axis);
    const std::int64_t inner = innerSize(y.shape(), axis);
    const std::int64_t outRow = y.shape()[axis] * inner;
    // Along channels a row is one pixel's channels: many short copies, so threads split
    // them, and each output row is written whole before the next.
    parallelForFine(outer, [&](std::int64_t o0, std::int64_t o1) {
        for (std::int64_t o = o0; o < o1; ++o) {
            float* dst = y.f32() + o * outRow;
            for (const Tensor* x : ctx.inputs) {
                const std::int64_t row = x->shape()[axis] * inner;
                copyFloats(dst, x->f32() + o * row, row);
                dst += row;
            }
        }
    });
}

// dout:(N,H,W,ΣC_i) -> din_i:(N,H,W,C_i) += its slice
void concatenateBackward(const KernelContext& ctx) {
    const int axis = concatAxis(ctx);
    const Tensor& dy = ctx.outGrad(0);
    const std::int64_t outer = outerSize(dy.shape(), axis);
    const std::int64_t inner = innerSize(dy.shape(), axis);
    const std::int64_t outRow = dy.shape()[axis] * inner;
    parallelForFine(outer, [&](std::int64_t o0, std::int64_t o1) {
        for (std::int64_t o = o0; o < o1; ++o) {
            const float* src = dy.f32() + o * outRow;
            for (std::size_t i = 0; i < ctx.inputs.size(); ++i) {
                const std::int64_t row = ctx.inputs[i]->shape()[axis] * inner;
                if (Tensor* dx = ctx.inGrad(static_cast<int>(i))) {
                    if (ctx.inputGradFresh(static_cast<int>(i)))
                        std::memcpy(dx->f32() + o * row, src,
                                    static_cast<std::size_t>(row) * sizeof(float));
                    else
                        addFloats(dx->f32() + o * row, src, row);
                }
                src += row;
            }
        }
    });
}

// in:(N,H,W,C) -> out:(N,H−top−bottom,W−left−right,C), any dtype
void cropping2dForward(const KernelContext& ctx) {
    const auto& c = ctx.getList("cropping");
    spatialWindow(ctx.in(0), ctx.out(0), c[0], c[2], ctx.in(0).bytes(), ctx.out(0).bytes(), false);
}

void cropping2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const auto& c = ctx.getList("cropping");
    addWindow(ctx.in(0), ctx.out(0), c[0], c[2], ctx.outGrad(0).f32(), dx->f32(), true);
}

// in:(N,H,W,C) -> out:(N,H+top+bottom,W+left+right,C), zeros around, any dtype
void zeroPadding2dForward(const KernelContext& ctx) {
    const auto& p = ctx.getList("padding");
    Tensor& y = ctx.out(0);
    std::memset(y.bytes(), 0, y.byteSize());
    spatialWindow(y, ctx.in(0), p[0], p[2], ctx.in(0).bytes(), y.bytes(), true);
}

void zeroPadding2dBackward(const KernelContext& ctx) {
    Tensor* dx = ctx.inGrad(0);
    if (!dx)
        return;
    const auto& p = ctx.getList("padding");
    addWindow(ctx.out(0), ctx.in(0), p[0], p[2], ctx.outGrad(0).f32(), dx->f32(), false);
}

} // namespace segforge::core::kernels
