#include "check/checker.hpp"
#include "cli/commands.hpp"
#include "engine/initializers.hpp"
#include "engine/project_weights.hpp"
#include "export/training_script_file.hpp"
#include "io/atomic_file.hpp"
#include "io/safetensors.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "onnx/onnx_export.hpp"
#include "project/project_file.hpp"

#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

namespace segforge::cli {

namespace {

/// The parameters as `segforge-cli train` starts from them: the executor's
/// initialisers, in its order (topological, then per node), from the project's seed.
std::map<std::string, core::Tensor> initialWeights(const core::Graph& graph, std::uint64_t seed) {
    core::CheckOptions options;
    options.diagnoseInputSize = false;
    options.requireLoss = false;
    const core::CheckResult check = core::checkGraph(graph, options);
    std::map<std::string, core::Tensor> weights;
    std::uint64_t index = 0;
    for (core::NodeId id : check.order) {
        auto nc = check.nodes.find(id);
        if (nc == check.nodes.end())
            continue;
        for (const core::ParamSpec& spec : nc->second.params) {
            core::Tensor value(core::Shape(spec.shape), core::DType::Float32);
            core::initializeParameter(value, spec, seed * 1000003ull + index++);
            weights.emplace(graph.findNode(id)->name + "/" + spec.name, std::move(value));
        }
    }
    return weights;
}

/// The ONNX model with weights from `weightsFile`, or the seeded initial weights.
core::OnnxExport exportOnnxFile(const core::Project& project, const std::string& weightsFile) {
    std::map<std::string, core::Tensor> weights;
    std::vector<std::string> warnings;
    if (weightsFile.empty()) {
        try {
            weights =
                initialWeights(project.graph, static_cast<std::uint64_t>(project.training.seed));
        } catch (const std::exception& e) { // an initializer the engine does not know
            core::OnnxExport failed;
            failed.errors.push_back(std::string("cannot make the initial weights: ") + e.what());
            return failed;
        }
        warnings.push_back("no --weights: the model carries the initial weights (seed " +
                           std::to_string(project.training.seed) + ")");
    } else {
        std::string error;
        weights = core::loadSafetensors(weightsFile, error).tensors;
        if (!error.empty()) {
            core::OnnxExport failed;
            failed.errors.push_back(error);
            return failed;
        }
    }
    core::OnnxExport e =
        core::exportOnnx(project.graph, project.name, [&](const std::string& name) {
            auto it = weights.find(name);
            return it == weights.end() ? nullptr : &it->second;
        });
    e.warnings.insert(e.warnings.end(), warnings.begin(), warnings.end());
    return e;
}

struct ExportArgs {
    std::string file, to, out;
    std::optional<std::string> weights;
};

int runExport(const ExportArgs& args) {
    const std::string& file = args.file;
    std::optional<core::Project> project;
    std::vector<std::string> errors;
    if (core::looksLikeKerasFile(file)) {
        core::KerasImport imported = core::importKerasFile(file);
        project = std::move(imported.project);
        errors = std::move(imported.errors);
    } else {
        core::ProjectLoad load = core::loadProject(file);
        project = std::move(load.project);
        errors = std::move(load.errors);
    }
    if (!project) {
        for (const auto& e : errors)
            std::cerr << e << "\n";
        return kExitBadInput;
    }
    std::string weights = args.weights.value_or("");
    // Without --weights, the weights saved with the project (not for a Keras file).
    if (weights.empty() && project->weights && !project->sourcePath.empty()) {
        weights = core::projectSibling(project->sourcePath, project->weights->file).string();
        std::cerr << file
                  << ": using the weights saved with the project: " << project->weights->file
                  << "\n";
    }
    if (!weights.empty() && !std::filesystem::exists(weights)) {
        std::cerr << "segforge-cli export: weights file " << weights << " does not exist\n";
        return kExitBadInput;
    }
    std::string text;
    std::vector<std::string> warnings;
    if (args.to == "keras-json") {
        core::KerasJsonExport e = core::exportKerasJson(project->graph, project->name);
        errors = e.errors;
        warnings = e.warnings;
        text = e.model.dump(1) + "\n";
    } else if (args.to == "onnx") {
        core::OnnxExport e = exportOnnxFile(*project, weights);
        errors = e.errors;
        warnings = e.warnings;
        text = std::move(e.bytes);
    } else {
        core::ScriptExport e =
            core::exportTrainingScript(*project, *core::scriptFrameworkFromName(args.to), weights);
        errors = e.errors;
        warnings = e.warnings;
        text = e.text;
    }
    for (const auto& w : warnings)
        std::cerr << file << ": " << w << " (warning)\n";
    if (!errors.empty()) {
        for (const auto& e : errors)
            std::cerr << file << ": cannot export: " << e << "\n";
        return kExitBadInput;
    }
    if (std::string err = core::writeFileAtomically(args.out, text); !err.empty()) {
        std::cerr << "segforge-cli export: " << err << "\n";
        return kExitBadInput;
    }
    std::cout << "wrote " << args.out << ": " << project->name << " as " << args.to << "\n";
    return kExitOk;
}

} // namespace

Command addExportCommand(CLI::App& app) {
    auto args = std::make_shared<ExportArgs>();
    CLI::App* cmd =
        app.add_subcommand("export", "Write a training script, Keras model JSON or an ONNX model");
    cmd->add_option("PROJECT", args->file, "a project, or a Keras model")->required();
    cmd->add_option("--to", args->to, "what to write")
        ->required()
        ->check(CLI::IsMember({"keras", "pytorch", "keras-json", "onnx"}));
    cmd->add_option("-o,--output", args->out, "the file to write")->required()->type_name("FILE");
    addText(
        *cmd, "--weights", args->weights,
        "weights (.safetensors) to carry; without it the project's saved weights, if any, else the "
        "seeded initial weights",
        "W");
    cmd->footer("keras, pytorch: a self-contained Python training script (Keras 3 or PyTorch) that "
                "builds the\n"
                "same network with the same layer names; keras-json: Keras 3 model JSON; onnx: an "
                "ONNX model\n"
                "(opset 13, NHWC inputs/outputs) with the weights.");
    return {cmd, [args] { return runExport(*args); }};
}

} // namespace segforge::cli
