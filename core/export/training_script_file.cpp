#include "export/training_script_file.hpp"

#include "io/atomic_file.hpp"
#include "ops/op_registry.hpp"

namespace segforge::core {

std::string_view scriptFrameworkName(ScriptFramework framework) {
    return framework == ScriptFramework::Keras ? "keras" : "pytorch";
}

std::optional<ScriptFramework> scriptFrameworkFromName(std::string_view name) {
    if (name == "pytorch")
        return ScriptFramework::PyTorch;
    if (name == "keras")
        return ScriptFramework::Keras;
    return std::nullopt;
}

ScriptExport exportTrainingScript(const Project& project, ScriptFramework framework,
                                  const std::string& weights) {
    return framework == ScriptFramework::Keras ? exportKerasScript(project, weights)
                                               : exportPyTorchScript(project, weights);
}

ScriptExport writeTrainingScript(const Project& project, ScriptFramework framework,
                                 const std::filesystem::path& path, const std::string& weights) {
    ScriptExport e = exportTrainingScript(project, framework, weights);
    if (!e.ok())
        return e;
    if (std::string error = writeFileAtomically(path, e.text); !error.empty())
        e.errors.push_back(std::move(error));
    return e;
}

std::optional<std::filesystem::path> scriptDataFolder(const Project& project,
                                                      ScriptFramework framework) {
    for (const auto& [id, node] : project.graph.nodes()) {
        const OpSchema* schema = OpRegistry::builtin().find(node.op);
        if (!schema || !schema->traits.readsDataset)
            continue;
        auto it = node.attrs.find("images");
        const std::string* images =
            it == node.attrs.end() ? nullptr : std::get_if<std::string>(&it->second);
        if (!images || images->empty())
            return std::nullopt;
        std::filesystem::path dir(*images);
        if (dir.is_relative()) {
            if (project.sourcePath.empty())
                return std::nullopt;
            if (framework == ScriptFramework::Keras) // it joins --data with the relative folder
                return project.sourcePath.parent_path();
            dir = project.sourcePath.parent_path() / dir;
        }
        dir = dir.lexically_normal();
        if (!dir.has_filename()) // "data/images/"
            dir = dir.parent_path();
        return dir.parent_path();
    }
    return std::nullopt;
}

} // namespace segforge::core
