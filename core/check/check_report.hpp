#pragma once

#include "check/check_result.hpp"
#include "check/valid_input_sizes.hpp"
#include "graph/graph.hpp"

#include <nlohmann/json.hpp>
#include <string>

namespace segforge::core {

/// The stable JSON of `segforge-cli check --json`:
/// {"nodes":[{"id","name","op","outputs":[{"port","shape":[null,128,128,16],"dtype"}]}],
///  "diagnostics":[{"severity","code","node","port","message",
///                  "fixes":[{"index","description","rank","reason","apply","edits"}]}],
///  "input_sizes":{…}}
nlohmann::json checkReportToJson(const Graph& graph, const CheckResult& result,
                                 const InputSizeReport& sizes);

/// One diagnostic as the text report shows it:
/// "FILE: error[code] 'node'.port: message" and a line per fix:
/// "  fix N: description [rank: reason] (code@node#N)".
std::string diagnosticToText(const Graph& graph, const Diagnostic& d, const std::string& fileLabel);

/// Compiler-style text: one line per edge type, one block per diagnostic.
std::string checkReportToText(const Graph& graph, const CheckResult& result,
                              const InputSizeReport& sizes, const std::string& fileLabel);

} // namespace segforge::core
