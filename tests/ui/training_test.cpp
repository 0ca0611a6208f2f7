// Training inside the editor window, offscreen, with the real widgets and a
// small generated sample set: epochs complete and fill the plots and the
// predictions, stepping node by node walks the graph in topological order with
// the inspector following, a Dice without epsilon stops on NaN at the Dice
// node, stopping mid-epoch and training again works, and the graph is locked
// while training runs. Also reports how long the event loop waited at worst.

#include "data/sample_data.hpp"
#include "document/document.hpp"
#include "ops/op_registry.hpp"
#include "panels/diagnostics_panel.hpp"
#include "project/project_file.hpp"
#include "scene/edge_item.hpp"
#include "scene/graph_scene.hpp"
#include "scene/node_item.hpp"
#include "templates/unet_template.hpp"
#include "training/overlay_panel.hpp"
#include "training/tensor_inspector.hpp"
#include "training/training_controller.hpp"
#include "training/training_panel.hpp"
#include "training/training_plots.hpp"
#include "window/main_window.hpp"
#include "window/training_workbench.hpp"

#include <QAction>
#include <QElapsedTimer>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QTimer>
#include <QTreeWidget>
#include <QtTest>
#include <algorithm>
#include <cmath>

using namespace segforge;
using namespace segforge::ui;

namespace {

/// Writes `count` generated image/mask pairs of `size`² into DIR/data.
void writeData(const QString& dir, int count, int size, double emptyFraction = 0.1) {
    core::SampleDataOptions o;
    o.count = count;
    o.size = size;
    o.emptyFraction = emptyFraction;
    const std::string err = core::writeSampleData((dir + "/data").toStdString(), o);
    QVERIFY2(err.empty(), err.c_str());
}

void setAttr(core::Project& p, const char* node, const char* name, core::AttrValue value) {
    for (const auto& [id, n] : p.graph.nodes())
        if (n.name == node) {
            p.graph.findNode(id)->attrs[name] = std::move(value);
            return;
        }
    QFAIL(qPrintable(QString("no node %1").arg(node)));
}

/// A depth-2 U-Net on 32×32 images, 4 filters, batch 4, reading DIR/data.
QString writeSmallUNet(const QString& dir, int epochs) {
    core::UNetOptions o;
    o.depth = 2;
    o.filters = 4;
    o.size = 32;
    auto project = std::get<core::Project>(core::makeUNetProject(o));
    const core::Node* dataset = nullptr;
    for (const auto& [id, n] : project.graph.nodes())
        if (n.op == "Dataset")
            dataset = &n;
    if (!dataset)
        return {};
    setAttr(project, dataset->name.c_str(), "images", std::string("data/images"));
    setAttr(project, dataset->name.c_str(), "masks", std::string("data/masks"));
    setAttr(project, dataset->name.c_str(), "batch_size", std::int64_t{4});
    project.training.epochs = epochs;
    project.training.threads = 1;
    project.training.validationSplit = 0.25;
    const QString path = dir + "/small.segforge";
    const std::string err = core::saveProject(project, path.toStdString());
    return err.empty() ? path : QString();
}

/// Turns the event loop until `done` or the timeout; records the longest gap
/// between two timer ticks (the GUI's worst wait while the engine trains).
template <typename F> bool pumpUntil(F done, int timeoutMs, double* worstGapMs = nullptr) {
    QElapsedTimer total, gap;
    total.start();
    gap.start();
    double worst = 0;
    QTimer tick;
    tick.setInterval(5);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        worst = std::max(worst, static_cast<double>(gap.nsecsElapsed()) / 1e6);
        gap.restart();
    });
    tick.start();
    while (!done()) {
        if (total.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    }
    if (worstGapMs)
        *worstGapMs = worst;
    return true;
}

} // namespace

class TrainingTest : public QObject {
    Q_OBJECT

private slots:
    void init() {
        QVERIFY(m_dir.isValid());
        m_window = std::make_unique<MainWindow>();
        m_window->resize(1600, 1000);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }
    void cleanup() {
        m_window->training()->controller()->stop();
        QVERIFY(m_window->training()->controller()->waitForIdle(60'000));
        m_window->document()->undoStack()->setClean(); // no "save changes?" on close
        m_window.reset();
    }

    void twoEpochsFillPlotsAndPredictions() {
        writeData(m_dir.path(), 24, 32);
        const QString project = writeSmallUNet(m_dir.path(), 2);
        QVERIFY(m_window->openFile(project, nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        QSignalSpy ended(c, &TrainingController::runEnded);
        QSignalSpy overlays(c, &TrainingController::overlaysReady);

        QElapsedTimer startTime;
        startTime.start();
        wb->panel()->trainAction()->trigger();
        qInfo("starting took %lld ms", static_cast<long long>(startTime.elapsed()));
        QCOMPARE(c->state(), TrainingController::State::Running);
        QVERIFY(m_window->document()->isLocked());
        double worstGap = 0;
        QVERIFY(pumpUntil([&] { return ended.count() > 0; }, 120'000, &worstGap));
        qInfo("event loop: longest wait while training %.1f ms", worstGap);
        QCOMPARE(ended.first().at(0).value<core::TrainEventKind>(), core::TrainEventKind::Finished);
        QVERIFY(!m_window->document()->isLocked());

        // 18 training images in batches of 4 → 4 steps per epoch, 2 epochs.
        QCOMPARE(wb->plots()->stepPointCount(), 8);
        QCOMPARE(wb->plots()->epochPointCount(), 2);
        QCOMPARE(overlays.count(), 2); // one refresh per epoch end
        QCOMPARE(wb->overlays()->sampleCount(), 6);
        for (int i = 0; i < wb->overlays()->sampleCount(); ++i) {
            const double d = wb->overlays()->sampleDice(i);
            QVERIFY(d >= 0 && d <= 1);
        }
        QVERIFY(wb->panel()->progressText().contains("Epoch 2/2"));
        QCOMPARE(wb->panel()->progressValue(), 8);
    }

    void steppingNodesFollowsTopologicalOrder() {
        writeData(m_dir.path(), 12, 32);
        QVERIFY(m_window->openFile(writeSmallUNet(m_dir.path(), 1), nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        QSignalSpy paused(c, &TrainingController::pausedAt);

        const auto order = m_window->document()->graph().topologicalOrder();
        QVERIFY(order.has_value());
        // Every pause in the order it was signalled: a step started from a stopped
        // run may pause before the first batch and after the first node in quick
        // succession, so the spy's last entry alone can skip a node.
        auto stepped = [&] {
            std::vector<core::NodeId> nodes;
            for (const QList<QVariant>& args : paused)
                if (const auto id = args.at(0).value<core::NodeId>(); id != core::kNoNode)
                    nodes.push_back(id);
            return nodes;
        };
        std::vector<core::NodeId> seen;
        while (seen.size() < 3) {
            const int before = paused.count();
            wb->panel()->stepNodeAction()->trigger();
            QVERIFY(pumpUntil(
                [&] {
                    return paused.count() > before &&
                           c->state() == TrainingController::State::Paused;
                },
                30'000));
            seen = stepped();
            if (!seen.empty()) {
                QCOMPARE(m_window->scene()->runMarkNode(), seen.back());
                QCOMPARE(m_window->scene()->nodeItem(seen.back())->runMark(),
                         NodeItem::RunMark::Current);
            }
        }
        // The dock and the status bar say the same thing about where the run stands.
        QVERIFY(m_window->statusBar()->currentMessage().startsWith("Paused after"));
        QCOMPARE(wb->panel()->runStateText(), m_window->statusBar()->currentMessage());
        // The nodes ran in the executor's order, which is a topological order of the graph.
        const std::vector<core::NodeId> exec = c->executionOrder();
        QVERIFY(exec.size() >= 3);
        QVERIFY(std::equal(seen.begin(), seen.end(), exec.begin()));
        const auto& g = m_window->document()->graph();
        auto at = [&](core::NodeId id) {
            return std::find(exec.begin(), exec.end(), id) - exec.begin();
        };
        for (const core::Edge& e : g.edges())
            QVERIFY2(at(e.from.node) < at(e.to.node), "a node runs before its producer");

        // The inspector follows the stepped node and shows its output, e.g. 4×32×32×4 f32.
        const core::OpSchema* schema = core::OpRegistry::builtin().find(g.findNode(seen[2])->op);
        const core::Tensor* v = c->value({seen[2], schema->outputs.front().name});
        QVERIFY(v);
        QCOMPARE(v->shape()[0], std::int64_t{4});
        QCOMPARE(wb->inspector()->primary()->shownShape(), v->describe());

        // Editing is refused while paused mid-step; moving is fine.
        const core::NodeId conv = g.findNodeByName("enc1_conv1")->id;
        QString why;
        QVERIFY(!m_window->document()->applyEdits(
            {core::SetAttributeEdit{conv, "filters", core::AttrValue(std::int64_t{8})}}, "edit",
            &why));
        QVERIFY(why.contains("Training is running"));
        QVERIFY(
            m_window->document()->applyEdits({core::MoveNodeEdit{conv, {10, 10}}}, "move", &why));
    }

    void diceWithoutEpsilonStopsOnTheDiceNode() {
        // The bundled demo: Dataset → Rescale → Conv2D (zero kernel, ReLU: the
        // prediction is exactly 0) → Dice without epsilon, here on masks that
        // are all empty: 0/0 on the first batch.
        writeData(m_dir.path(), 8, 16, /*emptyFraction=*/1.0);
        QVERIFY(
            m_window->openFile(SEGFORGE_RESOURCES "/projects/dice_nan.segforge", nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        core::TrainingOverrides data;
        data.dataDir = (m_dir.path() + "/data").toStdString();
        c->setDefaultOverrides(data);
        QSignalSpy ended(c, &TrainingController::runEnded);
        wb->panel()->trainAction()->trigger();
        QVERIFY(pumpUntil([&] { return ended.count() > 0; }, 60'000));
        QCOMPARE(ended.first().at(0).value<core::TrainEventKind>(),
                 core::TrainEventKind::NonFinite);
        QVERIFY(c->nonFinite().has_value());
        const core::NodeId dice = m_window->document()->graph().findNodeByName("dice_loss")->id;
        QCOMPARE(c->nonFinite()->node, dice);
        QCOMPARE(m_window->scene()->nodeItem(dice)->runMark(), NodeItem::RunMark::NonFinite);
        QVERIFY(ended.first().at(1).toString().contains("set epsilon > 0"));

        // The diagnostics list the runtime finding first, with the checker's fix for that node.
        QTreeWidget* tree = m_window->diagnostics()->tree();
        QCOMPARE(tree->topLevelItem(0)->text(1), QString("non-finite-at-runtime"));
        QVERIFY(tree->topLevelItem(0)->text(3).contains("denominator"));
        // The inspector opened on the Dice node's input: the all-zero prediction.
        QVERIFY(wb->inspector()->primary()->title().startsWith("pred."));

        // One click on Fix sets an epsilon; the same graph then trains.
        QVERIFY(m_window->diagnostics()->applyFirstFix(0));
        const auto eps =
            m_window->document()->graph().findNodeByName("dice_loss")->attrs.at("epsilon");
        QVERIFY(std::get<double>(eps) > 0);
        QSignalSpy again(c, &TrainingController::runEnded);
        wb->panel()->trainAction()->trigger();
        QVERIFY(pumpUntil([&] { return again.count() > 0; }, 60'000));
        QCOMPARE(again.first().at(0).value<core::TrainEventKind>(), core::TrainEventKind::Finished);
    }

    void stopMidEpochAndTrainAgain() {
        writeData(m_dir.path(), 24, 32);
        QVERIFY(m_window->openFile(writeSmallUNet(m_dir.path(), 3), nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        QSignalSpy batches(c, &TrainingController::batchDone);
        QSignalSpy ended(c, &TrainingController::runEnded);
        // Three single batches (each ends paused), then Stop: deterministic however fast
        // the engine is (a free run of 12 tiny steps can finish before a Stop lands).
        for (int b = 1; b <= 3; ++b) {
            wb->panel()->stepBatchAction()->trigger();
            QVERIFY(pumpUntil(
                [&] {
                    return batches.count() >= b && c->state() == TrainingController::State::Paused;
                },
                60'000));
        }
        wb->panel()->stopAction()->trigger();
        QVERIFY(pumpUntil([&] { return ended.count() > 0; }, 60'000));
        QCOMPARE(ended.first().at(0).value<core::TrainEventKind>(), core::TrainEventKind::Stopped);
        QCOMPARE(c->step(), std::int64_t{3});
        QVERIFY(!m_window->document()->isLocked());

        // Train again: the same run continues from where it stopped, to the end.
        wb->panel()->trainAction()->trigger();
        QVERIFY(pumpUntil([&] { return ended.count() > 1; }, 120'000));
        QCOMPARE(ended.last().at(0).value<core::TrainEventKind>(), core::TrainEventKind::Finished);
        QCOMPARE(c->step(), std::int64_t{12});
        QCOMPARE(wb->plots()->stepPointCount(), 12);

        // After an edit, training again starts a new run that keeps the unchanged layers' weights.
        const core::Tensor* trained = c->parameter("enc1_conv1/kernel");
        QVERIFY(trained);
        const core::Tensor keptKernel = *trained;
        const core::Tensor oldHead = *c->parameter("output/kernel");
        const core::Node* head = m_window->document()->graph().findNodeByName("output");
        QVERIFY(m_window->document()->applyEdits(
            {core::SetAttributeEdit{head->id, "kernel_initializer",
                                    core::AttrValue(std::string("glorot_uniform"))}},
            "edit"));
        QSignalSpy started(c, &TrainingController::runStarted);
        QString error;
        QVERIFY2(c->start(/*paused=*/true, &error), qPrintable(error));
        QCOMPARE(started.count(), 1);
        QCOMPARE(started.first().at(2).toLongLong(), 0LL); // a new run
        const core::Tensor* kept = c->parameter("enc1_conv1/kernel");
        QVERIFY(kept);
        QVERIFY(std::equal(kept->f32(), kept->f32() + kept->numel(), keptKernel.f32()));
        const core::Tensor* fresh = c->parameter("output/kernel");
        QVERIFY(fresh && !std::equal(fresh->f32(), fresh->f32() + fresh->numel(), oldHead.f32()));
    }

    void gradientViewDrawsWiresByGradientNorm() {
        writeData(m_dir.path(), 12, 32);
        QVERIFY(m_window->openFile(writeSmallUNet(m_dir.path(), 1), nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        wb->panel()->gradientViewAction()->setChecked(true);
        QSignalSpy batches(c, &TrainingController::batchDone);
        QSignalSpy ended(c, &TrainingController::runEnded);
        wb->panel()->trainAction()->trigger();
        QVERIFY(pumpUntil([&] { return batches.count() >= 1; }, 60'000));
        wb->panel()->stopAction()->trigger();
        QVERIFY(pumpUntil([&] { return ended.count() > 0; }, 60'000));

        int withNorm = 0, total = 0;
        double lo = 1e300, hi = 0;
        for (EdgeItem* e : m_window->scene()->edgeItems()) {
            ++total;
            if (auto n = e->gradientNorm()) {
                ++withNorm;
                QVERIFY(std::isfinite(*n) && *n >= 0);
                lo = std::min(lo, *n);
                hi = std::max(hi, *n);
                QVERIFY(e->toolTip().contains("∂loss/∂x"));
            }
        }
        QVERIFY2(withNorm * 2 >= total,
                 qPrintable(QString("%1 of %2 wires").arg(withNorm).arg(total)));
        QVERIFY(hi > lo); // norms differ along the network: the view has something to show
        wb->panel()->gradientViewAction()->setChecked(false);
        for (EdgeItem* e : m_window->scene()->edgeItems())
            QVERIFY(!e->gradientNorm());
    }

    void breakpointPausesAfterItsNode() {
        writeData(m_dir.path(), 12, 32);
        QVERIFY(m_window->openFile(writeSmallUNet(m_dir.path(), 1), nullptr, true));
        TrainingWorkbench* wb = m_window->training();
        TrainingController* c = wb->controller();
        const core::NodeId pool = m_window->document()->graph().findNodeByName("enc1_pool")->id;
        m_window->scene()->selectNode(pool);
        wb->toggleBreakpoints();
        QVERIFY(c->hasBreakpoint(pool));
        QVERIFY(m_window->scene()->nodeItem(pool)->hasBreakpoint());
        QSignalSpy paused(c, &TrainingController::pausedAt);
        wb->panel()->runToBreakpointAction()->trigger();
        QVERIFY(pumpUntil([&] { return paused.count() > 0; }, 30'000));
        QCOMPARE(paused.first().at(0).value<core::NodeId>(), pool);
        QCOMPARE(paused.first().at(1).value<core::Phase>(), core::Phase::Forward);
        // A wire clicked while paused shows its tensor: enc1_pool's output, 4×16×16×4.
        const core::Tensor* v = c->value({pool, "output"});
        QVERIFY(v);
        QCOMPARE(v->describe(), std::string("4×16×16×4 f32"));
    }

private:
    QTemporaryDir m_dir;
    std::unique_ptr<MainWindow> m_window;
};

QTEST_MAIN(TrainingTest)
#include "training_test.moc"
