#include "check/checker.hpp"
#include "templates/unet_template.hpp"

#include <gmock/gmock.h>

using namespace segforge::core;
using ::testing::HasSubstr;

struct TemplateCase {
    int depth, filters, size, channels, classes;
    bool batchnorm;
    UNetOptions::Up up;
};

std::int64_t totalParameters(const Graph& g, const CheckResult& r) {
    std::int64_t total = 0;
    for (const auto& [id, node] : g.nodes())
        total += r.parameterCount(id);
    return total;
}

class UNetTemplate : public ::testing::TestWithParam<TemplateCase> {};

TEST_P(UNetTemplate, IsCompleteAndClean) {
    const TemplateCase& c = GetParam();
    UNetOptions o;
    o.depth = c.depth;
    o.filters = c.filters;
    o.size = c.size;
    o.channels = c.channels;
    o.classes = c.classes;
    o.batchnorm = c.batchnorm;
    o.up = c.up;
    auto made = makeUNetProject(o);
    ASSERT_TRUE(std::holds_alternative<Project>(made)) << std::get<std::string>(made);
    const Graph& g = std::get<Project>(made).graph;
    CheckResult r = checkGraph(g);
    for (const auto& d : r.diagnostics)
        ADD_FAILURE() << d.code << ": " << d.message;

    const Node* output = g.findNodeByName("output");
    ASSERT_NE(output, nullptr);
    EXPECT_EQ(r.typeOf({output->id, "output"})->toString(), "N×" + std::to_string(c.size) + "×" +
                                                                std::to_string(c.size) + "×" +
                                                                std::to_string(c.classes) + " f32");
    const Node* bottleneck = g.findNodeByName("bottleneck_conv2");
    ASSERT_NE(bottleneck, nullptr);
    const int low = c.size >> c.depth;
    EXPECT_EQ(r.typeOf({bottleneck->id, "output"})->shape.height(), low);
    EXPECT_EQ(r.typeOf({bottleneck->id, "output"})->shape.channels(), c.filters << c.depth);
    EXPECT_NE(g.findNodeByName(c.classes == 1 ? "scale_mask" : "loss"), nullptr);
    // Laid out left to right: every edge but the long target wires points rightwards.
    for (const Edge& e : g.edges())
        EXPECT_LT(g.findNode(e.from.node)->position.x, g.findNode(e.to.node)->position.x);
}

INSTANTIATE_TEST_SUITE_P(
    Variants, UNetTemplate,
    ::testing::Values(TemplateCase{4, 16, 128, 3, 1, false, UNetOptions::Up::Transpose},
                      TemplateCase{4, 16, 128, 3, 1, true, UNetOptions::Up::Upsample},
                      TemplateCase{1, 4, 32, 1, 1, false, UNetOptions::Up::Upsample},
                      TemplateCase{5, 8, 256, 3, 4, true, UNetOptions::Up::Transpose},
                      TemplateCase{3, 8, 64, 4, 3, false, UNetOptions::Up::Upsample},
                      TemplateCase{4, 16, 128, 3, 1, false, UNetOptions::Up::UpsampleConv},
                      TemplateCase{2, 4, 32, 1, 5, true, UNetOptions::Up::UpsampleConv}));

TEST(UNetTemplateOptions, RejectsSizesThatCannotWork) {
    UNetOptions o;
    o.size = 100;
    auto made = makeUNetProject(o);
    ASSERT_TRUE(std::holds_alternative<std::string>(made));
    EXPECT_THAT(std::get<std::string>(made), HasSubstr("multiple of 2^4 = 16 (try 96 or 112)"));
    o.size = 128;
    o.depth = 9;
    EXPECT_THAT(std::get<std::string>(makeUNetProject(o)), HasSubstr("depth 9 is out of range"));
}

TEST(UNetTemplateOptions, ParameterCountMatchesKeras) {
    // keras U-Net (depth 4, 16 filters, Conv2DTranspose up, 3→1 channels): 1,941,105 params.
    UNetOptions o;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    CheckResult r = checkGraph(g);
    const std::int64_t total = totalParameters(g, r);
    EXPECT_EQ(total, 1941105);
}

TEST(UNetTemplateOptions, UpsampleConvIsTheClassicKerasUNet) {
    // UpSampling2D(2) then Conv2D(F, 3, relu) before each concatenation: the 3×3
    // up-convolutions have 391,920 parameters where the 2×2 transposed ones have
    // 174,320, so 1,941,105 + 217,600 = 2,158,705.
    UNetOptions o;
    o.up = UNetOptions::Up::UpsampleConv;
    Graph g = std::get<Project>(makeUNetProject(o)).graph;
    CheckResult r = checkGraph(g);
    const std::int64_t total = totalParameters(g, r);
    EXPECT_EQ(total, 2158705);
    const Node* up = g.findNodeByName("dec4_upconv");
    ASSERT_NE(up, nullptr);
    EXPECT_EQ(r.typeOf({up->id, "output"})->toString(), "N×16×16×128 f32");
    EXPECT_EQ(r.typeOf({g.findNodeByName("dec1_upconv")->id, "output"})->toString(),
              "N×128×128×16 f32");
    for (auto mode :
         {UNetOptions::Up::Upsample, UNetOptions::Up::Transpose, UNetOptions::Up::UpsampleConv})
        EXPECT_EQ(parseUpMode(upModeName(mode)), mode);
    EXPECT_FALSE(parseUpMode("bilinear"));
}
