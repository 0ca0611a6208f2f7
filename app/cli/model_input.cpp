#include "cli/model_input.hpp"

#include "cli/load_messages.hpp"
#include "cli/preflight.hpp"
#include "keras/keras_import.hpp"
#include "onnx/onnx_import.hpp"
#include "project/project_file.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>

namespace segforge::cli {

ModelInput readModelInput(const std::string& file) {
    ModelInput input;
    input.onnx =
        core::looksLikeOnnxFile(file) || std::filesystem::path(file).extension() == ".onnx";
    input.keras = !input.onnx && core::looksLikeKerasFile(file);
    if (input.onnx) {
        core::OnnxImport imported = core::importOnnxFile(file);
        printLoadMessages(imported.warnings);
        input.project = std::move(imported.project);
        input.errors = std::move(imported.errors);
    } else if (input.keras) {
        core::KerasImport imported = core::importKerasFile(file);
        printLoadMessages(imported.warnings);
        input.project = std::move(imported.project);
        input.errors = std::move(imported.errors);
    } else {
        core::ProjectLoad load = core::loadProject(file);
        printLoadMessages(load.warnings);
        input.project = std::move(load.project);
        input.errors = std::move(load.errors);
    }
    return input;
}

void addCheckDataOptions(CLI::App& command, CheckDataArgs& args) {
    addText(command, "--data", args.data,
            "probe DIR/images and DIR/masks instead of the Dataset folders", "DIR");
    command.add_flag("--no-data", args.noData, "do not probe the data (even with --data)");
}

core::CheckOptions checkOptionsFor(const ModelInput& input, const CheckDataArgs& args) {
    core::CheckOptions options;
    // With data, the check is the one train runs before it starts (preflight):
    // --data naming a missing folder is an error, as it is for train.
    if (!input.imported() && !args.noData && input.project)
        options = trainingCheckOptions(
            probeProjectData(*input.project, args.data, args.data.has_value()));
    if (input.project) // how many samples train: the BatchNorm last-batch findings
        options.validationSplit = input.project->training.validationSplit;
    options.requireLoss = !input.imported();
    return options;
}

} // namespace segforge::cli
