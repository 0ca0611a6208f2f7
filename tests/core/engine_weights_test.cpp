// Weights as safetensors: round trip through the executor, the on-disk layout
// other tools read, and the messages for bad files.

#include "engine/executor.hpp"
#include "engine/weights.hpp"
#include "engine_op_harness.hpp"
#include "graph_builder.hpp"
#include "io/safetensors.hpp"

#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

using namespace segforge::core;
using namespace segforge::core::testing;

namespace {

std::filesystem::path tempPath(const std::string& name) {
    return std::filesystem::temp_directory_path() / ("segforge_engine_" + name);
}

std::string readAll(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

Graph net() {
    GraphBuilder b;
    const NodeId image = b.input(4, 4, 2, "float32", "image");
    const NodeId target = b.input(4, 4, 1, "float32", "target");
    const NodeId conv = b.then("Conv2D", "conv", out(image),
                               {{"filters", std::int64_t{3}}, {"padding", std::string("same")}});
    const NodeId bn = b.then("BatchNormalization", "bn", out(conv));
    const NodeId head = b.then("Conv2D", "head", out(bn),
                               {{"filters", std::int64_t{1}},
                                {"kernel_size", std::int64_t{1}},
                                {"activation", std::string("sigmoid")}});
    const NodeId loss = b.add("BinaryCrossentropy", "loss");
    b.wire(out(head), {loss, "prediction"});
    b.wire(out(target), {loss, "target"});
    return b.graph;
}

double forwardLoss(Executor& ex) {
    ex.feedInput("image", uniformTensor({2, 4, 4, 2}, -1, 1, 3));
    ex.feedInput("target", uniformTensor({2, 4, 4, 1}, 0, 1, 4));
    ex.beginStep(false);
    EXPECT_EQ(ex.run(), RunStatus::Finished);
    return ex.loss();
}

TEST(EngineWeights, SafetensorsRoundTripThroughTheExecutor) {
    std::string error;
    auto a = Executor::compile(net(), error);
    ASSERT_TRUE(a) << error;
    a->initializeParameters(1);
    a->parameters()[4].value.fill(0.5f); // bn/moving_mean: non-trainable state is saved too
    const auto path = tempPath("roundtrip.safetensors");
    ASSERT_EQ(saveWeights(*a, path), "");
    EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));

    auto b = Executor::compile(net(), error);
    b->initializeParameters(2);
    EXPECT_NE(forwardLoss(*a), forwardLoss(*b));
    ASSERT_EQ(loadWeights(*b, path), "");
    for (std::size_t i = 0; i < a->parameters().size(); ++i) {
        const Tensor& x = a->parameters()[i].value;
        const Tensor& y = b->parameters()[i].value;
        ASSERT_EQ(x.shape(), y.shape());
        EXPECT_EQ(0, std::memcmp(x.bytes(), y.bytes(), x.byteSize())) << a->parameters()[i].name;
    }
    EXPECT_EQ(forwardLoss(*a), forwardLoss(*b));
    std::filesystem::remove(path);
}

TEST(EngineWeights, FileLayoutIsStandardSafetensors) {
    Tensor k = tensorOf({2, 3}, {1, 2, 3, 4, 5, 6});
    Tensor bias = tensorOf({2}, {-1, 0.5f});
    const auto path = tempPath("layout.safetensors");
    ASSERT_EQ(saveSafetensors(path, {{"conv/kernel", &k}, {"conv/bias", &bias}},
                              {{"format", "segforge"}}),
              "");
    const std::string bytes = readAll(path);
    std::uint64_t n = 0;
    for (int i = 0; i < 8; ++i)
        n |= static_cast<std::uint64_t>(
                 static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]))
             << (8 * i);
    ASSERT_EQ(n % 8, 0u);
    ASSERT_EQ(bytes.size(), 8 + n + 32);
    const auto header = nlohmann::json::parse(bytes.substr(8, n));
    EXPECT_EQ(header["conv/kernel"]["dtype"], "F32");
    EXPECT_EQ(header["conv/kernel"]["shape"], nlohmann::json({2, 3}));
    EXPECT_EQ(header["conv/kernel"]["data_offsets"], nlohmann::json({0, 24}));
    EXPECT_EQ(header["conv/bias"]["data_offsets"], nlohmann::json({24, 32}));
    EXPECT_EQ(header["__metadata__"]["format"], "segforge");
    float first = 0;
    std::memcpy(&first, bytes.data() + 8 + n + 24, 4);
    EXPECT_EQ(first, -1.0f); // raw little-endian float32
    std::filesystem::remove(path);
}

TEST(EngineWeights, BadFilesAnswerWithAMessage) {
    const auto path = tempPath("bad.safetensors");
    std::string error;
    { std::ofstream(path, std::ios::binary) << "abc"; }
    loadSafetensors(path, error);
    EXPECT_NE(error.find("too short"), std::string::npos) << error;
    {
        std::ofstream out(path, std::ios::binary);
        const char len[8] = {4, 0, 0, 0, 0, 0, 0, 0};
        out.write(len, 8);
        out << "{no}";
    }
    loadSafetensors(path, error);
    EXPECT_NE(error.find("JSON header is invalid"), std::string::npos) << error;
    {
        std::ofstream out(path, std::ios::binary);
        const char len[8] = {static_cast<char>(200), 0, 0, 0, 0, 0, 0, 0};
        out.write(len, 8);
    }
    loadSafetensors(path, error);
    EXPECT_NE(error.find("exceeds the file size"), std::string::npos) << error;
    // A file from a different network.
    Tensor wrong = tensorOf({1}, {0});
    ASSERT_EQ(saveSafetensors(path, {{"conv/kernel", &wrong}}), "");
    auto ex = Executor::compile(net(), error);
    ASSERT_TRUE(ex);
    const std::string message = loadWeights(*ex, path);
    EXPECT_NE(message.find("'conv/kernel' is 1 but the graph needs 3×3×2×3"), std::string::npos)
        << message;
    EXPECT_EQ(loadWeights(*ex, tempPath("missing.safetensors")).find("cannot open"), 0u);
    std::filesystem::remove(path);
}

} // namespace
