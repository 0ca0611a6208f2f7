#pragma once

#include <string>
#include <vector>

namespace segforge::cli {

/// Exit codes shared by all commands.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1; ///< the input has errors (check)
inline constexpr int kExitBadInput = 2; ///< unreadable input or bad usage

int runCheck(const std::vector<std::string>& args);
int runTemplate(const std::vector<std::string>& args);
int runOps(const std::vector<std::string>& args);
int runSampleData(const std::vector<std::string>& args);
int runImport(const std::vector<std::string>& args);
int runExport(const std::vector<std::string>& args);
int runTrain(const std::vector<std::string>& args);
int runBench(const std::vector<std::string>& args);
int runPredict(const std::vector<std::string>& args);

} // namespace segforge::cli
