#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/input_size_sweep.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "project/project_file.hpp"

#include <iostream>

namespace segforge::cli {

int runCheck(const std::vector<std::string>& raw) {
    Arguments args(raw, {"--max-size"}, {"--json"});
    auto maxSize = args.integer("--max-size");
    if (!args.ok() || args.positionals().size() != 1) {
        std::cerr << "segforge-cli check: " << (args.ok() ? "expected one FILE" : args.error())
                  << "\nusage: segforge-cli check FILE [--json] [--max-size N]\n";
        return kExitBadInput;
    }
    const std::string file = args.positionals().front();
    core::ProjectLoad load = core::loadProject(file);
    for (const auto& w : load.warnings)
        std::cerr << w << " (warning)\n";
    if (!load.ok()) {
        if (args.flag("--json")) {
            nlohmann::json errors = nlohmann::json::array();
            for (const auto& e : load.errors)
                errors.push_back(e);
            std::cout << nlohmann::json{{"errors", errors}}.dump(2) << "\n";
        }
        for (const auto& e : load.errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    const core::Graph& graph = load.project->graph;
    core::CheckOptions options;
    if (maxSize)
        options.maxInputSize = std::max(1, *maxSize);
    core::CheckResult result = core::checkGraph(graph, options);
    core::InputSizeReport sizes = core::sweepInputSizes(graph, options.maxInputSize);
    if (args.flag("--json"))
        std::cout << core::checkReportToJson(graph, result, sizes).dump(2) << "\n";
    else
        std::cout << core::checkReportToText(graph, result, sizes, file);
    return result.hasErrors() ? kExitFindings : kExitOk;
}

} // namespace segforge::cli
