// The exported PyTorch script scales out and brings its weights back: under
// torchrun with two gloo processes it trains one epoch on the sample data,
// both processes report the same validation scores, the loss matches one
// process's, and the SegForge weights it writes load into `segforge-cli
// predict`, whose masks are PyTorch's own. The script falls back to the CPU
// without CUDA, resumes from its checkpoint, runs bf16 autocast on the CPU,
// reads the data as SegForge's pipeline does (split, order, augmentations)
// and scores Dice/IoU as SegForge's metrics do. Python is Debian's
// /usr/bin/python3 with python3-torch 1.13 (SEGFORGE_SYSTEM_PYTHON).

#include "cli/cli_runner.hpp"
#include "data/image_io.hpp"
#include "data/image_pipeline.hpp"
#include "data/sample_data.hpp"
#include "engine/executor.hpp"
#include "engine/project_weights.hpp"
#include "engine/training_setup.hpp"
#include "engine/weights.hpp"
#include "io/safetensors.hpp"
#include "kernels/mask_metrics.hpp"
#include "project/graph_revision.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <random>
#include <regex>
#include <set>
#include <sstream>

namespace fs = std::filesystem;
using segforge::testing::quoted;
using segforge::testing::shell;
using namespace segforge::core;
using segforge::testing::CliResult;

namespace {

const char* kPython = SEGFORGE_PYTHON;

std::string helper() {
    return std::string(kPython) + " " +
           quoted(fs::path(SEGFORGE_INTEROP_TESTS) / "pytorch_script_helper.py");
}

std::string fileBytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

double seconds(std::chrono::steady_clock::time_point since) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

/// A tiny U-Net (depth 2, 4 filters, 32×32, no BatchNorm: see the loss
/// tolerance below), 24 sample pairs, its exported script and SegForge's
/// seeded initial weights, in a scratch folder of this test process.
struct ScriptRun {
    segforge::testing::ScratchDir scratch{"segforge_pytorch_scale_out_"};
    fs::path dir = scratch.path(), project = dir / "net.segforge", data = dir / "data",
             script = dir / "train.py", init = dir / "init.safetensors";
    Project p;

    /// Plain: the sample data. Augmented: flips, rotations, brightness and
    /// contrast, batches of 6, validation_split 0.25, seed 5. Palette: three
    /// classes in colour masks (black, red, azure), mask_mode palette.
    enum class Kind { Plain, Augmented, Palette };
    explicit ScriptRun(Kind kind = Kind::Plain) {
        UNetOptions o;
        o.depth = 2;
        o.filters = 4;
        o.size = 32;
        o.classes = kind == Kind::Palette ? 3 : 1;
        auto made = makeUNetProject(o);
        EXPECT_TRUE(std::holds_alternative<Project>(made));
        p = std::get<Project>(made);
        Node* dataset = p.graph.findNode(p.graph.findNodeByName("data")->id);
        EXPECT_NE(dataset, nullptr);
        if (kind != Kind::Plain) {
            dataset->attrs["augment_flips"] = true;
            dataset->attrs["augment_rotate90"] = true;
            dataset->attrs["augment_brightness"] = 0.2;
            dataset->attrs["augment_contrast"] = 0.3;
            dataset->attrs["batch_size"] = std::int64_t{6};
            p.training.validationSplit = 0.25;
            p.training.seed = 5;
        }
        if (kind == Kind::Palette) {
            dataset->attrs["mask_mode"] = std::string("palette");
            writePaletteData();
        } else {
            SampleDataOptions s;
            s.count = 24;
            s.size = 32;
            EXPECT_EQ(writeSampleData(data, s), "");
        }
        EXPECT_EQ(saveProject(p, project), "");
        auto e = segforge::testing::runCli("export " + quoted(project) + " --to pytorch -o " +
                                               quoted(script),
                                           segforge::testing::Stderr::Merge);
        EXPECT_EQ(e.exitCode, 0) << e.out;
        std::string error;
        auto ex = Executor::compile(p.graph, error);
        EXPECT_TRUE(ex) << error;
        if (ex) {
            ex->initializeParameters(7);
            EXPECT_EQ(saveWeights(*ex, init), "");
        }
    }

    /// 16 random RGB images, each mask a red and an azure rectangle on black.
    void writePaletteData() const {
        fs::create_directories(data / "images");
        fs::create_directories(data / "masks");
        std::mt19937 rng(9);
        for (int i = 0; i < 16; ++i) {
            cv::Mat image(32, 32, CV_8UC3), mask(32, 32, CV_8UC3, cv::Scalar(0, 0, 0));
            cv::randu(image, 0, 256);
            auto at = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
            mask(cv::Rect(at(16), at(16), 4 + at(12), 4 + at(12))).setTo(cv::Scalar(255, 0, 0));
            mask(cv::Rect(at(16), at(16), 4 + at(12), 4 + at(12))).setTo(cv::Scalar(0, 128, 255));
            const std::string stem = "p" + std::to_string(100 + i);
            EXPECT_EQ(writeImage(data / "images" / (stem + ".png"), image), "");
            EXPECT_EQ(writeImage(data / "masks" / (stem + ".png"), mask), "");
        }
    }

    /// `python3 train.py ARGS` (or under torchrun with `processes` > 1).
    CliResult train(const std::string& args, int processes = 1, const std::string& env = "") const {
        // Debian 12's torchrun (torch 1.13 on Python 3.11) fails on its own default
        // --redirects/--tee of 0 (Python 3.11 no longer lists a zero flag among an
        // enum's members): any other value works; 1 tees each process's stdout.
        const std::string launcher =
            processes > 1 ? std::string(kPython) +
                                " -m torch.distributed.run --standalone --nproc_per_node " +
                                std::to_string(processes) + " --redirects 1 --tee 1 --log_dir " +
                                quoted(dir / "torchrun_logs") + " "
                          : std::string(kPython) + " ";
        return shell("cd " + quoted(dir) + " && " + env + " " + launcher + quoted(script) +
                     " --data " + quoted(data) + " " + args);
    }
};

/// "loss L val_loss V val_dice D val_iou I" of each "epoch E/N:" line, by rank.
std::map<int, std::string> epochLines(const std::string& out, int epoch) {
    std::map<int, std::string> lines;
    std::istringstream in(out);
    std::string line;
    const std::regex re("(\\[rank (\\d+)/\\d+\\] )?epoch " + std::to_string(epoch) +
                        "/\\d+: (.*)$");
    while (std::getline(in, line)) {
        std::smatch m;
        if (std::regex_search(line, m, re))
            lines[m[2].matched ? std::stoi(m[2]) : 0] = m[3];
    }
    return lines;
}

double field(const std::string& line, const std::string& name) {
    std::smatch m;
    if (!std::regex_search(line, m, std::regex("(^| )" + name + " ([-0-9.naife]+)")))
        return NAN;
    return std::stod(m[2]);
}

} // namespace

TEST(PyTorchScaleOut, TorchrunTwoProcessesAgreeAndTheirWeightsPredictAsPyTorch) {
    ScriptRun s;
    const std::string common = "--weights " + quoted(s.init) + " --epochs 1 --lr 0.001 ";
    auto t0 = std::chrono::steady_clock::now();
    auto ddp = s.train(common + "--workers 1 --out " + quoted(s.dir / "ddp.safetensors"), 2);
    const double ddpSeconds = seconds(t0);
    ASSERT_EQ(ddp.exitCode, 0) << ddp.out;
    t0 = std::chrono::steady_clock::now();
    auto one = s.train(common + "--workers 1 --out " + quoted(s.dir / "one.safetensors"));
    const double oneSeconds = seconds(t0);
    ASSERT_EQ(one.exitCode, 0) << one.out;
    std::cout << "[ measured ] one epoch, 24 pairs 32×32: torchrun 2 processes " << ddpSeconds
              << " s, one process " << oneSeconds << " s (wall, including start-up)\n";
    EXPECT_THAT(ddp.out, ::testing::HasSubstr("[rank 0/2] device cpu, 2 processes (gloo)"));
    EXPECT_THAT(ddp.out, ::testing::HasSubstr("[rank 1/2] device cpu, 2 processes (gloo)"));

    // Both ranks print the all-reduced scores: the same line, character for character.
    const auto lines = epochLines(ddp.out, 1);
    ASSERT_EQ(lines.size(), 2u) << ddp.out;
    EXPECT_EQ(lines.at(0), lines.at(1));
    const auto single = epochLines(one.out, 1);
    ASSERT_EQ(single.size(), 1u) << one.out;
    // Tolerance: this U-Net has no BatchNorm, so a 2-process step is the 1-process
    // step (each process takes half of SegForge's batch, DDP averages the two
    // gradients, the loss is a mean over equal halves); only the order of float
    // sums differs (~1e-6). 1e-4 leaves room for that and nothing else (a wrong
    // sampler or unsynchronised gradient moves the loss by 1e-3 or more). The
    // validation scores use the same weights on SegForge's same batches.
    for (const char* name : {"loss", "val_loss", "val_dice", "val_iou"}) {
        const double a = field(lines.at(0), name), b = field(single.at(0), name);
        ASSERT_FALSE(std::isnan(a)) << name << " in " << lines.at(0);
        EXPECT_NEAR(a, b, 1e-4) << name << ": 2 processes " << lines.at(0) << "; 1 process "
                                << single.at(0);
    }

    // SegForge's own validation of those weights (its split and batches, its loss,
    // DiceCoefficient and IoU nodes, each batch weighted by its samples as the
    // trainer weights them) gives the numbers the two processes printed.
    {
        std::string error;
        auto ex = Executor::compile(s.p.graph, error);
        ASSERT_TRUE(ex) << error;
        ASSERT_EQ(loadWeights(*ex, s.dir / "ddp.safetensors"), "");
        TrainingOverrides overrides;
        overrides.dataDir = s.data;
        PipelineOptions options =
            pipelineOptionsFor(s.p, *findDatasetNode(s.p.graph, error), overrides);
        options.prefetch = false;
        ImageFolderSource source(options);
        double loss = 0, dice = 0, iou = 0, samples = 0;
        for (std::size_t v = 0; v < source.validationBatchCount(); ++v) {
            const Batch batch = source.validationBatch(v);
            ASSERT_EQ(ex->evaluate(batch), RunStatus::Finished);
            const auto n = static_cast<double>(batch.image.shape()[0]);
            const auto scalars = ex->scalars();
            loss += ex->loss() * n;
            dice += scalars.at("dice") * n;
            iou += scalars.at("iou") * n;
            samples += n;
        }
        ASSERT_GT(samples, 0);
        std::cout << "[ measured ] SegForge's validation of the DDP weights: loss "
                  << loss / samples << " dice " << dice / samples << " iou " << iou / samples
                  << "; the script's: " << lines.at(0) << "\n";
        EXPECT_NEAR(field(lines.at(0), "val_loss"), loss / samples, 1e-4);
        EXPECT_NEAR(field(lines.at(0), "val_dice"), dice / samples, 1e-4);
        EXPECT_NEAR(field(lines.at(0), "val_iou"), iou / samples, 1e-4);
        EXPECT_GT(dice, 0); // not the trivial score of empty predictions
    }

    // The weights rank 0 wrote load into segforge-cli predict, whose masks are PyTorch's.
    const fs::path predicted = s.dir / "predicted";
    auto predict = segforge::testing::runCli(
        "predict " + quoted(s.project) + " --weights " + quoted(s.dir / "ddp.safetensors") +
            " --images " + quoted(s.data / "images") + " -o " + quoted(predicted),
        segforge::testing::Stderr::Merge);
    ASSERT_EQ(predict.exitCode, 0) << predict.out;
    EXPECT_THAT(predict.out, ::testing::HasSubstr("for 24 of 24 images"));
    // They carry the exported graph's revision and layer signatures, so the app's
    // project loader (readProjectWeights) takes every layer as trained for this network.
    std::string error;
    const SafetensorsData file = loadSafetensors(s.dir / "ddp.safetensors", error);
    ASSERT_EQ(error, "");
    EXPECT_EQ(file.metadata.at("segforge.graph_revision"), graphRevision(s.p.graph));
    EXPECT_THAT(file.metadata.at(kLayersMetadataKey), ::testing::HasSubstr("\"enc1_conv1\""));
    {
        auto ex = Executor::compile(s.p.graph, error);
        ASSERT_TRUE(ex) << error;
        WeightsSection section;
        section.file = "ddp.safetensors";
        const LoadedWeights loaded = readProjectWeights(s.project, section, *ex, s.p.graph);
        EXPECT_EQ(loaded.match.error, "");
        EXPECT_TRUE(loaded.sameNetwork);
        EXPECT_EQ(loaded.match.loaded.size(), ex->parameters().size());
        EXPECT_TRUE(loaded.match.missing.empty() && loaded.match.refused.empty() &&
                    loaded.match.unused.empty() && loaded.match.mismatched.empty());
    }
    auto masks =
        shell(helper() + " masks " + quoted(s.script) + " " + quoted(s.dir / "ddp.safetensors") +
              " " + quoted(s.data / "images") + " " + quoted(predicted));
    ASSERT_EQ(masks.exitCode, 0) << masks.out;
    long pixels = 0, agree = 0, foreground = 0;
    ASSERT_EQ(std::sscanf(masks.out.c_str(), "pixels %ld agree %ld foreground %ld", &pixels, &agree,
                          &foreground),
              3)
        << masks.out;
    std::cout << "[ measured ] predict vs PyTorch masks: " << agree << " of " << pixels
              << " pixels agree, " << foreground << " foreground\n";
    ASSERT_EQ(pixels, 24 * 32 * 32);
    // Not a trivial comparison: the masks have foreground and background.
    EXPECT_GT(foreground, 0);
    EXPECT_LT(foreground, pixels);
    // Equal masks, except where a score lies within float rounding of the 0.5
    // threshold (SegForge's and PyTorch's convolutions sum in different orders,
    // ~1e-6 apart): at most 0.1 % of the pixels.
    EXPECT_GE(static_cast<double>(agree), 0.999 * static_cast<double>(pixels));
}

TEST(PyTorchScaleOut, WeightsGoBackUnderSegForgesNamesAndLayouts) {
    // Every parameterised module the script has: a separable convolution
    // (depth multiplier 2), BatchNorm without gamma, a strided transposed
    // convolution, a convolution with bias; random values, so that a transposed
    // or misnamed tensor shows.
    Project p;
    Graph& g = p.graph;
    auto node = [&](const std::string& op, const std::string& name, AttrMap attrs,
                    std::vector<std::pair<PortRef, std::string>> inputs) {
        NodeId id = g.addNode(op, name, std::move(attrs));
        for (const auto& [from, port] : inputs)
            EXPECT_TRUE(g.connect(from, {id, port})) << name << "." << port;
        return PortRef{id, "output"};
    };
    NodeId data = g.addNode(
        "Dataset", "data",
        {{"height", std::int64_t{8}}, {"width", std::int64_t{8}}, {"channels", std::int64_t{3}}});
    auto x = node("Rescale", "scale", {{"scale", 1.0 / 255}}, {{{data, "image"}, "input"}});
    x = node("SeparableConv2D", "sep",
             {{"filters", std::int64_t{5}},
              {"kernel_size", std::int64_t{3}},
              {"padding", std::string("same")},
              {"depth_multiplier", std::int64_t{2}},
              {"activation", std::string("relu")}},
             {{x, "input"}});
    x = node("BatchNormalization", "bn", {{"scale", false}}, {{x, "input"}});
    x = node("Conv2DTranspose", "up",
             {{"filters", std::int64_t{3}},
              {"kernel_size", std::int64_t{2}},
              {"strides", std::int64_t{2}}},
             {{x, "input"}});
    auto out = node("Conv2D", "output",
                    {{"filters", std::int64_t{1}},
                     {"kernel_size", std::int64_t{3}},
                     {"strides", std::int64_t{2}},
                     {"padding", std::string("same")},
                     {"activation", std::string("sigmoid")}},
                    {{x, "input"}});
    auto target =
        node("Rescale", "scale_mask", {{"scale", 1.0 / 255}}, {{{data, "mask"}, "input"}});
    node("BinaryCrossentropy", "loss", {}, {{out, "prediction"}, {target, "target"}});

    segforge::testing::ScratchDir scratch("segforge_pytorch_weights_");
    const fs::path project = scratch.path() / "w.segforge", script = scratch.path() / "w.py",
                   weights = scratch.path() / "in.safetensors",
                   back = scratch.path() / "back.safetensors";
    ASSERT_EQ(saveProject(p, project), "");
    auto e = segforge::testing::runCli("export " + quoted(project) + " --to pytorch -o " +
                                           quoted(script),
                                       segforge::testing::Stderr::Merge);
    ASSERT_EQ(e.exitCode, 0) << e.out;
    std::string error;
    auto ex = Executor::compile(g, error);
    ASSERT_TRUE(ex) << error;
    ex->initializeParameters(3);
    std::mt19937 rng(5);
    std::uniform_real_distribution<float> u(0.5f, 1.5f);
    for (Parameter& param : ex->parameters())
        for (std::int64_t i = 0; i < param.value.numel(); ++i)
            param.value.f32()[i] = u(rng) * (i % 2 ? 1.f : -1.f) * (1.f + float(i % 7));
    ASSERT_EQ(saveWeights(*ex, weights), "");
    auto r = shell(helper() + " roundtrip " + quoted(script) + " " + quoted(weights) + " " +
                   quoted(back));
    ASSERT_EQ(r.exitCode, 0) << r.out;
    auto again = Executor::compile(g, error);
    ASSERT_TRUE(again) << error;
    // loadWeights wants every tensor of the graph under its name and shape, and no other.
    ASSERT_EQ(loadWeights(*again, back), "");
    for (std::size_t k = 0; k < ex->parameters().size(); ++k) {
        const Tensor& a = ex->parameters()[k].value;
        const Tensor& b = again->parameters()[k].value;
        EXPECT_EQ(std::memcmp(a.f32(), b.f32(), a.byteSize()), 0) << ex->parameters()[k].name;
    }
}

TEST(PyTorchScaleOut, AutoDeviceFallsBackToTheCpuWithoutCuda) {
    ScriptRun s;
    auto r = s.train("--device auto --epochs 1 --workers 0", 1, "CUDA_VISIBLE_DEVICES=''");
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, ::testing::HasSubstr("device cpu\n"));
    EXPECT_EQ(epochLines(r.out, 1).size(), 1u) << r.out;
    auto cuda = s.train("--device cuda --epochs 1 --workers 0", 1, "CUDA_VISIBLE_DEVICES=''");
    EXPECT_NE(cuda.exitCode, 0);
    EXPECT_THAT(cuda.out, ::testing::HasSubstr("--device cuda: no CUDA device is available"));
}

TEST(PyTorchScaleOut, ResumeContinuesFromTheCheckpoint) {
    ScriptRun s;
    const std::string ckpt = " --workers 0 --checkpoint-dir " + quoted(s.dir / "ckpt");
    auto first = s.train("--epochs 1 --out " + quoted(s.dir / "e1.safetensors") + ckpt);
    ASSERT_EQ(first.exitCode, 0) << first.out;
    ASSERT_TRUE(fs::exists(s.dir / "ckpt" / "last.pt"));
    // Resumed with nothing left to train, the weights written are the checkpoint's.
    auto same = s.train("--epochs 1 --resume --out " + quoted(s.dir / "r1.safetensors") + ckpt);
    ASSERT_EQ(same.exitCode, 0) << same.out;
    EXPECT_THAT(same.out, ::testing::HasSubstr("after epoch 1"));
    EXPECT_THAT(same.out, ::testing::HasSubstr("nothing to train"));
    EXPECT_EQ(fileBytes(s.dir / "r1.safetensors"), fileBytes(s.dir / "e1.safetensors"));
    // With more epochs the counter continues at 2.
    auto more = s.train("--epochs 2 --resume --out " + quoted(s.dir / "r2.safetensors") + ckpt);
    ASSERT_EQ(more.exitCode, 0) << more.out;
    EXPECT_TRUE(epochLines(more.out, 1).empty()) << more.out;
    EXPECT_EQ(epochLines(more.out, 2).size(), 1u) << more.out;
    EXPECT_NE(fileBytes(s.dir / "r2.safetensors"), fileBytes(s.dir / "e1.safetensors"));
    auto missing = s.train("--epochs 1 --resume " + quoted(s.dir / "none.pt"));
    EXPECT_NE(missing.exitCode, 0);
    EXPECT_THAT(missing.out, ::testing::HasSubstr("--resume: no checkpoint at"));
}

TEST(PyTorchScaleOut, AmpOnTheCpuTrainsInBfloat16) {
    ScriptRun s;
    auto r = s.train("--device cpu --amp --epochs 1 --workers 0 --out " +
                     quoted(s.dir / "amp.safetensors"));
    ASSERT_EQ(r.exitCode, 0) << r.out;
    EXPECT_THAT(r.out, ::testing::HasSubstr("device cpu, amp bfloat16"));
    const auto lines = epochLines(r.out, 1);
    ASSERT_EQ(lines.size(), 1u) << r.out;
    EXPECT_TRUE(std::isfinite(field(lines.at(0), "loss"))) << lines.at(0);
    EXPECT_TRUE(fs::exists(s.dir / "amp.safetensors"));
}

namespace {

/// SegForge's pipeline and the script's Dataset on the same data: the same
/// validation samples, the same first training batch of `epoch` (names,
/// augmented pixels, and targets whose classes are SegForge's mask labels).
void expectSameBatch(const ScriptRun& s, int epoch) {
    TrainingOverrides overrides;
    overrides.dataDir = s.data;
    std::string error;
    const Node* dataset = findDatasetNode(s.p.graph, error);
    ASSERT_NE(dataset, nullptr) << error;
    PipelineOptions options = pipelineOptionsFor(s.p, *dataset, overrides);
    ASSERT_TRUE(options.augment.flips && options.augment.rotate90);
    options.prefetch = false;
    ImageFolderSource source(options);
    source.beginEpoch(epoch);
    const Batch batch = source.trainBatch(0);

    const fs::path images = s.dir / "batch0.u8", targets = s.dir / "targets0.f32";
    auto r = shell(helper() + " data " + quoted(s.script) + " " + quoted(s.data) + " " +
                   std::to_string(s.p.training.seed) + " " + std::to_string(epoch) + " " +
                   quoted(images) + " " + quoted(targets));
    ASSERT_EQ(r.exitCode, 0) << r.out;
    std::string validation, names;
    for (const std::string& stem : source.validationStems())
        validation += (validation.empty() ? "" : " ") + stem;
    for (const std::string& stem : batch.names)
        names += (names.empty() ? "" : " ") + stem;
    EXPECT_THAT(r.out, ::testing::HasSubstr("validation " + validation + "\n"));
    EXPECT_THAT(r.out, ::testing::HasSubstr("batch0 " + names + "\n"));
    const std::string got = fileBytes(images);
    ASSERT_EQ(got.size(), batch.image.byteSize()) << r.out;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < got.size(); ++i)
        differ += static_cast<std::uint8_t>(got[i]) != batch.image.u8()[i];
    EXPECT_EQ(differ, 0u) << "of " << got.size() << " augmented pixel values";

    // Targets (N, C, H, W): C = 1 holds the foreground (or a class index), C > 1 is one-hot.
    ASSERT_EQ(batch.mask.dtype(), DType::UInt8);
    const std::string t = fileBytes(targets);
    const std::int64_t n = batch.mask.shape()[0],
                       hw = batch.mask.shape()[1] * batch.mask.shape()[2];
    const std::int64_t c = static_cast<std::int64_t>(t.size() / 4) / (n * hw);
    ASSERT_EQ(static_cast<std::int64_t>(t.size()), n * c * hw * 4);
    std::vector<float> target(t.size() / 4);
    std::memcpy(target.data(), t.data(), t.size());
    // One binary channel: SegForge's 0/255 mask is the target 0/1 (the project's Rescale).
    const bool binary =
        c == 1 && options.maskMode != MaskMode::ClassIndex && options.maskMode != MaskMode::Palette;
    std::size_t wrong = 0;
    std::set<int> classes;
    for (std::int64_t b = 0; b < n; ++b)
        for (std::int64_t i = 0; i < hw; ++i) {
            const int want = batch.mask.u8()[b * hw + i];
            const float* px = target.data() + b * c * hw + i;
            int label = static_cast<int>(std::lround(px[0]));
            for (std::int64_t k = 1; k < c; ++k)
                if (px[k * hw] > px[label * hw])
                    label = static_cast<int>(k);
            classes.insert(want);
            wrong += label != (binary ? int{want != 0} : want);
        }
    EXPECT_EQ(wrong, 0u) << "of " << n * hw << " target pixels";
    EXPECT_GE(classes.size(), 2u);
}

} // namespace

TEST(PyTorchScaleOut, DatasetSplitsOrdersAndAugmentsAsSegForge) {
    ScriptRun s(ScriptRun::Kind::Augmented);
    expectSameBatch(s, 1);
}

TEST(PyTorchScaleOut, PaletteMasksBecomeSegForgesClasses) {
    ScriptRun s(ScriptRun::Kind::Palette);
    expectSameBatch(s, 0);
}

TEST(PyTorchScaleOut, DiceAndIoUScoreAsSegForgesMetrics) {
    ScriptRun s;
    std::mt19937 rng(3);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    const int n = 3, h = 5, w = 7;
    for (const int k : {1, 3}) {
        std::vector<float> pred(static_cast<std::size_t>(n * h * w * k)),
            target(static_cast<std::size_t>(n * h * w));
        for (float& v : pred)
            v = u(rng);
        ClassCounts counts(k == 1 ? 2 : k);
        for (std::size_t i = 0; i < target.size(); ++i) {
            // Class 2 never appears in the targets: an absent class scores by ε.
            target[i] = k == 1 ? (u(rng) > 0.6f ? 1.f : 0.f) : (u(rng) > 0.5f ? 1.f : 0.f);
            const float* p = pred.data() + i * static_cast<std::size_t>(k);
            const std::int64_t predicted =
                k == 1 ? (p[0] > 0.5f ? 1 : 0) : std::max_element(p, p + k) - p;
            counts.add(predicted,
                       k == 1 ? (target[i] > 0.5f ? 1 : 0) : static_cast<std::int64_t>(target[i]));
        }
        ClassPolicy policy = ClassPolicy::forPrediction(k, kMetricEpsilon);
        policy.absentScoresOne = false; // the training metric's policy (metric_kernels.cpp)
        auto write = [&](const fs::path& path, const std::vector<float>& v) {
            std::ofstream(path, std::ios::binary)
                .write(reinterpret_cast<const char*>(v.data()),
                       static_cast<std::streamsize>(v.size() * 4));
        };
        write(s.dir / "pred.f32", pred);
        write(s.dir / "target.f32", target);
        auto r =
            shell(helper() + " metrics " + quoted(s.script) + " " + quoted(s.dir / "pred.f32") +
                  " " + quoted(s.dir / "target.f32") + " " + std::to_string(n) + "," +
                  std::to_string(h) + "," + std::to_string(w) + "," + std::to_string(k));
        ASSERT_EQ(r.exitCode, 0) << r.out;
        double dice = NAN, iou = NAN;
        ASSERT_EQ(std::sscanf(r.out.c_str(), "dice %lf iou %lf", &dice, &iou), 2) << r.out;
        EXPECT_NEAR(dice, meanDice(counts, policy), 1e-9) << "K = " << k;
        EXPECT_NEAR(iou, meanIoU(counts, policy), 1e-9) << "K = " << k;
    }
}
