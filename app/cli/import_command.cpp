#include "check/checker.hpp"
#include "cli/commands.hpp"
#include "cli/load_messages.hpp"
#include "keras/keras_import.hpp"
#include "project/project_file.hpp"

#include <iostream>
#include <memory>

namespace segforge::cli {

namespace {

struct ImportArgs {
    std::string model, out;
};

int runImport(const std::string& file, const std::string& out) {
    core::KerasImport imported = core::importKerasFile(file);
    printLoadMessages(imported.warnings);
    if (!imported.ok()) {
        for (const auto& e : imported.errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    core::Project& project = *imported.project;
    if (std::string err = core::saveProject(project, out); !err.empty()) {
        std::cerr << "segforge-cli import: " << err << "\n";
        return kExitBadInput;
    }
    int placeholders = 0;
    for (const auto& [id, node] : project.graph.nodes())
        placeholders += node.op == "KerasLayer" ? 1 : 0;
    core::CheckOptions options;
    options.requireLoss = false;
    options.diagnoseInputSize = false;
    core::CheckResult check = core::checkGraph(project.graph, options);
    std::cout << "wrote " << out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes";
    if (placeholders > 0)
        std::cout << " (" << placeholders
                  << " unsupported layer(s) kept as KerasLayer placeholders)";
    std::cout << "\ncheck: " << check.count(core::Severity::Error) << " errors, "
              << check.count(core::Severity::Warning) << " warnings"
              << " — run 'segforge-cli check " << out << "' for details\n"
              << "note: Keras keeps the loss in model.compile(), which to_json() does not save; "
                 "add a loss node before training\n";
    return kExitOk;
}

} // namespace

Command addImportCommand(CLI::App& app) {
    auto args = std::make_shared<ImportArgs>();
    CLI::App* cmd = app.add_subcommand(
        "import", "Import a Keras model; unsupported layers become KerasLayer placeholders");
    cmd->add_option("MODEL", args->model, "model.to_json() output or a .keras archive")->required();
    cmd->add_option("-o,--output", args->out, "the project to write")
        ->required()
        ->type_name("PROJECT.segforge");
    return {cmd, [args] { return runImport(args->model, args->out); }};
}

} // namespace segforge::cli
