// ONNX import against PyTorch itself: onnx_make_models.py builds small U-Nets
// in PyTorch (Debian's torch 1.13), exports them with torch.onnx.export and
// writes a fixed input, PyTorch's eval-mode output and the state_dict. Each
// file is imported; the checker must give the output PyTorch's shape (NCHW →
// NHWC), and the engine's forward pass on the imported weights must match
// PyTorch's output within 1e-4. The comparison is shown to have teeth: the
// same weights broken the way a broken importer would break them (a kernel
// with H and W swapped, in and out channels swapped, a transposed kernel not
// flipped, a bias dropped) miss by far more.

#include "check/checker.hpp"
#include "cli/cli_runner.hpp"
#include "engine/executor.hpp"
#include "io/safetensors.hpp"
#include "onnx/onnx_import.hpp"
#include "ops/builtin_ops.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <gmock/gmock.h>
#include <iostream>
#include <map>
#include <set>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using segforge::testing::quoted;
using segforge::testing::shell;
using namespace segforge::core;

namespace {

constexpr double kTolerance = 1e-4;
/// A broken import must miss by at least this (ten times the tolerance).
constexpr double kBrokenMargin = 1e-3;

using Shell = segforge::testing::CliResult;

fs::path modelsRoot() {
    return fs::temp_directory_path() / ("segforge_onnx_import_" + std::to_string(getpid()));
}

class ModelsCleanup : public ::testing::Environment {
public:
    void TearDown() override {
        std::error_code ec;
        fs::remove_all(modelsRoot(), ec);
    }
};
[[maybe_unused]] const auto* const kCleanup =
    ::testing::AddGlobalTestEnvironment(new ModelsCleanup);

/// Runs onnx_make_models.py for the models not yet made by this process (ctest
/// runs each test in a process of its own; a whole run makes each model once).
Shell generate(const std::vector<std::string>& names) {
    static std::set<std::string> made;
    std::string missing;
    for (const auto& n : names)
        if (!made.count(n))
            missing += " " + n;
    if (missing.empty())
        return {0, ""};
    const auto start = std::chrono::steady_clock::now();
    Shell r = shell(std::string(SEGFORGE_PYTHON) + " " +
                    quoted(fs::path(SEGFORGE_INTEROP_TESTS) / "onnx_make_models.py") + " " +
                    quoted(modelsRoot()) + missing);
    const double s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "[ measured ] PyTorch built and exported" << missing << " in " << s << " s\n"
              << r.out;
    if (r.exitCode == 0)
        made.insert(names.begin(), names.end());
    return r;
}

fs::path modelDir(const std::string& name) {
    return modelsRoot() / name;
}

/// A float32 safetensors file, read whole; `error` says what was wrong.
std::map<std::string, Tensor> readTensors(const fs::path& path, std::string& error) {
    SafetensorsData data = loadSafetensors(path, error);
    return std::move(data.tensors);
}

/// N×C×H×W → N×H×W×C.
Tensor nchwToNhwc(const Tensor& t) {
    const Shape& s = t.shape();
    const std::int64_t n = s[0], c = s[1], h = s[2], w = s[3];
    Tensor out(Shape{n, h, w, c}, DType::Float32);
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t k = 0; k < c; ++k)
            for (std::int64_t y = 0; y < h; ++y)
                for (std::int64_t x = 0; x < w; ++x)
                    out.f32()[((b * h + y) * w + x) * c + k] =
                        t.f32()[((b * c + k) * h + y) * w + x];
    return out;
}

double maxAbsDiff(const Tensor& a, const Tensor& b) {
    if (a.shape() != b.shape())
        return INFINITY;
    double worst = 0;
    for (std::int64_t i = 0; i < a.numel(); ++i) {
        const double d = std::abs(double(a.f32()[i]) - double(b.f32()[i]));
        worst = std::isfinite(d) ? std::max(worst, d) : INFINITY;
    }
    return worst;
}

/// The checker as for a model written elsewhere: no loss is a warning.
CheckOptions noLossCheck() {
    CheckOptions o = CheckOptions::withoutInputSizeSweep();
    o.requireLoss = false;
    return o;
}

std::string joined(const std::vector<std::string>& lines) {
    std::string s;
    for (const auto& l : lines)
        s += "\n  " + l;
    return s;
}

/// What PyTorch computed: its input and output (NHWC here) and the state_dict.
struct Reference {
    Tensor input, output; ///< N×H×W×C
    std::map<std::string, Tensor> stateDict;
    std::string error;
};

Reference reference(const std::string& name) {
    Reference r;
    auto io = readTensors(modelDir(name) / "io.safetensors", r.error);
    if (!r.error.empty())
        return r;
    if (!io.count("input") || !io.count("output") || io["input"].shape().rank() != 4 ||
        io["output"].shape().rank() != 4) {
        r.error = name + "/io.safetensors: no 4-D 'input' and 'output'";
        return r;
    }
    r.input = nchwToNhwc(io["input"]);
    r.output = nchwToNhwc(io["output"]);
    r.stateDict = readTensors(modelDir(name) / "state_dict.safetensors", r.error);
    return r;
}

/// The network's output: the one node (not a source) whose outputs nobody
/// reads.
std::optional<PortRef> networkOutput(const Graph& g, std::string& error) {
    std::vector<PortRef> sinks;
    for (const auto& [id, node] : g.nodes()) {
        if (node.op == "Input")
            continue;
        bool consumed = false;
        for (const Edge& e : g.edges())
            consumed = consumed || e.from.node == id;
        if (!consumed)
            sinks.push_back({id, "output"});
    }
    if (sinks.size() != 1) {
        error = "expected one output node, found " + std::to_string(sinks.size());
        for (const auto& s : sinks)
            error += " '" + g.findNode(s.node)->name + "' (" + g.findNode(s.node)->op + ")";
        return std::nullopt;
    }
    return sinks[0];
}

std::vector<std::string> inputNodes(const Graph& g) {
    std::vector<std::string> names;
    for (const auto& [id, node] : g.nodes())
        if (node.op == "Input")
            names.push_back(node.name);
    return names;
}

/// The engine's eval-mode forward pass of an imported graph on `weights`
/// ("<node>/<param>"). The engine runs only a graph with a loss, so a Dice
/// loss on a zero target is added to a copy; its value is not looked at.
struct Forward {
    Tensor output;
    std::string error;
    std::vector<std::string> unusedWeights;
};

Forward forward(const Graph& imported, const std::map<std::string, Tensor>& weights,
                const Tensor& inputNhwc) {
    Forward f;
    Graph g = imported;
    const auto out = networkOutput(g, f.error);
    const auto inputs = inputNodes(g);
    if (!out)
        return f;
    if (inputs.size() != 1) {
        f.error = "expected one Input node, found " + std::to_string(inputs.size());
        return f;
    }
    const CheckResult types = checkGraph(g, noLossCheck());
    const auto& outType = types.nodes.at(out->node).outputs.at(0);
    if (!outType) {
        f.error = "the checker gives the output no type";
        return f;
    }
    const Shape& os = outType->shape;
    const NodeId target = g.addNode("Input", "segforge_test_target",
                                    {{"height", os.height()},
                                     {"width", os.width()},
                                     {"channels", os.channels()},
                                     {"dtype", std::string("float32")}});
    const NodeId loss = g.addNode(ops::kDiceOp, "segforge_test_loss");
    if (!g.connect(*out, {loss, "prediction"}) || !g.connect({target, "output"}, {loss, "target"}))
        f.error = "cannot wire a loss to the output";
    auto ex = Executor::compile(g, f.error);
    if (!ex)
        return f;
    std::map<std::string, bool> used;
    for (const auto& [name, t] : weights)
        used[name] = false;
    for (Parameter& p : ex->parameters()) {
        auto it = weights.find(p.name);
        if (it == weights.end()) {
            f.error =
                "no imported weight for parameter '" + p.name + "' " + p.value.shape().toString();
            return f;
        }
        if (it->second.shape() != p.value.shape()) {
            f.error = "weight '" + p.name + "' is " + it->second.shape().toString() +
                      ", the parameter " + p.value.shape().toString();
            return f;
        }
        p.value = it->second;
        used[p.name] = true;
    }
    for (const auto& [name, u] : used)
        if (!u)
            f.unusedWeights.push_back(name);
    Tensor zeros(Shape{inputNhwc.batch(), os.height(), os.width(), os.channels()}, DType::Float32);
    zeros.fill(0.0f);
    try {
        ex->feedInput(inputs[0], inputNhwc);
        ex->feedInput("segforge_test_target", zeros);
        ex->beginStep(false);
        const RunStatus status = ex->run();
        if (status != RunStatus::Finished) {
            f.error = "the forward pass stopped: " +
                      (ex->nonFinite() ? ex->nonFinite()->message() : std::string("breakpoint"));
            return f;
        }
    } catch (const std::exception& e) {
        f.error = std::string("the forward pass threw: ") + e.what();
        return f;
    }
    const Tensor* y = ex->output(out->node, out->port);
    if (!y) {
        f.error = "no output tensor";
        return f;
    }
    f.output = *y;
    return f;
}

std::string describeImport(const OnnxImport& im) {
    return "errors:" + joined(im.errors) + "\nwarnings:" + joined(im.warnings);
}

struct Imported {
    OnnxImport import;
    Reference ref;
    double importMs = 0;
};

Imported importModel(const std::string& name, bool withStateDict = false) {
    Imported m;
    m.ref = reference(name);
    OnnxImportOptions options;
    if (withStateDict) {
        options.stateDict = &m.ref.stateDict;
        options.stateDictLabel = "state_dict.safetensors";
    }
    const auto start = std::chrono::steady_clock::now();
    m.import = importOnnxFile(modelDir(name) / "model.onnx", options);
    m.importMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return m;
}

/// The models a test needs, made by PyTorch first.
::testing::AssertionResult made(const std::vector<std::string>& names) {
    const Shell r = generate(names);
    if (r.exitCode == 0)
        return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "onnx_make_models.py failed (exit " << r.exitCode << "):\n"
           << r.out;
}

class OnnxImportFromPyTorch : public ::testing::TestWithParam<std::string> {};

/// Imports, checks the output type against PyTorch's and runs the forward
/// pass; returns its largest difference from PyTorch's output.
void expectMatchesPyTorch(const std::string& name, const Imported& m, const char* what) {
    ASSERT_EQ(m.ref.error, "");
    ASSERT_TRUE(m.import.ok()) << describeImport(m.import);
    EXPECT_EQ(m.import.placeholders, 0) << describeImport(m.import);

    const Graph& g = m.import.project->graph;
    const CheckResult check = checkGraph(g, noLossCheck());
    for (const Diagnostic& d : check.diagnostics)
        EXPECT_NE(d.severity, Severity::Error) << "[" << d.code << "] " << d.message;
    std::string error;
    const auto out = networkOutput(g, error);
    ASSERT_TRUE(out) << error;
    const auto& type = check.nodes.at(out->node).outputs.at(0);
    ASSERT_TRUE(type) << "no type for the output '" << g.findNode(out->node)->name << "'";
    const Shape& want = m.ref.output.shape(); // N×H×W×C
    ASSERT_EQ(type->shape.rank(), 4) << type->toString();
    EXPECT_EQ(type->shape.height(), want.height()) << type->toString();
    EXPECT_EQ(type->shape.width(), want.width()) << type->toString();
    EXPECT_EQ(type->shape.channels(), want.channels()) << type->toString();
    EXPECT_EQ(type->dtype, DType::Float32);
    if (type->shape[0] != Shape::kBatch) {
        EXPECT_EQ(type->shape[0], want[0]) << type->toString();
    }

    const auto start = std::chrono::steady_clock::now();
    const Forward f = forward(g, m.import.weights, m.ref.input);
    const double runMs =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    ASSERT_EQ(f.error, "") << describeImport(m.import);
    EXPECT_THAT(f.unusedWeights, ::testing::IsEmpty());
    const double diff = maxAbsDiff(f.output, m.ref.output);
    ::testing::Test::RecordProperty("max_abs_diff", std::to_string(diff));
    std::cout << "[ measured ] " << name << " " << what << ": " << g.nodeCount() << " nodes, "
              << m.import.weights.size() << " tensors, import " << m.importMs
              << " ms, compile+forward " << runMs << " ms; engine vs PyTorch max abs diff " << diff
              << " over " << m.ref.output.numel() << " outputs " << m.ref.output.shape().toString()
              << "\n";
    EXPECT_LE(diff, kTolerance) << f.output.shape().toString() << " vs "
                                << m.ref.output.shape().toString();
}

} // namespace

TEST_P(OnnxImportFromPyTorch, ForwardMatchesPyTorch) {
    ASSERT_TRUE(made({GetParam()}));
    const Imported m = importModel(GetParam());
    expectMatchesPyTorch(GetParam(), m, "initializers");
}

INSTANTIATE_TEST_SUITE_P(Models, OnnxImportFromPyTorch,
                         ::testing::Values("unet_plain", "unet_plain_bn", "resunet", "resunet_bn",
                                           "milesial_odd", "extras_softmax", "ops_zoo",
                                           "nnunet_instancenorm", "groupnorm"));

class OnnxImportStateDict : public OnnxImportFromPyTorch {};

// The weights come from the PyTorch state_dict, matched through the
// initializer (or graph input) names: a file exported with
// export_params=False, and one whose initializers hold other weights.
TEST_P(OnnxImportStateDict, ForwardMatchesPyTorch) {
    ASSERT_TRUE(made({GetParam()}));
    const Imported m = importModel(GetParam(), true);
    ASSERT_TRUE(m.import.ok()) << describeImport(m.import);
    std::size_t floats = 0;
    for (const auto& [name, t] : m.ref.stateDict)
        floats += t.dtype() == DType::Float32 ? 1 : 0;
    EXPECT_EQ(m.import.stateDictMatched, floats) << describeImport(m.import);
    EXPECT_THAT(m.import.stateDictUnused, ::testing::IsEmpty());
    expectMatchesPyTorch(GetParam(), m, "state_dict");
}

INSTANTIATE_TEST_SUITE_P(Models, OnnxImportStateDict,
                         ::testing::Values("unet_bn_noparams", "resunet_bn_stale",
                                           "resunet_bn_fresh"));

// Without the state_dict the stale file's own (other) weights give another
// output: the state_dict test above is not passing by accident.
TEST_F(OnnxImportFromPyTorch, StaleInitializersWithoutTheStateDictDoNotMatch) {
    ASSERT_TRUE(made({"resunet_bn_stale"}));
    const Imported m = importModel("resunet_bn_stale");
    ASSERT_TRUE(m.import.ok()) << describeImport(m.import);
    EXPECT_EQ(m.import.stateDictMatched, 0u);
    const Forward f = forward(m.import.project->graph, m.import.weights, m.ref.input);
    ASSERT_EQ(f.error, "");
    const double diff = maxAbsDiff(f.output, m.ref.output);
    std::cout << "[ measured ] resunet_bn_stale without the state_dict: max abs diff " << diff
              << "\n";
    EXPECT_GT(diff, kBrokenMargin);
}

// GELU (exported as Div, Erf, Add, Mul) has no SegForge op: the import goes
// on with a placeholder, and the checker names the ONNX op.
TEST_F(OnnxImportFromPyTorch, UnsupportedOpBecomesAPlaceholderNamedByTheChecker) {
    ASSERT_TRUE(made({"gelu_placeholder"}));
    const Imported m = importModel("gelu_placeholder");
    ASSERT_TRUE(m.import.ok()) << describeImport(m.import);
    EXPECT_GE(m.import.placeholders, 1);
    EXPECT_THAT(m.import.warnings, ::testing::Contains(::testing::HasSubstr("Erf")))
        << describeImport(m.import);
    const CheckResult check = checkGraph(m.import.project->graph, noLossCheck());
    std::vector<std::string> unsupported;
    for (const Diagnostic& d : check.diagnostics)
        if (d.code == codes::kUnsupportedOp)
            unsupported.push_back(d.message);
    EXPECT_THAT(unsupported, ::testing::Contains(::testing::HasSubstr("Erf")))
        << "unsupported-op diagnostics:" << joined(unsupported);
    // The convolution before it is a real layer with its weights.
    const Node* conv1 = nullptr;
    for (const auto& [id, node] : m.import.project->graph.nodes())
        conv1 = node.op == "Conv2D" && !conv1 ? &node : conv1;
    ASSERT_NE(conv1, nullptr) << describeImport(m.import);
    ASSERT_TRUE(m.import.weights.count(conv1->name + "/kernel")) << describeImport(m.import);
    EXPECT_EQ(m.import.weights.at(conv1->name + "/kernel").shape(), (Shape{3, 3, 3, 4}));
    std::cout << describeImport(m.import) << "\n";
}

namespace {

/// Which op a parameter "<node>/<param>" belongs to.
std::string opOfParam(const Graph& g, const std::string& param) {
    const Node* n = g.findNodeByName(param.substr(0, param.rfind('/')));
    return n ? n->op : "";
}

/// H×W×I×O kernel with H and W swapped (an importer that reads OIHW as OIWH).
Tensor swapHW(const Tensor& k) {
    const Shape& s = k.shape();
    const std::int64_t h = s[0], w = s[1], io = s[2] * s[3];
    Tensor out(Shape{w, h, s[2], s[3]}, DType::Float32);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
            for (std::int64_t j = 0; j < io; ++j)
                out.f32()[(x * h + y) * io + j] = k.f32()[(y * w + x) * io + j];
    return out;
}

/// H×W×A×B kernel with its last two axes swapped (in and out channels mixed
/// up).
Tensor swapLastTwo(const Tensor& k) {
    const Shape& s = k.shape();
    const std::int64_t hw = s[0] * s[1], a = s[2], b = s[3];
    Tensor out(Shape{s[0], s[1], b, a}, DType::Float32);
    for (std::int64_t p = 0; p < hw; ++p)
        for (std::int64_t i = 0; i < a; ++i)
            for (std::int64_t j = 0; j < b; ++j)
                out.f32()[(p * b + j) * a + i] = k.f32()[(p * a + i) * b + j];
    return out;
}

/// The kernel rotated by 180° (a transposed convolution taken for a
/// convolution, or the other way round).
Tensor flipped(const Tensor& k) {
    const Shape& s = k.shape();
    const std::int64_t h = s[0], w = s[1], io = s[2] * s[3];
    Tensor out(s, DType::Float32);
    for (std::int64_t y = 0; y < h; ++y)
        for (std::int64_t x = 0; x < w; ++x)
            for (std::int64_t j = 0; j < io; ++j)
                out.f32()[((h - 1 - y) * w + (w - 1 - x)) * io + j] = k.f32()[(y * w + x) * io + j];
    return out;
}

} // namespace

// The comparison has teeth: the imported weights broken as a broken importer
// would break them each miss PyTorch's output by more than 1e-3.
TEST_F(OnnxImportFromPyTorch, ComparisonFailsWhenTheWeightsAreBrokenOnPurpose) {
    ASSERT_TRUE(made({"unet_plain", "resunet_bn"}));
    for (const std::string name : {"unet_plain", "resunet_bn"}) {
        const Imported m = importModel(name);
        ASSERT_TRUE(m.import.ok()) << name << "\n" << describeImport(m.import);
        const Graph& g = m.import.project->graph;
        const auto& w = m.import.weights;
        // The first tensor of each kind the breakages need.
        std::string conv3, square, bias, transposed;
        for (const auto& [param, t] : w) {
            const std::string op = opOfParam(g, param);
            const Shape& s = t.shape();
            if (op == "Conv2D" && param.ends_with("/kernel") && s[0] == 3 && s[1] == 3) {
                conv3 = conv3.empty() ? param : conv3;
                if (s[2] == s[3] && square.empty())
                    square = param;
            }
            if (op == "Conv2D" && param.ends_with("/bias") && bias.empty())
                bias = param;
            if (op == "BatchNormalization" && param.ends_with("/beta") && bias.empty())
                bias = param;
            if (op == "Conv2DTranspose" && param.ends_with("/kernel") && transposed.empty())
                transposed = param;
        }
        std::vector<std::pair<std::string, std::map<std::string, Tensor>>> broken;
        auto breakOne = [&](const std::string& what, const std::string& param, auto change) {
            ASSERT_FALSE(param.empty()) << name << ": no tensor to break for " << what;
            auto copy = w;
            copy[param] = change(copy[param]);
            broken.emplace_back(what + " '" + param + "'", std::move(copy));
        };
        breakOne("H and W swapped in", conv3, swapHW);
        breakOne("in and out channels swapped in", square, swapLastTwo);
        breakOne("bias dropped (zeroed) in", bias, [](Tensor t) {
            t.fill(0.0f);
            return t;
        });
        if (name == "unet_plain")
            breakOne("transposed kernel not flipped in", transposed, flipped);
        for (const auto& [what, weights] : broken) {
            const Forward f = forward(g, weights, m.ref.input);
            ASSERT_EQ(f.error, "") << name << ": " << what;
            const double diff = maxAbsDiff(f.output, m.ref.output);
            std::cout << "[ measured ] " << name << ", " << what << ": max abs diff " << diff
                      << "\n";
            EXPECT_GT(diff, kBrokenMargin) << name << ": " << what;
        }
    }
}

// The command line: `check` reads the .onnx itself (no loss is only a
// warning there; an unsupported op is an error naming it), `import` writes a
// project and its weights, and that project, which has no loss yet, is
// checked with findings (exit 1).
TEST_F(OnnxImportFromPyTorch, CliChecksImportsAndChecksTheProject) {
    ASSERT_TRUE(made({"resunet", "gelu_placeholder"}));
    using segforge::testing::runCli;
    using segforge::testing::Stderr;
    const fs::path model = modelDir("resunet") / "model.onnx";
    const fs::path project = modelsRoot() / "resunet.segforge";
    auto checked = runCli("check " + quoted(model), Stderr::Merge);
    EXPECT_EQ(checked.exitCode, 0) << checked.out;
    EXPECT_THAT(checked.out, ::testing::HasSubstr("no-loss")) << checked.out;

    auto gelu =
        runCli("check " + quoted(modelDir("gelu_placeholder") / "model.onnx"), Stderr::Merge);
    EXPECT_EQ(gelu.exitCode, 1) << gelu.out;
    EXPECT_THAT(gelu.out, ::testing::HasSubstr("unsupported-op")) << gelu.out;
    EXPECT_THAT(gelu.out, ::testing::HasSubstr("ONNX op Erf")) << gelu.out;

    auto imported = runCli("import " + quoted(model) + " -o " + quoted(project), Stderr::Merge);
    ASSERT_EQ(imported.exitCode, 0) << imported.out;
    EXPECT_TRUE(fs::exists(project));
    EXPECT_TRUE(fs::exists(modelsRoot() / "resunet.weights.safetensors")) << imported.out;
    auto projectCheck = runCli("check " + quoted(project) + " --no-data", Stderr::Merge);
    EXPECT_EQ(projectCheck.exitCode, 1) << "as a project it has no loss yet\n" << projectCheck.out;
    EXPECT_THAT(projectCheck.out, ::testing::HasSubstr("no-loss"));
}
