// `segforge-cli predict --masks` reports the Dice and IoU the training metric
// nodes compute for the same weights and image (one definition of the metrics:
// core/kernels/mask_metrics), and says which classes they average.

#include "cli_runner.hpp"
#include "data/image_io.hpp"
#include "engine/executor.hpp"
#include "engine/prediction.hpp"
#include "engine/weights.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <filesystem>
#include <gmock/gmock.h>
#include <opencv2/core.hpp>
#include <regex>
#include <string>

using ::testing::HasSubstr;
namespace fs = std::filesystem;
using namespace segforge;

TEST(PredictMetricsCli, MultiClassDiceAndIoUMatchTheMetricNodes) {
    const segforge::testing::ScratchDir dir("segforge_predict_metrics_cli_");
    core::UNetOptions o;
    o.depth = 1;
    o.filters = 4;
    o.size = 16;
    o.classes = 3;
    core::Project project = std::get<core::Project>(core::makeUNetProject(o));
    core::NodeId dice = core::kNoNode, iou = core::kNoNode;
    for (const auto& [id, n] : project.graph.nodes()) {
        if (n.op == "Dataset") {
            project.graph.findNode(id)->attrs["images"] = std::string("data/images");
            project.graph.findNode(id)->attrs["masks"] = std::string("data/masks");
        }
        dice = n.op == "DiceCoefficient" ? id : dice;
        iou = n.op == "IoU" ? id : iou;
    }
    ASSERT_NE(dice, core::kNoNode);
    ASSERT_NE(iou, core::kNoNode);
    ASSERT_EQ(core::saveProject(project, dir.path() / "net.segforge"), "");

    // One image with three class bands in its mask (and a few training pairs beside it).
    cv::Mat image(16, 16, CV_8UC3), mask(16, 16, CV_8UC1);
    cv::RNG rng(3);
    rng.fill(image, cv::RNG::UNIFORM, 0, 256);
    for (int y = 0; y < 16; ++y)
        mask.row(y).setTo(y < 5 ? 0 : y < 11 ? 1 : 2);
    fs::create_directories(dir.path() / "data/images");
    fs::create_directories(dir.path() / "data/masks");
    fs::create_directories(dir.path() / "one");
    ASSERT_EQ(core::writeImage(dir.path() / "data/images/a.png", image), "");
    ASSERT_EQ(core::writeImage(dir.path() / "data/masks/a.png", mask), "");
    ASSERT_EQ(core::writeImage(dir.path() / "one/a.png", image), "");

    std::string error;
    auto ex = core::Executor::compile(project.graph, error);
    ASSERT_TRUE(ex) << error;
    ex->initializeParameters(5);
    ASSERT_EQ(core::saveWeights(*ex, dir.path() / "w.safetensors"), "");
    // What the metric nodes (the training plot) make of that image.
    core::Batch batch;
    batch.image = core::tensorFromImage(image, core::DType::UInt8);
    batch.mask = core::tensorFromImage(mask, core::DType::UInt8);
    batch.names = {"a"};
    ASSERT_EQ(ex->evaluate(batch), core::RunStatus::Finished);
    const double nodeDice = ex->output(dice, "value")->f32()[0];
    const double nodeIoU = ex->output(iou, "value")->f32()[0];

    const auto run = segforge::testing::runCli(
        "predict " + (dir.path() / "net.segforge").string() + " --weights " +
            (dir.path() / "w.safetensors").string() + " --images " + (dir.path() / "one").string() +
            " --masks " + (dir.path() / "data/masks").string() + " --out " +
            (dir.path() / "pred").string(),
        segforge::testing::Stderr::Merge);
    ASSERT_EQ(run.exitCode, 0) << run.out;
    EXPECT_THAT(run.out, HasSubstr("mean Dice against 1 ground-truth masks: "));
    EXPECT_THAT(run.out, HasSubstr("(mean over 3 classes, background included)"));
    std::smatch m;
    ASSERT_TRUE(std::regex_search(
        run.out, m,
        std::regex(R"(masks: ([0-9.]+) \(.*\), IoU ([0-9.]+), pixel accuracy ([0-9.]+))")))
        << run.out;
    // Printed with 4 decimals; the node smooths with ε = 1e-6.
    EXPECT_NEAR(std::stod(m[1].str()), nodeDice, 6e-5) << run.out;
    EXPECT_NEAR(std::stod(m[2].str()), nodeIoU, 6e-5) << run.out;
}
