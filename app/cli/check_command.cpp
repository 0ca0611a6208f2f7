#include "check/check_report.hpp"
#include "check/checker.hpp"
#include "check/input_size_sweep.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "interop/keras_import.hpp"
#include "data/data_probe.hpp"
#include "project/dataset_location.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <optional>
#include <unordered_map>

namespace segforge::cli {

namespace {

/// Probes the folders of every Dataset node (or DIR/images and DIR/masks), so
/// the report shows the data's real types and the data diagnostics, as the
/// editor does. A folder that does not exist is noted and left out: the
/// node's wires then follow its attributes.
std::unordered_map<core::NodeId, core::DataProbe> probeDatasets(const core::Graph& graph, const std::string& file,
                                                                const std::optional<std::string>& dataDir) {
    std::unordered_map<core::NodeId, core::DataProbe> probes;
    for (const auto& [id, node] : graph.nodes()) {
        if (node.op != "Dataset")
            continue;
        std::optional<core::DatasetSpec> spec = core::datasetSpecOf(node, file);
        if (dataDir) {
            spec = spec.value_or(core::DatasetSpec{});
            spec->imagesDir = std::filesystem::path(*dataDir) / "images";
            spec->masksDir = std::filesystem::path(*dataDir) / "masks";
        }
        std::error_code ec;
        if (!spec || !std::filesystem::is_directory(spec->imagesDir, ec)) {
            std::cerr << file << ": note: Dataset '" << node.name << "': "
                      << (spec ? "no folder " + spec->imagesDir.string() : std::string("no images folder set"))
                      << "; its types follow the node's attributes\n";
            continue;
        }
        probes.emplace(id, core::probeDataset(*spec));
    }
    return probes;
}

} // namespace

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
            std::cout << nlohmann::json{{"errors", list}}.dump(2) << "\n";
        }
        for (const auto& e : errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    const core::Graph& graph = project->graph;
    core::CheckOptions options;
    options.requireLoss = !keras;
    if (maxSize)
        options.maxInputSize = std::max(1, *maxSize);
    if (!keras && !args.flag("--no-data"))
        options.dataProbes = probeDatasets(graph, file, args.value("--data"));
    core::CheckResult result = core::checkGraph(graph, options);
    core::InputSizeReport sizes = core::sweepInputSizes(graph, options.maxInputSize);
    if (args.flag("--json"))
        std::cout << core::checkReportToJson(graph, result, sizes).dump(2) << "\n";
    else
        std::cout << core::checkReportToText(graph, result, sizes, file);
    return result.hasErrors() ? kExitFindings : kExitOk;
}

} // namespace segforge::cli
