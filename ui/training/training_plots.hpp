#pragma once

#include "project/run_history.hpp"

#include <QColor>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

class QAction;
class QCPAxisRect;
class QCPGraph;
class QCPItemText;
class QCPLegend;
class QCustomPlot;
class QTimer;
class QToolBar;

namespace segforge::ui {

/// Live training curves in one QCustomPlot with three stacked panes sharing
/// the step axis: loss (raw per step, smoothed, validation per epoch), the
/// validation metrics per epoch (0..1) and the learning rate. Data is appended
/// in place and the plot is redrawn by a timer at most ~30 times a second, so
/// a step event costs a vector append, not a repaint — smooth at 100k points.
class TrainingPlots : public QWidget {
    Q_OBJECT
public:
    explicit TrainingPlots(QWidget* parent = nullptr);
    ~TrainingPlots() override;

    void addStep(std::int64_t step, double loss, double learningRate);
    void addEpoch(int epoch, std::int64_t step, double trainLoss, double valLoss,
                  const std::map<std::string, double>& valMetrics);
    void clear();

    int stepPointCount() const;
    int epochPointCount() const;
    /// Names of the validation metrics seen so far, in legend order.
    QStringList metricNames() const;
    /// Smoothed loss at the latest step (bias-corrected EMA), NaN before any step.
    double smoothedLoss() const;

    /// Renders the plot at w×h (0: the widget's size, 1200×800 if it has none).
    bool exportPng(const QString& path, int w = 0, int h = 0);
    /// One row per step (step, loss, smoothed, learning rate) with the epoch
    /// columns (epoch, train and validation loss, each metric) filled on the
    /// row of the step the epoch ended at; empty cells where there is no value.
    bool exportCsv(const QString& path) const;

    void setLogScale(bool on);
    bool logScale() const { return m_logScale; }
    /// EMA weight of the past, 0 (no smoothing) … 0.999. Default 0.9.
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }
    /// Rescale every pane to its data and follow new data again (after a zoom or pan).
    void fitView();
    /// Redraws now if data arrived since the last redraw (tests, screenshots).
    void flush();
    /// Current redraw interval: ~33 ms, longer while redraws are slow.
    int replotInterval() const;
    /// The redraw interval after a redraw that took `replotMs`: three times it, so
    /// redraws take about a third of the GUI thread, within [33, 500] ms.
    static int replotIntervalFor(double replotMs);

    /// Whether the graph has a metric node; without one the metric pane says so.
    void setHasMetric(bool has);
    /// What each metric (by node name) averages, stated in its legend entry:
    /// "dice (mean over 3 classes, background included)". Names without one show bare.
    void setMetricDefinitions(std::map<std::string, QString> definitions);
    /// The legend text of metric `name` (its name, and its definition when known).
    QString metricLegendText(const std::string& name) const;
    enum class Pane { Loss, Metrics };
    /// What an empty pane says about why it is empty ("" once it has data).
    QString emptyNote(Pane pane) const;

    QCustomPlot* plot() const { return m_plot; }
    QToolBar* toolBar() const { return m_toolBar; }

protected:
    void changeEvent(QEvent* event) override;

private:
    using EpochPoint = core::RunHistory::Epoch;

    void buildPlot();
    void buildToolBar();
    void applyColours();
    QCPGraph* metricGraph(const std::string& name);
    void scheduleReplot();
    void onTimer();
    void updateRanges();
    void recomputeSmoothed();
    void updateNotes();
    void userMovedView();
    void exportPngInteractive();
    void exportCsvInteractive();
    QColor metricColour(int index) const;

    QCustomPlot* m_plot = nullptr;
    QToolBar* m_toolBar = nullptr;
    QAction* m_logAction = nullptr;
    QCPAxisRect* m_lossRect = nullptr;
    QCPAxisRect* m_metricRect = nullptr;
    QCPAxisRect* m_lrRect = nullptr;
    QCPLegend* m_metricLegend = nullptr;
    QCPItemText* m_lossNote = nullptr;
    QCPItemText* m_metricNote = nullptr;
    bool m_hasMetric = true;
    QCPGraph* m_rawLoss = nullptr;
    QCPGraph* m_smoothLoss = nullptr;
    QCPGraph* m_valLoss = nullptr;
    QCPGraph* m_lr = nullptr;
    std::vector<std::pair<std::string, QCPGraph*>> m_metricGraphs;
    std::map<std::string, QString> m_metricDefinitions;
    QTimer* m_timer = nullptr;

    // Raw series kept for CSV export and for re-smoothing.
    std::vector<std::int64_t> m_steps;
    std::vector<double> m_losses, m_smoothed, m_learningRates;
    std::vector<EpochPoint> m_epochs;

    double m_smoothing = 0.9;
    double m_ema = 0; // un-debiased running average
    bool m_logScale = false;
    bool m_follow = true; // false after the user zoomed or panned
    bool m_dirty = false;
    // Running data ranges: rescaling by scanning 100k points at 30 Hz would be wasteful.
    double m_lossMin = 0, m_lossMax = 0, m_lossMinPositive = 0;
    double m_lrMin = 0, m_lrMax = 0;
    std::int64_t m_stepMin = 0, m_stepMax = 0;
    bool m_haveLoss = false, m_haveLr = false, m_haveStep = false;
};

} // namespace segforge::ui
