#pragma once

// One 3×3 same ReLU Conv2D with bias, its tensors filled with random values and
// wired into a KernelContext for forward and backward: the layer the
// convolution benchmarks time (engine_bench, winograd_bench).

#include "kernels/op_kernel.hpp"

#include <random>
#include <string>
#include <vector>

namespace segforge::core::bench {

struct ConvSetup {
    Tensor x, y, w, b, dy, dx, dw, db;
    std::vector<Tensor> saved;
    AttrMap attrs;
    KernelContext ctx;

    ConvSetup(std::int64_t n, std::int64_t hw, std::int64_t cin, std::int64_t cout)
        : x(Shape{n, hw, hw, cin}, DType::Float32)
        , y(Shape{n, hw, hw, cout}, DType::Float32)
        , w(Shape{3, 3, cin, cout}, DType::Float32)
        , b(Shape{cout}, DType::Float32)
        , dy(Shape{n, hw, hw, cout}, DType::Float32)
        , dx(Shape{n, hw, hw, cin}, DType::Float32)
        , dw(Shape{3, 3, cin, cout}, DType::Float32)
        , db(Shape{cout}, DType::Float32) {
        std::mt19937 rng(1);
        std::uniform_real_distribution<float> u(-1, 1);
        for (Tensor* t : {&x, &w, &dy})
            for (std::int64_t i = 0; i < t->numel(); ++i)
                t->f32()[i] = u(rng);
        attrs = {{"filters", cout},
                 {"kernel_size", std::vector<std::int64_t>{3, 3}},
                 {"strides", std::vector<std::int64_t>{1, 1}},
                 {"padding", std::string("same")},
                 {"dilation_rate", std::vector<std::int64_t>{1, 1}},
                 {"activation", std::string("relu")},
                 {"use_bias", true}};
        ctx.attrs = &attrs;
        ctx.inputs = {&x};
        ctx.outputs = {&y};
        ctx.params = {&w, &b};
        ctx.saved = &saved;
        ctx.outputGrads = {&dy};
        ctx.inputGrads = {&dx};
        ctx.paramGrads = {&dw, &db};
    }
};

} // namespace segforge::core::bench
