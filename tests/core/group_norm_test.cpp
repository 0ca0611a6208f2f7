// GroupNormalization (nn.GroupNorm on NHWC): the kernels against the formula
// in double for groups = 1 (LayerNorm), 2 and C (InstanceNorm), the backward
// against central differences of that formula, the same bits at 1 and 2
// threads, the checker's message when groups does not divide C, and the ONNX
// export read back by the importer as one GroupNormalization. PyTorch's own
// values are in tests/data/reference (ReferenceOp.*groupnorm*).

#include "engine_op_harness.hpp"
#include "export/python_script_export.hpp"
#include "graph_builder.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "kernels/parallel.hpp"
#include "onnx/onnx_export.hpp"
#include "onnx/onnx_import.hpp"
#include "onnx/onnx_reader.hpp"

#include <cmath>
#include <gmock/gmock.h>
#include <map>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

struct Case {
    std::vector<std::int64_t> dims; // N, H, W, C
    std::int64_t groups;
};

/// y of x (NHWC) in double, straight from the definition.
std::vector<double> formula(const std::vector<double>& x, const Case& c,
                            const std::vector<double>& gamma, const std::vector<double>& beta,
                            double eps) {
    const std::int64_t n = c.dims[0], px = c.dims[1] * c.dims[2], ch = c.dims[3];
    const std::int64_t cg = ch / c.groups;
    std::vector<double> y(x.size());
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t g = 0; g < c.groups; ++g) {
            double mean = 0, var = 0;
            auto at = [&](std::int64_t p, std::int64_t k) {
                return static_cast<std::size_t>((b * px + p) * ch + g * cg + k);
            };
            for (std::int64_t p = 0; p < px; ++p)
                for (std::int64_t k = 0; k < cg; ++k)
                    mean += x[at(p, k)];
            mean /= double(px * cg);
            for (std::int64_t p = 0; p < px; ++p)
                for (std::int64_t k = 0; k < cg; ++k)
                    var += (x[at(p, k)] - mean) * (x[at(p, k)] - mean);
            var /= double(px * cg);
            for (std::int64_t p = 0; p < px; ++p)
                for (std::int64_t k = 0; k < cg; ++k) {
                    const auto ch0 = static_cast<std::size_t>(g * cg + k);
                    y[at(p, k)] =
                        (x[at(p, k)] - mean) / std::sqrt(var + eps) * gamma[ch0] + beta[ch0];
                }
        }
    return y;
}

std::vector<double> doubles(const Tensor& t) {
    return std::vector<double>(t.f32(), t.f32() + t.numel());
}

double objective(const std::vector<double>& y, const std::vector<double>& dy) {
    double j = 0;
    for (std::size_t i = 0; i < y.size(); ++i)
        j += y[i] * dy[i];
    return j;
}

struct GnRun {
    Tensor y, dx, dgamma, dbeta;
};

/// Forward and backward of the op with dout `dy`.
GnRun run(const Case& c, const Tensor& x, const Tensor& gamma, const Tensor& beta, const Tensor& dy,
          double eps) {
    OpHarness h("GroupNormalization", {{"groups", c.groups}, {"epsilon", eps}}, {x});
    EXPECT_TRUE(h.ok());
    if (!h.ok())
        return {};
    h.params()[0] = gamma;
    h.params()[1] = beta;
    h.forward();
    GnRun r{h.outputs()[0], Tensor(x.shape(), DType::Float32),
            Tensor(gamma.shape(), DType::Float32), Tensor(beta.shape(), DType::Float32)};
    std::fill(r.dx.f32(), r.dx.f32() + r.dx.numel(), 0.0f);
    std::fill(r.dgamma.f32(), r.dgamma.f32() + r.dgamma.numel(), 0.0f);
    std::fill(r.dbeta.f32(), r.dbeta.f32() + r.dbeta.numel(), 0.0f);
    KernelContext ctx = h.context();
    ctx.outputGrads = {&dy};
    ctx.inputGrads = {&r.dx};
    ctx.paramGrads = {&r.dgamma, &r.dbeta};
    h.schema().backward(ctx);
    return r;
}

class GroupNormFormula : public ::testing::TestWithParam<Case> {};

TEST_P(GroupNormFormula, ForwardAndBackwardMatchTheDefinition) {
    const Case c = GetParam();
    const std::int64_t ch = c.dims[3];
    const double eps = 1e-3;
    const Tensor x = uniformTensor(c.dims, -2.0f, 3.0f, 11);
    const Tensor gamma = uniformTensor({ch}, 0.5f, 1.5f, 12);
    const Tensor beta = uniformTensor({ch}, -0.5f, 0.5f, 13);
    const Tensor dy = uniformTensor(c.dims, -1.0f, 1.0f, 14);
    const GnRun r = run(c, x, gamma, beta, dy, eps);
    ASSERT_EQ(r.y.numel(), x.numel());
    const auto xd = doubles(x), gd = doubles(gamma), bd = doubles(beta), dyd = doubles(dy);
    const auto want = formula(xd, c, gd, bd, eps);
    for (std::size_t i = 0; i < want.size(); ++i)
        ASSERT_NEAR(r.y.f32()[i], want[i], 2e-5) << "y[" << i << "]";
    // Central differences of J = Σ dy·y in double, for x, gamma and beta.
    const double h = 1e-5;
    auto xs = xd, gs = gd, bs = bd;
    auto numeric = [&](std::vector<double>& v, std::size_t i) {
        const double keep = v[i];
        v[i] = keep + h;
        const double up = objective(formula(xs, c, gs, bs, eps), dyd);
        v[i] = keep - h;
        const double down = objective(formula(xs, c, gs, bs, eps), dyd);
        v[i] = keep;
        return (up - down) / (2 * h);
    };
    for (std::size_t i = 0; i < xs.size(); ++i)
        ASSERT_NEAR(r.dx.f32()[i], numeric(xs, i), 1e-4) << "dx[" << i << "]";
    for (std::size_t k = 0; k < gs.size(); ++k) {
        EXPECT_NEAR(r.dgamma.f32()[k], numeric(gs, k), 1e-4) << "dgamma[" << k << "]";
        EXPECT_NEAR(r.dbeta.f32()[k], numeric(bs, k), 1e-4) << "dbeta[" << k << "]";
    }
}

INSTANTIATE_TEST_SUITE_P(Groups, GroupNormFormula,
                         ::testing::Values(Case{{2, 3, 4, 6}, 1}, // LayerNorm over H, W, C
                                           Case{{2, 3, 4, 6}, 2}, Case{{2, 3, 4, 6}, 6}, // Instance
                                           Case{{1, 1, 1, 4}, 2})); // two values per group

TEST(GroupNorm, SameBitsAtOneAndTwoThreads) {
    const Case c{{4, 8, 8, 8}, 4};
    const Tensor x = uniformTensor(c.dims, -1.0f, 1.0f, 21);
    const Tensor gamma = uniformTensor({8}, 0.5f, 1.5f, 22);
    const Tensor beta = uniformTensor({8}, -0.5f, 0.5f, 23);
    const Tensor dy = uniformTensor(c.dims, -1.0f, 1.0f, 24);
    const int before = engineThreads();
    setEngineThreads(1);
    const GnRun one = run(c, x, gamma, beta, dy, 1e-5);
    setEngineThreads(2);
    const GnRun two = run(c, x, gamma, beta, dy, 1e-5);
    setEngineThreads(before);
    for (auto [a, b] : {std::pair{&one.y, &two.y}, std::pair{&one.dx, &two.dx},
                        std::pair{&one.dgamma, &two.dgamma}, std::pair{&one.dbeta, &two.dbeta}})
        EXPECT_TRUE(std::equal(a->f32(), a->f32() + a->numel(), b->f32()));
}

TEST(GroupNorm, GroupsThatDoNotDivideTheChannelsAreABadAttribute) {
    GraphBuilder b;
    const NodeId in = b.input(8, 8, 6);
    b.then("GroupNormalization", "gn", out(in), {{"groups", std::int64_t{4}}});
    const CheckResult r = checkGraph(b.graph, CheckOptions::withoutInputSizeSweep());
    bool found = false;
    for (const auto& d : r.diagnostics)
        if (d.code == codes::kBadAttribute) {
            found = true;
            EXPECT_THAT(d.message, HasSubstr("gn"));
            EXPECT_THAT(d.message, HasSubstr("groups = 4 does not divide the 6 input channels"));
        }
    EXPECT_TRUE(found);
}

/// Export to ONNX (groups < C: torch's Reshape/InstanceNormalization pattern;
/// groups = C: InstanceNormalization) and import it back: one GroupNormalization
/// with the same attributes and parameters.
void roundTrip(std::int64_t groups, bool center) {
    SCOPED_TRACE(groups);
    GraphBuilder b;
    const NodeId in = b.input(5, 4, 6);
    b.then("GroupNormalization", "gn", out(in),
           {{"groups", groups}, {"epsilon", 1e-4}, {"center", center}});
    std::map<std::string, Tensor> w;
    w.emplace("gn/gamma", uniformTensor({6}, 0.5f, 1.5f, 31));
    if (center)
        w.emplace("gn/beta", uniformTensor({6}, -0.5f, 0.5f, 32));
    OnnxExport e = exportOnnx(b.graph, "m", [&](const std::string& name) -> const Tensor* {
        auto it = w.find(name);
        return it == w.end() ? nullptr : &it->second;
    });
    ASSERT_TRUE(e.ok()) << (e.errors.empty() ? "" : e.errors[0]);
    std::string error;
    auto file = interop::readOnnx(e.bytes, "m.onnx", error);
    ASSERT_TRUE(file) << error;
    std::vector<std::string> types;
    for (const auto& n : file->graph.nodes)
        types.push_back(n.opType);
    if (groups == 6)
        EXPECT_THAT(types,
                    ::testing::ElementsAre("Transpose", "InstanceNormalization", "Transpose"));
    else
        EXPECT_THAT(types, ::testing::ElementsAre("Transpose", "Reshape", "InstanceNormalization",
                                                  "Shape", "Reshape", "Mul", "Add", "Transpose"));
    // SegForge's model is NHWC at its boundary (a Transpose after the input and
    // before the output), which the importer does not read: drop the two and
    // make the input NCHW, as a PyTorch export would have it.
    auto& gr = file->graph;
    const std::string nchw = gr.nodes.front().outputs.at(0), last = gr.nodes.back().inputs.at(0);
    gr.nodes.erase(gr.nodes.begin());
    gr.nodes.pop_back();
    for (std::size_t i = 0; i < gr.nodes.size(); ++i) {
        gr.nodes[i].index = i;
        for (auto& name : gr.nodes[i].inputs)
            if (name == nchw)
                name = gr.inputs.at(0).name;
    }
    auto& dims = gr.inputs.at(0).dims;
    dims = {dims[0], dims[3], dims[1], dims[2]};
    gr.outputs.at(0).name = last;
    gr.outputs.at(0).hasShape = false;
    OnnxImport r = importOnnx(*file, "m.onnx");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.placeholders, 0);
    int norms = 0;
    for (const auto& [id, n] : r.project->graph.nodes()) {
        if (n.op != "GroupNormalization")
            continue;
        ++norms;
        EXPECT_EQ(std::get<std::int64_t>(n.attrs.at("groups")), groups);
        EXPECT_NEAR(std::get<double>(n.attrs.at("epsilon")), 1e-4, 1e-12);
        const Tensor& g = r.weights.at(n.name + "/gamma");
        const Tensor& bt = r.weights.at(n.name + "/beta");
        for (std::int64_t k = 0; k < 6; ++k) {
            EXPECT_FLOAT_EQ(g.f32()[k], w.at("gn/gamma").f32()[k]);
            EXPECT_FLOAT_EQ(bt.f32()[k], center ? w.at("gn/beta").f32()[k] : 0.0f);
        }
    }
    EXPECT_EQ(norms, 1);
}

TEST(GroupNorm, OnnxExportReadsBackAsOneGroupNormalization) {
    roundTrip(2, true);
    roundTrip(6, true);
    roundTrip(3, false);
}

} // namespace

TEST(GroupNorm, KerasAndPyTorchExportsCarryTheAttributes) {
    Project p;
    p.name = "gn";
    GraphBuilder b;
    const NodeId in = b.input(8, 8, 6);
    b.then("GroupNormalization", "gn", out(in),
           {{"groups", std::int64_t{3}}, {"epsilon", 1e-4}, {"center", false}});
    p.graph = b.graph;
    ScriptExport torch = exportPyTorchScript(p, "");
    ASSERT_TRUE(torch.ok()) << ::testing::PrintToString(torch.errors);
    EXPECT_THAT(torch.text,
                HasSubstr("self.layers[\"gn\"] = KerasGroupNorm(3, 6, 0.0001, False, True)"));
    EXPECT_THAT(torch.text, HasSubstr("class KerasGroupNorm"));

    KerasJsonExport e = exportKerasJson(p.graph, "m");
    ASSERT_TRUE(e.ok()) << ::testing::PrintToString(e.errors);
    KerasImport back = importKerasJson(e.model.dump(), "m.json");
    ASSERT_TRUE(back.ok()) << ::testing::PrintToString(back.errors);
    const Node* gn = back.project->graph.findNodeByName("gn");
    ASSERT_TRUE(gn);
    EXPECT_EQ(gn->op, "GroupNormalization");
    EXPECT_EQ(gn->attrs.at("groups"), AttrValue{std::int64_t{3}});
    EXPECT_EQ(gn->attrs.at("epsilon"), AttrValue{1e-4});
    EXPECT_EQ(gn->attrs.at("center"), AttrValue{false});
}
