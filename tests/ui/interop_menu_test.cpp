// The PyTorch loop in the real window, offscreen: File → Import ONNX Model…
// (and File → Open… of a .onnx) replaces the document with the imported
// network and makes the file's weights the current ones, which Save writes
// beside the project and a reopen restores; a corrupt file is refused with
// the current document unchanged; File → Export Training Script… writes
// PyTorch and Keras scripts that Python compiles (with the current weights
// beside them when asked); Import Weights… loads a safetensors file that has
// no SegForge metadata (what PyTorch's exported script writes) by name and
// shape. SEGFORGE_SHOT_DIR=DIR renders the imported network and the export
// dialog at 1280×720 and 1920×1080 to look at.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "engine/executor.hpp"
#include "io/safetensors.hpp"
#include "onnx/onnx_import.hpp"
#include "onnx/onnx_model.hpp"
#include "project/project_file.hpp"
#include "scene/graph_view.hpp"
#include "templates/unet_template.hpp"
#include "training/training_controller.hpp"
#include "window/export_script_dialog.hpp"
#include "window/main_window.hpp"
#include "window/shortcuts_dialog.hpp"
#include "window/training_workbench.hpp"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QPainter>
#include <QProcess>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <memory>

using namespace segforge;
using namespace segforge::ui;

namespace {

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

std::unique_ptr<MainWindow> makeWindow(int width = 1280, int height = 720) {
    auto w = std::make_unique<MainWindow>();
    w->setWeightsAutosave(false);
    w->setSavePrompt([](const QString&, const QString&) { return QMessageBox::Discard; });
    w->resize(width, height);
    w->show();
    return w;
}

std::vector<float> ramp(std::size_t n, float scale, float offset) {
    std::vector<float> v(n);
    for (std::size_t i = 0; i < n; ++i)
        v[i] = offset + scale * static_cast<float>((i * 7) % 13) - 6.0f * scale;
    return v;
}

/// A tiny NCHW network as torch.onnx.export writes it: Conv 3→4 (3×3, pads 1,
/// bias) → Relu → Conv 4→2 (1×1, bias) → Sigmoid, on 1×3×16×16. With
/// `unsupported`, an op SegForge has no equivalent for sits after the Relu.
std::string tinyOnnx(bool unsupported) {
    core::interop::OnnxModel m("torch_jit"); // what torch.onnx.export names every graph
    m.addInput({"input", core::interop::OnnxType::Float, {1, 3, 16, 16}});
    m.addFloatInitializer("conv1.weight", {4, 3, 3, 3}, ramp(4 * 3 * 3 * 3, 0.05f, 0.01f));
    m.addFloatInitializer("conv1.bias", {4}, {0.1f, -0.2f, 0.3f, -0.4f});
    m.addFloatInitializer("head.weight", {2, 4, 1, 1}, ramp(2 * 4, 0.1f, -0.02f));
    m.addFloatInitializer("head.bias", {2}, {0.5f, -0.5f});
    using A = core::interop::OnnxAttr;
    m.addNode("Conv", "/conv1/Conv", {"input", "conv1.weight", "conv1.bias"}, {"c1"},
              {A{"kernel_shape", std::vector<std::int64_t>{3, 3}},
               A{"pads", std::vector<std::int64_t>{1, 1, 1, 1}},
               A{"strides", std::vector<std::int64_t>{1, 1}}});
    m.addNode("Relu", "/relu/Relu", {"c1"}, {"r1"});
    std::string last = "r1";
    if (unsupported) {
        m.addNode("HardSwish", "/act/HardSwish", {"r1"}, {"h1"});
        last = "h1";
    }
    m.addNode("Conv", "/head/Conv", {last, "head.weight", "head.bias"}, {"c2"},
              {A{"kernel_shape", std::vector<std::int64_t>{1, 1}}});
    m.addNode("Sigmoid", "/sigmoid/Sigmoid", {"c2"}, {"output"});
    m.addOutput({"output", core::interop::OnnxType::Float, {1, 2, 16, 16}});
    return m.serialize("test");
}

QString writeFile(const QString& path, const std::string& bytes) {
    std::ofstream out(path.toStdString(), std::ios::binary);
    out << bytes;
    return out ? path : QString();
}

/// A depth-2 U-Net on 32×32 images reading DIR/data, saved as DIR/NAME.
QString saveUNet(const QString& dir, const QString& name) {
    core::UNetOptions o;
    o.depth = 2;
    o.filters = 4;
    o.size = 32;
    auto project = std::get<core::Project>(core::makeUNetProject(o));
    for (auto& [id, n] : project.graph.nodes())
        if (n.op == "Dataset") {
            auto* node = project.graph.findNode(id);
            node->attrs["images"] = std::string("data/images");
            node->attrs["masks"] = std::string("data/masks");
        }
    const QString path = dir + "/" + name;
    return core::saveProject(project, path.toStdString()).empty() ? path : QString();
}

std::vector<float> values(const core::Tensor& t) {
    return std::vector<float>(t.f32(), t.f32() + t.numel());
}

QMessageBox* visibleBox(const QString& objectName = {}) {
    for (QWidget* top : QApplication::topLevelWidgets())
        if (auto* b = qobject_cast<QMessageBox*>(top);
            b && b->isVisible() && (objectName.isEmpty() || b->objectName() == objectName))
            return b;
    return nullptr;
}

int pyCompile(const QString& script, QString* output) {
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(QStringLiteral(SEGFORGE_PYTHON),
            {"-X", "pycache_prefix=" + QFileInfo(script).absolutePath() + "/pycache", "-m",
             "py_compile", script});
    if (!p.waitForFinished(60'000))
        return -1;
    *output = QString::fromUtf8(p.readAll());
    return p.exitCode();
}

} // namespace

class InteropMenuTest : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void menuHasTheEntries() {
        auto w = makeWindow();
        bool onnx = false;
        bool script = false;
        for (const ShortcutsDialog::Row& row : ShortcutsDialog::collect(w.get()))
            if (row.action.contains("ONNX"))
                onnx = row.keys == QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_I)
                                       .toString(QKeySequence::NativeText);
        for (QAction* a : w->menuBar()->actions().front()->menu()->actions())
            script = script || a->text().remove('&') == "Export Training Script…";
        QVERIFY2(onnx, "File › Import ONNX Model… with Ctrl+Shift+I in the shortcuts list");
        QVERIFY(script);
    }

    void importOnnxBringsItsWeightsAndSavesThem() {
        const QString onnxPath = writeFile(m_dir.path() + "/tiny.onnx", tinyOnnx(false));
        QVERIFY(!onnxPath.isEmpty());
        const core::OnnxImport expected = core::importOnnxFile(onnxPath.toStdString());
        QVERIFY2(expected.ok(), expected.errors.empty() ? "" : expected.errors.front().c_str());
        QCOMPARE(expected.weights.size(), std::size_t{4});

        auto w = makeWindow();
        TrainingController* c = w->training()->controller();
        QString error;
        // File → Open… routes a .onnx to the import.
        QVERIFY2(w->openFile(onnxPath, &error, true), qPrintable(error));
        QCOMPARE(w->document()->graph().nodeCount(), expected.project->graph.nodeCount());
        QVERIFY(w->document()->isDirty());
        QVERIFY(w->document()->filePath().isEmpty()); // untitled: Save asks where
        // Named after the file, not torch's "torch_jit".
        QCOMPARE(QString::fromStdString(w->document()->project().name), QString("tiny"));
        QVERIFY2(c->hasWeights(), qPrintable(w->statusBar()->currentMessage()));
        QVERIFY(c->weightsModified());
        for (const auto& [name, tensor] : expected.weights) {
            const core::Tensor* p = c->parameter(name);
            QVERIFY2(p, name.c_str());
            QVERIFY2(values(*p) == values(tensor), name.c_str());
        }

        // Saved beside the project as trained weights are; a reopen restores them.
        const QString saved = m_dir.path() + "/tiny.segforge";
        QVERIFY2(w->saveFile(saved, &error, true), qPrintable(error));
        QVERIFY(QFileInfo::exists(m_dir.path() + "/tiny.weights.safetensors"));
        QVERIFY(!c->weightsModified());
        w.reset();

        auto again = makeWindow();
        TrainingController* c2 = again->training()->controller();
        QSignalSpy restored(c2, &TrainingController::weightsRestored);
        QVERIFY2(again->openFile(saved, &error, true), qPrintable(error));
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c2->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY2(restored.first().at(1).toBool(), qPrintable(restored.first().at(2).toString()));
        for (const auto& [name, tensor] : expected.weights) {
            const core::Tensor* p = c2->parameter(name);
            QVERIFY2(p, name.c_str());
            QVERIFY2(values(*p) == values(tensor), name.c_str());
        }
    }

    void unsupportedOpsAreReportedAndTheWeightsWait() {
        const QString onnxPath = writeFile(m_dir.path() + "/hard.onnx", tinyOnnx(true));
        const core::OnnxImport expected = core::importOnnxFile(onnxPath.toStdString());
        QVERIFY2(expected.ok(), expected.errors.empty() ? "" : expected.errors.front().c_str());
        QVERIFY(expected.placeholders > 0);
        auto w = makeWindow();
        QVERIFY(w->importOnnx(onnxPath));
        QMessageBox* box = nullptr;
        QVERIFY(
            pumpUntil([&] { return (box = visibleBox("onnx-import-report")) != nullptr; }, 5000));
        QVERIFY2(box->text().contains("HardSwish"), qPrintable(box->text()));
        QVERIFY2(box->text().contains("marked on the canvas"), qPrintable(box->text()));
        QVERIFY(!box->isModal());
        box->close();
        // The graph does not compile with a placeholder: the weights wait for it.
        TrainingController* c = w->training()->controller();
        QVERIFY(!c->hasWeights());
        QVERIFY(c->hasPendingWeights());
        QVERIFY(!expected.weights.empty());
        QCOMPARE(c->pendingWeights().size(), expected.weights.size());

        // Saved with the project all the same, and waiting again after a reopen.
        const QString saved = m_dir.path() + "/hard.segforge";
        QString error;
        QVERIFY2(w->saveFile(saved, &error, true), qPrintable(error));
        QVERIFY(QFileInfo::exists(m_dir.path() + "/hard.weights.safetensors"));
        w.reset();
        auto again = makeWindow();
        TrainingController* c2 = again->training()->controller();
        QSignalSpy restored(c2, &TrainingController::weightsRestored);
        QVERIFY2(again->openFile(saved, &error, true), qPrintable(error));
        QVERIFY(pumpUntil(
            [&] { return restored.count() > 0 && c2->state() == TrainingController::State::Idle; },
            60'000));
        QVERIFY2(restored.first().at(2).toString().contains("wait until the graph compiles"),
                 qPrintable(restored.first().at(2).toString()));
        QVERIFY(!c2->weightsModified());
        QCOMPARE(c2->pendingWeights().size(), expected.weights.size());
        for (const auto& [name, tensor] : expected.weights)
            QVERIFY2(values(c2->pendingWeights().at(name)) == values(tensor), name.c_str());
        if (QMessageBox* info = visibleBox())
            info->close();
    }

    void corruptOnnxLeavesTheDocumentAlone() {
        const QString project = saveUNet(m_dir.path(), "keep.segforge");
        auto w = makeWindow();
        QString error;
        QVERIFY2(w->openFile(project, &error, true), qPrintable(error));
        const std::size_t nodes = w->document()->graph().nodeCount();
        const std::string whole = tinyOnnx(false);
        for (const std::string& bytes :
             {std::string("this is not a model"), whole.substr(0, whole.size() / 2)}) {
            const QString bad = writeFile(m_dir.path() + "/bad.onnx", bytes);
            error.clear();
            QVERIFY(!w->openFile(bad, &error, true));
            QVERIFY2(error.contains("bad.onnx"), qPrintable(error));
            QCOMPARE(w->document()->filePath(), project);
            QCOMPARE(w->document()->graph().nodeCount(), nodes);
            QVERIFY(!w->document()->isDirty());
        }
    }

    void exportTrainingScriptsCompile() {
        const QString project = saveUNet(m_dir.path(), "unet.segforge");
        core::SampleDataOptions data;
        data.count = 4;
        data.size = 32;
        QCOMPARE(core::writeSampleData((m_dir.path() + "/data").toStdString(), data),
                 std::string());
        auto w = makeWindow();
        QString error;
        QVERIFY2(w->openFile(project, &error, true), qPrintable(error));
        QCOMPARE(w->defaultScriptPath(), m_dir.path() + "/unet_train.py");

        for (auto framework : {core::ScriptFramework::PyTorch, core::ScriptFramework::Keras}) {
            const QString script =
                m_dir.path() + "/unet_" +
                QString::fromLatin1(core::scriptFrameworkName(framework).data()) + ".py";
            const QString message = w->exportTrainingScript(framework, script, false, &error);
            QVERIFY2(!message.isEmpty(), qPrintable(error));
            QVERIFY2(message.startsWith("Wrote " + QFileInfo(script).fileName() +
                                        " — run: python3 " + QFileInfo(script).fileName() +
                                        " --data "),
                     qPrintable(message));
            QCOMPARE(message.contains("torchrun --nproc_per_node N"),
                     framework == core::ScriptFramework::PyTorch);
            // Keras' script joins --data with the project's relative folders (data/images).
            if (framework == core::ScriptFramework::Keras)
                QVERIFY2(message.endsWith("--data " + m_dir.path()) ||
                             message.contains("--data " + m_dir.path() + " —"),
                         qPrintable(message));
            QString output;
            QCOMPARE(pyCompile(script, &output), 0);
        }
        // The PyTorch script reads DATA/images: --data names the folder holding them.
        const QString message = w->exportTrainingScript(core::ScriptFramework::PyTorch,
                                                        m_dir.path() + "/again.py", false, &error);
        QVERIFY2(message.contains("--data " + m_dir.path() + "/data"), qPrintable(message));

        // With the current weights: written beside the script, which loads them by default.
        TrainingController* c = w->training()->controller();
        QVERIFY(w->exportTrainingScript(core::ScriptFramework::PyTorch,
                                        m_dir.path() + "/w_train.py", true, &error)
                    .isEmpty()); // no weights yet
        QVERIFY2(error.contains("no current weights"), qPrintable(error));
        QVERIFY(!QFileInfo::exists(m_dir.path() + "/w_train.py"));
        std::map<std::string, core::Tensor> none;
        none.emplace("nothing/kernel", core::Tensor(core::Shape{1}, core::DType::Float32));
        const core::WeightsMatch m = c->adoptWeights(std::move(none));
        QVERIFY2(m.error.empty(), m.error.c_str());
        QVERIFY(c->hasWeights());
        const QString withWeights = w->exportTrainingScript(
            core::ScriptFramework::PyTorch, m_dir.path() + "/w_train.py", true, &error);
        QVERIFY2(withWeights.contains("w_train.weights.safetensors"), qPrintable(withWeights));
        const QString weightsFile = m_dir.path() + "/w_train.weights.safetensors";
        std::string why;
        const core::SafetensorsData written = core::loadSafetensors(weightsFile.toStdString(), why);
        QVERIFY2(why.empty(), why.c_str());
        QVERIFY(written.tensors.count("enc1_conv1/kernel") == 1);
        QFile script(m_dir.path() + "/w_train.py");
        QVERIFY(script.open(QIODevice::ReadOnly));
        QVERIFY(QString::fromUtf8(script.readAll()).contains(weightsFile));
        QString output;
        QCOMPARE(pyCompile(script.fileName(), &output), 0);
    }

    void exportOfABrokenGraphListsWhy() {
        auto w = makeWindow();
        QVERIFY(w->newEmpty());
        QString error;
        const QString script = m_dir.path() + "/empty_train.py";
        QVERIFY(w->exportTrainingScript(core::ScriptFramework::PyTorch, script, false, &error)
                    .isEmpty());
        QVERIFY2(error.contains("was not written"), qPrintable(error));
        QVERIFY2(error.count('\n') >= 2, qPrintable(error)); // the reasons follow
        QVERIFY(!QFileInfo::exists(script));
    }

    void importWeightsWithoutSegForgeMetadata() {
        const QString project = saveUNet(m_dir.path(), "plain.segforge");
        auto w = makeWindow();
        QString error;
        QVERIFY2(w->openFile(project, &error, true), qPrintable(error));
        // What another tool writes: SegForge's names, float32, no __metadata__ at all.
        std::string why;
        auto executor = core::Executor::compile(w->document()->graph(), why);
        QVERIFY2(executor, why.c_str());
        executor->initializeParameters(1234);
        std::vector<std::pair<std::string, const core::Tensor*>> tensors;
        for (const core::Parameter& p : executor->parameters())
            tensors.emplace_back(p.name, &p.value);
        const QString file = m_dir.path() + "/from_pytorch.safetensors";
        QCOMPARE(core::saveSafetensors(file.toStdString(), tensors), std::string());
        QFile raw(file);
        QVERIFY(raw.open(QIODevice::ReadOnly));
        QVERIFY(!raw.readAll().contains("__metadata__"));

        const QString report = w->training()->importWeightsFile(file, &error);
        const QString all = QString::number(tensors.size());
        QVERIFY2(
            report.startsWith(all + " of " + all + " tensors loaded from from_pytorch.safetensors"),
            qPrintable(report + error));
        TrainingController* c = w->training()->controller();
        for (const core::Parameter& p : executor->parameters()) {
            const core::Tensor* now = c->parameter(p.name);
            QVERIFY2(now && values(*now) == values(p.value), p.name.c_str());
        }
        QVERIFY(c->weightsModified());
    }

    void theLoopClosesThroughPyTorch() {
        // Export Training Script… with the current weights → PyTorch trains one
        // epoch → Import Weights… loads what it wrote, every tensor by name.
        QProcess probe;
        probe.start(QStringLiteral(SEGFORGE_PYTHON), {"-c", "import torch"});
        if (!probe.waitForFinished(60'000) || probe.exitCode() != 0)
            QSKIP("no torch in " SEGFORGE_PYTHON);
        const QString project = saveUNet(m_dir.path(), "loop.segforge");
        core::SampleDataOptions data;
        data.count = 8;
        data.size = 32;
        QCOMPARE(core::writeSampleData((m_dir.path() + "/data").toStdString(), data),
                 std::string());
        auto w = makeWindow();
        QString error;
        QVERIFY2(w->openFile(project, &error, true), qPrintable(error));
        TrainingController* c = w->training()->controller();
        std::map<std::string, core::Tensor> seed;
        seed.emplace("nothing/kernel", core::Tensor(core::Shape{1}, core::DType::Float32));
        QVERIFY(c->adoptWeights(std::move(seed)).error.empty());
        const core::Tensor before = *c->parameter("enc1_conv1/kernel");
        const QString script = m_dir.path() + "/loop_train.py";
        QVERIFY2(!w->exportTrainingScript(core::ScriptFramework::PyTorch, script, true, &error)
                      .isEmpty(),
                 qPrintable(error));

        const QString trained = m_dir.path() + "/trained.safetensors";
        QProcess run;
        run.setProcessChannelMode(QProcess::MergedChannels);
        run.setWorkingDirectory(m_dir.path());
        run.start(QStringLiteral(SEGFORGE_PYTHON),
                  {script, "--data", m_dir.path() + "/data", "--epochs", "1", "--workers", "0",
                   "--out", trained, "--device", "cpu"});
        QVERIFY(run.waitForFinished(300'000));
        const QString output = QString::fromUtf8(run.readAll());
        QVERIFY2(run.exitCode() == 0, qPrintable(output));
        QVERIFY2(QFileInfo::exists(trained), qPrintable(output));

        const QString report = w->training()->importWeightsFile(trained, &error);
        QVERIFY2(report.contains(" tensors loaded from trained.safetensors"),
                 qPrintable(report + error));
        qInfo("%s", qPrintable(report.section('\n', 0, 0)));
        const QStringList counts = report.section(' ', 0, 2).split(" of ");
        QCOMPARE(counts.size(), 2);
        QCOMPARE(counts[0], counts[1].section(' ', 0, 0)); // every tensor
        QVERIFY2(!report.contains("Other shape") && !report.contains("Not in the file"),
                 qPrintable(report));
        // Trained there: other values than the ones the script started from.
        const core::Tensor* after = c->parameter("enc1_conv1/kernel");
        QVERIFY(after);
        QVERIFY(values(*after) != values(before));
    }

    void screenshots() {
        const QByteArray dir = qgetenv("SEGFORGE_SHOT_DIR");
        if (dir.isEmpty())
            QSKIP("SEGFORGE_SHOT_DIR not set");
        const QString model = qEnvironmentVariable("SEGFORGE_SHOT_ONNX");
        for (const QSize size : {QSize(1280, 720), QSize(1920, 1080)}) {
            auto w = makeWindow(size.width(), size.height());
            QString error;
            const QString source =
                model.isEmpty() ? writeFile(m_dir.path() + "/tiny.onnx", tinyOnnx(false)) : model;
            QVERIFY2(w->openFile(source, &error, true), qPrintable(error));
            QApplication::processEvents();
            w->view()->showStart();
            QApplication::processEvents();
            const QString suffix = QStringLiteral("%1x%2.png").arg(size.width()).arg(size.height());
            QVERIFY(w->saveScreenshot(QString::fromUtf8(dir) + "/onnx_import_" + suffix));
            ExportScriptDialog dialog(w->defaultScriptPath(),
                                      w->training()->controller()->hasWeights(), w.get());
            dialog.show();
            QApplication::processEvents();
            dialog.move(w->geometry().center() - dialog.rect().center());
            QVERIFY(dialog.grab().save(QString::fromUtf8(dir) + "/export_script_dialog_" + suffix));
            // The dialog over the window, as a user sees it.
            QPixmap shot = w->grab();
            QPainter painter(&shot);
            painter.drawPixmap(w->mapFromGlobal(dialog.mapToGlobal(QPoint(0, 0))), dialog.grab());
            painter.end();
            QVERIFY(shot.save(QString::fromUtf8(dir) + "/export_script_window_" + suffix));
            dialog.close();

            // The report of an import with placeholders, over the window.
            const QString hard = qEnvironmentVariable("SEGFORGE_SHOT_ONNX_PLACEHOLDERS");
            QVERIFY(w->importOnnx(
                hard.isEmpty() ? writeFile(m_dir.path() + "/hard.onnx", tinyOnnx(true)) : hard));
            QMessageBox* box = nullptr;
            QVERIFY(pumpUntil([&] { return (box = visibleBox("onnx-import-report")) != nullptr; },
                              5000));
            w->view()->showStart();
            QApplication::processEvents();
            box->move(w->geometry().center() - box->rect().center());
            QPixmap report = w->grab();
            QPainter reportPainter(&report);
            reportPainter.drawPixmap(w->mapFromGlobal(box->mapToGlobal(QPoint(0, 0))), box->grab());
            reportPainter.end();
            QVERIFY(report.save(QString::fromUtf8(dir) + "/onnx_placeholders_" + suffix));
            box->close();
        }
    }
};

QTEST_MAIN(InteropMenuTest)
#include "interop_menu_test.moc"
