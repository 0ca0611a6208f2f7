#pragma once

#include "cli/options.hpp"

namespace segforge::cli {

/// Exit codes shared by all commands:
///   0  success (warnings may have been printed)
///   1  kExitFindings: the checker found errors — `check`, `fix` (errors left after
///      its fixes), and `train`, which runs
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
inline constexpr int kExitFindings = 1;      ///< the input has errors (check, train's pre-flight)
inline constexpr int kExitBadInput = 2;      ///< unreadable input or bad usage
inline constexpr int kExitInternalError = 4; ///< out of memory or a bug, never bad input

/// Each command adds itself to the app as a subcommand: its options, their
/// bounds and its usage text live with it (options.hpp).
Command addCheckCommand(CLI::App& app);
Command addFixCommand(CLI::App& app);
Command addTemplateCommand(CLI::App& app);
Command addOpsCommand(CLI::App& app);
Command addSampleDataCommand(CLI::App& app);
Command addImportCommand(CLI::App& app);
Command addExportCommand(CLI::App& app);
Command addTrainCommand(CLI::App& app);
Command addBenchCommand(CLI::App& app);
Command addPredictCommand(CLI::App& app);

} // namespace segforge::cli
