#include "cli/commands.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"

#include <iostream>
#include <memory>

namespace segforge::cli {

namespace {

struct TemplateArgs {
    std::string name;
    std::string out;
    std::optional<int> depth, filters, size, channels, classes;
    bool batchnorm = false;
    std::optional<std::string> up;
};

int runTemplate(const TemplateArgs& args) {
    core::UNetOptions o;
    o.depth = args.depth.value_or(o.depth);
    o.filters = args.filters.value_or(o.filters);
    o.size = args.size.value_or(o.size);
    o.channels = args.channels.value_or(o.channels);
    o.classes = args.classes.value_or(o.classes);
    o.batchnorm = args.batchnorm;
    if (args.up)
        o.up = *core::parseUpMode(*args.up); // checked when parsed
    auto made = core::makeUNetProject(o);
    if (auto* err = std::get_if<std::string>(&made)) {
        std::cerr << "segforge-cli template: " << *err << "\n";
        return kExitBadInput;
    }
    const auto& project = std::get<core::Project>(made);
    if (std::string err = core::saveProject(project, args.out); !err.empty()) {
        std::cerr << "segforge-cli template: " << err << "\n";
        return kExitBadInput;
    }
    std::cout << "wrote " << args.out << ": " << project.name << ", " << project.graph.nodeCount()
              << " nodes\n";
    return kExitOk;
}

} // namespace

Command addTemplateCommand(CLI::App& app) {
    auto args = std::make_shared<TemplateArgs>();
    const core::UNetOptions defaults;
    auto byDefault = [](int value) { return " (default " + std::to_string(value) + ")"; };
    CLI::App* cmd = app.add_subcommand("template", "Write a complete, clean U-Net project");
    cmd->add_option("TEMPLATE", args->name, "the template: unet")
        ->required()
        ->check(CLI::Validator(
            [](const std::string& name) {
                return name == "unet" ? "" : "the only template is 'unet'";
            },
            "unet"));
    cmd->add_option("-o,--output", args->out, "the project file to write")
        ->required()
        ->type_name("FILE");
    addInteger(*cmd, "--depth", args->depth, "number of poolings" + byDefault(defaults.depth));
    addInteger(*cmd, "--filters", args->filters,
               "filters of the first level" + byDefault(defaults.filters));
    addInteger(*cmd, "--size", args->size, "input height and width" + byDefault(defaults.size));
    addInteger(*cmd, "--channels", args->channels, "image channels" + byDefault(defaults.channels));
    addInteger(*cmd, "--classes", args->classes,
               "1: binary; K > 1: K classes" + byDefault(defaults.classes));
    cmd->add_flag("--batchnorm", args->batchnorm, "batch normalization after every convolution");
    std::string modes;
    for (auto up : {core::UNetOptions::Up::Transpose, core::UNetOptions::Up::Upsample,
                    core::UNetOptions::Up::UpsampleConv})
        modes += (modes.empty() ? "" : "|") + std::string(core::upModeName(up));
    addText(*cmd, "--up", args->up,
            "how the decoder goes up a level (default " +
                std::string(core::upModeName(defaults.up)) + ")",
            modes)
        ->check(CLI::Validator(
            [modes](const std::string& text) {
                return core::parseUpMode(text) ? std::string()
                                               : "must be one of " + modes + ", got '" + text + "'";
            },
            ""));
    return {cmd, [args] { return runTemplate(*args); }};
}

} // namespace segforge::cli
