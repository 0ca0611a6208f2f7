// segforge: the node editor. `--open FILE --screenshot OUT.png [--size WxH]`
// renders the window offscreen and exits (for the README, tests and reviews);
// `--train-steps N --save` trains and saves the project with its weights.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "panels/diagnostics_panel.hpp"
#include "scene/graph_scene.hpp"
#include "scene/graph_view.hpp"
#include "scene/view_report.hpp"
#include "training/training_controller.hpp"
#include "training/training_plots.hpp"
#include "util/version.hpp"
#include "window/first_run_hint.hpp"
#include "window/main_window.hpp"
#include "window/training_workbench.hpp"
#include "window/workspaces.hpp"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QEventLoop>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>
#include <QTimer>
#include <QTreeWidget>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <string>

namespace {

/// The bundled sample project: next to the executable when installed, else in the source tree.
QString bundledSampleProject() {
    const QString beside =
        QCoreApplication::applicationDirPath() + "/../resources/projects/sample_unet.segforge";
    if (QFileInfo::exists(beside))
        return QFileInfo(beside).absoluteFilePath();
    return QStringLiteral(SEGFORGE_RESOURCES "/projects/sample_unet.segforge");
}

/// The default project lives in the user's data directory with its data,
/// which is generated on first run (nothing is downloaded). Falls back to the
/// bundled copy if the directory is not writable.
QString sampleProject() {
    const QString dir =
        QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + "/sample";
    const QString project = dir + "/sample_unet.segforge";
    if (!QDir().mkpath(dir))
        return bundledSampleProject();
    if (!QFileInfo::exists(project) && !QFile::copy(bundledSampleProject(), project))
        return bundledSampleProject();
    QFile::setPermissions(project, QFile::ReadOwner | QFile::WriteOwner | QFile::ReadGroup |
                                       QFile::ReadOther);
    if (!QFileInfo::exists(dir + "/data/masks")) {
        std::fprintf(stderr, "segforge: generating the sample dataset in %s/data …\n",
                     qPrintable(dir));
        segforge::core::SampleDataOptions options; // 200 images, 128×128, seed 1
        const std::string err =
            segforge::core::writeSampleData((dir + "/data").toStdString(), options);
        if (!err.empty())
            std::fprintf(stderr, "segforge: %s\n", err.c_str());
    }
    return project;
}

/// Trains `steps` steps in the window (the worker thread runs, the event loop
/// turns), stops, predicts the validation samples for the overlays, and returns
/// "" or what went wrong. NaN stops early and is not an error: it is rendered.
/// With `stepNodes` > 0 it pauses instead and steps that many nodes of the
/// next step, so the window shows a node mid-step and its tensor.
std::string trainForScreenshot(segforge::ui::MainWindow& window, int steps, int stepNodes) {
    using segforge::ui::TrainingController;
    TrainingController* c = window.training()->controller();
    std::string error;
    QEventLoop loop;
    QObject::connect(c, &TrainingController::batchDone, &loop,
                     [c, steps, stepNodes](const segforge::core::TrainEvent& e) {
                         if (e.step >= steps)
                             stepNodes > 0 ? c->pause() : c->stop();
                     });
    int stepped = 0;
    QObject::connect(c, &TrainingController::pausedAt, &loop, [&](segforge::core::NodeId node) {
        if (node != segforge::core::kNoNode)
            ++stepped;
        if (stepped < stepNodes)
            c->stepNode();
        else
            QTimer::singleShot(50, &loop, &QEventLoop::quit);
    });
    bool ended = false;
    QObject::connect(
        c, &TrainingController::runEnded, &loop, [&](segforge::core::TrainEventKind status) {
            ended = true;
            QString why; // after a NaN stop, keep the tensors that show it: no new predictions
            if (status == segforge::core::TrainEventKind::NonFinite || !c->refreshOverlays(&why))
                loop.quit();
        });
    QObject::connect(c, &TrainingController::overlaysReady, &loop, [&] {
        if (ended) // not the predictions of an epoch end while training goes on
            QTimer::singleShot(50, &loop, &QEventLoop::quit);
    });
    QObject::connect(c, &TrainingController::failed, &loop, [&](const QString& message) {
        error = message.toStdString();
        loop.quit();
    });
    if (stepNodes == 0)
        c->setStopAtStep(steps); // exactly N steps: a stop from batchDone lands a step or two late
    QString why;
    if (!c->start(false, &why))
        return why.toStdString();
    loop.exec();
    c->setStopAtStep(-1);
    window.training()->plots()->flush(); // draw what the redraw timer would draw a moment later
    std::printf("trained %lld steps\n", static_cast<long long>(c->step()));
    return error;
}

} // namespace

int main(int argc, char** argv) {
    const auto started = std::chrono::steady_clock::now();
    // Screenshots need no display: pick the offscreen platform before Qt starts.
    for (int i = 1; i < argc; ++i) {
        if ((std::strcmp(argv[i], "--screenshot") == 0 || std::strcmp(argv[i], "--save") == 0) &&
            !std::getenv("QT_QPA_PLATFORM"))
            setenv("QT_QPA_PLATFORM", "offscreen", 1);
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName("SegForge");
    QApplication::setApplicationName("SegForge");
    QApplication::setApplicationVersion(segforge::kVersion);

    QCommandLineParser parser;
    parser.setApplicationDescription("Build and debug image-segmentation networks as graphs.");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption openOpt("open", "Project to open (default: the bundled sample U-Net).",
                               "FILE");
    QCommandLineOption shotOpt("screenshot", "Render the window to OUT.png and exit.", "OUT.png");
    QCommandLineOption reportOpt(
        "view-report",
        "With --screenshot: also write what the window shows to OUT.json (nodes in view, "
        "smallest title, overlaps, wires through nodes, hidden labels, clipped widgets).",
        "OUT.json");
    QCommandLineOption sizeOpt("size", "Window size for --screenshot, e.g. 1600x1000.", "WxH",
                               "1600x1000");
    QCommandLineOption lightOpt("light", "Use the light theme.");
    QCommandLineOption selectOpt("select", "Select the node NAME (for screenshots).", "NAME");
    QCommandLineOption dataOpt(
        "data", "Train on DIR/images and DIR/masks instead of the Dataset node's folders.", "DIR");
    QCommandLineOption stepsOpt("train-steps", "With --screenshot or --save: train N steps first.",
                                "N");
    QCommandLineOption nodesOpt(
        "step-nodes", "With --train-steps: then pause and step K nodes of the next step.", "K");
    QCommandLineOption recoverOpt(
        "recover", "Answer the start-up question about work left by a crash: accept or discard.",
        "ANSWER");
    QCommandLineOption workspaceOpt("workspace",
                                    "Show the workspace NAME: build, train or inspect.", "NAME");
    QCommandLineOption saveOpt(
        "save", "Save the project (with its trained weights, after --train-steps) and exit.");
    QCommandLineOption fixesOpt("apply-fixes",
                                "Apply the first fix of the first fixable diagnostic, N times "
                                "(each one undoable step, as a click on Fix).",
                                "N");
    QCommandLineOption hintOpt(
        "first-run-hint",
        "With --screenshot: show the first-run hint (scripted runs leave it out).");
    parser.addOptions({openOpt, shotOpt, reportOpt, sizeOpt, lightOpt, selectOpt, dataOpt, stepsOpt,
                       nodesOpt, recoverOpt, fixesOpt, saveOpt, workspaceOpt, hintOpt});
    parser.addPositionalArgument("file", "Project to open.", "[file]");
    parser.process(app);

    segforge::ui::MainWindow window;
    if (parser.isSet(recoverOpt)) {
        const QString answer = parser.value(recoverOpt);
        if (answer != "accept" && answer != "discard") {
            std::fprintf(stderr, "segforge: --recover takes accept or discard, not '%s'\n",
                         qPrintable(answer));
            return 2;
        }
        window.setRecoveryAnswer(answer == "accept");
    }
    if (parser.isSet(lightOpt))
        window.setDarkTheme(false);
    QString file = parser.value(openOpt);
    if (file.isEmpty() && !parser.positionalArguments().isEmpty())
        file = parser.positionalArguments().front();
    if (file.isEmpty())
        file = sampleProject();
    if (parser.isSet(dataOpt)) {
        segforge::core::TrainingOverrides overrides;
        overrides.dataDir = std::filesystem::path(parser.value(dataOpt).toStdString());
        window.training()->controller()->setDefaultOverrides(overrides);
        window.document()->setDataOverride(
            overrides.dataDir); // the checker probes what training reads
    }
    const bool screenshot = parser.isSet(shotOpt);
    const bool saveAndExit = parser.isSet(saveOpt);
    if (screenshot || saveAndExit) {
        window.setWeightsAutosave(false);          // a scripted run leaves no work to recover
        window.workspaces()->setPersistent(false); // and shows the default layouts, not the user's
    }
    std::optional<segforge::ui::Workspace> workspace;
    if (parser.isSet(workspaceOpt)) {
        workspace = segforge::ui::Workspaces::fromName(parser.value(workspaceOpt));
        if (!workspace) {
            std::fprintf(stderr, "segforge: --workspace takes build, train or inspect, not '%s'\n",
                         qPrintable(parser.value(workspaceOpt)));
            return 2;
        }
    }
    const bool quiet = screenshot || saveAndExit;
    // A Keras model (model.to_json(), .keras) opens as an import: a new, unsaved project.
    const QString suffix = QFileInfo(file).suffix().toLower();
    const bool keras = suffix == "json" || suffix == "keras";
    QString openError;
    const bool opened = keras ? window.importKeras(file, &openError, quiet)
                              : window.openFile(file, &openError, quiet);
    if (!opened && quiet) {
        std::fprintf(stderr, "segforge: cannot open %s%s%s\n", qPrintable(file),
                     openError.isEmpty() ? "" : ": ", qPrintable(openError));
        return 2;
    }

    if (parser.isSet(fixesOpt)) {
        // Applied once the start-up recovery question is settled, as a user's clicks would be.
        const int fixes = parser.value(fixesOpt).toInt();
        QTimer::singleShot(0, &window, [&window, fixes] {
            for (int i = 0; i < fixes; ++i) {
                segforge::ui::DiagnosticsPanel* panel = window.diagnostics();
                bool applied = false;
                for (int row = 0; row < panel->tree()->topLevelItemCount() && !applied; ++row)
                    applied = panel->applyFirstFix(row);
                std::printf("%s\n", applied ? "applied a fix" : "no fix to apply");
                std::fflush(stdout);
            }
        });
    }

    if (screenshot || saveAndExit) {
        // Saved weights load on the worker: show them as a user would see them.
        window.training()->controller()->waitForIdle(120'000);
        const QStringList wh = parser.value(sizeOpt).split('x');
        const int w = wh.size() == 2 ? wh[0].toInt() : 1600;
        const int h = wh.size() == 2 ? wh[1].toInt() : 1000;
        window.resize(w > 0 ? w : 1600, h > 0 ? h : 1000);
        window.show();
        QApplication::processEvents();
        window.view()->showStart();
        if (const auto* node =
                window.document()->graph().findNodeByName(parser.value(selectOpt).toStdString())) {
            window.scene()->selectNode(
                node->id); // as a click on its diagnostic: selected and in view
            window.view()->centerOnNode(node->id);
        }
        QApplication::processEvents();
        if (parser.isSet(stepsOpt)) {
            bool ok = false;
            const int steps = parser.value(stepsOpt).toInt(&ok);
            if (!ok || steps < 1) {
                std::fprintf(stderr, "segforge: --train-steps needs a number ≥ 1\n");
                return 2;
            }
            const int nodes = parser.isSet(nodesOpt) ? parser.value(nodesOpt).toInt() : 0;
            const std::string err = trainForScreenshot(window, steps, std::max(0, nodes));
            if (!err.empty()) {
                std::fprintf(stderr, "segforge: %s\n", err.c_str());
                return 3;
            }
        }
        if (saveAndExit) {
            QString why;
            const QString path = window.document()->filePath();
            if (path.isEmpty() || !window.saveFile(path, &why, /*quiet=*/true)) {
                std::fprintf(stderr, "segforge: cannot save %s: %s\n", qPrintable(path),
                             qPrintable(why));
                return 2;
            }
            const auto& weights = window.document()->project().weights;
            std::printf("saved %s%s\n", qPrintable(path),
                        weights ? qPrintable(QString(" with %1 (step %2)")
                                                 .arg(QString::fromStdString(weights->file))
                                                 .arg(weights->step))
                                : "");
            if (!screenshot)
                return 0;
        }
        if (workspace) // after training, which switches to Train by itself
            window.workspaces()->switchTo(*workspace);
        if (parser.isSet(hintOpt))
            window.firstRunHint()->showHint();
        // Let cascaded layout requests settle, as they do within a frame on screen.
        QEventLoop settle;
        QTimer::singleShot(100, &settle, &QEventLoop::quit);
        settle.exec();
        if (!window.saveScreenshot(parser.value(shotOpt))) {
            std::fprintf(stderr, "segforge: cannot write %s\n", qPrintable(parser.value(shotOpt)));
            return 2;
        }
        if (parser.isSet(reportOpt)) {
            const segforge::ui::ViewReport report =
                segforge::ui::measureView(window.view(), &window);
            QFile out(parser.value(reportOpt));
            if (!out.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
                out.write(QJsonDocument(report.toJson()).toJson()) < 0) {
                std::fprintf(stderr, "segforge: cannot write %s\n",
                             qPrintable(parser.value(reportOpt)));
                return 2;
            }
        }
        const double ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started)
                .count();
        std::printf("wrote %s (%dx%d) in %.0f ms\n", qPrintable(parser.value(shotOpt)),
                    window.width(), window.height(), ms);
        std::printf("title: %s\n", qPrintable(window.windowTitle().replace(
                                       "[*]", window.isWindowModified() ? "*" : "")));
        return 0;
    }
    window.show();
    if (workspace)
        window.workspaces()->switchTo(*workspace);
    QTimer::singleShot(0, window.view(), &segforge::ui::GraphView::showStart);
    window.offerFirstRunHint(); // once per user, until dismissed for good
    return QApplication::exec();
}
