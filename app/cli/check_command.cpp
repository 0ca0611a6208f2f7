#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/valid_input_sizes.hpp"
#include "cli/commands.hpp"
#include "cli/preflight.hpp"
#include "keras/keras_import.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>

namespace segforge::cli {

namespace {

struct CheckArgs {
    std::string file;
    bool json = false, noData = false;
    std::optional<int> maxSize;
    std::optional<std::string> data;
};

int runCheck(const CheckArgs& args) {
    const std::string& file = args.file;
    // A Keras model JSON (class_name/config at its root) or .keras archive is
    // checked directly; it carries no loss (that is in model.compile()), so
    // no-loss is only a warning for it.
    const bool keras = core::looksLikeKerasFile(file);
    std::optional<core::Project> project;
    std::vector<std::string> errors;
    if (keras) {
        core::KerasImport imported = core::importKerasFile(file);
        for (const auto& w : imported.warnings)
            std::cerr << w << " (warning)\n";
        project = std::move(imported.project);
        errors = std::move(imported.errors);
    } else {
        core::ProjectLoad load = core::loadProject(file);
        for (const auto& w : load.warnings)
            std::cerr << w << " (warning)\n";
        project = std::move(load.project);
        errors = std::move(load.errors);
    }
    if (!project) {
        if (args.json) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& e : errors)
                list.push_back(e);
            std::cout << nlohmann::json{{"errors", list}}.dump(
                             2, ' ', false, nlohmann::json::error_handler_t::replace)
                      << "\n";
        }
        for (const auto& e : errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    const core::Graph& graph = project->graph;
    core::CheckOptions options;
    // With data, the check is the one train runs before it starts (preflight):
    // --data naming a missing folder is an error, as it is for train.
    if (!keras && !args.noData) {
        const auto& dataDir = args.data;
        options = trainingCheckOptions(probeProjectData(*project, dataDir, dataDir.has_value()));
    }
    options.requireLoss = !keras;
    if (args.maxSize)
        options.maxInputSize = std::max(1, *args.maxSize);
    core::CheckResult result = core::checkGraph(graph, options);
    // Derived from the check's symbolic sizes, exactly: --max-size no longer caps it.
    core::InputSizeReport sizes = core::validInputSizes(graph, result);
    if (args.json)
        std::cout << core::checkReportToJson(graph, result, sizes)
                         .dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    else
        std::cout << core::checkReportToText(graph, result, sizes, file);
    return result.hasErrors() ? kExitFindings : kExitOk;
}

} // namespace

Command addCheckCommand(CLI::App& app) {
    auto args = std::make_shared<CheckArgs>();
    CLI::App* cmd =
        app.add_subcommand("check", "Infer the tensor type on every edge and report every mistake");
    cmd->add_option("FILE", args->file, "a project, or a Keras model (model.to_json() or .keras)")
        ->required();
    cmd->add_flag("--json", args->json, "print the report as JSON");
    addInteger(*cmd, "--max-size", args->maxSize,
               "largest input size the size sweep tries (default " +
                   std::to_string(core::CheckOptions{}.maxInputSize) + ")");
    addText(*cmd, "--data", args->data,
            "probe DIR/images and DIR/masks instead of the Dataset folders", "DIR");
    cmd->add_flag("--no-data", args->noData, "do not probe the data (even with --data)");
    cmd->footer(
        "A Keras model carries no loss (that is in model.compile()): no-loss is then a warning.\n"
        "A project's Dataset folders (or DIR/images, DIR/masks) are probed so the report shows "
        "the\n"
        "data's real types and data mistakes.\n"
        "Exit 0: clean (warnings allowed), 1: errors found, 2: unreadable input.");
    return {cmd, [args] { return runCheck(*args); }};
}

} // namespace segforge::cli
