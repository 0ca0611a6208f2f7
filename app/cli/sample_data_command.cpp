#include "cli/arguments.hpp"
#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "data/sample_data.hpp"

#include <iostream>

namespace segforge::cli {

int runSampleData(const std::vector<std::string>& raw) {
    Arguments args(raw, {"-o", "--output", "--count", "--size", "--seed", "--empty"}, {});
    const char* usage = "usage: segforge-cli sample-data -o DIR [--count N] [--size S] [--seed K] [--empty F]\n"
                        "  --empty F   share of images without foreground, 0…1 (default 0.1; 1: all masks empty)\n";
    auto out = args.value("-o") ? args.value("-o") : args.value("--output");
    auto count = args.integer("--count");
    auto size = args.integer("--size");
    auto seed = args.integer("--seed");
    if (!args.ok() || !out || !args.positionals().empty()) {
        std::cerr << "segforge-cli sample-data: "
                  << (!args.ok() ? args.error()
                      : !out     ? std::string("missing -o DIR")
                                 : "unexpected argument '" + args.positionals().front() + "'")
                  << "\n" << usage;
        return kExitBadInput;
    }
    core::SampleDataOptions o;
    o.count = count.value_or(o.count);
    o.size = size.value_or(o.size);
    if (seed && *seed < 0) {
        std::cerr << "segforge-cli sample-data: --seed must be ≥ 0\n";
        return kExitBadInput;
    }
    o.seed = seed ? static_cast<std::uint64_t>(*seed) : o.seed;
    if (auto empty = args.value("--empty")) {
        std::string error;
        const auto share = parseDouble("--empty", *empty, error);
        if (!share || *share < 0 || *share > 1) {
            std::cerr << "segforge-cli sample-data: --empty needs a share between 0 and 1\n";
            return kExitBadInput;
        }
        o.emptyFraction = *share;
    }
    if (std::string err = core::writeSampleData(*out, o); !err.empty()) {
        std::cerr << "segforge-cli sample-data: " << err << "\n";
        return kExitBadInput;
    }
    std::cout << "wrote " << o.count << " image/mask pairs (" << o.size << "×" << o.size << ", seed " << o.seed
              << ") to " << *out << "/images and " << *out << "/masks\n";
    return kExitOk;
}

} // namespace segforge::cli
