// Reference values from PyTorch: tests/reference/make_reference.py (run by hand
// with Debian's python3-torch) wrote tests/data/reference/*.safetensors; this
// test only reads them, so the suite never needs torch.
//
// ReferenceOp: every op, loss and metric of the registry, run in isolation
// through its schema (OpHarness) on the file's inputs and Keras-layout
// weights; outputs, moving statistics, and input/weight gradients of the
// objective Σ dout·out are compared with the float64 torch values.
// ReferenceUNet: the template U-Net (depth 2, 4 filters, 16×16, batch 2) from
// the same initial weights: loss, every parameter's gradient, and the
// parameters after one and after three Adam steps (Keras epsilon semantics).
//
// Tolerances, |ours − torch| ≤ abs + rel·|torch| element-wise:
// - single ops, kOp = 1e-5 + 1e-4: the reference is float64 rounded to
//   float32; our float32 kernels add rounding of a few ulps per reduction
//   term, far below 1e-5 at these sizes (|values| ≲ 10, ≤ 50 terms).
// - the U-Net loss and gradients, kNet = 1e-5 + 1e-3: float32 errors add up
//   over ~20 layers and sums of 512 pixels in the backward pass.
// - parameters after Adam, kAdam = 1e-4 + 1e-4 (measured: ≤ 2.2e-5): Adam
//   divides by sqrt(v) + eps, so a step is ≈ lr·g/(|g| + 3e-6) whatever g's
//   size; for the smallest gradients float32's relative error in g reappears
//   in the step, scaled by lr = 1e-2. 1e-4 is 1 % of one step; getting eps's
//   place (torch's) or a bias correction wrong moves a parameter by far more.
//
// - parameters after SGD (momentum): kNet, an SGD step is lr·g and carries
//   only the gradient's error.
//
// Measured (float32 ours vs float64 torch): single ops ≤ 7e-7, U-Net loss
// ≤ 2e-7, gradients ≤ 1.3e-6, parameters after 3 Adam steps ≤ 2.2e-5.

#include "engine/executor.hpp"
#include "engine/optimizer.hpp"
#include "engine_op_harness.hpp"
#include "io/safetensors.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <cctype>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

struct Tolerance {
    double abs = 0, rel = 0;
};
constexpr Tolerance kOp{1e-5, 1e-4};
constexpr Tolerance kNet{1e-5, 1e-3};
constexpr Tolerance kAdam{1e-4, 1e-4};

std::filesystem::path referenceDir() {
    return std::filesystem::path(SEGFORGE_TEST_DATA) / "reference";
}

const SafetensorsData& referenceFile(const std::string& name) {
    static std::map<std::string, SafetensorsData> cache;
    auto it = cache.find(name);
    if (it != cache.end())
        return it->second;
    std::string error;
    SafetensorsData data = loadSafetensors(referenceDir() / name, error);
    if (!error.empty())
        ADD_FAILURE() << error
                      << " (regenerate with /usr/bin/python3 tests/reference/make_reference.py)";
    return cache.emplace(name, std::move(data)).first->second;
}

const Tensor* find(const SafetensorsData& file, const std::string& key) {
    auto it = file.tensors.find(key);
    return it == file.tensors.end() ? nullptr : &it->second;
}

const Tensor& need(const SafetensorsData& file, const std::string& key) {
    static const Tensor none;
    const Tensor* t = find(file, key);
    if (!t) {
        ADD_FAILURE() << "reference tensor '" << key << "' is missing";
        return none;
    }
    return *t;
}

/// The file stores every tensor as float32; integer inputs hold exact integers.
Tensor withDType(const Tensor& t, DType dtype) {
    if (dtype == DType::Float32)
        return t;
    Tensor out(t.shape(), dtype);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        const auto v = static_cast<std::int32_t>(std::lround(t.f32()[i]));
        if (dtype == DType::UInt8)
            out.u8()[i] = static_cast<std::uint8_t>(v);
        else
            out.i32()[i] = v;
    }
    return out;
}

/// Element-wise |actual − expected| ≤ abs + rel·|expected|; names the worst element.
::testing::AssertionResult near(const Tensor& actual, const Tensor& expected, Tolerance tol) {
    if (actual.numel() != expected.numel())
        return ::testing::AssertionFailure() << "shape " << actual.shape().toString()
                                             << ", expected " << expected.shape().toString();
    std::int64_t bad = 0, worst = -1;
    double worstExcess = 0, maxAbs = 0;
    for (std::int64_t i = 0; i < expected.numel(); ++i) {
        const double a = actual.f32()[i], e = expected.f32()[i];
        const double err = std::fabs(a - e);
        maxAbs = std::max(maxAbs, err);
        const double excess = err / (tol.abs + tol.rel * std::fabs(e));
        if (!(excess <= 1.0)) {
            ++bad;
            if (worst < 0 || !(excess <= worstExcess)) {
                worst = i;
                worstExcess = excess;
            }
        }
    }
    if (bad == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << bad << " of " << expected.numel() << " elements differ; worst [" << worst << "] ours "
           << actual.f32()[worst] << ", torch " << expected.f32()[worst] << " (max |error| "
           << maxAbs << ", tolerance " << tol.abs << " + " << tol.rel << "·|torch|)";
}

// ---------------------------------------------------------------- single ops

struct OpCase {
    std::string name, op;
    AttrMap attrs;
    bool training = true;
    std::vector<DType> dtypes;
};

void PrintTo(const OpCase& c, std::ostream* os) {
    *os << c.name;
}

std::vector<OpCase> opCases() {
    std::string error;
    const SafetensorsData data = loadSafetensors(referenceDir() / "ops.safetensors", error);
    std::vector<OpCase> cases;
    auto it = data.metadata.find("cases");
    if (!error.empty() || it == data.metadata.end())
        return cases; // ReferenceOp.FileHasEveryOp reports it
    for (const auto& j : nlohmann::json::parse(it->second)) {
        OpCase c;
        c.name = j.at("name").get<std::string>();
        c.op = j.at("op").get<std::string>();
        c.training = j.at("training").get<bool>();
        for (const auto& [key, value] : j.at("attrs").items())
            if (auto v = attrFromJson(value))
                c.attrs[key] = *v;
        for (const auto& d : j.at("dtypes"))
            c.dtypes.push_back(*parseDType(d.get<std::string>()));
        cases.push_back(std::move(c));
    }
    return cases;
}

class ReferenceOp : public ::testing::TestWithParam<OpCase> {};

TEST_P(ReferenceOp, MatchesPyTorch) {
    const OpCase& c = GetParam();
    const SafetensorsData& file = referenceFile("ops.safetensors");
    const std::string key = c.name + "/";
    std::vector<Tensor> inputs;
    for (std::size_t i = 0; i < c.dtypes.size(); ++i)
        inputs.push_back(withDType(need(file, key + "in" + std::to_string(i)), c.dtypes[i]));
    OpHarness h(c.op, c.attrs, inputs);
    ASSERT_TRUE(h.ok());
    h.training = c.training;
    for (std::size_t p = 0; p < h.params().size(); ++p) {
        const Tensor& ref = need(file, key + "param" + std::to_string(p));
        // Our ParamSpec shapes must be the Keras layouts the script wrote.
        ASSERT_EQ(h.params()[p].shape().dims(), ref.shape().dims()) << c.name << " param" << p;
        h.params()[p] = ref;
    }
    ASSERT_FALSE(find(file, key + "param" + std::to_string(h.params().size())))
        << c.name << ": the reference has more parameters than our schema";

    h.forward();
    for (std::size_t k = 0; k < h.outputs().size(); ++k)
        EXPECT_TRUE(near(h.outputs()[k], need(file, key + "out" + std::to_string(k)), kOp))
            << c.name << ": output " << k;
    for (std::size_t p = 0; p < h.params().size(); ++p)
        EXPECT_TRUE(
            near(h.params()[p], need(file, key + "param" + std::to_string(p) + "_after"), kOp))
            << c.name << ": param" << p << " after the forward pass (moving statistics)";

    // Backward, when the reference has gradients (metrics and integer inputs have none).
    std::vector<Tensor> dout, din, dparam;
    KernelContext ctx = h.context();
    for (std::size_t k = 0; k < h.outputs().size(); ++k)
        dout.push_back(need(file, key + "dout" + std::to_string(k)));
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const Tensor* ref = find(file, key + "din" + std::to_string(i));
        din.emplace_back(ref ? Tensor(ref->shape(), DType::Float32) : Tensor());
    }
    for (std::size_t p = 0; p < h.params().size(); ++p) {
        const Tensor* ref = find(file, key + "dparam" + std::to_string(p));
        dparam.emplace_back(ref ? Tensor(ref->shape(), DType::Float32) : Tensor());
    }
    bool any = false;
    for (auto& t : dout)
        ctx.outputGrads.push_back(&t);
    for (auto& t : din) {
        ctx.inputGrads.push_back(t.empty() ? nullptr : &t);
        any = any || !t.empty();
    }
    for (auto& t : dparam) {
        ctx.paramGrads.push_back(t.empty() ? nullptr : &t);
        any = any || !t.empty();
    }
    if (!any) {
        EXPECT_TRUE(h.schema().role == OpRole::Metric || c.dtypes[0] != DType::Float32)
            << c.name << ": the reference has no gradient for a differentiable op";
        return;
    }
    ASSERT_TRUE(h.schema().backward);
    h.schema().backward(ctx);
    for (std::size_t i = 0; i < din.size(); ++i) {
        if (!din[i].empty()) {
            EXPECT_TRUE(near(din[i], need(file, key + "din" + std::to_string(i)), kOp))
                << c.name << ": d/d input " << i;
        }
    }
    for (std::size_t p = 0; p < dparam.size(); ++p) {
        if (!dparam[p].empty()) {
            EXPECT_TRUE(near(dparam[p], need(file, key + "dparam" + std::to_string(p)), kOp))
                << c.name << ": d/d param " << p;
        }
    }
}

INSTANTIATE_TEST_SUITE_P(Reference, ReferenceOp, ::testing::ValuesIn(opCases()), [](const auto& p) {
    std::string n = p.param.name;
    for (char& ch : n)
        if (!std::isalnum(static_cast<unsigned char>(ch)))
            ch = '_';
    return n;
});

// The file must cover every op that runs (sources and the import placeholders do not).
TEST(ReferenceOpFile, HasEveryOp) {
    const auto cases = opCases();
    ASSERT_FALSE(cases.empty()) << "no cases in " << (referenceDir() / "ops.safetensors").string();
    std::set<std::string> covered;
    for (const auto& c : cases)
        covered.insert(c.op);
    for (const auto& s : OpRegistry::builtin().all()) {
        if (s.role == OpRole::Source || s.traits.placeholder)
            continue;
        EXPECT_TRUE(covered.count(s.name)) << s.name << " has no PyTorch reference case";
    }
}

// ---------------------------------------------------------------- U-Net training step

void checkUNet(const std::string& fileName) {
    const SafetensorsData& file = referenceFile(fileName);
    ASSERT_FALSE(file.tensors.empty());
    const auto o = nlohmann::json::parse(file.metadata.at("options"));
    UNetOptions options;
    options.depth = o.at("depth").get<int>();
    options.filters = o.at("filters").get<int>();
    options.size = o.at("size").get<int>();
    options.channels = o.at("channels").get<int>();
    options.classes = o.at("classes").get<int>();
    options.batchnorm = o.at("batchnorm").get<bool>();
    const auto up = parseUpMode(o.at("up").get<std::string>());
    ASSERT_TRUE(up) << o.at("up");
    options.up = *up;
    auto made = makeUNetProject(options);
    ASSERT_TRUE(std::holds_alternative<Project>(made)) << std::get<std::string>(made);
    std::string error;
    auto ex = Executor::compile(std::get<Project>(made).graph, error);
    ASSERT_TRUE(ex) << error;

    std::size_t initTensors = 0;
    for (const auto& [name, t] : file.tensors)
        initTensors += name.rfind("init/", 0) == 0 ? 1 : 0;
    ASSERT_EQ(ex->parameters().size(), initTensors) << "the torch network has other parameters";
    for (Parameter& p : ex->parameters()) {
        const Tensor& init = need(file, "init/" + p.name);
        ASSERT_EQ(p.value.shape().dims(), init.shape().dims()) << p.name;
        p.value = init;
    }
    Batch batch;
    batch.image = withDType(need(file, "batch/image"), DType::UInt8);
    batch.mask = withDType(need(file, "batch/mask"), DType::UInt8);

    const double lr = std::stod(file.metadata.at("lr"));
    const int steps = std::stoi(file.metadata.at("steps"));
    // Keras semantics and defaults (Adam's epsilon 1e-7); the kind and its settings from the file.
    const auto opt = nlohmann::json::parse(file.metadata.at("optimizer"));
    OptimizerSettings settings;
    settings.kind = opt.at("kind").get<std::string>();
    settings.momentum = opt.value("momentum", settings.momentum);
    settings.weightDecay = opt.value("weight_decay", settings.weightDecay);
    auto optimizer = makeOptimizer(settings);
    for (int step = 1; step <= steps; ++step) {
        ex->feed(batch);
        ex->beginStep(true);
        ASSERT_EQ(ex->run(), RunStatus::Finished) << "step " << step;
        Tensor loss(Shape::scalar(), DType::Float32);
        loss.f32()[0] = static_cast<float>(ex->loss());
        EXPECT_TRUE(near(loss, need(file, "loss/" + std::to_string(step)), kNet))
            << "loss at step " << step;
        for (const Parameter& p : ex->parameters()) {
            if (step == 1 && p.spec.trainable) {
                EXPECT_TRUE(near(p.grad, need(file, "grad/" + p.name), kNet))
                    << "gradient of " << p.name;
            }
        }
        optimizer->step(ex->trainableParameters(), lr);
        if (step != 1 && step != steps)
            continue;
        for (const Parameter& p : ex->parameters()) {
            EXPECT_TRUE(near(p.value, need(file, "step" + std::to_string(step) + "/" + p.name),
                             p.spec.trainable && settings.kind != "sgd" ? kAdam : kNet))
                << p.name << " after " << settings.kind << " step " << step;
        }
    }
}

TEST(ReferenceUNet, TransposeUpsamplingAdamSteps) {
    checkUNet("unet_transpose.safetensors");
}

TEST(ReferenceUNet, BatchNormNearestUpsamplingAdamSteps) {
    checkUNet("unet_bn_upsample.safetensors");
}

// UpSampling2D + 3×3 ReLU conv (the classic Keras decoder); 16 filters, so every
// 3×3 layer but the first runs Winograd F(4×4, 3×3). SGD with momentum 0.9.
TEST(ReferenceUNet, UpsampleConvWinogradSgdMomentumSteps) {
    checkUNet("unet_upsample_conv_sgd.safetensors");
}

TEST(ReferenceUNet, UpsampleConvAdamWSteps) {
    checkUNet("unet_upsample_conv_adamw.safetensors");
}

} // namespace
