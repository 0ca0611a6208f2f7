// The executor on small graphs: training reduces the loss, runs are
// deterministic, stepping/observer/breakpoints, the NaN guard, refusing a
// graph with errors, and whole-graph gradients against finite differences.

#include "engine/executor.hpp"
#include "engine/initializers.hpp"
#include "engine_op_harness.hpp"
#include "graph_builder.hpp"
#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"
#include "whole_graph_gradient.hpp"

#include <cmath>
#include <cstring>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

struct Net {
    GraphBuilder b;
    NodeId image = 0, target = 0, conv = 0, head = 0, loss = 0, metric = 0;
};

// image(4×4×2) → Conv2D(4, 3×3, same, relu) → Conv2D(1, 1×1, sigmoid) → BCE vs target; Dice metric.
Net smallNet(const std::string& lossOp = "BinaryCrossentropy", AttrMap lossAttrs = {}) {
    Net n;
    n.image = n.b.input(4, 4, 2, "float32", "image");
    n.target = n.b.input(4, 4, 1, "float32", "target");
    n.conv = n.b.then("Conv2D", "conv", out(n.image),
                      {{"filters", std::int64_t{4}},
                       {"padding", std::string("same")},
                       {"activation", std::string("relu")},
                       {"kernel_initializer", std::string("he_normal")}});
    n.head = n.b.then("Conv2D", "head", out(n.conv),
                      {{"filters", std::int64_t{1}},
                       {"kernel_size", std::int64_t{1}},
                       {"activation", std::string("sigmoid")}});
    n.loss = n.b.add(lossOp, "loss", std::move(lossAttrs));
    n.b.wire(out(n.head), {n.loss, "prediction"});
    n.b.wire(out(n.target), {n.loss, "target"});
    n.metric = n.b.add("DiceCoefficient", "dice");
    n.b.wire(out(n.head), {n.metric, "prediction"});
    n.b.wire(out(n.target), {n.metric, "target"});
    return n;
}

void feedTask(Executor& ex, std::uint32_t seed) {
    Tensor image = uniformTensor({3, 4, 4, 2}, -1, 1, seed);
    Tensor target(Shape{3, 4, 4, 1}, DType::Float32);
    for (std::int64_t i = 0; i < target.numel(); ++i)
        target.f32()[i] = image.f32()[2 * i] > 0 ? 1.0f : 0.0f;
    ex.feedInput("image", image);
    ex.feedInput("target", target);
}

std::unique_ptr<Executor> compileOk(const Graph& g) {
    std::string error;
    auto ex = Executor::compile(g, error);
    EXPECT_TRUE(ex) << error;
    return ex;
}

std::vector<double> trainLosses(const Graph& g, int steps) {
    auto ex = compileOk(g);
    ex->initializeParameters(11);
    auto adam = makeOptimizer({"adam"});
    std::vector<double> losses;
    for (int s = 0; s < steps; ++s) {
        feedTask(*ex, 1);
        ex->beginStep(true);
        EXPECT_EQ(ex->run(), RunStatus::Finished);
        losses.push_back(ex->loss());
        adam->step(ex->trainableParameters(), 0.02);
    }
    return losses;
}

TEST(EngineExecutor, TrainingReducesTheLossDeterministically) {
    Net n = smallNet();
    const auto a = trainLosses(n.b.graph, 60);
    ASSERT_EQ(a.size(), 60u);
    EXPECT_LT(a.back(), 0.6 * a.front()) << "first " << a.front() << " last " << a.back();
    const auto b = trainLosses(n.b.graph, 60);
    for (std::size_t i = 0; i < a.size(); ++i)
        ASSERT_EQ(a[i], b[i]) << "step " << i << " differs between identical runs";
}

TEST(EngineExecutor, WholeGraphGradientMatchesFiniteDifferences) {
    Net n = smallNet("BCEDice");
    auto ex = compileOk(n.b.graph);
    ex->initializeParameters(5);
    feedTask(*ex, 2);
    ex->beginStep(true);
    ASSERT_EQ(ex->run(), RunStatus::Finished);
    const int checked = expectParameterGradientsMatchLoss(*ex, 5);
    EXPECT_GT(checked, 10);
}

TEST(EngineExecutor, StepsNodeByNodeWithObserverAndBreakpoints) {
    Net n = smallNet();
    auto ex = compileOk(n.b.graph);
    ex->initializeParameters(3);
    std::vector<std::pair<NodeId, Phase>> events;
    ex->setObserver([&](const NodeEvent& e) {
        events.emplace_back(e.node, e.phase);
        if (e.phase == Phase::Forward && e.node == n.head) {
            ASSERT_EQ(e.outputs.size(), 1u);
            EXPECT_EQ(e.outputs[0]->shape(), (Shape{3, 4, 4, 1}));
        }
    });
    ex->setBreakpoint(n.conv, true);
    feedTask(*ex, 3);
    ex->beginStep(true);
    // Forward stops right after conv.
    EXPECT_EQ(ex->run(), RunStatus::Breakpoint);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back(), std::make_pair(n.conv, Phase::Forward));
    // Resuming runs to the end: conv's backward is the step's last node, so
    // its breakpoint coincides with the end of the step.
    EXPECT_EQ(ex->run(), RunStatus::Finished);
    EXPECT_EQ(events.back(), std::make_pair(n.conv, Phase::Backward));
    EXPECT_TRUE(ex->stepDone());
    // A breakpoint on head stops in both passes.
    events.clear();
    ex->setBreakpoint(n.conv, false);
    ex->setBreakpoint(n.head, true);
    ex->beginStep(true);
    EXPECT_EQ(ex->run(), RunStatus::Breakpoint);
    EXPECT_EQ(events.back(), std::make_pair(n.head, Phase::Forward));
    EXPECT_EQ(ex->run(), RunStatus::Breakpoint);
    EXPECT_EQ(events.back(), std::make_pair(n.head, Phase::Backward));
    EXPECT_EQ(ex->run(), RunStatus::Finished);
    // 6 nodes forward; backward through loss, head, conv (metric and sources pass none).
    ASSERT_EQ(events.size(), 9u);
    EXPECT_EQ(events[6], std::make_pair(n.loss, Phase::Backward));
    EXPECT_EQ(events[7], std::make_pair(n.head, Phase::Backward));
    // One node at a time.
    events.clear();
    ex->setBreakpoint(n.head, false);
    ex->beginStep(false);
    EXPECT_EQ(ex->stepNode(), RunStatus::Finished);
    EXPECT_EQ(events.size(), 1u);
    EXPECT_FALSE(ex->stepDone());
    EXPECT_EQ(ex->run(), RunStatus::Finished);
    EXPECT_EQ(events.size(), 6u) << "inference runs no backward";
    EXPECT_TRUE(ex->scalars().count("dice"));
}

// The deterministic failure: empty target, prediction exactly zero.
Graph diceGraph(double epsilon) {
    GraphBuilder b;
    const NodeId image = b.input(4, 4, 1, "float32", "image");
    const NodeId target = b.input(4, 4, 1, "float32", "target");
    const NodeId conv = b.then("Conv2D", "pred", out(image),
                               {{"filters", std::int64_t{1}},
                                {"padding", std::string("same")},
                                {"activation", std::string("relu")},
                                {"kernel_initializer", std::string("zeros")}});
    const NodeId dice = b.add("Dice", "dice_loss", {{"epsilon", epsilon}});
    b.wire(out(conv), {dice, "prediction"});
    b.wire(out(target), {dice, "target"});
    return b.graph;
}

TEST(EngineExecutor, NanGuardStopsAtDiceWithoutEpsilonAndNamesTheSample) {
    auto ex = compileOk(diceGraph(0.0));
    ex->initializeParameters(1);
    Tensor image = uniformTensor({4, 4, 4, 1}, 0, 1, 4);
    Tensor target(Shape{4, 4, 4, 1}, DType::Float32);
    for (std::int64_t i = 0; i < 3 * 16; ++i) // samples 0–2 have foreground; sample 3 is empty
        target.f32()[i] = 1;
    ex->feedInput("image", image);
    ex->feedInput("target", target);
    ex->beginStep(true);
    ASSERT_EQ(ex->run(), RunStatus::NonFinite);
    const auto& r = *ex->nonFinite();
    EXPECT_EQ(r.name, "dice_loss");
    EXPECT_EQ(r.phase, Phase::Forward);
    EXPECT_EQ(r.sample, 3);
    EXPECT_EQ(r.reason,
              "denominator sum(target)+sum(prediction) = 0 for sample 3; set epsilon > 0");
    EXPECT_NE(r.message().find("Dice 'dice_loss'"), std::string::npos) << r.message();

    auto ok = compileOk(diceGraph(1e-6));
    ok->initializeParameters(1);
    auto sgd = makeOptimizer({"sgd"});
    for (int s = 0; s < 3; ++s) {
        ok->feedInput("image", image);
        ok->feedInput("target", target);
        ok->beginStep(true);
        ASSERT_EQ(ok->run(), RunStatus::Finished);
        EXPECT_TRUE(std::isfinite(ok->loss()));
        sgd->step(ok->trainableParameters(), 0.1);
    }
}

TEST(EngineExecutor, NanGuardSkipsOnlyOpsThatCannotMakeANaN) {
    // image → Conv2D (linear) → MaxPool2D → UpSampling2D → Concatenate(·, conv) → BCE.
    GraphBuilder b;
    const NodeId image = b.input(4, 4, 1, "float32", "image");
    const NodeId target = b.input(4, 4, 1, "float32", "target");
    const NodeId conv = b.then("Conv2D", "conv", out(image),
                               {{"filters", std::int64_t{2}}, {"padding", std::string("same")}});
    const NodeId pool = b.then("MaxPool2D", "pool", out(conv));
    const NodeId up = b.then("UpSampling2D", "up", out(pool));
    const NodeId cat = b.add("Concatenate", "cat");
    b.wire(out(up), {cat, "a"});
    b.wire(out(conv), {cat, "b"});
    const NodeId head = b.then("Conv2D", "head", out(cat),
                               {{"filters", std::int64_t{1}},
                                {"kernel_size", std::int64_t{1}},
                                {"activation", std::string("sigmoid")}});
    const NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(target), {loss, "target"});
    for (const char* op :
         {"Concatenate", "MaxPool2D", "UpSampling2D", "Cropping2D", "ZeroPadding2D"})
        EXPECT_TRUE(OpRegistry::builtin().find(op)->keepsValuesFinite) << op;
    for (const char* op :
         {"Conv2D", "AvgPool2D", "Dropout", "Rescale", "Add", "BatchNormalization"})
        EXPECT_FALSE(OpRegistry::builtin().find(op)->keepsValuesFinite) << op;

    // A NaN pixel is still caught where it first appears (the Input), and a weight
    // that overflows is caught at the convolution, before the pooling that copies it.
    auto ex = compileOk(b.graph);
    ex->initializeParameters(3);
    Tensor image_(Shape{2, 4, 4, 1}, DType::Float32);
    image_.fill(0.5f);
    Tensor target_(Shape{2, 4, 4, 1}, DType::Float32);
    target_.fill(1.0f);
    image_.f32()[16 + 5] = std::nanf("");
    ex->feedInput("image", image_);
    ex->feedInput("target", target_);
    ex->beginStep(true);
    ASSERT_EQ(ex->run(), RunStatus::NonFinite);
    EXPECT_EQ(ex->nonFinite()->name, "image");
    EXPECT_EQ(ex->nonFinite()->sample, 1);

    image_.f32()[16 + 5] = 0.5f;
    for (int tap = 0; tap < 9; ++tap) // conv/kernel (3,3,1,2), filter 0: 9 · 0.5 · 3e38 overflows
        ex->parameters()[0].value.f32()[tap * 2] = 3e38f;
    ex->feedInput("image", image_);
    ex->beginStep(true);
    ASSERT_EQ(ex->run(), RunStatus::NonFinite);
    EXPECT_EQ(ex->nonFinite()->name, "conv");
    EXPECT_EQ(ex->nonFinite()->phase, Phase::Forward);
    (void)pool;
    (void)up;
}

TEST(EngineExecutor, RefusesAGraphWithErrorsQuotingThem) {
    GraphBuilder b;
    const NodeId a = b.input(8, 8, 3, "float32", "a");
    const NodeId c = b.input(4, 4, 3, "float32", "c");
    const NodeId cat = b.add("Concatenate", "join");
    b.wire(out(a), {cat, "a"});
    b.wire(out(c), {cat, "b"});
    std::string error;
    EXPECT_FALSE(Executor::compile(b.graph, error));
    EXPECT_NE(error.find("[concat-shape-mismatch]"), std::string::npos) << error;
    EXPECT_NE(error.find("'join'"), std::string::npos) << error;
}

TEST(EngineExecutor, RejectsFeedsThatDisagreeWithTheGraph) {
    Net n = smallNet();
    auto ex = compileOk(n.b.graph);
    ex->feedInput("image", Tensor(Shape{2, 5, 4, 2}, DType::Float32));
    ex->feedInput("target", Tensor(Shape{2, 4, 4, 1}, DType::Float32));
    try {
        ex->beginStep(true);
        FAIL() << "expected a shape error";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("2×5×4×2"), std::string::npos) << e.what();
    }
}

TEST(EngineOptimizer, SgdMomentumAdamAdamWAndSchedules) {
    Tensor p = tensorOf({1}, {1.0f});
    Tensor g = tensorOf({1}, {0.5f});
    auto sgd = makeOptimizer({"sgd", 0.9});
    sgd->step({{&p, &g}}, 0.1); // v = −0.05
    EXPECT_FLOAT_EQ(p.f32()[0], 0.95f);
    sgd->step({{&p, &g}}, 0.1); // v = 0.9·(−0.05) − 0.05 = −0.095
    EXPECT_NEAR(p.f32()[0], 0.855f, 1e-6);

    Tensor q = tensorOf({1}, {1.0f});
    auto adam = makeOptimizer({"adam"});
    adam->step({{&q, &g}}, 0.01); // first Adam step moves by ≈ lr
    EXPECT_NEAR(q.f32()[0], 0.99f, 1e-5);

    Tensor w = tensorOf({1}, {1.0f});
    Tensor zero = tensorOf({1}, {0.0f});
    OptimizerSettings s;
    s.kind = "adamw";
    s.weightDecay = 0.5;
    auto adamw = makeOptimizer(s);
    adamw->step({{&w, &zero}}, 0.1); // only the decay acts: 1 − 0.1·0.5
    EXPECT_NEAR(w.f32()[0], 0.95f, 1e-6);
    EXPECT_THROW(makeOptimizer({"rmsprop"}), std::invalid_argument);

    EXPECT_DOUBLE_EQ(learningRateAt({"constant", 0.1}, 500), 0.1);
    EXPECT_NEAR(learningRateAt({"step", 0.1, 10, 0.5}, 25), 0.025, 1e-12);
    LrSchedule cosine{"cosine", 0.1, 0, 0, 100, 0.0};
    EXPECT_NEAR(learningRateAt(cosine, 0), 0.1, 1e-12);
    EXPECT_NEAR(learningRateAt(cosine, 50), 0.05, 1e-12);
    EXPECT_NEAR(learningRateAt(cosine, 100), 0.0, 1e-12);
    EXPECT_NEAR(learningRateAt(cosine, 200), 0.0, 1e-12);
}

// The optimizers update all parameters in one parallel pass cut into fixed blocks:
// tensors smaller than a block, straddling blocks and empty ones must each get
// exactly the per-element update, at any thread count.
TEST(EngineOptimizer, OnePassOverAllParametersUpdatesEveryElementOnce) {
    const std::vector<std::int64_t> sizes{1, 16383, 0, 16385, 40000, 7};
    for (const char* kind : {"adam", "sgd"})
        for (int threads : {1, 2, 3}) {
            setEngineThreads(threads);
            std::vector<Tensor> values, grads;
            for (std::size_t i = 0; i < sizes.size(); ++i) {
                values.push_back(
                    uniformTensor({sizes[i]}, -1, 1, 10 + static_cast<std::uint32_t>(i)));
                grads.push_back(
                    uniformTensor({sizes[i]}, -1, 1, 20 + static_cast<std::uint32_t>(i)));
            }
            std::vector<ParamRef> refs;
            for (std::size_t i = 0; i < sizes.size(); ++i)
                refs.push_back({&values[i], &grads[i]});
            auto opt = makeOptimizer({kind, 0.9});
            const std::vector<Tensor> before = values;
            opt->step(refs, 0.01);
            opt->step(refs, 0.01);
            for (std::size_t i = 0; i < sizes.size(); ++i)
                for (std::int64_t k = 0; k < sizes[i]; ++k) {
                    const float p0 = before[i].f32()[k], g = grads[i].f32()[k];
                    float expect = 0;
                    if (std::string(kind) == "sgd") { // v1 = −lr·g; v2 = 0.9·v1 − lr·g
                        const float v1 = static_cast<float>(0.9 * 0 - 0.01 * g);
                        const float p1 = p0 + v1;
                        expect = p1 + static_cast<float>(0.9 * v1 - 0.01 * g);
                    } else { // Adam's two steps, element by element (Keras' bias correction)
                        const OptimizerSettings d;
                        double m = 0, v = 0, p = p0;
                        for (int t = 1; t <= 2; ++t) {
                            m = d.beta1 * m + (1 - d.beta1) * g;
                            v = d.beta2 * v + (1 - d.beta2) * g * g;
                            const double alpha = 0.01 * std::sqrt(1 - std::pow(d.beta2, t)) /
                                                 (1 - std::pow(d.beta1, t));
                            p -= alpha * m / (std::sqrt(v) + d.epsilon);
                        }
                        expect = static_cast<float>(p);
                    }
                    ASSERT_NEAR(values[i].f32()[k], expect, 2e-6)
                        << kind << ", " << threads << " threads, tensor " << i << "[" << k << "]";
                }
        }
    setEngineThreads(0);
}

// A parameter whose size changed (a rebuilt layer) starts its optimizer state from
// zeros, which the pool's threads write (the slot's storage is uninitialised until
// then); the other parameters keep theirs.
TEST(EngineOptimizer, AResizedParameterStartsFromZeroStateAndTheOthersKeepTheirs) {
    setEngineThreads(2);
    Tensor small = uniformTensor({5}, -1, 1, 1), large = uniformTensor({9000}, -1, 1, 2);
    const Tensor smallGrad = uniformTensor({5}, -1, 1, 3),
                 largeGrad = uniformTensor({9000}, -1, 1, 4);
    auto adam = makeOptimizer({"adam"});
    adam->step({{&small, &smallGrad}, {&large, &largeGrad}}, 0.01);
    const OptimizerSlot largeM = adam->state().at("m")->at(1);

    { // leave garbage where the resized slot's storage is likely to come from
        OptimizerSlot dirty(7000, 12345.0f);
    }
    Tensor resized = uniformTensor({7000}, -1, 1, 5);
    const Tensor resizedGrad = uniformTensor({7000}, -1, 1, 6);
    const std::vector<ParamRef> refs{{&resized, &resizedGrad}, {&large, &largeGrad}};
    adam->beginStep(refs, 0.01);
    for (const char* slot : {"m", "v"}) {
        const OptimizerSlot& state = adam->state().at(slot)->at(0);
        ASSERT_EQ(state.size(), 7000u) << slot;
        for (std::size_t k = 0; k < state.size(); ++k)
            ASSERT_EQ(state[k], 0.0f) << slot << "[" << k << "]";
    }
    EXPECT_EQ(adam->state().at("m")->at(1), largeM) << "an unchanged parameter keeps its moments";
    setEngineThreads(0);
}

TEST(EngineInitializers, KerasDistributionsFromASeed) {
    const ParamSpec glorot{"kernel", {3, 3, 8, 16}, "glorot_uniform"};
    Tensor a(Shape(glorot.shape), DType::Float32), b(Shape(glorot.shape), DType::Float32);
    initializeParameter(a, glorot, 9);
    initializeParameter(b, glorot, 9);
    EXPECT_EQ(0, std::memcmp(a.bytes(), b.bytes(), a.byteSize()));
    const double limit = std::sqrt(6.0 / (72 + 144));
    double maxAbs = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i)
        maxAbs = std::max(maxAbs, static_cast<double>(std::fabs(a.f32()[i])));
    EXPECT_LE(maxAbs, limit);
    EXPECT_GT(maxAbs, 0.9 * limit);

    const ParamSpec he{"kernel", {3, 3, 32, 64}, "he_normal"};
    Tensor h(Shape(he.shape), DType::Float32);
    initializeParameter(h, he, 1);
    double sq = 0, mx = 0;
    for (std::int64_t i = 0; i < h.numel(); ++i) {
        sq += h.f32()[i] * h.f32()[i];
        mx = std::max(mx, static_cast<double>(std::fabs(h.f32()[i])));
    }
    const double want = std::sqrt(2.0 / (9 * 32));
    EXPECT_NEAR(std::sqrt(sq / static_cast<double>(h.numel())), want, 0.05 * want);
    EXPECT_LE(mx, 2 * want / 0.87962566103423978 + 1e-6); // truncated at two (corrected) stddevs

    Tensor ones(Shape{4}, DType::Float32);
    initializeParameter(ones, {"gamma", {4}, "ones"}, 0);
    EXPECT_EQ(ones.f32()[3], 1.0f);
    EXPECT_THROW(initializeParameter(ones, {"gamma", {4}, "lecun"}, 0), std::invalid_argument);
}

} // namespace
