#include "cli/commands.hpp"
#include "cli/engine_support.hpp"
#include "cli/interrupt_watch.hpp"
#include "cli/preflight.hpp"
#include "engine/project_weights.hpp"
#include "engine/trainer.hpp"
#include "engine/training_setup.hpp"
#include "engine/weights.hpp"
#include "io/atomic_file.hpp"
#include "kernels/parallel.hpp"
#include "ops/op_registry.hpp"
#include "project/run_history_csv.hpp"
#include "util/constants.hpp"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <unistd.h>

namespace segforge::cli {

namespace {

namespace fs = std::filesystem;

// A run folder holds kCheckpointFileName, kMetricsFileName and kWeightsFileName
// (util/constants.hpp); a folder holding one of them is a run.

/// A number as metrics.csv writes it, for the progress lines too.
std::string num(double v, int digits = 6) {
    return core::csvNumber(v, digits);
}

/// The metric nodes by the column they get in metrics.csv: the first
/// DiceCoefficient and IoU nodes, and every other one.
struct MetricColumns {
    std::string dice, iou;
    std::vector<std::string> others;
};

MetricColumns metricColumnsOf(const core::Graph& graph) {
    MetricColumns m;
    const auto& registry = core::OpRegistry::builtin();
    for (const auto& [id, node] : graph.nodes()) {
        const core::OpSchema* s = registry.find(node.op);
        if (!s || s->role != core::OpRole::Metric)
            continue;
        if (node.op == "DiceCoefficient" && m.dice.empty())
            m.dice = node.name;
        else if (node.op == "IoU" && m.iou.empty())
            m.iou = node.name;
        else
            m.others.push_back(node.name);
    }
    return m;
}

/// metrics.csv's layout (project/run_history_csv.hpp): val_dice and val_iou are
/// the first DiceCoefficient / IoU nodes, then val_<name> for every other metric node.
core::RunHistoryCsv metricsCsvFor(const core::Graph& graph) {
    const MetricColumns m = metricColumnsOf(graph);
    return core::RunHistoryCsv::runFolder(m.dice, m.iou, m.others);
}

/// An epoch's row of metrics.csv.
std::string metricsRow(const core::RunHistoryCsv& csv, const core::TrainEvent& e) {
    return csv.epochRow({e.epoch, e.step, e.trainLoss, e.valLoss, e.valMetrics}, e.epochSeconds);
}

/// metrics.csv as a resumed run must continue it: the header and exactly one
/// row per epoch the checkpoint has finished. A row written before a crash
/// whose checkpoint never landed is dropped (the epoch runs again); rows are
/// kept only while they number the epochs 1, 2, … in order. Replaced
/// atomically. Returns "" or a message; `kept` is the number of rows kept.
std::string rebuildMetricsCsv(const fs::path& csvPath, const std::string& header,
                              int finishedEpochs, int& kept) {
    std::string text;
    {
        std::ifstream in(csvPath, std::ios::binary);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    std::string out = header + "\n";
    kept = 0;
    std::size_t pos = text.find('\n'); // the old header is replaced by this run's
    while (pos != std::string::npos && kept < finishedEpochs) {
        const std::size_t next = text.find('\n', pos + 1);
        if (next == std::string::npos) // a row cut short by a crash
            break;
        const std::string row = text.substr(pos + 1, next - pos - 1);
        if (row.rfind(std::to_string(kept + 1) + ",", 0) != 0)
            break;
        out += row + "\n";
        ++kept;
        pos = next;
    }
    return core::writeFileAtomically(csvPath, out);
}

std::string metricSummary(const std::map<std::string, double>& metrics, const char* prefix) {
    std::string out;
    for (const auto& [name, value] : metrics)
        out += std::string(" ") + prefix + name + " " + num(value, 4);
    return out;
}

/// A progress bar redrawn in place on a terminal; one line per epoch otherwise.
class Progress {
public:
    explicit Progress(bool tty)
        : m_tty(tty) {}

    void batch(const core::TrainEvent& e, std::int64_t firstStep) {
        if (!m_tty)
            return;
        const std::int64_t total =
            static_cast<std::int64_t>(e.epochs) * static_cast<std::int64_t>(e.batches);
        const std::int64_t done = e.step - firstStep;
        const double eta = done > 0 ? e.elapsedSeconds / static_cast<double>(done) *
                                          static_cast<double>(total - e.step)
                                    : std::nan("");
        constexpr int kWidth = 24;
        const int filled =
            static_cast<int>(kWidth * (e.batch + 1) / std::max<std::size_t>(1, e.batches));
        std::string bar(static_cast<std::size_t>(filled), '=');
        bar.resize(kWidth, ' ');
        std::cout << "\r\033[K"
                  << "epoch " << e.epoch + 1 << "/" << e.epochs << " [" << bar << "] "
                  << e.batch + 1 << "/" << e.batches << " loss " << num(e.trainLoss, 4)
                  << metricSummary(e.trainMetrics, "") << "  " << num(e.msPerStep, 4)
                  << " ms/step  ETA " << formatDuration(eta) << std::flush;
    }

    void line(const std::string& text) {
        if (m_tty)
            std::cout << "\r\033[K";
        std::cout << text << "\n" << std::flush;
    }

private:
    bool m_tty;
};

struct TrainArgs {
    std::string project;
    std::optional<std::string> data;
    std::optional<int> epochs, batch, seed, threads;
    std::optional<double> lr, stopAtDice;
    std::string out = "segforge-run";
    bool resume = false, overwrite = false;
};

int runTrain(const TrainArgs& args) {
    if (args.resume && args.overwrite) {
        std::cerr << "segforge-cli train: --resume continues the run in --out and --overwrite "
                     "replaces it: give one "
                     "of them\n";
        return kExitBadInput;
    }
    const auto started = std::chrono::steady_clock::now();
    auto project = loadProjectOrReport("train", args.project);
    if (!project)
        return kExitBadInput;
    const std::string diceMetric = metricColumnsOf(project->graph).dice;
    if (args.stopAtDice && diceMetric.empty()) {
        std::cerr << "segforge-cli train: --stop-at-dice needs a DiceCoefficient metric node in "
                     "the project\n";
        return kExitBadInput;
    }
    const fs::path out = args.out;
    const bool resumeAsked = args.resume, overwrite = args.overwrite;
    if (!resumeAsked && !overwrite) {
        // A run folder is never truncated by accident: its metrics and checkpoint
        // are the record of hours of training.
        std::string found;
        for (const char* name : {kCheckpointFileName, kMetricsFileName})
            if (std::error_code ec; fs::exists(out / name, ec))
                found += std::string(found.empty() ? "" : " and ") + name;
        if (!found.empty()) {
            std::cerr << "segforge-cli train: " << out.string() << " already holds a training run ("
                      << found
                      << "); continue it with --resume, or start over in it with --overwrite\n";
            return kExitBadInput;
        }
    }

    core::TrainingOverrides o;
    if (args.data)
        o.dataDir = fs::path(*args.data);
    o.epochs = args.epochs;
    o.batchSize = args.batch;
    o.learningRate = args.lr;
    if (args.seed)
        o.seed = static_cast<std::uint64_t>(*args.seed);
    o.threads = args.threads;

    std::string error;
    const core::Node* dataset = core::findDatasetNode(project->graph, error);
    if (!dataset) {
        std::cerr << "segforge-cli train: " << error << "\n";
        return kExitFindings;
    }
    // The checker `check --data` runs, over every file: train never starts on
    // data that check reports an error for.
    if (const int refused = preflightTraining(*project, args.project, args.data))
        return refused;
    auto executor = compileOrReport("train", project->graph);
    if (!executor)
        return kExitFindings;
    executor->setKeepIntermediates(false); // nothing inspects them here: the lean memory plan
    std::unique_ptr<core::ImageFolderSource> source;
    std::size_t batchSize = 0;
    try {
        const core::PipelineOptions pipeline = core::pipelineOptionsFor(*project, *dataset, o);
        batchSize = pipeline.batchSize;
        source = std::make_unique<core::ImageFolderSource>(pipeline);
    } catch (const std::exception& e) {
        std::cerr << "segforge-cli train: data: " << e.what() << "\n";
        return kExitBadInput;
    }
    if (source->trainBatchCount() == 0) {
        std::cerr << "segforge-cli train: " << source->trainSize()
                  << " training samples make no full batch of " << batchSize << "; lower --batch\n";
        return kExitBadInput;
    }
    std::error_code ec;
    fs::create_directories(out, ec);
    if (ec) {
        std::cerr << "segforge-cli train: cannot create " << out.string() << ": " << ec.message()
                  << "\n";
        return kExitBadInput;
    }
    // What a killed run left half-written; the finished files are all renamed into place.
    core::removeStaleTemporaries(out);
    if (overwrite) {
        // The old checkpoint must go now: a run stopped before its first checkpoint
        // would otherwise resume the replaced run.
        for (const char* name : {kCheckpointFileName, kMetricsFileName, kWeightsFileName})
            if (fs::remove(out / name, ec); ec) {
                std::cerr << "segforge-cli train: cannot remove " << (out / name).string() << ": "
                          << ec.message() << "\n";
                return kExitBadInput;
            }
    }
    core::TrainerSettings settings =
        core::trainerSettingsFor(project->training, o, source->trainBatchCount());
    settings.checkpointPath = out / kCheckpointFileName;
    core::Trainer trainer(*executor, *source, settings);
    // --resume continues the run in --out; a new run folder continues the run
    // saved with the project (the app's Save writes its checkpoint beside it).
    fs::path resumeFrom;
    if (resumeAsked && fs::exists(settings.checkpointPath))
        resumeFrom = settings.checkpointPath;
    else if (resumeAsked && project->weights && !project->weights->checkpoint.empty())
        if (fs::path saved = core::projectSibling(args.project, project->weights->checkpoint);
            fs::exists(saved))
            resumeFrom = saved;
    const bool resume = !resumeFrom.empty();
    if (resume) {
        if (std::string err = trainer.loadCheckpoint(resumeFrom); !err.empty()) {
            std::cerr << "segforge-cli train: cannot resume: " << err << "\n";
            return kExitBadInput;
        }
        if (resumeFrom != settings.checkpointPath)
            std::cerr << "segforge-cli train: continuing the run saved with the project ("
                      << resumeFrom.string() << ", step " << trainer.step() << ")\n";
    }
    const core::RunHistoryCsv csvFormat = metricsCsvFor(project->graph);
    const fs::path csvPath = out / kMetricsFileName;
    std::string csvError;
    if (resume) {
        int kept = 0;
        csvError = rebuildMetricsCsv(csvPath, csvFormat.header(), trainer.epoch(), kept);
        if (csvError.empty() && kept < trainer.epoch())
            std::cerr << "segforge-cli train: " << csvPath.string() << " has rows for " << kept
                      << " of the " << trainer.epoch()
                      << " finished epochs; the missing rows are not recovered\n";
    } else {
        if (resumeAsked)
            std::cerr << "segforge-cli train: no " << kCheckpointFileName << " in " << out.string()
                      << " to resume; starting from the beginning\n";
        csvError = core::writeFileAtomically(csvPath, csvFormat.header() + "\n");
    }
    if (!csvError.empty()) {
        std::cerr << "segforge-cli train: " << csvError << "\n";
        return kExitBadInput;
    }

    core::setEngineThreads(settings.threads);
    Progress progress(::isatty(::fileno(stdout)) != 0);
    progress.line("training '" + project->name + "': " + std::to_string(source->trainSize()) +
                  " training / " + std::to_string(source->validationSize()) +
                  " validation samples, " + std::to_string(source->trainBatchCount()) +
                  " batches of " + std::to_string(batchSize) + ", " +
                  std::to_string(settings.epochs) + " epochs, " +
                  std::to_string(core::engineThreads()) + " threads" +
                  (resume ? ", resumed at step " + std::to_string(trainer.step()) : ""));
    const std::int64_t firstStep = trainer.step();
    std::optional<std::string> reached; // what --stop-at-dice stopped at
    trainer.setCallback([&](const core::TrainEvent& e) {
        if (e.kind == core::TrainEventKind::Batch) {
            progress.batch(e, firstStep);
        } else if (e.kind == core::TrainEventKind::Epoch) {
            // On disk before the trainer writes the checkpoint that counts this epoch.
            if (std::string err =
                    core::appendToFileDurably(csvPath, metricsRow(csvFormat, e) + "\n");
                !err.empty())
                std::cerr << "segforge-cli train: " << err << "\n";
            progress.line("epoch " + std::to_string(e.epoch + 1) + "/" + std::to_string(e.epochs) +
                          ": train_loss " + num(e.trainLoss, 4) + " val_loss " + num(e.valLoss, 4) +
                          metricSummary(e.valMetrics, "val_") + " (" + num(e.epochSeconds, 3) +
                          " s, " + num(e.msPerStep, 4) + " ms/step)");
            auto dice = e.valMetrics.find(diceMetric);
            if (args.stopAtDice && dice != e.valMetrics.end() && dice->second > *args.stopAtDice &&
                !reached) {
                const double seconds =
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - started)
                        .count();
                reached = "validation Dice " + num(dice->second, 4) + " > " +
                          num(*args.stopAtDice, 4) + " after epoch " + std::to_string(e.epoch + 1) +
                          ", " + num(seconds, 3) + " s after the start";
                trainer.requestStop();
            }
        }
    });
    core::TrainResult result;
    int interruptedBy = 0;
    try {
        // Ctrl-C or SIGTERM: the trainer stops between two nodes and keeps the last
        // finished step, which is saved below like the end of a run.
        const InterruptWatch watch([&trainer] { trainer.requestStop(); });
        result = trainer.run();
        interruptedBy = watch.signal();
    } catch (const core::DataError& e) { // a file changed or vanished after the pre-flight
        progress.line("");
        std::cerr << "segforge-cli train: stopped at step " << trainer.step()
                  << ": data: " << e.what() << "\n";
        return kExitBadInput;
    } catch (
        const std::exception& e) { // not NaN (a result), not data (DataError): out of memory, a bug
        progress.line("");
        std::cerr << "segforge-cli train: stopped at step " << trainer.step()
                  << ": internal error: " << e.what() << "\n";
        return kExitInternalError;
    }
    for (const auto& p : source->problems())
        std::cerr << "segforge-cli train: skipped " << p.name << ": " << p.reason << "\n";
    if (result.status == core::TrainEventKind::NonFinite) {
        progress.line("");
        std::cerr << "segforge-cli train: stopped at step " << result.steps << " (epoch "
                  << trainer.epoch() + 1 << "): " << result.nonFinite->message() << "\n";
        return kExitTrainingFailed;
    }
    if (!result.checkpointError.empty())
        std::cerr << "segforge-cli train: checkpoint not written: " << result.checkpointError
                  << "\n";
    const fs::path weights = out / kWeightsFileName;
    if (std::string err = core::saveWeights(*executor, weights); !err.empty()) {
        std::cerr << "segforge-cli train: " << err << "\n";
        return kExitBadInput;
    }
    if (reached)
        progress.line("stopped: " + *reached);
    progress.line("wrote " + weights.string() + " and " + csvPath.string());
    if (result.status == core::TrainEventKind::Stopped && interruptedBy != 0 && !reached) {
        std::cerr << "segforge-cli train: interrupted at step " << trainer.step() << " (epoch "
                  << trainer.epoch() + 1 << ", batch " << trainer.batch() + 1 << ")";
        if (result.checkpointError.empty())
            std::cerr << "; continue with --resume (" << settings.checkpointPath.string() << ")";
        std::cerr << "\n";
        return 128 + interruptedBy; // the shell convention for "ended by signal N"
    }
    return kExitOk;
}

} // namespace

Command addTrainCommand(CLI::App& app) {
    auto args = std::make_shared<TrainArgs>();
    CLI::App* cmd = app.add_subcommand("train", "Train on the Dataset node's folders");
    cmd->add_option("PROJECT", args->project, "the project")->required();
    addText(*cmd, "--data", args->data,
            "read DIR/images and DIR/masks instead of the Dataset folders", "DIR");
    addInteger(*cmd, "--epochs", args->epochs, "epochs (default: the project's)",
               Bounds::atLeast(1));
    addInteger(*cmd, "--batch", args->batch, "batch size (default: the project's)",
               Bounds::atLeast(1));
    addNumber(*cmd, "--lr", args->lr, "learning rate (default: the project's)",
              Bounds::greaterThan(0));
    addInteger(*cmd, "--seed", args->seed, "seed (default: the project's)", Bounds::atLeast(0));
    addNumber(*cmd, "--stop-at-dice", args->stopAtDice,
              "stop after the first epoch whose validation Dice exceeds D (and say when)",
              Bounds::between(0, 1));
    addInteger(*cmd, "--threads", args->threads,
               "engine threads, 0: all cores (default: the project's)", Bounds::atLeast(0));
    cmd->add_option("-o,--out", args->out, "the run folder (default segforge-run)")
        ->type_name("DIR");
    cmd->add_flag("--resume", args->resume,
                  "continue the run in --out (or the run saved with the project)");
    cmd->add_flag("--overwrite", args->overwrite, "start over in an --out that holds a run");
    cmd->footer(std::string("Writes OUT/") + kMetricsFileName + ", OUT/" + kWeightsFileName +
                " and OUT/" + kCheckpointFileName +
                ".\nExit 3 naming the node if training hits NaN/Inf; 128+N when stopped by signal "
                "N (its state "
                "saved).");
    return {cmd, [args] { return runTrain(*args); }};
}

} // namespace segforge::cli
