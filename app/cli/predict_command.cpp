#include "check/checker.hpp"
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
#include "util/constants.hpp"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <opencv2/imgproc.hpp>
#include <sstream>

namespace segforge::cli {

namespace {

namespace fs = std::filesystem;

struct PredictArgs {
    std::string project;
    std::optional<std::string> weights, masks;
    std::string images, out;
    std::optional<double> threshold;
};

int runPredict(const PredictArgs& args) {
    std::string error;
    const auto& weights = args.weights;
    const double threshold = args.threshold.value_or(0.5);
    auto project = loadProjectOrReport("predict", args.project);
    if (!project)
        return kExitBadInput;
    const core::Node* dataset = core::findDatasetNode(project->graph, error);
    const auto prediction = core::predictionPort(project->graph);
    if (!dataset || !prediction) {
        std::cerr << "segforge-cli predict: "
                  << (dataset ? "the graph has no loss or metric whose prediction to use" : error)
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
        std::cerr << "segforge-cli predict: " << args.project
                  << " has no saved weights; give --weights W (or save the project after training "
                     "in the app)\n";
        return kExitBadInput;
    } else {
        // Predictions from a partly untrained network would look like results
        // and be noise: every tensor must load.
        const core::LoadedWeights loaded =
            core::readProjectWeights(project->sourcePath, *project->weights, *ex, project->graph);
        for (const auto& note : loaded.notes)
            std::cerr << "segforge-cli predict: " << note << " (warning)\n";
        if (!loaded.match.complete()) {
            std::cerr
                << "segforge-cli predict: "
                << (loaded.match.error.empty()
                        ? "the saved weights do not fit the graph (edited since training?): " +
                              core::describeNotLoaded(loaded.match) + "; train again and save"
                        : loaded.match.error)
                << "\n";
            return kExitBadInput;
        }
        std::cerr << "using the weights saved with the project: " << project->weights->file
                  << " (step " << project->weights->step << ")\n";
    }
    const core::CheckResult check =
        core::checkGraph(project->graph, core::CheckOptions::withoutInputSizeSweep());
    const core::TensorType imageType = *check.typeOf({dataset->id, "image"});
    const core::TensorType maskType = *check.typeOf({dataset->id, "mask"});
    const auto policy = core::pipelineOptionsFor(*project, *dataset).sizePolicy;

    std::vector<fs::path> files;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(args.images, ec))
        if (entry.is_regular_file() && core::isImageFile(entry.path()))
            files.push_back(entry.path());
    if (ec || files.empty()) {
        std::cerr << "segforge-cli predict: no images in " << args.images
                  << (ec ? ": " + ec.message() : "") << "\n";
        return kExitBadInput;
    }
    std::sort(files.begin(), files.end());
    fs::create_directories(args.out, ec);
    if (ec) {
        std::cerr << "segforge-cli predict: cannot create " << args.out << ": " << ec.message()
                  << "\n";
        return kExitBadInput;
    }

    int written = 0, failed = 0;
    core::MaskScores sum; // over the compared images, each scored as the training metrics score it
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
        cv::Mat scoreMat(static_cast<int>(scores.height()), static_cast<int>(scores.width()),
                         CV_32FC(k), const_cast<float*>(scores.f32()));
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
        std::string err = core::writeImage(fs::path(args.out) / (stem + "_mask.png"), maskImage);
        if (err.empty())
            err = core::writeImage(fs::path(args.out) / (stem + "_overlay.png"), overlay);
        if (auto masks = args.masks; masks && err.empty()) {
            for (const std::string_view ext : kImageExtensions) {
                const fs::path truthFile = fs::path(*masks) / (stem + std::string(ext));
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
                const core::MaskScores image = core::scorePredictedMask(mask, t, k);
                sum = {sum.dice + image.dice, sum.iou + image.iou, sum.accuracy + image.accuracy,
                       image.policy};
                ++compared;
                err = core::writeImage(fs::path(args.out) / (stem + "_compare.png"),
                                       core::overlayComparison(original, mask, t));
                break;
            }
        }
        if (!err.empty()) {
            std::cerr << "segforge-cli predict: " << err << "\n";
            return kExitBadInput;
        }
        ++written;
    }
    std::cout << "wrote masks and overlays for " << written << " of " << files.size()
              << " images to " << args.out;
    if (compared > 0) {
        std::ostringstream means;
        means << std::fixed << std::setprecision(4) << sum.dice / compared << " ("
              << sum.policy.describe() << "), IoU " << sum.iou / compared << ", pixel accuracy "
              << sum.accuracy / compared;
        std::cout << "; mean Dice against " << compared << " ground-truth masks: " << means.str();
    }
    std::cout << "\n";
    return written > 0 ? (failed > 0 ? kExitFindings : kExitOk) : kExitBadInput;
}

} // namespace

Command addPredictCommand(CLI::App& app) {
    auto args = std::make_shared<PredictArgs>();
    CLI::App* cmd =
        app.add_subcommand("predict", "Write the predicted mask and overlay of every image");
    cmd->add_option("PROJECT", args->project, "the project")->required();
    addText(*cmd, "--weights", args->weights,
            "weights (.safetensors); without it the weights saved with the project (its weights "
            "section)",
            "W");
    cmd->add_option("--images", args->images, "the images to predict")
        ->required()
        ->type_name("DIR");
    cmd->add_option("-o,--out", args->out, "the folder to write")->required()->type_name("DIR");
    addText(*cmd, "--masks", args->masks,
            "ground-truth masks, named as the images: also write the comparison", "DIR");
    addNumber(*cmd, "--threshold", args->threshold,
              "foreground score threshold of a binary model (default 0.5)");
    cmd->footer("Writes DIR/<stem>_mask.png and <stem>_overlay.png for every image (and "
                "<stem>_compare.png\n"
                "against ground-truth masks).");
    return {cmd, [args] { return runPredict(*args); }};
}

} // namespace segforge::cli
