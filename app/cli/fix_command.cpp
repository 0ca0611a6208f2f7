#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/fix_application.hpp"
#include "cli/commands.hpp"
#include "cli/model_input.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <vector>

namespace segforge::cli {

namespace {

namespace fs = std::filesystem;

struct FixArgs {
    std::string file;
    std::vector<std::string> apply;
    bool first = false, json = false, dryRun = false;
    std::optional<std::string> out;
    CheckDataArgs check;
};

nlohmann::json appliedJson(const core::AppliedFix& fix) {
    return {{"apply", core::toString(fix.request)},
            {"description", fix.description},
            {"rank", std::string(core::fixRankName(fix.rank))},
            {"reason", fix.reason}};
}

/// Says why nothing was done (as {"errors":[…]} too with --json, as check does).
int refuse(const FixArgs& args, const std::vector<std::string>& why) {
    if (args.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const std::string& w : why)
            list.push_back(w);
        std::cout << nlohmann::json{{"errors", list}}.dump(2, ' ', false,
                                                           nlohmann::json::error_handler_t::replace)
                  << "\n";
    }
    for (const std::string& w : why)
        std::cerr << "segforge-cli fix: " << w << "\n";
    return kExitBadInput;
}

int runFix(const FixArgs& args) {
    // The whole request is validated before anything is read or changed.
    std::vector<core::FixRequest> requests;
    for (const std::string& text : args.apply) {
        std::string error;
        std::optional<core::FixRequest> request = core::parseFixRequest(text, &error);
        if (!request)
            return refuse(args, {error});
        requests.push_back(std::move(*request));
    }
    if (requests.empty() && !args.first)
        return refuse(args,
                      {"nothing to apply: give --apply CODE@NODE[#K] (as 'check --json' lists "
                       "them) or --first"});

    ModelInput input = readModelInput(args.file);
    if (!input.project)
        return refuse(args, input.errors);
    // A Keras or ONNX model is never overwritten with a project.
    if (input.imported() && !args.out && !args.dryRun)
        return refuse(args, {"'" + args.file + "' is " +
                             (input.onnx ? "an ONNX model" : "a Keras model") +
                             ", which fix does not overwrite: name the project to write with -o "
                             "PROJECT.segforge"});
    const std::string output = args.out.value_or(args.file);

    core::Project& project = *input.project;
    core::Graph& graph = project.graph;
    const core::CheckOptions options = checkOptionsFor(input, args.check);

    // Each request is looked up in a fresh check of the graph as the fixes
    // before it left it, so its index is the one that check shows for it.
    std::vector<core::AppliedFix> applied;
    for (const core::FixRequest& request : requests) {
        core::FixOutcome outcome = core::applyFix(graph, request, options);
        if (!outcome.applied)
            return refuse(args,
                          {"cannot apply '" + core::toString(request) + "': " + outcome.error +
                           (applied.empty() ? std::string() : " (nothing was written)")});
        applied.push_back({request, outcome.description, outcome.rank, outcome.reason});
    }
    std::optional<std::string> stuck;
    if (args.first) {
        core::FirstFixesOutcome first = core::applyFirstFixes(graph, options);
        applied.insert(applied.end(), first.applied.begin(), first.applied.end());
        if (!first.clean)
            stuck = first.stuck;
    }

    const core::CheckResult result = core::checkGraph(graph, options);
    if (!args.dryRun) {
        // The weights section names a file beside the project: written
        // elsewhere, the project would name a file that is not there.
        if (project.weights && output != args.file &&
            !fs::exists(fs::path(output).parent_path() / project.weights->file)) {
            std::cerr << "segforge-cli fix: note: " << output << " does not name the weights "
                      << project.weights->file << " (they are not in its folder)\n";
            project.weights.reset();
        }
        if (std::string error = core::saveProject(project, output); !error.empty())
            return refuse(args, {error});
    }

    const std::size_t errors = result.count(core::Severity::Error);
    const std::size_t warnings = result.count(core::Severity::Warning);
    if (args.json) {
        nlohmann::json list = nlohmann::json::array();
        for (const core::AppliedFix& fix : applied)
            list.push_back(appliedJson(fix));
        nlohmann::json report = core::checkReportToJson(graph, result, core::InputSizeReport{});
        nlohmann::json doc = {
            {"applied", list},
            {"stuck", stuck ? nlohmann::json(*stuck) : nlohmann::json(nullptr)},
            {"written", args.dryRun ? nlohmann::json(nullptr) : nlohmann::json(output)},
            {"diagnostics", report["diagnostics"]},
            {"summary", report["summary"]}};
        std::cout << doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    } else {
        for (const core::AppliedFix& fix : applied) {
            std::cout << "applied " << core::toString(fix.request) << ": " << fix.description
                      << " [" << core::fixRankName(fix.rank) << (fix.reason.empty() ? "" : ": ")
                      << fix.reason << "]\n";
        }
        if (applied.empty())
            std::cout << "no fix applied\n";
        if (stuck)
            std::cout << "--first stopped: " << *stuck << "\n";
        const std::string label = args.dryRun ? args.file : output;
        for (const core::Diagnostic& d : result.diagnostics)
            std::cout << "\n" << core::diagnosticToText(graph, d, label);
        std::cout << "\n"
                  << (errors == 0 ? "ok: " : "") << errors
                  << (errors == 1 ? " error, " : " errors, ") << warnings
                  << (warnings == 1 ? " warning" : " warnings") << " left\n"
                  << (args.dryRun ? "dry run: nothing written" : "wrote " + output) << "\n";
    }
    return errors == 0 ? kExitOk : kExitFindings;
}

} // namespace

Command addFixCommand(CLI::App& app) {
    auto args = std::make_shared<FixArgs>();
    CLI::App* cmd = app.add_subcommand(
        "fix", "Apply the checker's fixes (by CODE@NODE#K, or the top one of each finding)");
    cmd->add_option("FILE", args->file, "a project, or a Keras model (model.to_json() or .keras)")
        ->required();
    cmd->add_option("--apply", args->apply,
                    "apply fix K (default 1) of finding CODE on NODE, as 'check --json' lists it "
                    "under \"apply\" (CODE@ for a finding on the whole graph); repeatable, "
                    "applied in order")
        ->type_name("CODE@NODE[#K]")
        ->expected(1)
        ->allow_extra_args(false) // --apply A FILE: FILE is the positional
        ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    cmd->add_flag("--first", args->first,
                  "then apply the top fix of the first finding that has one (errors first), "
                  "re-check, and repeat until no error is left or no fix helps");
    addText(*cmd, "-o,--output", args->out,
            "the project to write (default: FILE, which must then be a project)",
            "PROJECT.segforge");
    cmd->add_flag("--dry-run", args->dryRun, "apply and report, but write nothing");
    cmd->add_flag("--json", args->json, "print what was applied and what is left as JSON");
    addCheckDataOptions(*cmd, args->check);
    cmd->footer("Each fix is looked up in a fresh check of the graph the fixes before it left,\n"
                "so K is the number 'check' shows for it at that point. A request that names no\n"
                "finding or no such fix is refused, and nothing is written.\n"
                "Exit 0: clean (warnings allowed), 1: errors left, 2: unreadable input or a bad "
                "request.");
    return {cmd, [args] { return runFix(*args); }};
}

} // namespace segforge::cli
