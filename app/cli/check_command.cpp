#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/input_size_sweep.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/preflight.hpp"
#include "keras/keras_import.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <optional>
#include <unordered_map>

namespace segforge::cli {

int runCheck(const std::vector<std::string>& raw) {
    Arguments args(raw, {"--max-size", "--data"}, {"--json", "--no-data"});
    auto maxSize = args.integer("--max-size");
    if (!args.ok() || args.positionals().size() != 1) {
        std::cerr << "segforge-cli check: " << (args.ok() ? "expected one FILE" : args.error())
                  << "\nusage: segforge-cli check FILE [--json] [--max-size N] [--data DIR | --no-data]\n";
        return kExitBadInput;
    }
    const std::string file = args.positionals().front();
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
        if (args.flag("--json")) {
            nlohmann::json list = nlohmann::json::array();
            for (const auto& e : errors)
                list.push_back(e);
            std::cout << nlohmann::json{{"errors", list}}.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        }
        for (const auto& e : errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    const core::Graph& graph = project->graph;
    core::CheckOptions options;
    // With data, the check is the one train runs before it starts (preflight):
    // --data naming a missing folder is an error, as it is for train.
    if (!keras && !args.flag("--no-data")) {
        const auto dataDir = args.value("--data");
        options = trainingCheckOptions(probeProjectData(*project, dataDir, dataDir.has_value()));
    }
    options.requireLoss = !keras;
    if (maxSize)
        options.maxInputSize = std::max(1, *maxSize);
    core::CheckResult result = core::checkGraph(graph, options);
    core::InputSizeReport sizes = core::sweepInputSizes(graph, options.maxInputSize);
    if (args.flag("--json"))
        std::cout << core::checkReportToJson(graph, result, sizes).dump(2, ' ', false, nlohmann::json::error_handler_t::replace)
                  << "\n";
    else
        std::cout << core::checkReportToText(graph, result, sizes, file);
    return result.hasErrors() ? kExitFindings : kExitOk;
}

} // namespace segforge::cli
