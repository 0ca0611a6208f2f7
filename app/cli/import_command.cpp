#include "check/checker.hpp"
#include "cli/commands.hpp"
#include "cli/load_messages.hpp"
#include "cli/options.hpp"
#include "engine/project_weights.hpp"
#include "io/safetensors.hpp"
#include "keras/keras_import.hpp"
#include "onnx/onnx_import.hpp"
#include "ops/builtin_ops.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <memory>

namespace segforge::cli {

namespace {

struct ImportArgs {
    std::string model, out;
    std::optional<std::string> weights;
};

/// Prints the import's warnings, and its errors when it made no project
/// (then false).
bool printImportMessages(const std::vector<std::string>& warnings,
                         const std::vector<std::string>& errors, bool ok) {
    printLoadMessages(warnings);
    for (const auto& e : ok ? std::vector<std::string>{} : errors)
        std::cerr << e << "\n";
    return ok;
}

bool saveImported(const core::Project& project, const std::string& out) {
    if (std::string err = core::saveProject(project, out); !err.empty()) {
        std::cerr << "segforge-cli import: " << err << "\n";
        return false;
    }
    return true;
}

void printCheckSummary(const core::Project& project, const std::string& out) {
    core::CheckOptions options;
    options.requireLoss = false;
    options.diagnoseInputSize = false;
    core::CheckResult check = core::checkGraph(project.graph, options);
    std::cout << "\ncheck: " << check.count(core::Severity::Error) << " errors, "
              << check.count(core::Severity::Warning) << " warnings"
              << " — run 'segforge-cli check " << out << "' for details\n";
}

int runOnnxImport(const std::string& file, const std::string& out,
                  const std::optional<std::string>& weightsFile) {
    core::OnnxImportOptions options;
    core::SafetensorsData stateDict;
    if (weightsFile) {
        std::string error;
        stateDict = core::loadSafetensors(*weightsFile, error);
        if (!error.empty()) {
            std::cerr << error << "\n";
            return kExitBadInput;
        }
        options.stateDict = &stateDict.tensors;
        options.stateDictLabel = *weightsFile;
    }
    core::OnnxImport imported = core::importOnnxFile(file, options);
    if (!printImportMessages(imported.warnings, imported.errors, imported.ok()))
        return kExitBadInput;
    core::Project& project = *imported.project;
    if (!imported.weights.empty()) {
        core::SavedWeights saved = core::writeWeightsMap(out, project.graph, imported.weights);
        if (!saved.section) {
            std::cerr << "segforge-cli import: " << saved.error << "\n";
            return kExitBadInput;
        }
        project.weights = saved.section;
    }
    if (!saveImported(project, out))
        return kExitBadInput;
    std::cout << "wrote " << out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes";
    if (imported.placeholders > 0)
        std::cout << " (" << imported.placeholders
                  << " unsupported ONNX node(s) kept as OnnxNode placeholders)";
    if (project.weights)
        std::cout << "\nweights: " << imported.weights.size() << " tensors in "
                  << project.weights->file;
    if (weightsFile) {
        std::cout << "\nstate_dict: " << imported.stateDictMatched << " of "
                  << stateDict.tensors.size() << " tensors matched";
        if (!imported.stateDictUnused.empty()) {
            std::cout << "; unused:";
            for (std::size_t i = 0; i < imported.stateDictUnused.size() && i < 5; ++i)
                std::cout << (i ? ", " : " ") << imported.stateDictUnused[i];
            if (imported.stateDictUnused.size() > 5)
                std::cout << ", … and " << imported.stateDictUnused.size() - 5 << " more";
        }
    }
    printCheckSummary(project, out);
    std::cout << "note: an ONNX file holds the inference network only, no loss; add a loss node "
                 "before training\n";
    return kExitOk;
}

int runImport(const std::string& file, const std::string& out,
              const std::optional<std::string>& weightsFile) {
    if (core::looksLikeOnnxFile(file) || std::filesystem::path(file).extension() == ".onnx")
        return runOnnxImport(file, out, weightsFile);
    if (weightsFile) {
        std::cerr << "segforge-cli import: --weights takes a PyTorch state_dict for an ONNX "
                     "model; '"
                  << file << "' is not one\n";
        return kExitBadInput;
    }
    core::KerasImport imported = core::importKerasFile(file);
    if (!printImportMessages(imported.warnings, imported.errors, imported.ok()))
        return kExitBadInput;
    core::Project& project = *imported.project;
    if (!saveImported(project, out))
        return kExitBadInput;
    int placeholders = 0;
    for (const auto& [id, node] : project.graph.nodes())
        placeholders += node.op == core::ops::kKerasLayerOp ? 1 : 0;
    std::cout << "wrote " << out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes";
    if (placeholders > 0)
        std::cout << " (" << placeholders
                  << " unsupported layer(s) kept as KerasLayer placeholders)";
    printCheckSummary(project, out);
    std::cout << "note: Keras keeps the loss in model.compile(), which to_json() does not save; "
                 "add a loss node before training\n";
    return kExitOk;
}

} // namespace

Command addImportCommand(CLI::App& app) {
    auto args = std::make_shared<ImportArgs>();
    CLI::App* cmd = app.add_subcommand(
        "import", "Import a Keras or ONNX model; what SegForge cannot compute becomes a "
                  "placeholder (KerasLayer, OnnxNode)");
    cmd->add_option("MODEL", args->model,
                    "model.to_json() output, a .keras archive or an .onnx model")
        ->required();
    cmd->add_option("-o,--output", args->out, "the project to write")
        ->required()
        ->type_name("PROJECT.segforge");
    addText(*cmd, "--weights", args->weights,
            "an ONNX model's PyTorch state_dict as safetensors, used in place of the file's "
            "initializers (matched by name)",
            "STATE_DICT.safetensors");
    return {cmd, [args] { return runImport(args->model, args->out, args->weights); }};
}

} // namespace segforge::cli
