#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/valid_input_sizes.hpp"
#include "cli/commands.hpp"
#include "cli/model_input.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <unordered_map>

namespace segforge::cli {

namespace {

struct CheckArgs {
    std::string file;
    bool json = false;
    CheckDataArgs check;
};

int runCheck(const CheckArgs& args) {
    const std::string& file = args.file;
    ModelInput input = readModelInput(file);
    const std::optional<core::Project>& project = input.project;
    const std::vector<std::string>& errors = input.errors;
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
    const core::CheckOptions options = checkOptionsFor(input, args.check);
    core::CheckResult result = core::checkGraph(graph, options);
    // Derived from the check's symbolic sizes: exact, with no cap.
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
    cmd->add_option("FILE", args->file,
                    "a project, a Keras model (model.to_json() or .keras) or an ONNX model")
        ->required();
    cmd->add_flag("--json", args->json, "print the report as JSON");
    addCheckDataOptions(*cmd, args->check);
    cmd->footer(
        "A Keras model carries no loss (that is in model.compile()): no-loss is then a warning.\n"
        "A project's Dataset folders (or DIR/images, DIR/masks) are probed so the report shows "
        "the\n"
        "data's real types and data mistakes.\n"
        "Exit 0: clean (warnings allowed), 1: errors found, 2: unreadable input.");
    return {cmd, [args] { return runCheck(*args); }};
}

} // namespace segforge::cli
