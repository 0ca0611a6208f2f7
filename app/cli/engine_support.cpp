#include "cli/engine_support.hpp"

#include "cli/load_messages.hpp"
#include "project/project_file.hpp"

#include <iostream>

namespace segforge::cli {

std::optional<core::Project> loadProjectOrReport(const std::string& command,
                                                 const std::string& file) {
    core::ProjectLoad load = core::loadProject(file);
    printLoadMessages(load.warnings);
    if (!load.ok()) {
        for (const auto& e : load.errors)
            std::cerr << "segforge-cli " << command << ": " << e << "\n";
        return std::nullopt;
    }
    return std::move(*load.project);
}

std::unique_ptr<core::Executor> compileOrReport(const std::string& command,
                                                const core::Graph& graph) {
    std::string error;
    auto executor = core::Executor::compile(graph, error);
    if (!executor)
        std::cerr << "segforge-cli " << command << ": " << error << "\n";
    return executor;
}

} // namespace segforge::cli
