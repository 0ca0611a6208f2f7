// check and train agree about data: for each broken dataset, `check --data`
// reports a diagnostic and `train --data` refuses (or skips) with the same
// code and the same file named — and the exit codes say which kind of
// refusal it was (1: findings, 2: unreadable input, never 3: that is NaN/Inf).

#include "cli_runner.hpp"
#include "data/image_io.hpp"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <opencv2/core.hpp>
#include <unistd.h>

using ::testing::HasSubstr;
using ::testing::Not;
namespace fs = std::filesystem;

namespace {

using segforge::testing::CliResult;

CliResult cli(const std::string& args) {
    return segforge::testing::runCli(args, segforge::testing::Stderr::Merge);
}

/// A folder per test process, removed at exit.
const fs::path& workDir() {
    static const segforge::testing::ScratchDir dir("segforge_agree_cli_");
    return dir.path();
}

/// Dataset(8×8, `attrs`) → Rescale → Conv2D(1×1, sigmoid) → BCE, mask → Cast → target.
fs::path project(const std::string& name, const std::string& attrs) {
    const fs::path file = workDir() / name;
    std::ofstream(file) << R"({"format": "segforge-project", "version": 1, "name": "agree",
      "training": {"epochs": 1, "learning_rate": 0.01, "validation_split": 0.25, "seed": 1},
      "graph": {"nodes": [
        {"id": 1, "op": "Dataset", "name": "data", "attrs": {"images": "none/images", "masks": "none/masks",
          "height": 8, "width": 8, "batch_size": 2)"
                        << (attrs.empty() ? "" : ", " + attrs) << R"(}},
        {"id": 2, "op": "Rescale", "name": "scale", "attrs": {"scale": 0.00392156862745098}},
        {"id": 3, "op": "Conv2D", "name": "head", "attrs": {"filters": 1, "kernel_size": 1, "activation": "sigmoid"}},
        {"id": 4, "op": "Cast", "name": "mask_f32", "attrs": {"dtype": "float32"}},
        {"id": 5, "op": "BinaryCrossentropy", "name": "loss"}],
       "edges": [
        {"from": {"node": 1, "port": "image"}, "to": {"node": 2, "port": "input"}},
        {"from": {"node": 2, "port": "output"}, "to": {"node": 3, "port": "input"}},
        {"from": {"node": 3, "port": "output"}, "to": {"node": 5, "port": "prediction"}},
        {"from": {"node": 1, "port": "mask"}, "to": {"node": 4, "port": "input"}},
        {"from": {"node": 4, "port": "output"}, "to": {"node": 5, "port": "target"}}]}})";
    return file;
}

/// Four 8×8 RGB images s0…s3 with 0/1 masks, in DIR/images and DIR/masks.
fs::path dataset(const std::string& name) {
    const fs::path dir = workDir() / name;
    fs::create_directories(dir / "images");
    fs::create_directories(dir / "masks");
    for (int i = 0; i < 4; ++i) {
        const std::string file = "s" + std::to_string(i) + ".png";
        EXPECT_EQ(segforge::core::writeImage(dir / "images" / file,
                                             cv::Mat(8, 8, CV_8UC3, cv::Scalar(40 * i, 90, 200))),
                  "");
        cv::Mat mask = cv::Mat::zeros(8, 8, CV_8UC1);
        mask(cv::Rect(0, 0, 4, 8)).setTo(1);
        EXPECT_EQ(segforge::core::writeImage(dir / "masks" / file, mask), "");
    }
    return dir;
}

/// A PNG header declaring w×h RGB and no pixel data: what check and train
/// must refuse from the header alone (chunk CRCs are never reached).
void writeBombPng(const fs::path& file, std::uint32_t w, std::uint32_t h) {
    std::string bytes("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
    for (std::uint32_t v : {w, h})
        for (int shift = 24; shift >= 0; shift -= 8)
            bytes.push_back(static_cast<char>((v >> shift) & 0xFF));
    bytes += std::string("\x08\x02\0\0\0\0\0\0\0", 9);
    bytes += std::string(4000, '\0');
    std::ofstream(file, std::ios::binary) << bytes;
}

struct Agreement {
    std::string code;     ///< diagnostic code both must print
    std::string severity; ///< "error" or "warning"
    std::string named;    ///< a file or folder both must name
    int checkExit = 1;
    int trainExit = 1;
};

/// Runs check and train on the same project and data and asserts they agree.
void expectAgreement(const fs::path& project, const std::string& dataDir, const Agreement& want,
                     const std::string& runName) {
    const std::string tag = want.severity + "[" + want.code + "] 'data'";
    const CliResult check = cli("check " + project.string() + " --data " + dataDir);
    EXPECT_EQ(check.exitCode, want.checkExit) << check.out;
    EXPECT_THAT(check.out, HasSubstr(tag));
    EXPECT_THAT(check.out, HasSubstr(want.named));
    const CliResult train = cli("train " + project.string() + " --data " + dataDir +
                                " --epochs 1 --threads 1 --out " + (workDir() / runName).string());
    EXPECT_EQ(train.exitCode, want.trainExit) << train.out;
    EXPECT_THAT(train.out, HasSubstr(tag));
    EXPECT_THAT(train.out, HasSubstr(want.named));
    EXPECT_THAT(train.out, Not(HasSubstr("internal error")));
}

} // namespace

TEST(DataAgreementCli, CleanDataChecksAndTrains) {
    const fs::path p = project("clean.segforge", R"("mask_mode": "binary")");
    const fs::path data = dataset("clean");
    const CliResult check = cli("check " + p.string() + " --data " + data.string());
    EXPECT_EQ(check.exitCode, 0) << check.out;
    const CliResult train =
        cli("train " + p.string() + " --data " + data.string() + " --epochs 1 --threads 1 --out " +
            (workDir() / "run_clean").string());
    EXPECT_EQ(train.exitCode, 0) << train.out;
    EXPECT_THAT(train.out, HasSubstr("epoch 1/1"));
}

TEST(DataAgreementCli, OneThreeChannelMaskAmongGreyOnes) {
    const fs::path data = dataset("mixed");
    cv::Mat mask = cv::Mat::zeros(8, 8, CV_8UC3);
    ASSERT_EQ(segforge::core::writeImage(data / "masks" / "s2.png", mask), "");
    expectAgreement(project("mixed.segforge", R"("mask_mode": "as_stored")"), data.string(),
                    {"mixed-sample-types", "error", "mask s2.png: 3-channel 8-bit"}, "run_mixed");
}

TEST(DataAgreementCli, AllRgbaImagesForAThreeChannelDataset) {
    const fs::path data = dataset("rgba");
    for (int i = 0; i < 4; ++i)
        ASSERT_EQ(segforge::core::writeImage(data / "images" / ("s" + std::to_string(i) + ".png"),
                                             cv::Mat(8, 8, CV_8UC4, cv::Scalar(1, 2, 3, 255))),
                  "");
    expectAgreement(project("rgba.segforge", R"("mask_mode": "binary")"), data.string(),
                    {"dataset-type-mismatch", "error", "the data gives images N×8×8×4 u8"},
                    "run_rgba");
}

TEST(DataAgreementCli, DataFolderThatDoesNotExist) {
    const std::string missing = (workDir() / "nowhere").string();
    // check: a finding (1); train: input it cannot read (2) — the same message.
    expectAgreement(
        project("missing.segforge", R"("mask_mode": "binary")"), missing,
        {"dataset-empty", "error", "folder '" + missing + "/images' does not exist", 1, 2},
        "run_missing");
}

TEST(DataAgreementCli, DecompressionBombIsTooLargeForBoth) {
    const fs::path data = dataset("bomb");
    writeBombPng(data / "images" / "s1.png", 50000, 50000);
    const std::string reason =
        "image s1.png: declares 50000×50000 pixels, more than the limit of 67108864";
    // on_error='skip': a warning for check, a skipped file for train; both exit 0.
    expectAgreement(project("bomb_skip.segforge", R"("mask_mode": "binary")"), data.string(),
                    {"image-too-large", "warning", reason, 0, 0}, "run_bomb_skip");
    const CliResult train = cli(
        "train " + project("bomb_skip.segforge", R"("mask_mode": "binary")").string() + " --data " +
        data.string() + " --epochs 1 --threads 1 --out " + (workDir() / "run_bomb_skip2").string());
    EXPECT_THAT(train.out, HasSubstr("skipped s1: " + reason));
    EXPECT_THAT(train.out, Not(HasSubstr("image-size-mismatch")));
    // on_error='stop': an error for check, and train does not start.
    expectAgreement(project("bomb_stop.segforge", R"("mask_mode": "binary", "on_error": "stop")"),
                    data.string(), {"image-too-large", "error", reason, 1, 1}, "run_bomb_stop");
    // The limit is the user's to raise: above 50000² the header passes, and the
    // file is then refused for what it is, a header without its pixels.
    ASSERT_EQ(::setenv("SEGFORGE_MAX_IMAGE_PIXELS", "3000000000", 1), 0);
    const CliResult raised =
        cli("check " + project("bomb_skip.segforge", R"("mask_mode": "binary")").string() +
            " --data " + data.string());
    ::unsetenv("SEGFORGE_MAX_IMAGE_PIXELS");
    EXPECT_THAT(raised.out, Not(HasSubstr("image-too-large")));
    EXPECT_THAT(raised.out, HasSubstr("warning[data-file-unreadable] 'data'"));
    EXPECT_THAT(raised.out,
                HasSubstr("'s1.png': declares 50000×50000 pixels, which need a file of at least"));
}

TEST(DataAgreementCli, RampMaskInBinaryMode) {
    const fs::path data = dataset("ramp");
    cv::Mat ramp(8, 8, CV_8UC1);
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            ramp.at<std::uint8_t>(y, x) = static_cast<std::uint8_t>(x * 36);
    ASSERT_EQ(segforge::core::writeImage(data / "masks" / "s3.png", ramp), "");
    expectAgreement(project("ramp.segforge", R"("mask_mode": "binary")"), data.string(),
                    {"mask-not-binary", "error", "mask s3.png: holds 8 values from 0 to 252"},
                    "run_ramp");
}
