#include "cli/commands.hpp"
#include "data/sample_data.hpp"

#include <cstdio>
#include <iostream>
#include <memory>

namespace segforge::cli {

namespace {

struct SampleDataArgs {
    std::string out;
    std::optional<int> count, size, seed;
    std::optional<double> empty;
};

int runSampleData(const SampleDataArgs& args) {
    core::SampleDataOptions o;
    o.count = args.count.value_or(o.count);
    o.size = args.size.value_or(o.size);
    o.seed = args.seed ? static_cast<std::uint64_t>(*args.seed) : o.seed;
    o.emptyFraction = args.empty.value_or(o.emptyFraction);
    if (std::string err = core::writeSampleData(args.out, o); !err.empty()) {
        std::cerr << "segforge-cli sample-data: " << err << "\n";
        return kExitBadInput;
    }
    std::cout << "wrote " << o.count << " image/mask pairs (" << o.size << "×" << o.size
              << ", seed " << o.seed << ") to " << args.out << "/images and " << args.out
              << "/masks\n";
    return kExitOk;
}

} // namespace

Command addSampleDataCommand(CLI::App& app) {
    auto args = std::make_shared<SampleDataArgs>();
    const core::SampleDataOptions defaults;
    CLI::App* cmd = app.add_subcommand("sample-data", "Generate a binary segmentation dataset");
    cmd->add_option("-o,--output", args->out, "the folder to write")->required()->type_name("DIR");
    addInteger(*cmd, "--count", args->count,
               "image/mask pairs (default " + std::to_string(defaults.count) + ")");
    addInteger(*cmd, "--size", args->size,
               "image height and width (default " + std::to_string(defaults.size) + ")");
    addInteger(*cmd, "--seed", args->seed,
               "the same seed gives the same files (default " + std::to_string(defaults.seed) + ")",
               Bounds::atLeast(0));
    char share[32];
    std::snprintf(share, sizeof share, "%g", defaults.emptyFraction);
    addNumber(*cmd, "--empty", args->empty,
              std::string("share of images without foreground (default ") + share +
                  "; 1: all masks empty)",
              Bounds::between(0, 1));
    cmd->footer("Writes DIR/images/*.png (RGB) and DIR/masks/*.png (0/255).");
    return {cmd, [args] { return runSampleData(*args); }};
}

} // namespace segforge::cli
