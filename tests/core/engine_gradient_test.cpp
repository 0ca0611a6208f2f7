// Finite-difference gradient checks for every op's backward kernel, in the
// spirit of ggml's test-grad0: a loop over the registry fails when an op with
// a backward kernel has no case here. The objective is J = Σ r·output with a
// fixed random r (1 for scalar losses); central differences on float32
// kernels with h = 1e-3, compared with |a − n| ≤ 4e-3 + 3e-2·max(|a|, |n|).

#include "engine_op_harness.hpp"

#include <cmath>
#include <map>
#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

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

void PrintTo(const GradCase& c, std::ostream* os) { *os << c.name; }

Tensor makeInput(const InSpec& s, std::uint32_t seed) {
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
        case Fill::Uniform: t.f32()[i] = 2 * v - 1; break;
        case Fill::Prob: t.f32()[i] = 0.05f + 0.9f * v; break;
        case Fill::Positive: t.f32()[i] = 0.1f + v; break;
        case Fill::Binary: t.f32()[i] = v < 0.5f ? 0.0f : 1.0f; break;
        case Fill::OneHot: t.f32()[i] = 0; break;
        case Fill::ClassIndex: break;
        }
    }
    if (s.fill == Fill::OneHot)
        for (std::int64_t p = 0; p < t.numel() / k; ++p)
            t.f32()[p * k + static_cast<std::int64_t>(rng() % static_cast<unsigned>(k))] = 1;
    return t;
}

using V = std::vector<std::int64_t>;
AttrValue str(const char* s) { return std::string(s); }
AttrValue i64(std::int64_t v) { return v; }

std::vector<GradCase> gradCases() {
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
        {"conv_same_s2_relu", "Conv2D",
         {{"filters", i64(3)}, {"strides", i64(2)}, {"padding", str("same")}, {"activation", str("relu")}},
         {{img}}},
        {"conv_dilated_sigmoid", "Conv2D",
         {{"filters", i64(2)}, {"dilation_rate", i64(2)}, {"padding", str("same")}, {"activation", str("sigmoid")}},
         {{img}}},
        {"conv_rect_tanh", "Conv2D",
         {{"filters", i64(3)}, {"kernel_size", V{2, 3}}, {"strides", V{1, 2}}, {"padding", str("same")},
          {"activation", str("tanh")}},
         {{img}}},
        {"conv_1x1_softmax_nobias", "Conv2D",
         {{"filters", i64(3)}, {"kernel_size", i64(1)}, {"activation", str("softmax")}, {"use_bias", false}},
         {{img}}},
        {"conv_leaky", "Conv2D", {{"filters", i64(2)}, {"activation", str("leaky_relu")}}, {{small}}},
        {"convT_k2_s2_same", "Conv2DTranspose", {{"filters", i64(3)}}, {{small}}},
        {"convT_k3_s2_same", "Conv2DTranspose", {{"filters", i64(2)}, {"kernel_size", i64(3)}}, {{{2, 3, 3, 2}}}},
        {"convT_k3_s2_valid_relu", "Conv2DTranspose",
         {{"filters", i64(2)}, {"kernel_size", i64(3)}, {"padding", str("valid")}, {"activation", str("relu")}},
         {{{2, 3, 3, 2}}}},
        {"convT_k1_s2_valid", "Conv2DTranspose",
         {{"filters", i64(2)}, {"kernel_size", i64(1)}, {"padding", str("valid")}}, {{small}}},
        {"convT_dilated_s1", "Conv2DTranspose",
         {{"filters", i64(2)}, {"kernel_size", i64(3)}, {"strides", i64(1)}, {"dilation_rate", i64(2)}},
         {{small}}},
        {"maxpool_valid_odd", "MaxPool2D", {}, {{img}}},
        {"maxpool_same_3s2", "MaxPool2D", {{"pool_size", i64(3)}, {"strides", i64(2)}, {"padding", str("same")}}, {{img}}},
        {"avgpool_valid", "AvgPool2D", {}, {{img}}},
        {"avgpool_same", "AvgPool2D", {{"pool_size", i64(2)}, {"padding", str("same")}}, {{img}}},
        {"upsample_nearest", "UpSampling2D", {{"size", V{2, 3}}}, {{small}}},
        {"upsample_bilinear", "UpSampling2D", {{"size", i64(3)}, {"interpolation", str("bilinear")}}, {{small}}},
        {"concat_channels", "Concatenate", {{"num_inputs", i64(3)}},
         {{{2, 3, 3, 2}}, {{2, 3, 3, 1}}, {{2, 3, 3, 3}}}},
        {"concat_height", "Concatenate", {{"axis", i64(1)}}, {{{2, 2, 3, 2}}, {{2, 3, 3, 2}}}},
        {"add_broadcast", "Add", {}, {{{2, 3, 3, 2}}, {{2, 1, 1, 2}}}},
        {"multiply_broadcast", "Multiply", {{"num_inputs", i64(3)}},
         {{{2, 3, 3, 2}}, {{2, 3, 3, 1}}, {{2, 3, 3, 2}}}},
        {"batchnorm_train", "BatchNormalization", {}, {{small}}},
        {"batchnorm_train_noaffine", "BatchNormalization", {{"center", false}, {"scale", false}}, {{small}}},
        {"batchnorm_infer", "BatchNormalization", {}, {{small}}, false},
        {"dropout_train", "Dropout", {{"rate", 0.3}}, {{small}}},
        {"dropout_infer", "Dropout", {{"rate", 0.3}}, {{small}}, false},
        {"act_relu", "Activation", {}, {{small}}},
        {"act_leaky", "Activation", {{"activation", str("leaky_relu")}, {"alpha", 0.1}}, {{small}}},
        {"act_sigmoid", "Activation", {{"activation", str("sigmoid")}}, {{small}}},
        {"act_softmax", "Activation", {{"activation", str("softmax")}}, {{{2, 3, 3, 4}}}},
        {"act_tanh", "Activation", {{"activation", str("tanh")}}, {{small}}},
        {"act_linear", "Activation", {{"activation", str("linear")}}, {{small}}},
        {"crop", "Cropping2D", {{"cropping", V{1, 0, 2, 1}}}, {{img}}},
        {"pad", "ZeroPadding2D", {{"padding", V{1, 2, 0, 1}}}, {{small}}},
        loss("bce", "BinaryCrossentropy", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("bce_logits_smooth", "BinaryCrossentropy", {{"from_logits", true}, {"label_smoothing", 0.1}},
             Fill::Uniform, {pd, Fill::Prob}),
        loss("cce", "CategoricalCrossentropy", {}, Fill::Positive, {V{2, 3, 3, 3}, Fill::OneHot}, V{2, 3, 3, 3}),
        loss("cce_logits_smooth", "CategoricalCrossentropy", {{"from_logits", true}, {"label_smoothing", 0.2}},
             Fill::Uniform, {V{2, 3, 3, 3}, Fill::OneHot}, V{2, 3, 3, 3}),
        loss("scce", "SparseCategoricalCrossentropy", {}, Fill::Positive,
             {V{2, 3, 3, 1}, Fill::ClassIndex, 3}, V{2, 3, 3, 3}),
        loss("scce_logits_ignore", "SparseCategoricalCrossentropy", {{"from_logits", true}, {"ignore_class", i64(1)}},
             Fill::Uniform, {V{2, 3, 3, 1}, Fill::ClassIndex, 3}, V{2, 3, 3, 3}),
        loss("dice", "Dice", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("bce_dice", "BCEDice", {{"bce_weight", 0.5}, {"dice_weight", 2.0}}, Fill::Prob, {pd, Fill::Binary}),
        loss("focal", "Focal", {}, Fill::Prob, {pd, Fill::Binary}),
        loss("focal_logits_balanced", "Focal",
             {{"from_logits", true}, {"apply_class_balancing", true}, {"gamma", 1.5}}, Fill::Uniform,
             {pd, Fill::Binary}),
    };
}

double objective(const std::vector<Tensor>& outs, const std::vector<Tensor>& weights) {
    double j = 0;
    for (std::size_t k = 0; k < outs.size(); ++k) {
        if (outs[k].dtype() != DType::Float32)
            continue;
        for (std::int64_t i = 0; i < outs[k].numel(); ++i)
            j += static_cast<double>(outs[k].f32()[i]) * weights[k].f32()[i];
    }
    return j;
}

class OpGradient : public ::testing::TestWithParam<GradCase> {};

TEST_P(OpGradient, MatchesFiniteDifferences) {
    const GradCase& c = GetParam();
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < c.inputs.size(); ++i)
        inputs.push_back(makeInput(c.inputs[i], 100 + static_cast<std::uint32_t>(i)));
    OpHarness h(c.op, c.attrs, inputs);
    ASSERT_TRUE(h.ok());
    h.training = c.training;
    for (std::size_t p = 0; p < h.params().size(); ++p) {
        Tensor& t = h.params()[p];
        t = uniformTensor(t.shape().dims(), 0.2f, 1.0f, 300 + static_cast<std::uint32_t>(p));
        if (h.trainable(p)) // signed weights; moving statistics stay positive
            t = uniformTensor(t.shape().dims(), -1.0f, 1.0f, 300 + static_cast<std::uint32_t>(p));
    }
    const bool lossOp = h.schema().role == OpRole::Loss;
    std::vector<Tensor> weights;
    for (std::size_t k = 0; k < h.outputs().size(); ++k)
        weights.push_back(h.outputs()[k].numel() == 1
                              ? tensorOf({}, {1.0f})
                              : uniformTensor(h.outputs()[k].shape().dims(), -1, 1, 500 + static_cast<std::uint32_t>(k)));

    // Analytic gradients.
    h.forward();
    std::vector<Tensor> inGrads, paramGrads;
    KernelContext ctx = h.context();
    for (std::size_t i = 0; i < h.inputs().size(); ++i) {
        const bool wanted = h.inputs()[i].dtype() == DType::Float32 && !(lossOp && i == 1);
        inGrads.emplace_back(wanted ? Tensor(h.inputs()[i].shape(), DType::Float32) : Tensor());
    }
    for (std::size_t p = 0; p < h.params().size(); ++p)
        paramGrads.emplace_back(h.params()[p].shape(), DType::Float32);
    for (auto& w : weights)
        ctx.outputGrads.push_back(&w);
    for (auto& g : inGrads)
        ctx.inputGrads.push_back(g.empty() && g.shape().rank() == 0 ? nullptr : &g);
    for (std::size_t p = 0; p < paramGrads.size(); ++p)
        ctx.paramGrads.push_back(h.trainable(p) ? &paramGrads[p] : nullptr);
    ASSERT_TRUE(h.schema().backward);
    h.schema().backward(ctx);

    // Numeric gradients, one element at a time (every element: the tensors are tiny).
    const float step = 1e-3f;
    int checked = 0;
    auto compare = [&](Tensor& value, const Tensor& grad, const std::string& what) {
        for (std::int64_t i = 0; i < value.numel(); ++i) {
            const float orig = value.f32()[i];
            value.f32()[i] = orig + step;
            h.forward();
            const double plus = objective(h.outputs(), weights);
            value.f32()[i] = orig - step;
            h.forward();
            const double minus = objective(h.outputs(), weights);
            value.f32()[i] = orig;
            const double numeric = (plus - minus) / (2.0 * step);
            const double analytic = grad.f32()[i];
            EXPECT_NEAR(analytic, numeric, 4e-3 + 3e-2 * std::max(std::fabs(analytic), std::fabs(numeric)))
                << c.name << ": d/d" << what << "[" << i << "]";
            ++checked;
        }
    };
    for (std::size_t i = 0; i < h.inputs().size(); ++i)
        if (ctx.inputGrads[i])
            compare(h.inputs()[i], inGrads[i], "input" + std::to_string(i));
    for (std::size_t p = 0; p < h.params().size(); ++p)
        if (ctx.paramGrads[p])
            compare(h.params()[p], paramGrads[p], "param" + std::to_string(p));
    EXPECT_GT(checked, 0) << c.name << " checked no gradient";
}

INSTANTIATE_TEST_SUITE_P(AllOps, OpGradient, ::testing::ValuesIn(gradCases()),
                         [](const auto& p) { return p.param.name; });

// Every op that can pass a gradient has at least one case above, and every
// layer or loss has a backward kernel; sources and metrics are forward-only.
TEST(OpGradient, EveryDifferentiableOpHasACase) {
    std::set<std::string> covered;
    for (const auto& c : gradCases())
        covered.insert(c.op);
    for (const auto& s : OpRegistry::builtin().all()) {
        if (s.name == "KerasLayer") // an import placeholder, reported by the checker, never run
            continue;
        if (s.role == OpRole::Source) {
            EXPECT_FALSE(s.forward) << s.name << ": sources are fed by the executor";
            continue;
        }
        EXPECT_TRUE(s.forward) << s.name << " has no forward kernel";
        if (s.role == OpRole::Metric) {
            EXPECT_FALSE(s.backward) << s.name << ": metrics pass no gradient";
            continue;
        }
        EXPECT_TRUE(s.backward) << s.name << " has no backward kernel";
        EXPECT_TRUE(covered.count(s.name)) << s.name << " has no finite-difference gradient case";
    }
}

} // namespace
