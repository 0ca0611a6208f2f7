#include "cli/preflight.hpp"

#include "check/check_report.hpp"
#include "cli/commands.hpp"
#include "engine/training_setup.hpp"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <stdexcept>

namespace segforge::cli {

std::unordered_map<core::NodeId, core::DataProbe>
probeProjectData(const core::Project& project, const std::optional<std::string>& dataDir,
                 bool requireData) {
    std::unordered_map<core::NodeId, core::DataProbe> probes;
    core::TrainingOverrides overrides;
    if (dataDir)
        overrides.dataDir = std::filesystem::path(*dataDir);
    for (const auto& [id, node] : project.graph.nodes()) {
        if (node.op != "Dataset")
            continue;
        core::PipelineOptions pipeline;
        try {
            pipeline = core::pipelineOptionsFor(project, node, overrides);
        } catch (const std::invalid_argument&) { // no images folder set
            core::DataProbe missing;
            missing.folderError = "no images folder is set (its 'images' attribute, or --data DIR)";
            missing.folderOptional = !requireData;
            probes.emplace(id, std::move(missing));
            continue;
        } catch (const std::exception&) { // a malformed attribute: the checker names it
            continue;
        }
        // Every file, as training will decode every file: a sample could miss
        // the one bad file that training then skips or stops at.
        core::ProbeOptions options;
        options.fullScan = true;
        options.maxImagePixels = pipeline.maxImagePixels;
        core::DataProbe probe = core::probeDataset(pipeline.spec, options);
        probe.folderOptional = !requireData;
        probes.emplace(id, std::move(probe));
    }
    return probes;
}

core::CheckOptions trainingCheckOptions(std::unordered_map<core::NodeId, core::DataProbe> probes) {
    core::CheckOptions options;
    // Only data at hand is held to the Dataset's declared types.
    options.forTraining = std::any_of(probes.begin(), probes.end(), [](const auto& entry) {
        return entry.second.folderError.empty() || !entry.second.folderOptional;
    });
    options.dataProbes = std::move(probes);
    return options;
}

int preflightTraining(const core::Project& project, const std::string& file,
                      const std::optional<std::string>& dataDir) {
    core::CheckOptions options = trainingCheckOptions(probeProjectData(project, dataDir, true));
    options.validationSplit = project.training.validationSplit;
    // A folder that is missing or cannot be listed is input that cannot be
    // read (exit 2, as for a missing project file); anything else the check
    // finds in readable data is a finding (exit 1, as check exits).
    bool unreadableFolder = false;
    for (const auto& [id, probe] : options.dataProbes)
        unreadableFolder = unreadableFolder || !probe.folderError.empty();
    const core::CheckResult result = core::checkGraph(project.graph, options);
    for (const core::Diagnostic& d : result.diagnostics) {
        if (d.severity != core::Severity::Info)
            std::cerr << core::diagnosticToText(project.graph, d, file);
    }
    const std::size_t errors = result.count(core::Severity::Error);
    if (errors == 0)
        return kExitOk;
    std::cerr << "segforge-cli train: not started: the check found " << errors
              << (errors == 1 ? " error" : " errors") << " (segforge-cli check " << file
              << (dataDir ? " --data " + *dataDir : std::string()) << " shows the whole report)\n";
    return unreadableFolder ? kExitBadInput : kExitFindings;
}

} // namespace segforge::cli
