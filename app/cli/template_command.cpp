#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <iostream>

namespace segforge::cli {

int runTemplate(const std::vector<std::string>& raw) {
    Arguments args(raw, {"--depth", "--filters", "--size", "--channels", "--classes", "--up", "-o", "--output"},
                   {"--batchnorm"});
    core::UNetOptions o;
    auto depth = args.integer("--depth");
    auto filters = args.integer("--filters");
    auto size = args.integer("--size");
    auto channels = args.integer("--channels");
    auto classes = args.integer("--classes");
    auto out = args.value("-o") ? args.value("-o") : args.value("--output");
    const char* usage = "usage: segforge-cli template unet -o FILE [--depth D] [--filters F] "
                        "[--size S] [--channels C] [--classes K] [--batchnorm] "
                        "[--up upsample|transpose|upsample_conv]\n";
    if (!args.ok() || args.positionals().size() != 1 || args.positionals()[0] != "unet" || !out) {
        std::cerr << "segforge-cli template: "
                  << (!args.ok() ? args.error()
                      : args.positionals().size() != 1 || args.positionals()[0] != "unet"
                          ? std::string("the only template is 'unet'")
                          : std::string("missing -o FILE"))
                  << "\n" << usage;
        return kExitBadInput;
    }
    o.depth = depth.value_or(o.depth);
    o.filters = filters.value_or(o.filters);
    o.size = size.value_or(o.size);
    o.channels = channels.value_or(o.channels);
    o.classes = classes.value_or(o.classes);
    o.batchnorm = args.flag("--batchnorm");
    if (auto up = args.value("--up")) {
        auto mode = core::parseUpMode(*up);
        if (!mode) {
            std::cerr << "segforge-cli template: --up must be 'transpose', 'upsample' or 'upsample_conv', got '"
                      << *up << "'\n";
            return kExitBadInput;
        }
        o.up = *mode;
    }
    auto made = core::makeUNetProject(o);
    if (auto* err = std::get_if<std::string>(&made)) {
        std::cerr << "segforge-cli template: " << *err << "\n";
        return kExitBadInput;
    }
    const auto& project = std::get<core::Project>(made);
    if (std::string err = core::saveProject(project, *out); !err.empty()) {
        std::cerr << "segforge-cli template: " << err << "\n";
        return kExitBadInput;
    }
    std::cout << "wrote " << *out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes\n";
    return kExitOk;
}

} // namespace segforge::cli
