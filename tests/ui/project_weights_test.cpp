// Trained weights live with the project, in the real window offscreen: train →
// Save → close → reopen gives bit-exact weights and identical predictions, and
// Train continues to the losses of an uninterrupted run; an edited layer is
// named on reopen while the others keep their weights; Export/Import Weights
// round-trips and reports mismatches; every Save/Discard/Cancel path of close,
// open-other and quit-while-training, with and without unsaved weights. Also
// measures the longest event-loop wait while a 30 MB weights file is written,
// and renders the save prompt to PNG (SEGFORGE_SHOT_DIR) for review.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "engine/executor.hpp"
#include "engine/project_weights.hpp"
#include "engine/weights.hpp"
#include "io/safetensors.hpp"
#include "project/project_file.hpp"
#include "templates/unet_template.hpp"
#include "training/overlay_panel.hpp"
#include "training/training_controller.hpp"
#include "training/training_panel.hpp"
#include "training/training_plots.hpp"
#include "window/main_window.hpp"
#include "window/training_workbench.hpp"

#include <QAbstractButton>
#include <QApplication>
#include <QElapsedTimer>
#include <QMessageBox>
#include <QPainter>
#include <QProcess>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <cstring>
#include <memory>

using namespace segforge;
using namespace segforge::ui;

namespace {

void writeData(const QString& dir, int count, int size) {
    core::SampleDataOptions o;
    o.count = count;
    o.size = size;
    const std::string err = core::writeSampleData((dir + "/data").toStdString(), o);
    QVERIFY2(err.empty(), err.c_str());
}

/// A depth-2 U-Net on 32×32 images, `filters` filters, batch 4, reading DIR/data.
core::Project smallUNet(int epochs, int filters = 4, int size = 32, int depth = 2) {
    core::UNetOptions o;
    o.depth = depth;
    o.filters = filters;
    o.size = size;
    auto project = std::get<core::Project>(core::makeUNetProject(o));
    for (auto& [id, n] : project.graph.nodes())
        if (n.op == "Dataset") {
            auto* node = project.graph.findNode(id);
            node->attrs["images"] = std::string("data/images");
            node->attrs["masks"] = std::string("data/masks");
            node->attrs["batch_size"] = std::int64_t{4};
        }
    project.training.epochs = epochs;
    project.training.threads = 1;
    project.training.validationSplit = 0.25;
    return project;
}

QString save(const core::Project& p, const QString& path) {
    const std::string err = core::saveProject(p, path.toStdString());
    return err.empty() ? path : QString();
}

template <typename F> bool pumpUntil(F done, int timeoutMs) {
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    return true;
}

std::unique_ptr<MainWindow> makeWindow() {
    auto w = std::make_unique<MainWindow>();
    w->resize(1280, 720);
    w->show();
    return w;
}

/// Trains until exactly step `steps`, then stops, and returns the loss of each
/// step. Batch by batch (a stop requested from batchDone would land a few steps
/// late: the worker does not wait for the GUI); pauses between batches change
/// no value, so the losses are those of an uninterrupted run.
std::vector<double> trainTo(MainWindow& w, std::int64_t steps) {
    TrainingController* c = w.training()->controller();
    std::vector<double> losses;
    auto conn = QObject::connect(c, &TrainingController::batchDone, c,
                                 [&](const core::TrainEvent& e) { losses.push_back(e.trainLoss); });
    QString why;
    if (!c->start(true, &why))
        qWarning("start: %s", qPrintable(why));
    using State = TrainingController::State;
    while (c->step() < steps && c->trainingActive()) {
        pumpUntil([&] { return c->state() == State::Paused || c->state() == State::Idle; }, 60'000);
        const std::int64_t before = c->step();
        c->stepBatch();
        pumpUntil(
            [&] {
                return (c->step() > before && c->state() == State::Paused) ||
                       c->state() == State::Idle;
            },
            60'000);
    }
    c->stop();
    pumpUntil([&] { return c->state() == State::Idle; }, 120'000);
    QObject::disconnect(conn);
    return losses;
}

/// Every parameter of the controller's weights, by name.
std::map<std::string, std::vector<float>> weightsOf(MainWindow& w, const QString& projectPath) {
    // Read them the way another tool would: from an export.
    const QString file = projectPath + ".export.safetensors";
    std::map<std::string, std::vector<float>> out;
    if (!w.training()->controller()->exportWeights(file).isEmpty())
        return out;
    std::string error;
    core::SafetensorsData data = core::loadSafetensors(file.toStdString(), error);
    for (auto& [name, t] : data.tensors)
        out[name] = std::vector<float>(t.f32(), t.f32() + t.numel());
    QFile::remove(file);
    return out;
}

std::vector<cv::Mat> predictions(MainWindow& w) {
    TrainingController* c = w.training()->controller();
    std::vector<cv::Mat> out;
    auto conn = QObject::connect(c, &TrainingController::overlaysReady, c,
                                 [&](const std::vector<core::SamplePrediction>& s, int) {
                                     for (const auto& p : s)
                                         out.push_back(p.scores.clone());
                                 });
    QString why;
    if (c->refreshOverlays(&why))
        pumpUntil([&] { return !out.empty() && c->state() == TrainingController::State::Idle; },
                  60'000);
    else
        qWarning("refreshOverlays: %s", qPrintable(why));
    QObject::disconnect(conn);
    return out;
}

bool sameBits(const cv::Mat& a, const cv::Mat& b) {
    return a.size() == b.size() && a.type() == b.type() &&
           std::memcmp(a.data, b.data, a.total() * a.elemSize()) == 0;
}

/// Answers the save question with `answer` and records what it asked.
struct Prompt {
    QMessageBox::StandardButton answer = QMessageBox::Cancel;
    QStringList asked;
    MainWindow::SavePrompt fn() {
        return [this](const QString& title, const QString& text) {
            asked << title + "|" + text;
            return answer;
        };
    }
};

} // namespace

class ProjectWeightsTest : public QObject {
    Q_OBJECT

private slots:
    void init() { QVERIFY(m_dir.isValid()); }

    void saveReopenIsExactAndTrainingContinuesExactly() {
        writeData(m_dir.path(), 24, 32);
        const QString path = save(smallUNet(3), m_dir.path() + "/net.segforge");
        const QString ref = save(smallUNet(3), m_dir.path() + "/ref.segforge");

        // The uninterrupted reference run: 10 steps (4 per epoch, so mid-epoch 3).
        std::vector<double> reference;
        {
            auto w = makeWindow();
            QVERIFY(w->openFile(ref, nullptr, true));
            reference = trainTo(*w, 10);
            QCOMPARE(reference.size(), std::size_t{10});
            w->document()->undoStack()->setClean();
            w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        }

        std::map<std::string, std::vector<float>> trained;
        std::vector<cv::Mat> before;
        {
            auto w = makeWindow();
            QVERIFY(w->openFile(path, nullptr, true));
            TrainingController* c = w->training()->controller();
            const auto first = trainTo(*w, 5); // stops mid-epoch 2: the optimizer state matters
            QCOMPARE(c->step(), std::int64_t{5});
            QVERIFY(c->weightsModified());
            QVERIFY(w->isWindowModified());
            for (std::size_t i = 0; i < first.size(); ++i)
                QCOMPARE(first[i], reference[i]);
            trained = weightsOf(*w, path);
            QVERIFY(!trained.empty());
            before = predictions(*w);
            QVERIFY(!before.empty());
            QString error;
            QVERIFY2(w->saveFile(path, &error, true), qPrintable(error));
            qInfo("save: longest event-loop wait %.1f ms", c->lastSaveGapMs());
            QVERIFY(!c->weightsModified());
            QVERIFY(!w->isWindowModified());
            QVERIFY(QFileInfo::exists(m_dir.path() + "/net.weights.safetensors"));
            QVERIFY(QFileInfo::exists(m_dir.path() + "/net.checkpoint.safetensors"));
            Prompt prompt;
            w->setSavePrompt(prompt.fn());
            QVERIFY(w->close()); // nothing unsaved: no question
            QVERIFY(prompt.asked.isEmpty());
        }
        core::ProjectLoad load = core::loadProject(path.toStdString());
        QVERIFY(load.ok());
        QVERIFY(load.project->weights);
        QCOMPARE(load.project->weights->step, std::int64_t{5});
        QCOMPARE(QString::fromStdString(load.project->weights->checkpoint),
                 QString("net.checkpoint.safetensors"));

        auto w = makeWindow();
        TrainingController* c = w->training()->controller();
        QSignalSpy restored(c, &TrainingController::weightsRestored);
        QVERIFY(w->openFile(path, nullptr, true));
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY(restored.first().at(0).toBool());
        QVERIFY2(restored.first().at(1).toBool(), qPrintable(restored.first().at(2).toString()));
        QVERIFY(!c->weightsModified());
        QVERIFY(!w->isWindowModified());
        QCOMPARE(c->step(), std::int64_t{5});
        QVERIFY(c->canContinueRun());
        // The curves came back with the weights.
        QCOMPARE(w->training()->plots()->stepPointCount(), 5);
        QCOMPARE(w->training()->plots()->epochPointCount(), 1);
        QVERIFY(w->training()->panel()->progressValue() == 5);
        QCOMPARE(w->training()->overlays()->sampleCount(), 6);
        // Bit-exact weights, identical predictions.
        const auto reopened = weightsOf(*w, path);
        QCOMPARE(reopened.size(), trained.size());
        for (const auto& [name, values] : trained)
            QVERIFY2(reopened.at(name) == values, name.c_str());
        const auto after = predictions(*w);
        QCOMPARE(after.size(), before.size());
        for (std::size_t i = 0; i < after.size(); ++i)
            QVERIFY(sameBits(after[i], before[i]));
        // The inspector has a tensor on a wire at once.
        const core::Node* conv = w->document()->graph().findNodeByName("enc1_conv1");
        QVERIFY(conv);
        QVERIFY(c->value({conv->id, "output"}) != nullptr);

        // Train continues with the optimizer state: the losses of the uninterrupted run.
        const auto rest = trainTo(*w, 10);
        QCOMPARE(rest.size(), std::size_t{5});
        for (std::size_t i = 0; i < rest.size(); ++i)
            QCOMPARE(rest[i], reference[5 + i]);
        QCOMPARE(w->training()->plots()->stepPointCount(), 10);
        w->document()->undoStack()->setClean();
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
    }

    void anEditedLayerIsNamedAndTheOthersKeepTheirWeights() {
        writeData(m_dir.path(), 12, 32);
        const QString path = save(smallUNet(1), m_dir.path() + "/edit.segforge");
        {
            auto w = makeWindow();
            QVERIFY(w->openFile(path, nullptr, true));
            trainTo(*w, 2);
            QString error;
            QVERIFY2(w->saveFile(path, &error, true), qPrintable(error));
        }
        std::string error;
        const core::SafetensorsData saved = core::loadSafetensors(
            (m_dir.path() + "/edit.weights.safetensors").toStdString(), error);
        QVERIFY(error.empty());
        // enc1_conv2 gets another activation after training (same shapes), as an edit in another
        // session would.
        core::Project p = *core::loadProject(path.toStdString()).project;
        const core::NodeId edited = p.graph.findNodeByName("enc1_conv2")->id;
        p.graph.findNode(edited)->attrs["activation"] = std::string("sigmoid");
        QVERIFY(!save(p, path).isEmpty());

        auto w = makeWindow();
        TrainingController* c = w->training()->controller();
        QSignalSpy restored(c, &TrainingController::weightsRestored);
        QVERIFY(w->openFile(path, nullptr, true));
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY(restored.first().at(0).toBool());
        QVERIFY(!restored.first().at(1).toBool()); // not complete
        const QString report = restored.first().at(2).toString();
        QVERIFY2(report.contains("enc1_conv2 (changed since training)"), qPrintable(report));
        QVERIFY2(!report.contains("enc1_conv1"), qPrintable(report));
        QVERIFY(!c->canContinueRun()); // another network: a new run from these weights
        const auto now = weightsOf(*w, path);
        for (const auto& [name, t] : saved.tensors) {
            const std::vector<float> values(t.f32(), t.f32() + t.numel());
            if (name.rfind("enc1_conv2/", 0) == 0)
                QVERIFY2(now.at(name) != values, name.c_str());
            else
                QVERIFY2(now.at(name) == values, name.c_str());
        }
        // The report is in a message box (non-modal) and in the status bar.
        QMessageBox* box = nullptr;
        for (QWidget* top : QApplication::topLevelWidgets())
            if (auto* b = qobject_cast<QMessageBox*>(top); b && b->isVisible())
                box = b;
        QVERIFY(box);
        QVERIFY(box->text().contains("enc1_conv2"));
        box->close();
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
    }

    void exportImportRoundTripAndMismatchReport() {
        writeData(m_dir.path(), 12, 32);
        const QString path = save(smallUNet(1), m_dir.path() + "/io.segforge");
        auto w = makeWindow();
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        QVERIFY(w->openFile(path, nullptr, true));
        TrainingController* c = w->training()->controller();
        trainTo(*w, 2);
        const auto trained = weightsOf(*w, path);
        const QString file = m_dir.path() + "/exported.safetensors";
        QCOMPARE(c->exportWeights(file), QString());
        qInfo("export: longest event-loop wait %.1f ms", c->lastSaveGapMs());

        c->resetWeights();
        QVERIFY(!c->hasWeights());
        QString error;
        QString report = w->training()->importWeightsFile(file, &error);
        QVERIFY2(report.startsWith("22 of 22 tensors loaded") || report.contains(" tensors loaded"),
                 qPrintable(report));
        QVERIFY2(!report.contains("Other shape"), qPrintable(report));
        QCOMPARE(weightsOf(*w, path), trained);
        QVERIFY(c->weightsModified());

        // Into a graph whose first convolution has more filters: reported, the rest loaded.
        core::Project wider = smallUNet(1);
        wider.graph.findNode(wider.graph.findNodeByName("enc1_conv1")->id)->attrs["filters"] =
            std::int64_t{6};
        const QString widerPath = save(wider, m_dir.path() + "/wider.segforge");
        QVERIFY(w->openFile(widerPath, nullptr, true));
        report = w->training()->importWeightsFile(file, &error);
        QVERIFY2(
            report.contains(
                "Other shape (kept as they were): enc1_conv1/kernel: file 3×3×3×4, graph 3×3×3×6"),
            qPrintable(report));
        QVERIFY2(report.contains("enc1_conv2/kernel"), qPrintable(report));
        QVERIFY2(!report.contains("Not in the file"), qPrintable(report));

        // Not a safetensors file: an error, nothing changes.
        QFile junk(m_dir.path() + "/junk.safetensors");
        QVERIFY(junk.open(QIODevice::WriteOnly));
        junk.write("not safetensors");
        junk.close();
        QVERIFY(w->training()->importWeightsFile(junk.fileName(), &error).isEmpty());
        QVERIFY(!error.isEmpty());
    }

    void promptsProtectEditsAndWeights() {
        writeData(m_dir.path(), 12, 32);
        const QString path = save(smallUNet(50), m_dir.path() + "/prompt.segforge");
        const QString other = save(smallUNet(1), m_dir.path() + "/other.segforge");
        Prompt prompt;
        auto w = makeWindow();
        w->setSavePrompt(prompt.fn());
        TrainingController* c = w->training()->controller();

        // Nothing unsaved: close without a question.
        QVERIFY(w->openFile(path, nullptr, true));
        QVERIFY(w->maybeSave());
        QVERIFY(prompt.asked.isEmpty());

        // Unsaved weights only: asked; Cancel keeps everything, Discard lets go.
        trainTo(*w, 1);
        QVERIFY(!w->document()->isDirty());
        prompt.answer = QMessageBox::Cancel;
        QVERIFY(!w->close());
        QCOMPARE(prompt.asked.size(), 1);
        QVERIFY2(prompt.asked.back().contains("trained weights (step 1) that are not saved"),
                 qPrintable(prompt.asked.back()));
        QVERIFY(!prompt.asked.back().contains("unsaved changes"));
        QVERIFY(c->hasWeights());
        prompt.answer = QMessageBox::Discard; // open another project: discards the weights
        QVERIFY(w->maybeSave());
        QVERIFY(w->openFile(other, nullptr, true));
        QVERIFY(!c->hasWeights());
        QVERIFY(!QFileInfo::exists(m_dir.path() + "/prompt.weights.safetensors"));

        // Unsaved edits and weights, Save: both written, then no more questions.
        QVERIFY(w->openFile(path, nullptr, true));
        trainTo(*w, 1);
        const core::NodeId conv = w->document()->graph().findNodeByName("enc1_conv1")->id;
        QVERIFY(w->document()->applyEdits({core::MoveNodeEdit{conv, {40, 40}}}, "move"));
        prompt.asked.clear();
        prompt.answer = QMessageBox::Save;
        QVERIFY(w->maybeSave());
        QVERIFY2(prompt.asked.back().contains("unsaved changes and trained weights"),
                 qPrintable(prompt.asked.back()));
        QVERIFY(QFileInfo::exists(m_dir.path() + "/prompt.weights.safetensors"));
        QVERIFY(!w->document()->isDirty());
        QVERIFY(!c->weightsModified());
        prompt.asked.clear();
        QVERIFY(w->maybeSave());
        QVERIFY(prompt.asked.isEmpty());

        // Reset Weights after a save is a change too: the saved project still names them.
        c->resetWeights();
        QVERIFY(c->weightsModified());
        prompt.answer = QMessageBox::Cancel;
        QVERIFY(!w->maybeSave());
        QVERIFY(prompt.asked.back().contains("weights reset since the last save"));

        // Quit while training: asked first; Cancel leaves it running, Save stops and saves.
        prompt.asked.clear();
        QString why;
        QVERIFY(c->start(false, &why));
        QVERIFY(pumpUntil([&] { return c->step() >= 2; }, 60'000));
        prompt.answer = QMessageBox::Cancel;
        QVERIFY(!w->close());
        QVERIFY(prompt.asked.back().startsWith("Training is running|"));
        QVERIFY(c->trainingActive());
        prompt.answer = QMessageBox::Save;
        QVERIFY(w->close());
        QVERIFY(!c->trainingActive());
        core::ProjectLoad load = core::loadProject(path.toStdString());
        QVERIFY(load.ok() && load.project->weights);
        QVERIFY(load.project->weights->step >= 2);
        QCOMPARE(load.project->weights->step, c->step());

        // Quit while training, Discard: stops, writes nothing.
        w->show(); // closed above: a hidden window gets no close event
        QVERIFY(w->openFile(other, nullptr, true));
        QVERIFY(c->start(false, &why));
        QVERIFY(pumpUntil([&] { return c->step() >= 1; }, 60'000));
        prompt.answer = QMessageBox::Discard;
        QVERIFY(w->close());
        QVERIFY(!c->trainingActive());
        QVERIFY(!QFileInfo::exists(m_dir.path() + "/other.weights.safetensors"));
    }

    void theRealPromptCanBeAnsweredAndLooksRight() {
        // The default QMessageBox, found and clicked as a user would; rendered for review.
        writeData(m_dir.path(), 12, 32);
        const QString path = save(smallUNet(1), m_dir.path() + "/real.segforge");
        auto w = makeWindow();
        QVERIFY(w->openFile(path, nullptr, true));
        trainTo(*w, 1);
        QString text;
        QTimer::singleShot(200, w.get(), [&] {
            auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
            if (!box)
                return;
            text = box->text();
            if (const QByteArray dir = qgetenv("SEGFORGE_SHOT_DIR"); !dir.isEmpty())
                box->grab().save(QString::fromUtf8(dir) + "/save_prompt.png");
            box->button(QMessageBox::Save)->click();
        });
        QVERIFY(w->close());
        QVERIFY2(text.contains("trained weights (step 1)"), qPrintable(text));
        QVERIFY(QFileInfo::exists(m_dir.path() + "/real.weights.safetensors"));
    }

    void saveWhileTrainingRunsPausesAroundIt() {
        writeData(m_dir.path(), 24, 32);
        const QString path = save(smallUNet(50), m_dir.path() + "/running.segforge");
        std::int64_t savedStep = 0;
        {
            auto w = makeWindow();
            w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
            QVERIFY(w->openFile(path, nullptr, true));
            TrainingController* c = w->training()->controller();
            QString why;
            QVERIFY(c->start(false, &why));
            QVERIFY(pumpUntil([&] { return c->step() >= 2; }, 60'000));
            QVERIFY2(w->saveFile(path, &why, true), qPrintable(why));
            QCOMPARE(c->state(), TrainingController::State::Running); // resumed after the save
            savedStep = core::loadProject(path.toStdString()).project->weights->step;
            QVERIFY(savedStep >= 2);
            c->stop();
            QVERIFY(c->waitForIdle(60'000));
        }
        // What was written mid-run is a consistent checkpoint: it restores and continues.
        auto w = makeWindow();
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        TrainingController* c = w->training()->controller();
        QSignalSpy restored(c, &TrainingController::weightsRestored);
        QVERIFY(w->openFile(path, nullptr, true));
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY2(restored.first().at(1).toBool(), qPrintable(restored.first().at(2).toString()));
        QVERIFY2(!restored.first().at(2).toString().contains("not restored"),
                 qPrintable(restored.first().at(2).toString()));
        QCOMPARE(c->step(), savedStep);
        QVERIFY(c->canContinueRun());
    }

    void guiSavesAfterTrainingAndPredictUsesIt() {
        // segforge --open FILE --data DIR --train-steps N --save, then segforge-cli predict without
        // --weights.
        writeData(m_dir.path(), 12, 32);
        const QString path = save(smallUNet(5), m_dir.path() + "/scripted.segforge");
        QProcess gui;
        gui.setProcessChannelMode(QProcess::MergedChannels);
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("QT_QPA_PLATFORM", "offscreen");
        gui.setProcessEnvironment(env);
        gui.start(SEGFORGE_GUI, {"--open", path, "--data", m_dir.path() + "/data", "--train-steps",
                                 "3", "--save"});
        QVERIFY(gui.waitForFinished(120'000));
        const QString out = QString::fromUtf8(gui.readAll());
        QCOMPARE(gui.exitCode(), 0);
        QVERIFY2(out.contains("saved " + path + " with scripted.weights.safetensors (step 3)"),
                 qPrintable(out));
        QProcess cli;
        cli.setProcessChannelMode(QProcess::MergedChannels);
        cli.start(SEGFORGE_CLI, {"predict", path, "--images", m_dir.path() + "/data/images",
                                 "--out", m_dir.path() + "/pred"});
        QVERIFY(cli.waitForFinished(120'000));
        const QString predicted = QString::fromUtf8(cli.readAll());
        QCOMPARE(cli.exitCode(), 0);
        QVERIFY2(
            predicted.contains(
                "using the weights saved with the project: scripted.weights.safetensors (step 3)"),
            qPrintable(predicted));
        QVERIFY(QFileInfo::exists(m_dir.path() + "/pred/sample_0000_mask.png"));
    }

    void trainedWeightsAreAutosavedAndOfferedBack() {
        writeData(m_dir.path(), 24, 32);
        const QString path = save(smallUNet(3), m_dir.path() + "/crash.segforge");
        std::map<std::string, std::vector<float>> trained;
        std::int64_t step = 0;
        QString slotWeights;
        {
            auto w = makeWindow();
            w->setRecoveryAnswer(false);          // leftovers of other cases are not this one's
            pumpUntil([] { return false; }, 100); // the start-up recovery question is answered
            QVERIFY(w->openFile(path, nullptr, true));
            TrainingController* c = w->training()->controller();
            QSignalSpy autosaved(c, &TrainingController::autosavePoint);
            trainTo(*w, 6); // an epoch ends at step 4; the run ends (stop) at 6
            QVERIFY(autosaved.count() > 0);
            slotWeights = w->recoveryPath();
            slotWeights.replace(".segforge", ".weights.safetensors");
            QVERIFY2(QFileInfo::exists(slotWeights), qPrintable(slotWeights));
            QVERIFY(QFileInfo::exists(w->recoveryPath())); // the copy that makes the next start ask
            step = c->step();
            trained = weightsOf(*w, path);
            // A crash: no close event, nothing saved.
        }
        auto w = makeWindow();
        w->setRecoveryAnswer(true);
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        TrainingController* c = w->training()->controller();
        QSignalSpy restored(c, &TrainingController::weightsRestored);
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY2(restored.first().at(1).toBool(), qPrintable(restored.first().at(2).toString()));
        QCOMPARE(c->step(), step);
        QVERIFY(c->canContinueRun());  // the checkpoint came back too
        QVERIFY(c->weightsModified()); // not in the project's file yet
        QVERIFY(w->isWindowModified());
        QCOMPARE(weightsOf(*w, path), trained);
        // Saved: the project now has them, the slot forgets them.
        QString why;
        QVERIFY2(w->saveFile(path, &why, true), qPrintable(why));
        QVERIFY(!QFileInfo::exists(slotWeights));
        QVERIFY(!c->weightsModified());
    }

    void renderSavePromptForReview() {
        // SEGFORGE_SHOT_DIR, SEGFORGE_SHOT_PROJECT and SEGFORGE_SHOT_DATA: the window
        // with the save prompt over it, at 1280×720 and 1920×1080, for a person to look at.
        const QString dir = qEnvironmentVariable("SEGFORGE_SHOT_DIR");
        const QString project = qEnvironmentVariable("SEGFORGE_SHOT_PROJECT");
        if (dir.isEmpty() || project.isEmpty())
            QSKIP("set SEGFORGE_SHOT_DIR and SEGFORGE_SHOT_PROJECT (and SEGFORGE_SHOT_DATA) to "
                  "render");
        auto w = makeWindow();
        core::TrainingOverrides overrides;
        if (const QString data = qEnvironmentVariable("SEGFORGE_SHOT_DATA"); !data.isEmpty())
            overrides.dataDir = data.toStdString();
        w->training()->controller()->setDefaultOverrides(overrides);
        QVERIFY(w->openFile(project, nullptr, true));
        pumpUntil(
            [&] { return w->training()->controller()->state() == TrainingController::State::Idle; },
            60'000);
        trainTo(*w, w->training()->controller()->step() + 3);
        for (const QSize size : {QSize(1280, 720), QSize(1920, 1080)}) {
            w->resize(size);
            pumpUntil([] { return false; }, 300);
            QTimer::singleShot(300, w.get(), [&] {
                auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
                if (!box)
                    return;
                // Offscreen, a dialog is its own top-level: draw it where it would appear.
                QPixmap shot = w->grab();
                const QPixmap dialog = box->grab();
                QPainter painter(&shot);
                painter.fillRect(shot.rect(), QColor(0, 0, 0, 60));
                painter.drawPixmap((shot.width() - dialog.width()) / 2,
                                   (shot.height() - dialog.height()) / 2, dialog);
                painter.end();
                shot.save(QStringLiteral("%1/save_prompt_%2x%3.png")
                              .arg(dir)
                              .arg(size.width())
                              .arg(size.height()));
                box->button(QMessageBox::Cancel)->click();
            });
            QVERIFY(!w->close());
        }
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
    }

    void writingThirtyMegabytesKeepsTheEventLoopTurning() {
        // A 32-filter depth-4 U-Net has about 7.8 M parameters: a 31 MB weights file.
        core::Project big = smallUNet(1, 32, 64, 4);
        const QString path = save(big, m_dir.path() + "/big.segforge");
        std::string error;
        auto ex = core::Executor::compile(big.graph, error);
        QVERIFY2(ex, error.c_str());
        ex->initializeParameters(1);
        const QString file = m_dir.path() + "/big-init.safetensors";
        QCOMPARE(core::saveWeights(*ex, file.toStdString()), std::string());
        qInfo("weights file: %.1f MB", static_cast<double>(QFileInfo(file).size()) / 1e6);
        QVERIFY(QFileInfo(file).size() > 30'000'000);

        auto w = makeWindow();
        w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
        QVERIFY(w->openFile(path, nullptr, true));
        QVERIFY(!w->training()->importWeightsFile(file, nullptr).isEmpty());
        TrainingController* c = w->training()->controller();
        QElapsedTimer t;
        t.start();
        QString why;
        QVERIFY2(w->saveFile(path, &why, true), qPrintable(why));
        qInfo("save of %.1f MB took %lld ms; longest event-loop wait %.1f ms",
              static_cast<double>(QFileInfo(m_dir.path() + "/big.weights.safetensors").size()) /
                  1e6,
              static_cast<long long>(t.elapsed()), c->lastSaveGapMs());
        // Reported, not asserted: timings belong to measurements, and a loaded
        // machine must not fail the suite. What is asserted is that it was written.
        QVERIFY(QFileInfo(m_dir.path() + "/big.weights.safetensors").size() > 30'000'000);
    }

private:
    QTemporaryDir m_dir;
};

QTEST_MAIN(ProjectWeightsTest)
#include "project_weights_test.moc"
