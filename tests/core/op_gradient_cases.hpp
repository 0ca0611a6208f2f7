#pragma once

// The finite-difference gradient table of every op: cases of (op, attributes,
// input fills). Used by engine_gradient_test (each case) and op_registry_test
// (every registered op has a case or a stated reason why it has none).

#include "engine_op_harness.hpp"

#include <map>
#include <random>
#include <string>
#include <vector>

namespace segforge::core::testing {

enum class Fill { Uniform, Prob, Binary, Positive, ClassIndex, OneHot };

struct InSpec {
    std::vector<std::int64_t> dims;
    Fill fill = Fill::Uniform;
    int classes = 0; ///< ClassIndex / OneHot
};

struct GradCase {
    std::string name;
    std::string op;
    AttrMap attrs;
    std::vector<InSpec> inputs;
    bool training = true;
};

inline void PrintTo(const GradCase& c, std::ostream* os) {
    *os << c.name;
}

/// A tiny input filled as `s.fill` says, reproducible from `seed`.
inline Tensor makeInput(const InSpec& s, std::uint32_t seed) {
    std::mt19937 rng(seed);
    if (s.fill == Fill::ClassIndex) {
        Tensor t(Shape(s.dims), DType::Int32);
        for (std::int64_t i = 0; i < t.numel(); ++i)
            t.i32()[i] = static_cast<std::int32_t>(rng() % static_cast<unsigned>(s.classes));
        return t;
    }
    Tensor t(Shape(s.dims), DType::Float32);
    std::uniform_real_distribution<float> u(0, 1);
    const std::int64_t k = s.dims.back();
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        const float v = u(rng);
        switch (s.fill) {
        case Fill::Uniform:
            t.f32()[i] = 2 * v - 1;
            break;
        case Fill::Prob:
            t.f32()[i] = 0.05f + 0.9f * v;
            break;
        case Fill::Positive:
            t.f32()[i] = 0.1f + v;
            break;
        case Fill::Binary:
            t.f32()[i] = v < 0.5f ? 0.0f : 1.0f;
            break;
        case Fill::OneHot:
            t.f32()[i] = 0;
            break;
        case Fill::ClassIndex:
            break;
        }
    }
    if (s.fill == Fill::OneHot)
        for (std::int64_t p = 0; p < t.numel() / k; ++p)
            t.f32()[p * k + static_cast<std::int64_t>(rng() % static_cast<unsigned>(k))] = 1;
    return t;
}

/// The gradient table: every registered op has at least one case unless
/// opsWithoutGradientCase() names it.
inline std::vector<GradCase> gradCases() {
    using V = std::vector<std::int64_t>;
    auto str = [](const char* s) { return AttrValue{std::string(s)}; };
    auto i64 = [](std::int64_t v) { return AttrValue{v}; };
    const V img{2, 5, 5, 3};
    const V small{2, 4, 4, 2};
    auto loss = [](const char* name, const char* op, AttrMap a, Fill pred, InSpec target,
                   V dims = V{2, 3, 3, 2}) {
        return GradCase{name, op, std::move(a), {{dims, pred}, std::move(target)}};
    };
    const V pd{2, 3, 3, 2};
    return {
        {"cast_f32", "Cast", {}, {{small}}},
        {"rescale", "Rescale", {{"scale", 0.5}, {"offset", 0.1}}, {{small}}},
        {"conv_valid", "Conv2D", {{"filters", i64(4)}}, {{img}}},
        {"conv_same_s2_relu",
         "Conv2D",
         {{"filters", i64(3)},
          {"strides", i64(2)},
          {"padding", str("same")},
          {"activation", str("relu")}},
         {{img}}},
        {"conv_dilated_sigmoid",
         "Conv2D",
         {{"filters", i64(2)},
          {"dilation_rate", i64(2)},
          {"padding", str("same")},
          {"activation", str("sigmoid")}},
         {{img}}},
        {"conv_rect_tanh",
         "Conv2D",
         {{"filters", i64(3)},
          {"kernel_size", V{2, 3}},
          {"strides", V{1, 2}},
          {"padding", str("same")},
          {"activation", str("tanh")}},
         {{img}}},
        {"conv_1x1_softmax_nobias",
         "Conv2D",
         {{"filters", i64(3)},
          {"kernel_size", i64(1)},
          {"activation", str("softmax")},
          {"use_bias", false}},
         {{img}}},
        {"conv_leaky",
         "Conv2D",
         {{"filters", i64(2)}, {"activation", str("leaky_relu")}},
         {{small}}},
        {"sepconv_valid_relu",
         "SeparableConv2D",
         {{"filters", i64(3)}, {"activation", str("relu")}},
         {{img}}},
        {"sepconv_same_s2_dm2_tanh",
         "SeparableConv2D",
         {{"filters", i64(2)},
          {"strides", i64(2)},
          {"padding", str("same")},
          {"depth_multiplier", i64(2)},
          {"activation", str("tanh")}},
         {{img}}},
        {"sepconv_dilated_sigmoid_nobias",
         "SeparableConv2D",
         {{"filters", i64(2)},
          {"dilation_rate", i64(2)},
          {"padding", str("same")},
          {"activation", str("sigmoid")},
          {"use_bias", false}},
         {{img}}},
        {"convT_k2_s2_same", "Conv2DTranspose", {{"filters", i64(3)}}, {{small}}},
        {"convT_k3_s2_same",
         "Conv2DTranspose",
         {{"filters", i64(2)}, {"kernel_size", i64(3)}},
         {{{2, 3, 3, 2}}}},
        {"convT_k3_s2_valid_relu",
         "Conv2DTranspose",
         {{"filters", i64(2)},
          {"kernel_size", i64(3)},
          {"padding", str("valid")},
          {"activation", str("relu")}},
         {{{2, 3, 3, 2}}}},
        {"convT_k1_s2_valid",
         "Conv2DTranspose",
         {{"filters", i64(2)}, {"kernel_size", i64(1)}, {"padding", str("valid")}},
         {{small}}},
        {"convT_dilated_s1",
         "Conv2DTranspose",
         {{"filters", i64(2)},
          {"kernel_size", i64(3)},
          {"strides", i64(1)},
          {"dilation_rate", i64(2)}},
         {{small}}},
        {"maxpool_valid_odd", "MaxPool2D", {}, {{img}}},
        {"maxpool_same_3s2",
         "MaxPool2D",
         {{"pool_size", i64(3)}, {"strides", i64(2)}, {"padding", str("same")}},
         {{img}}},
        {"avgpool_valid", "AvgPool2D", {}, {{img}}},
        {"avgpool_same", "AvgPool2D", {{"pool_size", i64(2)}, {"padding", str("same")}}, {{img}}},
        {"global_avgpool", "GlobalAvgPool2D", {}, {{img}}},
        {"global_avgpool_1x1", "GlobalAvgPool2D", {}, {{{2, 1, 1, 3}}}},
        {"upsample_nearest", "UpSampling2D", {{"size", V{2, 3}}}, {{small}}},
        {"upsample_bilinear",
         "UpSampling2D",
         {{"size", i64(3)}, {"interpolation", str("bilinear")}},
         {{small}}},
        {"upsample_bilinear_align_corners",
         "UpSampling2D",
         {{"size", V{2, 3}}, {"interpolation", str("bilinear")}, {"align_corners", true}},
         {{small}}},
        {"concat_channels",
         "Concatenate",
         {{"num_inputs", i64(3)}},
         {{{2, 3, 3, 2}}, {{2, 3, 3, 1}}, {{2, 3, 3, 3}}}},
        {"concat_height", "Concatenate", {{"axis", i64(1)}}, {{{2, 2, 3, 2}}, {{2, 3, 3, 2}}}},
        {"add_broadcast", "Add", {}, {{{2, 3, 3, 2}}, {{2, 1, 1, 2}}}},
        {"multiply_gate_first", "Multiply", {}, {{{2, 1, 1, 2}}, {{2, 3, 4, 2}}}},
        {"multiply_broadcast",
         "Multiply",
         {{"num_inputs", i64(3)}},
         {{{2, 3, 3, 2}}, {{2, 3, 3, 1}}, {{2, 3, 3, 2}}}},
        {"batchnorm_train", "BatchNormalization", {}, {{small}}},
        {"batchnorm_train_noaffine",
         "BatchNormalization",
         {{"center", false}, {"scale", false}},
         {{small}}},
        {"batchnorm_infer", "BatchNormalization", {}, {{small}}, false},
        {"groupnorm_groups2", "GroupNormalization", {{"groups", i64(2)}}, {{{2, 3, 2, 4}}}},
        {"groupnorm_instance", "GroupNormalization", {{"groups", i64(4)}}, {{{2, 2, 3, 4}}}, false},
        {"groupnorm_layer_noaffine",
         "GroupNormalization",
         {{"center", false}, {"scale", false}},
         {{{1, 3, 3, 2}}}},
        {"dropout_train", "Dropout", {{"rate", 0.3}}, {{small}}},
        {"dropout_infer", "Dropout", {{"rate", 0.3}}, {{small}}, false},
        {"act_relu", "Activation", {}, {{small}}},
        {"act_leaky", "Activation", {{"activation", str("leaky_relu")}, {"alpha", 0.1}}, {{small}}},
        {"leaky_relu_default", "LeakyReLU", {}, {{small}}},
        {"leaky_relu_steep", "LeakyReLU", {{"alpha", 1.7}}, {{small}}},
        {"leaky_relu_negative", "LeakyReLU", {{"alpha", -0.25}}, {{small}}},
        {"act_sigmoid", "Activation", {{"activation", str("sigmoid")}}, {{small}}},
        {"act_softmax", "Activation", {{"activation", str("softmax")}}, {{{2, 3, 3, 4}}}},
        {"act_tanh", "Activation", {{"activation", str("tanh")}}, {{small}}},
        {"act_linear", "Activation", {{"activation", str("linear")}}, {{small}}},
        {"crop", "Cropping2D", {{"cropping", V{1, 0, 2, 1}}}, {{img}}},
        {"pad", "ZeroPadding2D", {{"padding", V{1, 2, 0, 1}}}, {{small}}},
        loss("bce", "BinaryCrossentropy", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("bce_logits_smooth", "BinaryCrossentropy",
             {{"from_logits", true}, {"label_smoothing", 0.1}}, Fill::Uniform, {pd, Fill::Prob}),
        loss("cce", "CategoricalCrossentropy", {}, Fill::Positive, {V{2, 3, 3, 3}, Fill::OneHot},
             V{2, 3, 3, 3}),
        loss("cce_logits_smooth", "CategoricalCrossentropy",
             {{"from_logits", true}, {"label_smoothing", 0.2}}, Fill::Uniform,
             {V{2, 3, 3, 3}, Fill::OneHot}, V{2, 3, 3, 3}),
        loss("scce", "SparseCategoricalCrossentropy", {}, Fill::Positive,
             {V{2, 3, 3, 1}, Fill::ClassIndex, 3}, V{2, 3, 3, 3}),
        loss("scce_logits_ignore", "SparseCategoricalCrossentropy",
             {{"from_logits", true}, {"ignore_class", i64(1)}}, Fill::Uniform,
             {V{2, 3, 3, 1}, Fill::ClassIndex, 3}, V{2, 3, 3, 3}),
        loss("dice", "Dice", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("bce_dice", "BCEDice", {{"bce_weight", 0.5}, {"dice_weight", 2.0}}, Fill::Prob,
             {pd, Fill::Binary}),
        loss("focal", "Focal", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("focal_logits_balanced", "Focal",
             {{"from_logits", true}, {"apply_class_balancing", true}, {"gamma", 1.5}},
             Fill::Uniform, {pd, Fill::Binary}),
    };
}

/// Registered ops without a gradient case, each with the reason. These have
/// no backward kernel (op_registry_test checks it).
inline const std::map<std::string, std::string>& opsWithoutGradientCase() {
    static const std::map<std::string, std::string> reasons{
        {"Input", "a source: the executor feeds it, no gradient flows into it"},
        {"Dataset", "a source: the executor feeds it, no gradient flows into it"},
        {"KerasLayer", "an import placeholder: the checker reports it, it never runs"},
        {"OnnxNode", "an import placeholder: the checker reports it, it never runs"},
        {"DiceCoefficient", "a metric: reported, passes no gradient"},
        {"IoU", "a metric: reported, passes no gradient"},
        {"PixelAccuracy", "a metric: reported, passes no gradient"},
    };
    return reasons;
}

} // namespace segforge::core::testing
