#pragma once

// The command line's parts every command shares, on CLI11: each command is a
// subcommand of one CLI::App, declares its options there (their bounds too),
// and CLI11 writes its usage (`segforge-cli COMMAND --help`) from them.

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>

namespace segforge::cli {

/// A command: its subcommand, and what runs it once the command line parsed
/// (the options it declared are filled then). Returns the exit code.
struct Command {
    CLI::App* app = nullptr;
    std::function<int()> run;
};

/// Bounds of a number option, checked when it is parsed.
struct Bounds {
    std::optional<double> lowest;  ///< value ≥ lowest
    std::optional<double> above;   ///< value > above
    std::optional<double> highest; ///< value ≤ highest

    static Bounds atLeast(double v) { return {v, std::nullopt, std::nullopt}; }
    static Bounds greaterThan(double v) { return {std::nullopt, v, std::nullopt}; }
    static Bounds between(double lo, double hi) { return {lo, std::nullopt, hi}; }
};

/// An integer option `names` (CLI11 spelling, e.g. "--epochs" or "-o,--out").
/// Anything else is refused with "option --epochs expects an integer, got
/// 'x'", a value outside `bounds` with "option --epochs must be ≥ 1, got '0'".
CLI::Option* addInteger(CLI::App& command, const std::string& names, std::optional<int>& into,
                        const std::string& description, Bounds bounds = {});
/// The same, for an option whose default `into` already holds.
CLI::Option* addInteger(CLI::App& command, const std::string& names, int& into,
                        const std::string& description, Bounds bounds = {});

/// A finite floating-point option, refused as addInteger refuses ("expects a number").
CLI::Option* addNumber(CLI::App& command, const std::string& names, std::optional<double>& into,
                       const std::string& description, Bounds bounds = {});

/// A text option (a path, a name): `into` holds it when it was given.
CLI::Option* addText(CLI::App& command, const std::string& names, std::optional<std::string>& into,
                     const std::string& description, const std::string& typeName = "TEXT");

/// Arguments no option or positional took (the command allows them so that
/// the message names them): "unknown option --dept" or "unexpected argument
/// 'b'"; "" when there are none.
std::string leftoverArgument(const CLI::App& command);

} // namespace segforge::cli
