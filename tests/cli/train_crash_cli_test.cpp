// Crash consistency of `segforge-cli train`: kill -9 at seeded pseudo-random
// moments (many short epochs, so many kills land in a checkpoint or metrics
// write), resume each time, and the end is bit-identical to a run that was
// never interrupted, with exactly one metrics row per finished epoch. Also:
// an existing run folder is never truncated without --resume or --overwrite,
// and a corrupt checkpoint is refused as bad input.

#include "cli_runner.hpp"
#include "io/safetensors.hpp"

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <gmock/gmock.h>
#include <iterator>
#include <random>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using ::testing::HasSubstr;
namespace fs = std::filesystem;

namespace {

using CliRun = segforge::testing::CliResult;

CliRun cli(const std::string& args) {
    return segforge::testing::runCli(args, segforge::testing::Stderr::Merge);
}

/// A folder per test process, removed at exit.
const fs::path& workDir() {
    static const segforge::testing::ScratchDir dir("segforge_train_crash_");
    return dir.path();
}

/// 5 samples of 16×16 (4 train, 1 validation) and a depth-1 U-Net with 2 filters:
/// with --batch 2 an epoch is 2 steps, a few milliseconds.
fs::path tinyProject() {
    const fs::path project = workDir() / "tiny.segforge";
    if (fs::exists(project))
        return project;
    const CliRun data =
        cli("sample-data --count 5 --size 16 --seed 4 -o " + (workDir() / "data").string());
    EXPECT_EQ(data.exitCode, 0) << data.out;
    const CliRun t = cli("template unet --depth 1 --filters 2 --size 16 -o " + project.string());
    EXPECT_EQ(t.exitCode, 0) << t.out;
    return project;
}

std::string readAll(const fs::path& file) {
    std::ifstream in(file, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines(const fs::path& file) {
    std::vector<std::string> out;
    std::stringstream ss(readAll(file));
    for (std::string line; std::getline(ss, line);)
        out.push_back(line);
    return out;
}

/// A CSV row without its seconds column (the sixth), the only one that differs between runs.
std::string withoutSeconds(const std::string& row) {
    std::vector<std::string> cells;
    std::stringstream ss(row);
    for (std::string cell; std::getline(ss, cell, ',');)
        cells.push_back(cell);
    std::string out;
    for (std::size_t i = 0; i < cells.size(); ++i)
        if (i != 5)
            out += cells[i] + ";";
    return out;
}

int temporariesIn(const fs::path& dir) {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir))
        n += e.path().filename().string().find(".tmp") != std::string::npos;
    return n;
}

/// Starts segforge-cli with `args` (output appended to `log`); returns its pid.
pid_t spawnCli(const std::vector<std::string>& args, const fs::path& log) {
    std::vector<std::string> all{SEGFORGE_CLI};
    all.insert(all.end(), args.begin(), args.end());
    const pid_t pid = ::fork();
    if (pid == 0) {
        const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        ::dup2(fd, 1);
        ::dup2(fd, 2);
        std::vector<char*> argv;
        for (auto& a : all)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    return pid;
}

/// Waits for `pid`; its exit code, or -signal when a signal ended it.
int waitFor(pid_t pid) {
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

} // namespace

TEST(TrainCrashCli, KillNineAnywhereThenResumeIsBitExact) {
    const fs::path project = tinyProject();
    constexpr int kEpochs = 40;
    const std::vector<std::string> common{"train",     project.string(),
                                          "--epochs",  std::to_string(kEpochs),
                                          "--batch",   "2",
                                          "--lr",      "0.01",
                                          "--seed",    "11",
                                          "--threads", "1"};
    auto withOut = [&](const fs::path& out, bool resume) {
        std::vector<std::string> a = common;
        a.insert(a.end(), {"--out", out.string()});
        if (resume)
            a.push_back("--resume");
        return a;
    };
    const fs::path ref = workDir() / "uninterrupted";
    const auto t0 = std::chrono::steady_clock::now();
    ASSERT_EQ(waitFor(spawnCli(withOut(ref, false), workDir() / "ref.log")), 0)
        << readAll(workDir() / "ref.log");
    const double refSeconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(lines(ref / "metrics.csv").size(), kEpochs + 1u);

    // Kill after a seeded delay drawn over the whole run (the start-up included,
    // where nothing is written yet), resume, and again, until a run gets to the end.
    const fs::path out = workDir() / "killed";
    const fs::path log = workDir() / "killed.log";
    std::mt19937 rng(20240611);
    std::uniform_real_distribution<double> delay(0.05 * refSeconds, 0.4 * refSeconds);
    int kills = 0, leftTemporaries = 0, finishedBeforeKill = 0;
    bool done = false;
    for (int attempt = 0; attempt < 60 && !done; ++attempt) {
        const pid_t pid = spawnCli(withOut(out, true), log);
        std::this_thread::sleep_for(std::chrono::duration<double>(delay(rng)));
        ::kill(pid, SIGKILL);
        const int code = waitFor(pid);
        if (code == -SIGKILL) {
            ++kills;
            if (fs::exists(out))
                leftTemporaries += temporariesIn(out) > 0;
            // Between runs the metrics never lag the checkpoint, and lead it by at most
            // the row of the epoch whose checkpoint was being written.
            if (fs::exists(out / "checkpoint.safetensors")) {
                std::string error;
                const auto ckpt =
                    segforge::core::loadSafetensors(out / "checkpoint.safetensors", error);
                ASSERT_EQ(error, "") << "a kill left a broken checkpoint";
                const int epoch = std::stoi(ckpt.metadata.at("epoch"));
                const std::string csv = readAll(out / "metrics.csv");
                const auto rows = static_cast<int>(std::count(csv.begin(), csv.end(), '\n')) - 1;
                EXPECT_GE(rows, epoch) << csv;
                EXPECT_LE(rows, epoch + 1) << csv;
            }
        } else {
            ASSERT_EQ(code, 0) << readAll(log);
            ++finishedBeforeKill;
            done = true;
        }
    }
    if (!done) {
        ASSERT_EQ(waitFor(spawnCli(withOut(out, true), log)), 0) << readAll(log);
    }
    std::cout
        << "[ kill -9 ] " << kills << " kills, " << leftTemporaries
        << " of them inside a checkpoint/metrics write (a temporary left behind); reference run "
        << refSeconds << " s\n";
    EXPECT_GE(kills, 3) << "the delays should interrupt the run several times";

    EXPECT_EQ(readAll(out / "weights.safetensors"), readAll(ref / "weights.safetensors"))
        << "the resumed weights differ from the uninterrupted run's";
    const auto rows = lines(out / "metrics.csv"), refRows = lines(ref / "metrics.csv");
    ASSERT_EQ(rows.size(), kEpochs + 1u) << readAll(out / "metrics.csv");
    EXPECT_EQ(rows[0], refRows[0]);
    for (std::size_t r = 1; r < rows.size(); ++r)
        EXPECT_EQ(withoutSeconds(rows[r]), withoutSeconds(refRows[r])) << "row " << r;
    EXPECT_EQ(temporariesIn(out), 0) << "a run cleans what killed runs left";
}

TEST(TrainCrashCli, AnExistingRunFolderNeedsResumeOrOverwrite) {
    const fs::path project = tinyProject();
    const fs::path out = workDir() / "existing";
    const std::string args =
        "train " + project.string() + " --batch 2 --threads 1 --out " + out.string();
    ASSERT_EQ(cli(args + " --epochs 2").exitCode, 0);
    const std::string metrics = readAll(out / "metrics.csv");

    const CliRun again = cli(args + " --epochs 2");
    EXPECT_EQ(again.exitCode, 2) << again.out;
    EXPECT_THAT(again.out, HasSubstr(out.string() +
                                     " already holds a training run (checkpoint.safetensors and "
                                     "metrics.csv); continue it with --resume, or start over in it "
                                     "with --overwrite"));
    EXPECT_EQ(readAll(out / "metrics.csv"), metrics) << "a refused run touches nothing";

    const CliRun both = cli(args + " --epochs 2 --resume --overwrite");
    EXPECT_EQ(both.exitCode, 2) << both.out;
    EXPECT_THAT(both.out, HasSubstr("give one of them"));

    // A stale temporary of a killed run is cleaned; --overwrite starts again from epoch 1.
    std::ofstream(out / "checkpoint.safetensors.tmp-999999-0") << "half";
    const CliRun overwritten = cli(args + " --epochs 1 --overwrite");
    EXPECT_EQ(overwritten.exitCode, 0) << overwritten.out;
    EXPECT_EQ(lines(out / "metrics.csv").size(), 2u);
    EXPECT_FALSE(fs::exists(out / "checkpoint.safetensors.tmp-999999-0"));

    // --resume with a checkpoint of a finished run trains nothing more and keeps the rows.
    const CliRun resumed = cli(args + " --epochs 1 --resume");
    EXPECT_EQ(resumed.exitCode, 0) << resumed.out;
    EXPECT_EQ(lines(out / "metrics.csv").size(), 2u);

    // A folder with something else in it is fine.
    const fs::path other = workDir() / "other";
    fs::create_directories(other);
    std::ofstream(other / "notes.txt") << "mine";
    EXPECT_EQ(cli("train " + project.string() + " --epochs 1 --batch 2 --threads 1 --out " +
                  other.string())
                  .exitCode,
              0);
    EXPECT_EQ(readAll(other / "notes.txt"), "mine");
}

TEST(TrainCrashCli, ACorruptCheckpointIsRefusedAsBadInput) {
    const fs::path project = tinyProject();
    const fs::path out = workDir() / "corrupt";
    const std::string args =
        "train " + project.string() + " --batch 2 --threads 1 --out " + out.string();
    ASSERT_EQ(cli(args + " --epochs 1").exitCode, 0);
    std::string error;
    auto data = segforge::core::loadSafetensors(out / "checkpoint.safetensors", error);
    ASSERT_EQ(error, "");
    data.metadata["epoch"] = "nan";
    std::vector<std::pair<std::string, const segforge::core::Tensor*>> tensors;
    for (const auto& [name, t] : data.tensors)
        tensors.emplace_back(name, &t);
    ASSERT_EQ(
        segforge::core::saveSafetensors(out / "checkpoint.safetensors", tensors, data.metadata),
        "");
    const std::string metrics = readAll(out / "metrics.csv");

    const CliRun r = cli(args + " --epochs 3 --resume");
    EXPECT_EQ(r.exitCode, 2) << r.out;
    EXPECT_THAT(
        r.out,
        HasSubstr("cannot resume: checkpoint.safetensors: metadata 'epoch' = 'nan' is not a whole "
                  "number in [0, 3]"));
    EXPECT_EQ(readAll(out / "metrics.csv"), metrics);

    // A metrics row written before a crash whose checkpoint never landed is dropped on resume.
    data.metadata["epoch"] = "1";
    ASSERT_EQ(
        segforge::core::saveSafetensors(out / "checkpoint.safetensors", tensors, data.metadata),
        "");
    {
        std::ofstream csv(out / "metrics.csv", std::ios::app);
        csv << "2,0.5,0.5,0.5,0.5,0.1\n3,0.4,0.4"; // a finished row and a torn one
    }
    const CliRun resumed = cli(args + " --epochs 2 --resume");
    ASSERT_EQ(resumed.exitCode, 0) << resumed.out;
    const auto rows = lines(out / "metrics.csv");
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[1].rfind("1,", 0), 0u);
    EXPECT_EQ(rows[2].rfind("2,", 0), 0u);
    EXPECT_NE(rows[2], "2,0.5,0.5,0.5,0.5,0.1");
}
