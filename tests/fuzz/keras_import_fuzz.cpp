// Fuzz target for the Keras model importer: any bytes must give a project or
// located errors (fuzz_checks.hpp), never a crash, a hang or undefined behaviour. A successful
// import is also checked and exported, since those walk whatever graph the importer made.

#include "check/checker.hpp"
#include "export/python_script_export.hpp"
#include "fuzz_checks.hpp"
#include "keras/keras_import.hpp"
#include "keras/keras_json_export.hpp"
#include "onnx/onnx_export.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace segforge::core;
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    KerasImport imported = importKerasJson(text, "fuzz.json");
    segforge::fuzz::requireLocated(imported.errors, "fuzz.json");
    segforge::fuzz::requireLocated(imported.warnings, "fuzz.json");
    if (!imported.ok())
        return 0;
    CheckOptions options;
    options.diagnoseInputSize = false;
    options.requireLoss = false;
    (void)checkGraph(imported.project->graph, options);
    (void)exportKerasJson(imported.project->graph, imported.project->name);
    // No weights: every parameter is reported missing, and the emission goes on.
    (void)exportOnnx(imported.project->graph, imported.project->name,
                     [](const std::string&) { return nullptr; });
    (void)exportPyTorchScript(*imported.project, "");
    return 0;
}
