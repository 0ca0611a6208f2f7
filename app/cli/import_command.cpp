#include "check/checker.hpp"
#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "keras/keras_import.hpp"
#include "project/project_file.hpp"

#include <iostream>

namespace segforge::cli {

int runImport(const std::vector<std::string>& raw) {
    Arguments args(raw, {"-o", "--output"}, {});
    auto out = args.value("-o") ? args.value("-o") : args.value("--output");
    if (!args.ok() || args.positionals().size() != 1 || !out) {
        std::cerr << "segforge-cli import: "
                  << (!args.ok() ? args.error()
                      : !out     ? std::string("missing -o FILE")
                                 : std::string("expected one Keras model file"))
                  << "\nusage: segforge-cli import MODEL.json|MODEL.keras -o PROJECT.segforge\n";
        return kExitBadInput;
    }
    const std::string file = args.positionals().front();
    core::KerasImport imported = core::importKerasFile(file);
    for (const auto& w : imported.warnings)
        std::cerr << w << " (warning)\n";
    if (!imported.ok()) {
        for (const auto& e : imported.errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    core::Project& project = *imported.project;
    if (std::string err = core::saveProject(project, *out); !err.empty()) {
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
    std::cout << "wrote " << *out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes";
    if (placeholders > 0)
        std::cout << " (" << placeholders << " unsupported layer(s) kept as KerasLayer placeholders)";
    std::cout << "\ncheck: " << check.count(core::Severity::Error) << " errors, "
              << check.count(core::Severity::Warning) << " warnings"
              << " — run 'segforge-cli check " << *out << "' for details\n"
              << "note: Keras keeps the loss in model.compile(), which to_json() does not save; "
                 "add a loss node before training\n";
    return kExitOk;
}

} // namespace segforge::cli
