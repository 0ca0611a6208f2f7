// Fuzz target for the project loader: any bytes must give a project or
// located errors (fuzz_checks.hpp), never a crash, a hang or undefined
// behaviour. A loaded project is also saved back to JSON, checked and laid
// out, since those walk whatever the loader accepted.

#include "check/checker.hpp"
#include "fuzz_checks.hpp"
#include "layout/graph_layout.hpp"
#include "project/project_file.hpp"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace segforge::core;
    const std::string text(reinterpret_cast<const char*>(data), size);
    ProjectLoad load = parseProject(text, "fuzz.segforge");
    segforge::fuzz::requireLocated(load.errors, "fuzz.segforge");
    segforge::fuzz::requireLocated(load.warnings, "fuzz.segforge");
    if (!load.ok())
        return 0;
    const std::string saved =
        projectToJson(*load.project)
            .dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    ProjectLoad again = parseProject(saved, "saved.segforge");
    if (!again.ok()) { // what we write we must read back
        std::fprintf(stderr, "a saved project does not load: %s\n", again.errors.front().c_str());
        std::abort();
    }
    CheckOptions options;
    options.diagnoseInputSize = false;
    const CheckResult check = checkGraph(load.project->graph, options);
    (void)layoutGraph(load.project->graph, check);
    return 0;
}
