// End-to-end: sample-data → template → train → bench → predict with the real
// segforge-cli binary, on a tiny U-Net (depth 2, 4 filters, 32×32, 8 images).

#include "cli_runner.hpp"
#include "data/image_io.hpp"
#include "io/safetensors.hpp"
#include "util/available_cores.hpp"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <sstream>
#include <unistd.h>

using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

using CliRun = segforge::testing::CliResult;

/// stdout, then stderr.
CliRun cli(const std::string& args) {
    return segforge::testing::runCli(args, segforge::testing::Stderr::Merge);
}

/// A folder per test process, removed at exit.
const fs::path& workDir() {
    static const segforge::testing::ScratchDir dir("segforge_train_cli_");
    return dir.path();
}

/// sample-data into DIR/data and the tiny U-Net at DIR/unet.segforge, whose
/// Dataset reads "data/images" and "data/masks" relative to the project.
fs::path tinyProject() {
    const fs::path project = workDir() / "unet.segforge";
    if (fs::exists(project))
        return project;
    const CliRun data =
        cli("sample-data --count 8 --size 32 --seed 3 -o " + (workDir() / "data").string());
    EXPECT_EQ(data.exitCode, 0) << data.out;
    const CliRun t = cli("template unet --depth 2 --filters 4 --size 32 -o " + project.string());
    EXPECT_EQ(t.exitCode, 0) << t.out;
    return project;
}

std::vector<std::vector<std::string>> readCsv(const fs::path& file) {
    std::vector<std::vector<std::string>> rows;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        std::string cell;
        while (std::getline(ss, cell, ','))
            cells.push_back(cell);
        rows.push_back(cells);
    }
    return rows;
}

/// A one-layer project over `dataDir`: Dataset(8×8×3) → Rescale → Conv2D(4, 3×3) →
/// MaxPool → Conv2DTranspose(2, 2×2, stride 2) → Conv2D(1, 1×1) → `loss`.
fs::path smallProject(const std::string& name, const std::string& loss, const std::string& headInit,
                      const std::string& headActivation) {
    const fs::path file = workDir() / name;
    std::ofstream(file) << R"({"format": "segforge-project", "version": 1, "name": "small",
      "training": {"epochs": 1, "learning_rate": 0.01, "validation_split": 0.25, "seed": 1},
      "graph": {"nodes": [
        {"id": 1, "op": "Dataset", "name": "data", "attrs": {"images": "small/images", "masks": "small/masks",
          "height": 8, "width": 8, "batch_size": 2}},
        {"id": 2, "op": "Rescale", "name": "scale", "attrs": {"scale": 0.00392156862745098}},
        {"id": 3, "op": "Conv2D", "name": "conv", "attrs": {"filters": 4, "kernel_size": 3, "padding": "same",
          "activation": "relu"}},
        {"id": 4, "op": "MaxPool2D", "name": "pool"},
        {"id": 5, "op": "Conv2DTranspose", "name": "up", "attrs": {"filters": 2, "kernel_size": 2, "strides": 2}},
        {"id": 6, "op": "Conv2D", "name": "head", "attrs": {"filters": 1, "kernel_size": 1,
          "activation": ")" + headActivation +
                               R"(", "kernel_initializer": ")" + headInit + R"("}},
        {"id": 7, "op": "Rescale", "name": "scale_mask", "attrs": {"scale": 0.00392156862745098}},
        {"id": 8, "op": ")" + loss +
                               R"(", "name": "the_loss", "attrs": {"epsilon": 0.0}}],
       "edges": [
        {"from": {"node": 1, "port": "image"}, "to": {"node": 2, "port": "input"}},
        {"from": {"node": 2, "port": "output"}, "to": {"node": 3, "port": "input"}},
        {"from": {"node": 3, "port": "output"}, "to": {"node": 4, "port": "input"}},
        {"from": {"node": 4, "port": "output"}, "to": {"node": 5, "port": "input"}},
        {"from": {"node": 5, "port": "output"}, "to": {"node": 6, "port": "input"}},
        {"from": {"node": 6, "port": "output"}, "to": {"node": 8, "port": "prediction"}},
        {"from": {"node": 1, "port": "mask"}, "to": {"node": 7, "port": "input"}},
        {"from": {"node": 7, "port": "output"}, "to": {"node": 8, "port": "target"}}]}})";
    if (!fs::exists(workDir() / "small")) { // four 8×8 images whose masks are all background
        fs::create_directories(workDir() / "small/images");
        fs::create_directories(workDir() / "small/masks");
        for (int i = 0; i < 4; ++i) {
            cv::Mat image(8, 8, CV_8UC3, cv::Scalar(40 * i, 100, 200));
            const std::string stem = "s" + std::to_string(i) + ".png";
            EXPECT_EQ(segforge::core::writeImage(workDir() / "small/images" / stem, image), "");
            EXPECT_EQ(segforge::core::writeImage(workDir() / "small/masks" / stem,
                                                 cv::Mat::zeros(8, 8, CV_8UC1)),
                      "");
        }
    }
    return file;
}

} // namespace

TEST(TrainCli, SampleDataAndTemplateMakeATrainableProject) {
    const fs::path project = tinyProject();
    int images = 0, masks = 0;
    for (const auto& e : fs::directory_iterator(workDir() / "data/images"))
        images += e.path().extension() == ".png";
    for (const auto& e : fs::directory_iterator(workDir() / "data/masks"))
        masks += e.path().extension() == ".png";
    EXPECT_EQ(images, 8);
    EXPECT_EQ(masks, 8);
    const CliRun check = cli("check " + project.string());
    EXPECT_EQ(check.exitCode, 0) << check.out;
}

TEST(TrainCli, TrainsWritesMetricsAndWeightsDeterministically) {
    const fs::path project = tinyProject();
    const fs::path out = workDir() / "run_a";
    const std::string args = "train " + project.string() +
                             " --epochs 2 --batch 2 --lr 0.003 --seed 5 --threads 1 --out ";
    const CliRun a = cli(args + out.string());
    ASSERT_EQ(a.exitCode, 0) << a.out;
    EXPECT_THAT(a.out, HasSubstr("epoch 1/2: train_loss"));
    EXPECT_THAT(a.out, HasSubstr("epoch 2/2: train_loss"));
    EXPECT_EQ(a.out.find('\r'), std::string::npos)
        << "no progress bar when stdout is not a terminal";

    const auto rows = readCsv(out / "metrics.csv");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0], (std::vector<std::string>{"epoch", "train_loss", "val_loss", "val_dice",
                                                 "val_iou", "seconds"}));
    for (std::size_t r = 1; r < 3; ++r) {
        ASSERT_EQ(rows[r].size(), 6u);
        EXPECT_EQ(rows[r][0], std::to_string(r));
        const double trainLoss = std::stod(rows[r][1]), valLoss = std::stod(rows[r][2]);
        const double dice = std::stod(rows[r][3]), iou = std::stod(rows[r][4]),
                     seconds = std::stod(rows[r][5]);
        EXPECT_GT(trainLoss, 0.0);
        EXPECT_GT(valLoss, 0.0);
        EXPECT_GE(dice, 0.0);
        EXPECT_LE(dice, 1.0);
        EXPECT_LE(iou, dice + 1e-9) << "IoU never exceeds Dice";
        EXPECT_GT(seconds, 0.0);
    }

    std::string error;
    const auto weights = segforge::core::loadSafetensors(out / "weights.safetensors", error);
    ASSERT_EQ(error, "");
    ASSERT_TRUE(weights.tensors.count("enc1_conv1/kernel"));
    EXPECT_EQ(weights.tensors.at("enc1_conv1/kernel").describe(), "3×3×3×4 f32");
    EXPECT_TRUE(fs::exists(out / "checkpoint.safetensors"));

    // The same seed and threads give the same losses, to the last printed digit.
    const fs::path outB = workDir() / "run_b";
    const CliRun b = cli(args + outB.string());
    ASSERT_EQ(b.exitCode, 0) << b.out;
    const auto rowsB = readCsv(outB / "metrics.csv");
    ASSERT_EQ(rowsB.size(), 3u);
    for (std::size_t r = 1; r < 3; ++r)
        EXPECT_EQ(std::vector<std::string>(rows[r].begin(), rows[r].begin() + 5),
                  std::vector<std::string>(rowsB[r].begin(), rowsB[r].begin() + 5));
}

// --stop-at-dice ends the run after the first epoch whose validation Dice exceeds
// the target and says when; the run is complete (weights, checkpoint, one row).
TEST(TrainCli, StopAtDiceEndsTheRunAtTheFirstEpochPastTheTarget) {
    const fs::path project = tinyProject();
    const fs::path out = workDir() / "run_stop_at_dice";
    const CliRun r =
        cli("train " + project.string() +
            " --epochs 5 --batch 2 --seed 5 --threads 1 --stop-at-dice 0 --out " + out.string());
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, HasSubstr("stopped: validation Dice "));
    EXPECT_THAT(r.out, HasSubstr("> 0 after epoch 1, "));
    EXPECT_EQ(r.out.find("epoch 2/5"), std::string::npos) << r.out;
    EXPECT_EQ(readCsv(out / "metrics.csv").size(), 2u); // the header and epoch 1
    EXPECT_TRUE(fs::exists(out / "weights.safetensors"));

    // A target no epoch reaches trains every epoch; a target above 1 is refused.
    const fs::path all = workDir() / "run_stop_never";
    const CliRun never =
        cli("train " + project.string() +
            " --epochs 2 --batch 2 --seed 5 --threads 1 --stop-at-dice 1 --out " + all.string());
    ASSERT_EQ(never.exitCode, 0) << never.out;
    EXPECT_EQ(never.out.find("stopped:"), std::string::npos);
    EXPECT_EQ(readCsv(all / "metrics.csv").size(), 3u);
    EXPECT_NE(cli("train " + project.string() + " --stop-at-dice 1.5 --out " +
                  (workDir() / "run_bad").string())
                  .exitCode,
              0);
}

TEST(TrainCli, DataOverrideAndMissingData) {
    const fs::path project = tinyProject();
    // The project elsewhere: its own relative folders do not exist, --data points at the data.
    const fs::path moved = workDir() / "elsewhere" / "unet.segforge";
    fs::create_directories(moved.parent_path());
    fs::copy_file(project, moved, fs::copy_options::overwrite_existing);
    const CliRun missing = cli("train " + moved.string() + " --epochs 1 --batch 2 --out " +
                               (workDir() / "run_m").string());
    EXPECT_EQ(missing.exitCode, 2) << missing.out;
    EXPECT_THAT(missing.out, HasSubstr((workDir() / "elsewhere" / "data" / "images").string()));
    const CliRun ok =
        cli("train " + moved.string() + " --data " + (workDir() / "data").string() +
            " --epochs 1 --batch 4 --threads 1 --out " + (workDir() / "run_d").string());
    EXPECT_EQ(ok.exitCode, 0) << ok.out;
    EXPECT_THAT(ok.out, HasSubstr("batches of 4"));
    EXPECT_EQ(readCsv(workDir() / "run_d" / "metrics.csv").size(), 2u);
}

TEST(TrainCli, NanExitsNonZeroNamingTheNode) {
    // Dice without epsilon on empty masks with a prediction that is exactly zero.
    const fs::path project = smallProject("nan.segforge", "Dice", "zeros", "relu");
    const CliRun r = cli("train " + project.string() + " --epochs 1 --threads 1 --out " +
                         (workDir() / "run_nan").string());
    EXPECT_EQ(r.exitCode, 3) << r.out;
    EXPECT_THAT(r.out, HasSubstr("Dice 'the_loss'"));
    EXPECT_THAT(r.out, HasSubstr("set epsilon > 0"));
    EXPECT_FALSE(fs::exists(workDir() / "run_nan" / "weights.safetensors"));
}

std::string readText(const fs::path& file) {
    std::ifstream in(file);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

TEST(TrainCli, SigtermStopsBetweenNodesSavesAndResumes) {
    const fs::path project = tinyProject();
    const fs::path out = workDir() / "run_interrupted";
    const fs::path log = workDir() / "interrupted.log";
    // A run of 100 000 epochs, stopped by SIGTERM once its second epoch has begun
    // (SIGINT would be ignored in a background job of a non-interactive shell).
    const fs::path script = workDir() / "interrupt.sh";
    std::ofstream(script) << SEGFORGE_CLI << " train " << project.string()
                          << " --epochs 100000 --batch 2 --threads 1 --out " << out.string()
                          << " > " << log.string() << " 2>&1 &\n"
                          << "pid=$!; i=0\n"
                          << "while ! grep -q 'epoch 1/100000:' " << log.string()
                          << " && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done\n"
                          << "kill -TERM $pid; wait $pid; echo \"exit=$?\"\n";
    FILE* pipe = popen(("sh " + script.string()).c_str(), "r");
    ASSERT_NE(pipe, nullptr);
    std::string status;
    char buf[256];
    while (fgets(buf, sizeof buf, pipe))
        status += buf;
    pclose(pipe);
    const std::string text = readText(log);
    EXPECT_THAT(status, HasSubstr("exit=143")) << text;
    EXPECT_THAT(text, HasSubstr("interrupted at step"));
    EXPECT_THAT(text, HasSubstr("continue with --resume"));
    EXPECT_TRUE(fs::exists(out / "weights.safetensors"));
    EXPECT_TRUE(fs::exists(out / "checkpoint.safetensors"));
    const auto rows = readCsv(out / "metrics.csv");
    ASSERT_GE(rows.size(), 2u) << "the first epoch finished before the signal";

    // --resume continues from the checkpoint to the end of the next epoch.
    const std::string epochs = std::to_string(rows.size()); // one more than completed
    const CliRun resumed = cli("train " + project.string() + " --resume --epochs " + epochs +
                               " --batch 2 --threads 1 --out " + out.string());
    ASSERT_EQ(resumed.exitCode, 0) << resumed.out;
    EXPECT_THAT(resumed.out, HasSubstr("resumed at step"));
    const auto after = readCsv(out / "metrics.csv");
    ASSERT_EQ(after.size(), rows.size() + 1);
    EXPECT_EQ(after.back()[0], epochs);
}

TEST(TrainCli, BenchJsonCountsConvolutionFlops) {
    const fs::path project = smallProject("bench.segforge", "Dice", "glorot_uniform", "sigmoid");
    const CliRun r = cli("bench " + project.string() + " --batch 2 --steps 3 --threads 1 --json");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    EXPECT_GT(j.at("train_ms_median").get<double>(), 0.0);
    EXPECT_GT(j.at("infer_ms_median").get<double>(), 0.0);
    EXPECT_GT(j.at("gflops").get<double>(), 0.0);
    EXPECT_GT(j.at("peak_rss_mib").get<double>(), 1.0);
    // Per sample, forward: conv 2·(3·3·3·4)·64 + transposed 2·(2·2·2·4)·16 input pixels + head
    // 2·(1·1·2·1)·64 = 13824 + 1024 + 256 = 15104 FLOP; a step is 3 × that × batch 2.
    EXPECT_NEAR(j.at("train_gflop_per_step").get<double>(), 3 * 15104 * 2 * 1e-9, 1e-12);
    EXPECT_NEAR(j.at("gflops").get<double>(),
                j.at("train_gflop_per_step").get<double>() /
                    (j.at("train_ms_median").get<double>() * 1e-3),
                1e-6 * j.at("gflops").get<double>());

    const CliRun text = cli("bench " + tinyProject().string() + " --batch 2 --steps 2 --threads 1");
    ASSERT_EQ(text.exitCode, 0) << text.out;
    EXPECT_THAT(text.out, HasSubstr("training step (batch 2, 1 thread): median"));
    EXPECT_THAT(text.out, HasSubstr("GFLOP/s"));
}

TEST(TrainCli, BenchScalingBoundsEveryCountAndMeasuresTheOnesThisMachineHas) {
    const fs::path project = smallProject("scaling.segforge", "Dice", "glorot_uniform", "sigmoid");
    const CliRun r =
        cli("bench " + project.string() + " --batch 2 --steps 2 --threads 1 --scaling 2,4 --json");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    const auto j = nlohmann::json::parse(r.out);
    const auto& scaling = j.at("scaling");
    ASSERT_EQ(scaling.size(), 3u) << "1, then the targets";
    const int cores = segforge::core::availableCores();
    for (const auto& target : scaling) {
        const int threads = target.at("threads").get<int>();
        EXPECT_GT(target.at("bound_ms").get<double>(), 0.0);
        EXPECT_GT(target.at("noisy_bound_ms").get<double>(), 0.0);
        EXPECT_NEAR(
            target.at("noisy_efficiency").get<double>() * target.at("noisy_bound_ms").get<double>(),
            target.at("efficiency").get<double>() * target.at("bound_ms").get<double>(), 1e-9)
            << "both against the same 1-thread work";
        EXPECT_FALSE(target.at("nodes").empty());
        const bool measured = threads <= cores;
        EXPECT_EQ(target.contains("measured_ms"), measured) << threads << " threads";
        EXPECT_EQ(target.at("nodes").front().contains("measured_ms"), measured);
        if (measured) {
            EXPECT_GT(target.at("measured_ms").get<double>(), 0.0);
            EXPECT_LE(target.at("measured_serial_ms").get<double>(),
                      target.at("measured_ms").get<double>());
        }
    }
    EXPECT_EQ(scaling.at(0).at("threads").get<int>(), 1);
    EXPECT_NEAR(scaling.at(0).at("measured_efficiency").get<double>(), 1.0, 1e-9);

    const CliRun text =
        cli("bench " + project.string() + " --batch 2 --steps 2 --threads 1 --scaling 2");
    ASSERT_EQ(text.exitCode, 0) << text.out;
    EXPECT_THAT(text.out, HasSubstr("bound, losing most at 2 threads"));
    if (cores >= 2) {
        EXPECT_THAT(text.out, HasSubstr("measured, losing most at 2 threads"));
    }
}

TEST(TrainCli, PredictWritesMasksAndOverlays) {
    const fs::path project = tinyProject();
    const fs::path run = workDir() / "run_p";
    const CliRun t = cli("train " + project.string() +
                         " --epochs 2 --batch 2 --lr 0.01 --threads 1 --out " + run.string());
    ASSERT_EQ(t.exitCode, 0) << t.out;
    const fs::path pred = workDir() / "pred";
    const CliRun p =
        cli("predict " + project.string() + " --weights " + (run / "weights.safetensors").string() +
            " --images " + (workDir() / "data/images").string() + " --masks " +
            (workDir() / "data/masks").string() + " --out " + pred.string());
    ASSERT_EQ(p.exitCode, 0) << p.out;
    EXPECT_THAT(p.out, HasSubstr("for 8 of 8 images"));
    EXPECT_THAT(p.out, HasSubstr("mean Dice against 8 ground-truth masks"));
    for (const auto& e : fs::directory_iterator(workDir() / "data/images")) {
        const std::string stem = e.path().stem().string();
        const auto mask = segforge::core::readImage(pred / (stem + "_mask.png"));
        ASSERT_TRUE(mask.ok()) << mask.error;
        EXPECT_EQ(mask.image.channels(), 1);
        EXPECT_EQ(mask.image.rows, 32);
        EXPECT_EQ(cv::countNonZero(mask.image == 0) + cv::countNonZero(mask.image == 255), 32 * 32)
            << stem << ": a binary mask holds only 0 and 255";
        const auto overlay = segforge::core::readImage(pred / (stem + "_overlay.png"));
        ASSERT_TRUE(overlay.ok()) << overlay.error;
        EXPECT_EQ(overlay.image.channels(), 3);
        EXPECT_EQ(overlay.image.cols, 32);
        EXPECT_TRUE(fs::exists(pred / (stem + "_compare.png")));
    }

    // Weights of another network are refused with the reason.
    const fs::path other = smallProject("other.segforge", "Dice", "glorot_uniform", "sigmoid");
    const CliRun wrong =
        cli("predict " + other.string() + " --weights " + (run / "weights.safetensors").string() +
            " --images " + (workDir() / "data/images").string() + " --out " + pred.string());
    EXPECT_EQ(wrong.exitCode, 2) << wrong.out;
    EXPECT_THAT(wrong.out, HasSubstr("has no tensor 'conv/kernel'"));
}
