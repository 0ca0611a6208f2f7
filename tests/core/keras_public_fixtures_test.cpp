// Real model.to_json() files from a public repository (tests/data/keras/public,
// sources and licence in NOTICE.md), imported as they are: node count, names
// kept, the types Keras computes, and the diagnostics each must give.

#include "graph_builder.hpp"
#include "keras/keras_import.hpp"

#include <algorithm>
#include <gmock/gmock.h>
#include <map>

using namespace segforge::core;
using namespace segforge::core::testing;
using ::testing::HasSubstr;

namespace {

const std::string kPublic = std::string(SEGFORGE_TEST_DATA) + "/keras/public/";

struct Imported {
    KerasImport import;
    CheckResult check;
    const Graph& graph() const { return import.project->graph; }
};

Imported importPublic(const std::string& file) {
    Imported out{importKerasFile(kPublic + file), {}};
    if (out.import.ok()) {
        CheckOptions options;
        options.requireLoss = false; // no-loss is then a warning: to_json() has no loss node
        options.diagnoseInputSize = false;
        out.check = checkGraph(out.graph(), options);
    }
    return out;
}

/// The output type of the node named `name`, "?" when untyped, "(no node)" if absent.
std::string typeOf(const Imported& m, const std::string& name) {
    const Node* n = m.graph().findNodeByName(name);
    if (!n)
        return "(no node)";
    auto t = m.check.typeOf({n->id, "output"});
    return t ? t->toString() : "?";
}

/// Diagnostic code → how many times it was reported.
std::map<std::string, int> codeCounts(const CheckResult& r) {
    std::map<std::string, int> counts;
    for (const auto& d : r.diagnostics)
        ++counts[d.code];
    return counts;
}

std::string opOf(const Imported& m, const std::string& name) {
    const Node* n = m.graph().findNodeByName(name);
    return n ? n->op : "(no node)";
}

std::string joined(const std::vector<std::string>& lines) {
    std::string out;
    for (const auto& l : lines)
        out += l + "\n";
    return out;
}

} // namespace

TEST(KerasPublicFixtures, Cifar10SequentialWithInputLayer) {
    Imported m = importPublic("kotlindl_keras_cifar_10_model.json");
    ASSERT_TRUE(m.import.ok()) << joined(m.import.errors);
    EXPECT_EQ(m.import.project->name, "sequential");
    EXPECT_EQ(m.graph().nodeCount(), 9u);
    // The InputLayer keeps Keras' own name; valid 3×3 convolutions and 2×2 pools.
    EXPECT_EQ(opOf(m, "conv2d_input"), "Input");
    EXPECT_EQ(typeOf(m, "conv2d_input"), "N×32×32×3 f32");
    EXPECT_EQ(typeOf(m, "conv2d"), "N×30×30×32 f32");
    EXPECT_EQ(typeOf(m, "max_pooling2d"), "N×15×15×32 f32");
    EXPECT_EQ(typeOf(m, "conv2d_1"), "N×13×13×64 f32");
    EXPECT_EQ(typeOf(m, "max_pooling2d_1"), "N×6×6×64 f32");
    EXPECT_EQ(typeOf(m, "conv2d_2"), "N×4×4×64 f32");
    // The classifier head has no SegForge op: placeholders, reported, untyped.
    EXPECT_EQ(opOf(m, "flatten"), "KerasLayer");
    EXPECT_EQ(opOf(m, "dense_1"), "KerasLayer");
    EXPECT_EQ(typeOf(m, "dense_1"), "?");
    EXPECT_EQ(codeCounts(m.check),
              (std::map<std::string, int>{{"no-loss", 1}, {"unsupported-layer", 3}}))
        << codesOf(m.check);
    // Flatten, and the two Dense layers in one line.
    EXPECT_EQ(m.import.warnings.size(), 2u) << joined(m.import.warnings);
    EXPECT_THAT(joined(m.import.warnings),
                HasSubstr("Dense has no SegForge op: imported as KerasLayer placeholders "
                          "(unsupported-layer) on 2 layers (dense, dense_1)"));
}

TEST(KerasPublicFixtures, LeNetWithAGlorotBiasStaysTyped) {
    Imported m = importPublic("kotlindl_lenet_modelConfig.json");
    ASSERT_TRUE(m.import.ok()) << joined(m.import.errors);
    EXPECT_EQ(m.graph().nodeCount(), 9u);
    // No InputLayer: the input is named as Keras names it, from batch_input_shape.
    EXPECT_EQ(typeOf(m, "conv2d_input"), "N×28×28×1 f32");
    // conv2d's bias initializer is GlorotUniform: it used to make the conv a
    // bad-attribute error and every type after it unknown.
    EXPECT_EQ(typeOf(m, "conv2d"), "N×28×28×32 f32");
    EXPECT_EQ(typeOf(m, "max_pooling2d"), "N×14×14×32 f32"); // 'same', stride 2
    EXPECT_EQ(typeOf(m, "conv2d_1"), "N×14×14×64 f32");
    EXPECT_EQ(typeOf(m, "max_pooling2d_1"), "N×7×7×64 f32");
    EXPECT_EQ(typeOf(m, "dense_2"), "?");
    EXPECT_EQ(codeCounts(m.check),
              (std::map<std::string, int>{{"no-loss", 1}, {"unsupported-layer", 4}}))
        << codesOf(m.check);
}

TEST(KerasPublicFixtures, BatchNormOnChannelsOnly) {
    Imported m = importPublic("kotlindl_batchnorm_modelConfig.json");
    ASSERT_TRUE(m.import.ok()) << joined(m.import.errors);
    EXPECT_EQ(m.import.project->name, "sequential_11");
    EXPECT_EQ(m.graph().nodeCount(), 17u);
    // axis [3] is the channels of N×H×W×C: a real BatchNormalization.
    EXPECT_EQ(opOf(m, "batch_normalization_12"), "BatchNormalization");
    EXPECT_EQ(typeOf(m, "batch_normalization_13"), "N×14×14×64 f32");
    EXPECT_EQ(typeOf(m, "activation_17"), "N×14×14×64 f32");
    EXPECT_EQ(typeOf(m, "max_pooling2d_21"), "N×7×7×64 f32");
    // axis [1] after a Dense is a placeholder that says why.
    EXPECT_EQ(opOf(m, "batch_normalization_14"), "KerasLayer");
    EXPECT_THAT(joined(m.import.warnings), HasSubstr("normalises axis 1"));
    EXPECT_EQ(typeOf(m, "dense_30"), "?");
    EXPECT_EQ(codeCounts(m.check),
              (std::map<std::string, int>{{"no-loss", 1}, {"unsupported-layer", 6}}))
        << codesOf(m.check);
}

TEST(KerasPublicFixtures, ToyResNetFunctionalWithAddSkips) {
    Imported m = importPublic("kotlindl_toyresnet_modelConfig.json");
    ASSERT_TRUE(m.import.ok()) << joined(m.import.errors);
    EXPECT_EQ(m.import.project->name, "toy_resnet");
    EXPECT_EQ(m.graph().nodeCount(), 14u);
    EXPECT_EQ(opOf(m, "img"), "Input");
    EXPECT_EQ(typeOf(m, "conv2d_35"), "N×24×24×64 f32");
    // pool_size 3 with strides 3 (written out, equal to the pool size): 24 → 8.
    EXPECT_EQ(typeOf(m, "max_pooling2d_5"), "N×8×8×64 f32");
    EXPECT_EQ(opOf(m, "add_8"), "Add");
    EXPECT_EQ(typeOf(m, "add_9"), "N×8×8×64 f32");
    EXPECT_EQ(typeOf(m, "conv2d_40"), "N×6×6×64 f32");
    // GlobalAveragePooling2D (keepdims unset: Keras' N×C) is read as N×1×1×C, with a warning;
    // the Dense after it stays a placeholder.
    EXPECT_EQ(opOf(m, "global_average_pooling2d_3"), "GlobalAvgPool2D");
    EXPECT_EQ(typeOf(m, "global_average_pooling2d_3"), "N×1×1×64 f32");
    EXPECT_THAT(joined(m.import.warnings),
                HasSubstr("keepdims=False (N×C) imported as keepdims=True (N×1×1×C)"));
    EXPECT_EQ(typeOf(m, "dense_7"), "?");
    EXPECT_EQ(codeCounts(m.check),
              (std::map<std::string, int>{{"no-loss", 1}, {"unsupported-layer", 2}}))
        << codesOf(m.check);
}
