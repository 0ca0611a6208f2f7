// The training widgets (plots, overlays, tensor inspector) driven offscreen
// with constructed data whose numbers are known. With SEGFORGE_SHOT_DIR set,
// each widget is also rendered to PNG in the dark and the light theme, to be
// looked at.

#include "data/channel_grid.hpp"
#include "data/sample_data.hpp"
#include "kernels/mask_metrics.hpp"
#include "ops/op_registry.hpp"
#include "style/application_style.hpp"
#include "style/theme.hpp"
#include "training/overlay_panel.hpp"
#include "training/tensor_inspector.hpp"
#include "training/training_plots.hpp"

#include <QDialog>
#include <QElapsedTimer>
#include <QFile>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <limits>
#include <opencv2/imgproc.hpp>
#include <qcustomplot.h>
#include <random>

using namespace segforge;
using namespace segforge::ui;

namespace {

/// Steps 1…stepsPerEpoch×epochs with a decaying loss; an epoch entry after each epoch.
void feedTraining(TrainingPlots& plots, int epochs, int stepsPerEpoch, unsigned seed = 1) {
    std::mt19937 rng(seed);
    std::normal_distribution<double> noise(0.0, 1.0);
    std::int64_t step = 0;
    for (int e = 0; e < epochs; ++e) {
        for (int s = 0; s < stepsPerEpoch; ++s) {
            ++step;
            const double t = static_cast<double>(step) / (epochs * stepsPerEpoch);
            const double loss =
                0.08 + 0.6 * std::exp(-4 * t) + 0.04 * std::fabs(noise(rng)) * (1 - 0.5 * t);
            const double lr = 1e-3 * 0.5 * (1 + std::cos(M_PI * t));
            plots.addStep(step, loss, lr);
        }
        const double t = static_cast<double>(step) / (epochs * stepsPerEpoch);
        plots.addEpoch(
            e, step, 0.08 + 0.6 * std::exp(-4 * t), 0.12 + 0.6 * std::exp(-3.5 * t),
            {{"dice", 0.93 - 0.7 * std::exp(-4 * t)}, {"iou", 0.87 - 0.75 * std::exp(-4 * t)}});
    }
}

/// 32×32 sample whose truth is the square rows/cols 5…14 and whose prediction
/// (probability 0.9) is the same square shifted right by `shift`; an optional
/// 5×10 block of probability 0.6 outside both.
OverlaySample squareSample(const QString& name, int shift, bool lukewarmBlock) {
    OverlaySample s;
    s.name = name;
    s.image = cv::Mat(32, 32, CV_8UC3, cv::Scalar(90, 110, 130));
    s.truth = cv::Mat::zeros(32, 32, CV_8UC1);
    s.truth(cv::Rect(5, 5, 10, 10)).setTo(1);
    s.scores = cv::Mat(32, 32, CV_32F, cv::Scalar(0.1));
    s.scores(cv::Rect(5 + shift, 5, 10, 10)).setTo(0.9);
    if (lukewarmBlock)
        s.scores(cv::Rect(20, 20, 10, 5)).setTo(0.6);
    return s;
}

/// The five samples, given out of Dice order (shifts 4, 0, 8, 2, 6).
std::vector<OverlaySample> fiveSamples() {
    return {squareSample("s0_shift4", 4, true), squareSample("s1_shift0", 0, false),
            squareSample("s2_shift8", 8, false), squareSample("s3_shift2", 2, false),
            squareSample("s4_shift6", 6, false)};
}

/// 2×4×4×3: sample 0 holds the channel index (0, 1, 2) at every pixel; sample 1
/// is -1 everywhere except a NaN at pixel (0, 0), channel 1.
core::Tensor inspectorTensor() {
    core::Tensor t(core::Shape{2, 4, 4, 3}, core::DType::Float32);
    float* p = t.f32();
    for (int i = 0; i < 48; ++i)
        p[i] = static_cast<float>(i % 3);
    for (int i = 48; i < 96; ++i)
        p[i] = -1.f;
    p[48 + 1] = std::numeric_limits<float>::quiet_NaN();
    return t;
}

/// Realistic-looking feature maps for screenshots: waves, blobs, a dead channel.
core::Tensor featureMaps(int batch, int size, int channels) {
    core::Tensor t(core::Shape{batch, size, size, channels}, core::DType::Float32);
    float* p = t.f32();
    for (int n = 0; n < batch; ++n)
        for (int y = 0; y < size; ++y)
            for (int x = 0; x < size; ++x)
                for (int c = 0; c < channels; ++c) {
                    const double fx = 0.15 + 0.05 * (c % 5), fy = 0.1 + 0.04 * (c % 7);
                    double v = std::sin(fx * x + c) * std::cos(fy * y - n) +
                               0.3 * std::sin(0.02 * (x * y) + c);
                    if (c % 4 == 3)
                        v = std::max(0.0, v); // ReLU-like channels
                    if (c == 5)
                        v = 0; // dead channel
                    *p++ = static_cast<float>(v);
                }
    return t;
}

std::vector<OverlaySample> realisticSamples(int count) {
    core::SampleDataOptions o;
    o.size = 128;
    o.seed = 3;
    std::vector<OverlaySample> out;
    std::mt19937 rng(7);
    for (int i = 0; i < count; ++i) {
        const core::SyntheticSample s = core::makeSyntheticSample(o, i);
        OverlaySample ov;
        ov.name = QStringLiteral("sample_%1.png").arg(i, 4, 10, QLatin1Char('0'));
        ov.image = s.image;
        ov.truth = s.mask / 255;
        // A plausible, imperfect prediction: blurred, shifted truth plus noise.
        cv::Mat f;
        ov.truth.convertTo(f, CV_32F);
        cv::GaussianBlur(f, f, cv::Size(0, 0), 2.0 + i % 3);
        cv::Mat shifted;
        const cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, (i % 4) - 1.5, 0, 1, (i % 3) - 1.0);
        cv::warpAffine(f, shifted, m, f.size());
        cv::Mat noise(f.size(), CV_32F);
        cv::randn(noise, 0, 0.15 + 0.05 * (i % 3));
        ov.scores = cv::min(cv::max(shifted * 0.9 + noise + 0.05, 0.0), 1.0);
        out.push_back(std::move(ov));
    }
    return out;
}

/// Where the widget screenshots go: SEGFORGE_SHOT_DIR to keep and look at
/// them, else a scratch folder (they are rendered and checked either way).
QString shotDir() {
    const QString dir = qEnvironmentVariable("SEGFORGE_SHOT_DIR");
    return dir.isEmpty() ? QDir::tempPath() + "/segforge-widget-shots" : dir;
}

void setTheme(bool dark) {
    Theme::setDark(dark);
    applyApplicationStyle(dark);
    QCoreApplication::processEvents();
}

void shoot(QWidget& w, const QString& name) {
    QDir().mkpath(shotDir());
    w.show();
    QTest::qWait(80); // let queued replots and layouts run
    const QString path = QDir(shotDir()).filePath(name + ".png");
    const QImage shot = w.grab().toImage();
    QVERIFY2(shot.save(path), qPrintable(path));
    // Something was drawn: not one flat colour.
    const QRgb first = shot.pixel(0, 0);
    bool varied = false;
    for (int y = 0; y < shot.height() && !varied; y += 3)
        for (int x = 0; x < shot.width() && !varied; x += 3)
            varied = shot.pixel(x, y) != first;
    QVERIFY2(varied, qPrintable(name + " rendered as one flat colour"));
}

} // namespace

class TrainingWidgetsTest : public QObject {
    Q_OBJECT

private slots:
    void initTestCase() { setTheme(true); }

    void plotsCountPoints() {
        TrainingPlots plots;
        QCOMPARE(plots.stepPointCount(), 0);
        feedTraining(plots, 3, 10);
        QCOMPARE(plots.stepPointCount(), 30);
        QCOMPARE(plots.epochPointCount(), 3);
        QCOMPARE(plots.metricNames(), QStringList({"dice", "iou"}));
        plots.clear();
        QCOMPARE(plots.stepPointCount(), 0);
        QCOMPARE(plots.epochPointCount(), 0);
        QVERIFY(plots.metricNames().isEmpty());
        feedTraining(plots, 1, 5);
        QCOMPARE(plots.stepPointCount(), 5);
    }

    void plotsSmoothingIsBiasCorrected() {
        TrainingPlots plots;
        plots.setSmoothing(0.5);
        plots.addStep(1, 4.0, 0.1);
        QCOMPARE(plots.smoothedLoss(), 4.0); // no pull towards 0 on the first step
        plots.addStep(2, 1.0, 0.1);
        // ema = 0.5·2 + 0.5·1 = 1.5, debiased by 1 - 0.25 → 2
        QCOMPARE(plots.smoothedLoss(), 2.0);
        plots.setSmoothing(0.0);
        QCOMPARE(plots.smoothedLoss(), 1.0);
    }

    void plotsLogScale() {
        TrainingPlots plots;
        feedTraining(plots, 2, 10);
        plots.setLogScale(true);
        QVERIFY(plots.logScale());
        QCOMPARE(plots.plot()->axisRect(0)->axis(QCPAxis::atLeft)->scaleType(),
                 QCPAxis::stLogarithmic);
        plots.flush();
        QVERIFY(plots.plot()->axisRect(0)->axis(QCPAxis::atLeft)->range().lower > 0);
        plots.setLogScale(false);
        QCOMPARE(plots.plot()->axisRect(0)->axis(QCPAxis::atLeft)->scaleType(), QCPAxis::stLinear);
    }

    void plotsCsv() {
        TrainingPlots plots;
        plots.setSmoothing(0.0);
        for (int s = 1; s <= 4; ++s)
            plots.addStep(s, s * 0.5, 0.01);
        plots.addEpoch(0, 2, 0.75, 0.9, {{"dice", 0.25}});
        plots.addEpoch(1, 4, 1.75, 0.8, {{"dice", 0.5}, {"iou", 0.125}});
        QTemporaryDir dir;
        const QString path = dir.filePath("plots.csv");
        QVERIFY(plots.exportCsv(path));
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly | QIODevice::Text));
        const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 5);
        QCOMPARE(
            lines[0],
            QStringLiteral("step,loss,loss_smoothed,learning_rate,epoch,epoch_train_loss,val_loss,"
                           "val_dice,val_iou"));
        QCOMPARE(lines[1], QStringLiteral("1,0.5,0.5,0.01,,,,,"));
        QCOMPARE(lines[2], QStringLiteral("2,1,1,0.01,0,0.75,0.9,0.25,"));
        QCOMPARE(lines[3], QStringLiteral("3,1.5,1.5,0.01,,,,,"));
        QCOMPARE(lines[4], QStringLiteral("4,2,2,0.01,1,1.75,0.8,0.5,0.125"));
        QVERIFY(!plots.exportCsv(dir.filePath("no/such/dir/plots.csv")));
    }

    void plotsPng() {
        TrainingPlots plots;
        feedTraining(plots, 3, 10);
        QTemporaryDir dir;
        const QString path = dir.filePath("plots.png");
        QVERIFY(plots.exportPng(path, 900, 600));
        QVERIFY(QFileInfo(path).size() > 0);
        QCOMPARE(QImage(path).size(), QSize(900, 600));
        const QString defaultSize = dir.filePath("plots_default.png");
        QVERIFY(plots.exportPng(defaultSize));
        QVERIFY(QFileInfo(defaultSize).size() > 0);
    }

    void plots100kPoints() {
        TrainingPlots plots;
        plots.resize(1000, 700);
        plots.show();
        QElapsedTimer timer;
        timer.start();
        feedTraining(plots, 100, 1000);
        const qint64 addMs = timer.elapsed();
        QCOMPARE(plots.stepPointCount(), 100000);
        QCOMPARE(plots.epochPointCount(), 100);
        timer.restart();
        plots.flush();
        const qint64 firstReplotMs = timer.elapsed();
        // A few more replots as during training: one more step each.
        double worst = 0;
        for (int i = 0; i < 10; ++i) {
            plots.addStep(100001 + i, 0.1, 1e-5);
            timer.restart();
            plots.flush();
            worst = std::max(worst, static_cast<double>(timer.nsecsElapsed()) / 1e6);
        }
        // Let the throttling timer run as during training.
        for (int i = 0; i < 5; ++i) {
            plots.addStep(100011 + i, 0.1, 1e-5);
            QTest::qWait(60);
        }
        qDebug().nospace() << "100k points: adding took " << addMs << " ms, first replot "
                           << firstReplotMs << " ms, replot with one new step: QCustomPlot "
                           << plots.plot()->replotTime(true) << " ms average, worst wall " << worst
                           << " ms; timer interval now " << plots.replotInterval() << " ms";
        // The interval the timer takes after each redraw: ~30 Hz at most, three times a
        // slow redraw, and never slower than 2 Hz.
        QCOMPARE(TrainingPlots::replotIntervalFor(0.0), 33);
        QCOMPARE(TrainingPlots::replotIntervalFor(10.9), 33);
        QCOMPARE(TrainingPlots::replotIntervalFor(40.0), 120);
        QCOMPARE(TrainingPlots::replotIntervalFor(1000.0), 500);
        shoot(plots, "plots_100k_dark");
    }

    void overlayEmptyAndRefresh() {
        OverlayPanel panel;
        QVERIFY(panel.showingEmptyMessage());
        QCOMPARE(panel.sampleCount(), 0);
        QPushButton* refresh = nullptr;
        for (QPushButton* b : panel.findChildren<QPushButton*>())
            if (b->text() == "Refresh")
                refresh = b;
        QVERIFY(refresh);
        QSignalSpy spy(&panel, &OverlayPanel::refreshRequested);
        refresh->click();
        QCOMPARE(spy.count(), 1);
    }

    void overlayDiceAndSorting() {
        OverlayPanel panel;
        panel.resize(700, 600);
        panel.setSamples(fiveSamples(), 3);
        QVERIFY(!panel.showingEmptyMessage());
        QCOMPARE(panel.sampleCount(), 5);
        QCOMPARE(panel.epoch(), 3);
        QCOMPARE(panel.view()->model()->rowCount(), 5);
        // Dice = 2·|P∩T| / (|P|+|T|) with |T| = 100: shift s overlaps 10·(10-s).
        QCOMPARE(panel.sampleDice(0), 120.0 / 250.0); // 60 overlap, |P| = 100 + 50 lukewarm
        QCOMPARE(panel.sampleDice(1), 1.0);
        QCOMPARE(panel.sampleDice(2), 0.2);
        QCOMPARE(panel.sampleDice(3), 0.8);
        QCOMPARE(panel.sampleDice(4), 0.4);
        QCOMPARE(panel.sampleAtRow(0), 0); // unsorted: given order

        panel.setSortWorstFirst(true);
        QVERIFY(panel.sortWorstFirst());
        const std::vector<int> worstFirst{2, 4, 0, 3, 1};
        for (int row = 0; row < 5; ++row)
            QCOMPARE(panel.sampleAtRow(row), worstFirst[static_cast<std::size_t>(row)]);
        QCOMPARE(panel.rowDice(0), 0.2);

        // Above 0.6 the lukewarm block is no longer foreground.
        panel.setThreshold(0.7);
        QCOMPARE(panel.sampleDice(0), 0.6);
        QCOMPARE(panel.sampleDice(1), 1.0);
        QCOMPARE(panel.sampleAtRow(2), 0);
        // Above every score nothing is predicted.
        panel.setThreshold(0.95);
        for (int i = 0; i < 5; ++i)
            QCOMPARE(panel.sampleDice(i), 0.0);

        panel.setSortWorstFirst(false);
        QCOMPARE(panel.sampleAtRow(0), 0);
    }

    void overlayOpacityAndDetail() {
        OverlayPanel panel;
        panel.setSamples(fiveSamples(), 0);
        const QImage before = panel.thumbnail(0, OverlayPanel::PredictionPanel);
        QVERIFY(!before.isNull());
        const double dice = panel.sampleDice(0);
        panel.setOpacity(0.9);
        QVERIFY(panel.thumbnail(0, OverlayPanel::PredictionPanel) != before);
        QCOMPARE(panel.sampleDice(0), dice); // opacity never changes the numbers
        QCOMPARE(panel.thumbnail(0, OverlayPanel::ImagePanel).size(), QSize(160, 160));

        panel.openRow(0);
        QVERIFY(panel.detailDialog()->isVisible());
        panel.detailDialog()->close();
        cv::Mat image(40, 60, CV_8UC3, cv::Scalar(10, 20, 30));
        cv::Mat scores(20, 30, CV_32F, cv::Scalar(0.8)); // a different size: resized to the image
        panel.showPrediction("file.png", image, scores);
        QVERIFY(panel.detailDialog()->isVisible());
        QVERIFY(panel.detailDialog()->windowTitle().contains("file.png"));
        panel.detailDialog()->close();
    }

    void overlayMultiClassAndBadInput() {
        OverlayPanel panel;
        OverlaySample s;
        s.name = "three classes";
        s.image = cv::Mat(8, 8, CV_8UC3, cv::Scalar(50, 50, 50));
        s.truth = cv::Mat::zeros(8, 8, CV_8UC1);
        s.truth(cv::Rect(0, 0, 4, 8)).setTo(1);
        s.truth(cv::Rect(4, 0, 4, 8)).setTo(2);
        // Scores say class 1 everywhere: class 1 Dice 2·32/(64+32) = 2/3, class 2 Dice 0;
        // background (class 0) is in neither mask and scores 1, as in the training metric.
        s.scores = cv::Mat(8, 8, CV_32FC3, cv::Scalar(0.1, 0.8, 0.1));
        OverlaySample noTruth{"no truth", s.image, {}, cv::Mat(8, 8, CV_32F, cv::Scalar(0.7))};
        OverlaySample broken{"broken", s.image, s.truth, cv::Mat(8, 8, CV_8UC1, cv::Scalar(1))};
        panel.setSamples({s, noTruth, broken}, 1);
        QCOMPARE(panel.sampleDice(0), (1.0 + 2.0 / 3.0 + 0.0) / 3.0);
        QCOMPARE(panel.diceDefinition(),
                 QStringLiteral("mean over 3 classes, background included"));
        QVERIFY(std::isnan(panel.sampleDice(1)));
        QCOMPARE(panel.sampleCount(), 3);
        panel.setSortWorstFirst(true);
        QCOMPARE(panel.sampleAtRow(2), 1); // no truth sorts last
    }

    // One 3-class prediction: the panel's Dice is the DiceCoefficient kernel's (the
    // plot's), and the plot's legend and the panel state the same class policy.
    void overlayAndPlotAgreeWithTheMetricKernel() {
        // Row by row, truth 0000 0011 1111 2222, predicted 0001 0011 1122 2220:
        // Dice per class 10/12, 8/11, 6/9.
        const int truth[16] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2};
        const int predicted[16] = {0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 2, 0};
        core::Tensor scores(core::Shape{1, 4, 4, 3}, core::DType::Float32);
        core::Tensor labels(core::Shape{1, 4, 4, 1}, core::DType::UInt8);
        for (int i = 0; i < 16; ++i) {
            for (int c = 0; c < 3; ++c)
                scores.f32()[i * 3 + c] = c == predicted[i] ? 0.8f : 0.1f;
            labels.u8()[i] = static_cast<std::uint8_t>(truth[i]);
        }
        core::Tensor value(core::Shape{}, core::DType::Float32);
        const core::AttrMap attrs{{"threshold", 0.5}, {"epsilon", core::kMetricEpsilon}};
        core::KernelContext ctx;
        ctx.attrs = &attrs;
        ctx.inputs = {&scores, &labels};
        ctx.outputs = {&value};
        core::OpRegistry::builtin().find("DiceCoefficient")->forward(ctx);
        const double expected = (10.0 / 12 + 8.0 / 11 + 6.0 / 9) / 3;
        QVERIFY(std::fabs(value.f32()[0] - expected) < 1e-6);

        OverlaySample s;
        s.name = "three classes";
        s.image = cv::Mat(4, 4, CV_8UC3, cv::Scalar(50, 50, 50));
        s.truth = cv::Mat(4, 4, CV_8UC1, labels.u8()).clone();
        s.scores = cv::Mat(4, 4, CV_32FC3, scores.f32()).clone();
        OverlayPanel panel;
        panel.setSamples({s}, 1);
        QCOMPARE(panel.sampleDice(0), expected);
        QVERIFY(std::fabs(panel.sampleDice(0) - value.f32()[0]) < 1e-6);
        QCOMPARE(panel.diceDefinition(),
                 QStringLiteral("mean over 3 classes, background included"));
        QCOMPARE(panel.diceDefinitionText(),
                 QStringLiteral("Dice per sample: mean over 3 classes, background included, as the "
                                "training metric"));

        TrainingPlots plots;
        plots.addEpoch(0, 1, 0.5, 0.6, {{"dice", value.f32()[0]}, {"accuracy", 0.75}});
        plots.setMetricDefinitions({{"dice", panel.diceDefinition()}});
        QCOMPARE(plots.metricLegendText("dice"),
                 QStringLiteral("dice (mean over 3 classes, background included)"));
        QCOMPARE(plots.metricLegendText("accuracy"), QStringLiteral("accuracy"));
        QStringList names;
        for (int i = 0; i < plots.plot()->graphCount(); ++i)
            names << plots.plot()->graph(i)->name();
        QVERIFY2(names.contains("dice (mean over 3 classes, background included)"),
                 qPrintable(names.join(", ")));
        QCOMPARE(plots.metricNames(),
                 QStringList({"accuracy", "dice"})); // keys stay the node names
        panel.clear();
        QVERIFY(panel.diceDefinitionText().isEmpty());
    }

    void inspectorNumbers() {
        TensorInspector inspector;
        QVERIFY(!inspector.hasTensor());
        const core::Tensor t = inspectorTensor();
        core::Tensor grad(core::Shape{2, 4, 4, 3}, core::DType::Float32);
        grad.fill(0.5f);
        inspector.showTensor("conv1 → relu1", &t, &grad);
        QCOMPARE(inspector.title(), QStringLiteral("conv1 → relu1"));
        QCOMPARE(inspector.shownShape(), std::string("2×4×4×3 f32"));
        QCOMPARE(inspector.sample(), -1);

        // Whole batch: one NaN, the rest finite.
        QCOMPARE(inspector.stats().count, 96);
        QCOMPARE(inspector.statText("nan"), QStringLiteral("1"));
        QVERIFY(inspector.statAlarmed("nan"));
        QCOMPARE(inspector.statText("inf"), QStringLiteral("0"));
        QVERIFY(!inspector.statAlarmed("inf"));
        QCOMPARE(inspector.statText("min"), QStringLiteral("-1"));
        QCOMPARE(inspector.statText("max"), QStringLiteral("2"));
        QCOMPARE(inspector.statText("count"), QStringLiteral("96"));

        // Sample 0: values 0, 1, 2 in equal shares.
        inspector.setSample(0);
        QCOMPARE(inspector.statText("mean"), QStringLiteral("1"));
        QCOMPARE(inspector.stats().std, std::sqrt(2.0 / 3.0));
        QCOMPARE(inspector.statText("zeros"), QStringLiteral("33.3%"));
        QCOMPARE(inspector.statText("nan"), QStringLiteral("0"));
        QVERIFY(!inspector.statAlarmed("nan"));
        QCOMPARE(inspector.statText("l2"), QString::number(std::sqrt(16.0 * 5.0), 'g', 5));
        // Sample 1: -1 and a NaN.
        inspector.setSample(1);
        QCOMPARE(inspector.statText("mean"), QStringLiteral("-1"));
        QCOMPARE(inspector.statText("std"), QStringLiteral("0"));
        QCOMPARE(inspector.statText("nan"), QStringLiteral("1"));
        QCOMPARE(inspector.stats().finiteCount, 47);

        // Histogram bins and the channel grid: 3 channels in 2×2 cells; 4×4 maps are
        // enlarged to 48×48 tiles in the grid so the 1 px separators stay thin on screen.
        QCOMPARE(inspector.stats().histogram.size(), std::size_t{64});
        QCOMPARE(inspector.channelGridLayout().channels, 3);
        QCOMPARE(inspector.channelGridLayout().columns, 2);
        QCOMPARE(inspector.channelGridLayout().rows, 2);
        QCOMPARE(inspector.channelGridImage().size(), QSize(2 * 48 + 1, 2 * 48 + 1));

        // Gradient view.
        inspector.setShowGradient(true);
        QVERIFY(inspector.showingGradient());
        QCOMPARE(inspector.statText("mean"), QStringLiteral("0.5"));
        QCOMPARE(inspector.statText("nan"), QStringLiteral("0"));
        inspector.setShowGradient(false);
        QCOMPARE(inspector.statText("mean"), QStringLiteral("-1"));

        // No gradient: the toggle falls back to the value.
        inspector.showTensor("conv1 → relu1", &t, nullptr);
        inspector.setShowGradient(true);
        QVERIFY(!inspector.showingGradient());

        inspector.showTensor("pool2 → conv3", nullptr);
        QVERIFY(inspector.message().contains("No tensor on this wire yet", Qt::CaseInsensitive));
        QVERIFY(inspector.shownShape().empty());

        core::Tensor scalar(core::Shape::scalar(), core::DType::Float32);
        scalar.fill(0.25f);
        inspector.showTensor("loss", &scalar);
        QCOMPARE(inspector.statText("mean"), QStringLiteral("0.25"));
        QVERIFY(inspector.channelGridImage().isNull());
        inspector.clear();
        QVERIFY(!inspector.hasTensor());
    }

    void inspectorPanelPins() {
        TensorInspectorPanel panel;
        panel.resize(1000, 700);
        panel.show();
        const core::Tensor a = inspectorTensor();
        core::Tensor b(core::Shape{1, 2, 2, 8}, core::DType::Float32);
        panel.showWire("a", &a, nullptr);
        QCOMPARE(panel.primary()->title(), QStringLiteral("a"));
        QVERIFY(!panel.pinned());
        QVERIFY(!panel.secondary()->isVisible());
        panel.showWire("a2", &a, nullptr); // unpinned: replaces
        QCOMPARE(panel.primary()->title(), QStringLiteral("a2"));

        panel.pinButton()->click();
        QVERIFY(panel.pinned());
        QVERIFY(panel.secondary()->isVisible());
        panel.showWire("b", &b, nullptr);
        QCOMPARE(panel.primary()->title(), QStringLiteral("a2"));
        QCOMPARE(panel.secondary()->title(), QStringLiteral("b"));
        QCOMPARE(panel.secondary()->shownShape(), std::string("1×2×2×8 f32"));

        panel.setPinned(false);
        QVERIFY(!panel.secondary()->isVisible());
        panel.showWire("c", &b, nullptr);
        QCOMPARE(panel.primary()->title(), QStringLiteral("c"));
    }

    void screenshots() {
        for (bool dark : {true, false}) {
            setTheme(dark);
            const QString theme = dark ? "dark" : "light";

            TrainingPlots plots;
            plots.resize(900, 620);
            feedTraining(plots, 12, 150, 3);
            plots.show();
            plots.flush();
            shoot(plots, "plots_" + theme);

            OverlayPanel overlays;
            overlays.resize(560, 720);
            overlays.setSamples(realisticSamples(12), 12);
            overlays.setSortWorstFirst(true);
            shoot(overlays, "overlays_" + theme);
            overlays.openRow(0);
            shoot(*overlays.detailDialog(), "overlay_detail_" + theme);
            overlays.detailDialog()->close();
            const std::vector<OverlaySample> extra = realisticSamples(14);
            overlays.showPrediction("my_photo.png", extra[13].image, extra[13].scores);
            shoot(*overlays.detailDialog(), "overlay_predict_" + theme);
            overlays.detailDialog()->close();

            // Dock-sized: narrow panels must still read.
            plots.resize(460, 380);
            plots.flush();
            shoot(plots, "plots_narrow_" + theme);
            QVERIFY(overlays.minimumSizeHint().width() < 400);
            overlays.resize(400, 520);
            shoot(overlays, "overlays_narrow_" + theme);

            OverlayPanel empty;
            empty.resize(560, 300);
            shoot(empty, "overlays_empty_" + theme);

            TensorInspectorPanel inspectors;
            inspectors.resize(1000, 760);
            core::Tensor maps = featureMaps(4, 32, 24);
            maps.f32()[7 * 24 + 2] = std::numeric_limits<float>::quiet_NaN();
            core::Tensor grad = featureMaps(4, 32, 24);
            for (std::int64_t i = 0; i < grad.numel(); ++i)
                grad.f32()[i] *= 1e-3f;
            inspectors.showWire("enc1_conv2 → enc1_relu2", &maps, &grad);
            inspectors.setPinned(true);
            const core::Tensor small = inspectorTensor();
            inspectors.showWire("logits → sigmoid", &small, nullptr);
            shoot(inspectors, "inspector_" + theme);
            inspectors.setPinned(false);
            inspectors.resize(400, 680);
            inspectors.primary()->setSample(2);
            shoot(inspectors, "inspector_narrow_" + theme);
            QVERIFY(inspectors.minimumSizeHint().width() < 320); // fits a narrow dock
        }
        setTheme(true);
    }
};

QTEST_MAIN(TrainingWidgetsTest)
#include "training_widgets_test.moc"
