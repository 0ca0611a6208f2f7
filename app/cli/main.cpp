#include "cli/commands.hpp"
#include "util/version.hpp"

#include <cstring>
#include <iostream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    using namespace segforge::cli;
    CLI::App app{"segforge-cli — build and check image-segmentation networks", "segforge-cli"};
    app.set_version_flag("--version", std::string("segforge-cli ") + segforge::kVersion,
                         "Print the version and exit");
    app.require_subcommand(0, 1);
    app.allow_extras(); // an unknown command is named below
    app.footer("Run 'segforge-cli COMMAND --help' for a command's options.");
    app.option_defaults()->multi_option_policy(
        CLI::MultiOptionPolicy::TakeLast); // a repeated option: the last
    const std::vector<Command> commands = {
        addCheckCommand(app),  addFixCommand(app),        addTemplateCommand(app),
        addOpsCommand(app),    addSampleDataCommand(app), addTrainCommand(app),
        addBenchCommand(app),  addPredictCommand(app),    addImportCommand(app),
        addExportCommand(app),
    };
    for (const Command& c : commands)
        c.app->allow_extras(); // an unknown option is named by leftoverArgument

    if (argc == 2 && std::strcmp(argv[1], "help") == 0) {
        std::cout << app.help();
        return kExitOk;
    }
    const Command* chosen = nullptr;
    std::string error;
    try {
        app.parse(argc, argv);
        for (const Command& c : commands)
            if (c.app->parsed())
                chosen = &c;
        if (!chosen && app.remaining().empty()) { // no command at all
            std::cout << app.help();
            return kExitBadInput;
        }
        error = chosen ? leftoverArgument(*chosen->app)
                       : "unknown command '" + app.remaining().front() + "'";
    } catch (const CLI::CallForHelp&) {
        std::cout << app.help(); // the chosen command's usage, if any
        return kExitOk;
    } catch (const CLI::CallForAllHelp&) {
        std::cout << app.help("", CLI::AppFormatMode::All);
        return kExitOk;
    } catch (const CLI::CallForVersion& v) {
        std::cout << v.what() << "\n";
        return kExitOk;
    } catch (const CLI::ParseError& e) {
        for (const Command& c : commands)
            if (c.app->parsed())
                chosen = &c;
        error = e.what();
    }
    if (!error.empty()) {
        const std::string command = chosen ? " " + chosen->app->get_name() : std::string();
        std::cerr << "segforge-cli" << command << ": " << error << "\n"
                  << "run 'segforge-cli" << command << " --help' for "
                  << (chosen ? "its options" : "the commands") << "\n";
        return kExitBadInput;
    }
    try {
        return chosen->run();
    } catch (const std::exception& e) {
        std::cerr << "segforge-cli " << chosen->app->get_name() << ": internal error: " << e.what()
                  << "\n";
        return kExitInternalError;
    }
}
