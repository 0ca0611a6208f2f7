#pragma once

#include <string>
#include <vector>

namespace segforge::cli {

/// Exit codes shared by all commands:
///   0  success (warnings may have been printed)
///   1  kExitFindings: the checker found errors — `check`, and `train`, which runs
///      the same check on its data first and does not start
///   2  kExitBadInput: bad usage, or input that cannot be read — a missing project
///      or data folder, or a data file that changed or vanished while training
///      ran (on_error='stop'); for `train` also a checkpoint that --resume
///      refuses (each field is validated) and an --out folder that already
///      holds a run when neither --resume nor --overwrite is given
///   3  kExitTrainingFailed (engine_support.hpp): training met NaN or Inf
///   4  kExitInternalError: a failure no input explains — out of memory, a bug;
///      the message says what happened (bad input never ends here)
///   128+N  train stopped by signal N (Ctrl-C: 130), after saving its state
inline constexpr int kExitOk = 0;
inline constexpr int kExitFindings = 1; ///< the input has errors (check, train's pre-flight)
inline constexpr int kExitBadInput = 2; ///< unreadable input or bad usage
inline constexpr int kExitInternalError = 4; ///< out of memory or a bug, never bad input

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
