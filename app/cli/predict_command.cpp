#include "check/checker.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "data/image_io.hpp"
#include "data/overlay.hpp"
#include "engine/node_attributes.hpp"
#include "engine/prediction.hpp"
#include "engine/project_weights.hpp"
#include "engine/training_setup.hpp"
#include "engine/weights.hpp"
#include "ops/op_registry.hpp"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace segforge::cli {

namespace {

namespace fs = std::filesystem;

constexpr const char* kUsage =
    "usage: segforge-cli predict PROJECT [--weights W] --images DIR --out DIR [--masks DIR] [--threshold T]\n"
    "       without --weights: the weights saved with the project (PROJECT's weights section)\n";

} // namespace

int runPredict(const std::vector<std::string>& raw) {
    Arguments args(raw, {"--weights", "--images", "--out", "-o", "--masks", "--threshold"}, {});
    std::string error = args.ok() ? "" : args.error();
    const auto weights = args.value("--weights");
    const auto images = args.value("--images");
    const auto out = args.value("--out") ? args.value("--out") : args.value("-o");
    double threshold = 0.5;
    if (auto t = args.value("--threshold"); t && error.empty())
        threshold = parseDouble("--threshold", *t, error).value_or(0.5);
    if (error.empty() && (args.positionals().size() != 1 || !images || !out))
        error = "expected PROJECT, --images and --out";
    if (!error.empty()) {
        std::cerr << "segforge-cli predict: " << error << "\n" << kUsage;
        return kExitBadInput;
    }
    auto project = loadProjectOrReport("predict", args.positionals().front());
    if (!project)
        return kExitBadInput;
    const core::Node* dataset = core::findDatasetNode(project->graph, error);
    const auto prediction = core::predictionPort(project->graph);
    if (!dataset || !prediction) {
        std::cerr << "segforge-cli predict: " << (dataset ? "the graph has no loss or metric whose prediction to use" : error)
                  << "\n";
        return kExitFindings;
    }
    auto ex = compileOrReport("predict", project->graph);
    if (!ex)
        return kExitFindings;
    if (weights) {
        if (std::string err = core::loadWeights(*ex, *weights); !err.empty()) {
            std::cerr << "segforge-cli predict: " << err << "\n";
            return kExitBadInput;
        }
    } else if (!project->weights) {
        std::cerr << "segforge-cli predict: " << args.positionals().front()
                  << " has no saved weights; give --weights W (or save the project after training in the app)\n";
        return kExitBadInput;
    } else {
        // Predictions from a partly untrained network would look like results
        // and be noise: every tensor must load.
        const core::LoadedWeights loaded =
            core::readProjectWeights(project->sourcePath, *project->weights, *ex, project->graph);
        for (const auto& note : loaded.notes)
            std::cerr << "segforge-cli predict: " << note << " (warning)\n";
        if (!loaded.match.complete()) {
            std::cerr << "segforge-cli predict: "
                      << (loaded.match.error.empty()
                              ? "the saved weights do not fit the graph (edited since training?): " +
                                    core::describeNotLoaded(loaded.match) + "; train again and save"
                              : loaded.match.error)
                      << "\n";
            return kExitBadInput;
        }
        std::cerr << "using the weights saved with the project: " << project->weights->file << " (step "
                  << project->weights->step << ")\n";
    }
    const core::CheckResult check = core::checkGraph(project->graph, core::CheckOptions{false, 64});
    const core::TensorType imageType = *check.typeOf({dataset->id, "image"});
    const core::TensorType maskType = *check.typeOf({dataset->id, "mask"});
    const auto policy = core::pipelineOptionsFor(*project, *dataset).sizePolicy;

    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(*images, ec))
        if (entry.is_regular_file() && core::isImageFile(entry.path()))
            files.push_back(entry.path());
    if (ec || files.empty()) {
        std::cerr << "segforge-cli predict: no images in " << *images << (ec ? ": " + ec.message() : "") << "\n";
        return kExitBadInput;
    }
    std::sort(files.begin(), files.end());
    fs::create_directories(*out, ec);
    if (ec) {
        std::cerr << "segforge-cli predict: cannot create " << *out << ": " << ec.message() << "\n";
        return kExitBadInput;
    }

    int written = 0, failed = 0;
    double diceSum = 0;
    int compared = 0;
    for (const fs::path& file : files) {
        core::ImageReadResult read = core::readImage(file);
        cv::Mat input = read.image;
        if (read.ok())
            error = core::conformImage(input, imageType, policy != core::SizePolicy::Exact);
        if (!read.ok() || !error.empty()) {
            std::cerr << "segforge-cli predict: " << file.filename().string() << ": "
                      << (read.ok() ? error : read.error) << "\n";
            ++failed;
            continue;
        }
        core::Batch batch;
        batch.image = core::tensorFromImage(input, imageType.dtype);
        batch.mask = core::Tensor(core::concreteShape(maskType.shape, 1), maskType.dtype);
        if (ex->evaluate(batch) != core::RunStatus::Finished) {
            std::cerr << "segforge-cli predict: " << file.filename().string() << ": "
                      << (ex->nonFinite() ? ex->nonFinite()->message() : "did not finish") << "\n";
            ++failed;
            continue;
        }
        const core::Tensor& scores = *ex->output(prediction->node, prediction->port);
        const int k = static_cast<int>(scores.channels());
        cv::Mat scoreMat(static_cast<int>(scores.height()), static_cast<int>(scores.width()), CV_32FC(k),
                         const_cast<float*>(scores.f32()));
        cv::Mat mask = core::maskFromScores(scoreMat, static_cast<float>(threshold));
        const cv::Mat original = core::displayRgb(read.image);
        if (mask.size() != original.size())
            cv::resize(mask, mask, original.size(), 0, 0, cv::INTER_NEAREST);
        const std::string stem = file.stem().string();
        cv::Mat maskImage = mask;
        if (k == 1)
            maskImage = mask * 255;
        cv::Mat overlay = core::overlayMask(original, mask);
        core::drawMaskContours(overlay, mask);
        std::string err = core::writeImage(fs::path(*out) / (stem + "_mask.png"), maskImage);
        if (err.empty())
            err = core::writeImage(fs::path(*out) / (stem + "_overlay.png"), overlay);
        if (auto masks = args.value("--masks"); masks && err.empty()) {
            for (const char* ext : {".png", ".tif", ".tiff", ".bmp", ".jpg"}) {
                const fs::path truthFile = fs::path(*masks) / (stem + ext);
                if (!fs::exists(truthFile))
                    continue;
                core::ImageReadResult truth = core::readImage(truthFile);
                if (!truth.ok())
                    break;
                cv::Mat t = truth.image;
                if (t.channels() > 1)
                    cv::extractChannel(t, t, 0);
                if (t.size() != original.size())
                    break;
                diceSum += core::maskDice(mask, t);
                ++compared;
                err = core::writeImage(fs::path(*out) / (stem + "_compare.png"), core::overlayComparison(original, mask, t));
                break;
            }
        }
        if (!err.empty()) {
            std::cerr << "segforge-cli predict: " << err << "\n";
            return kExitBadInput;
        }
        ++written;
    }
    std::cout << "wrote masks and overlays for " << written << " of " << files.size() << " images to " << *out;
    if (compared > 0) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.4f", diceSum / compared);
        std::cout << "; mean Dice against " << compared << " ground-truth masks: " << buf;
    }
    std::cout << "\n";
    return written > 0 ? (failed > 0 ? kExitFindings : kExitOk) : kExitBadInput;
}

} // namespace segforge::cli
