#include "training/training_plots.hpp"

#include "project/run_history_csv.hpp"
#include "style/theme.hpp"

#include <QApplication>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSaveFile>
#include <QTimer>
#include <QToolBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>
#include <qcustomplot.h>

namespace segforge::ui {

namespace {

/// Steps are whole numbers: never a tick between two of them ("1 1 1 2 2 2").
class StepTicker : public QCPAxisTicker {
protected:
    double getTickStep(const QCPRange& range) override {
        return std::max(1.0, QCPAxisTicker::getTickStep(range));
    }
};

constexpr int kReplotIntervalMs = 33; // ~30 redraws a second at most

/// Padded [lo, hi] so curves do not touch the frame; a flat series gets a visible band.
QCPRange padded(double lo, double hi, bool log) {
    if (log) {
        lo = std::max(lo, 1e-12);
        hi = std::max(hi, lo);
        return {lo / 1.25, hi * 1.25};
    }
    const double pad = hi > lo ? (hi - lo) * 0.05 : std::max(std::fabs(hi) * 0.1, 1e-3);
    return {lo - pad, hi + pad};
}

} // namespace

TrainingPlots::TrainingPlots(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    m_plot = new QCustomPlot(this);
    m_toolBar = new QToolBar(this);
    buildPlot();
    buildToolBar();
    layout->addWidget(m_toolBar);
    layout->addWidget(m_plot, 1);
    applyColours();

    m_timer = new QTimer(this);
    m_timer->setInterval(kReplotIntervalMs);
    connect(m_timer, &QTimer::timeout, this, &TrainingPlots::onTimer);
    m_timer->start();
    m_plot->replot();
}

TrainingPlots::~TrainingPlots() = default;

void TrainingPlots::buildPlot() {
    m_plot->setAutoAddPlottableToLegend(false);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setNoAntialiasingOnDrag(true);
    m_plot->setMinimumSize(200, 150); // the dock stacks under others on a 720-pixel screen

    m_lossRect = m_plot->axisRect();
    m_metricRect = new QCPAxisRect(m_plot);
    m_lrRect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(1, 0, m_metricRect);
    m_plot->plotLayout()->addElement(2, 0, m_lrRect);
    m_plot->plotLayout()->setRowStretchFactor(0, 3);
    m_plot->plotLayout()->setRowStretchFactor(1, 2);
    m_plot->plotLayout()->setRowStretchFactor(2, 1.2);
    m_plot->plotLayout()->setRowSpacing(2);

    auto* margins = new QCPMarginGroup(m_plot);
    const QList<QCPAxisRect*> rects{m_lossRect, m_metricRect, m_lrRect};
    for (QCPAxisRect* r : rects) {
        r->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
        r->axis(QCPAxis::atLeft)->setNumberFormat("g");
        r->axis(QCPAxis::atLeft)->ticker()->setTickCount(4);
        r->axis(QCPAxis::atBottom)->setNumberFormat("f");
        r->axis(QCPAxis::atBottom)->setNumberPrecision(0);
        r->axis(QCPAxis::atBottom)->setTicker(QSharedPointer<QCPAxisTicker>(new StepTicker));
        // The step axis is shared: panning or zooming one pane moves all three.
        for (QCPAxisRect* other : rects) {
            if (other != r)
                connect(
                    r->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::rangeChanged),
                    other->axis(QCPAxis::atBottom), qOverload<const QCPRange&>(&QCPAxis::setRange));
        }
    }
    // Tick labels for the step only under the lowest pane; the others keep their grid.
    m_lossRect->axis(QCPAxis::atBottom)->setTickLabels(false);
    m_metricRect->axis(QCPAxis::atBottom)->setTickLabels(false);
    m_lrRect->axis(QCPAxis::atBottom)->setLabel(tr("step"));
    m_lossRect->axis(QCPAxis::atLeft)->setLabel(tr("loss"));
    m_metricRect->axis(QCPAxis::atLeft)->setLabel(tr("validation"));
    m_lrRect->axis(QCPAxis::atLeft)->setLabel(tr("learning rate"));
    m_metricRect->axis(QCPAxis::atLeft)->setRange(0, 1.05);
    m_lrRect->axis(QCPAxis::atLeft)->ticker()->setTickCount(2);
    for (QCPAxisRect* r : rects)
        r->axis(QCPAxis::atBottom)->setRange(0, 10);

    auto addGraph = [this](QCPAxisRect* r) {
        return m_plot->addGraph(r->axis(QCPAxis::atBottom), r->axis(QCPAxis::atLeft));
    };
    m_rawLoss = addGraph(m_lossRect);
    m_rawLoss->setName(tr("per step"));
    m_rawLoss->setAntialiased(
        false); // thousands of short segments: aliasing is invisible, speed is not
    m_smoothLoss = addGraph(m_lossRect);
    m_smoothLoss->setName(tr("smoothed"));
    m_valLoss = addGraph(m_lossRect);
    m_valLoss->setName(tr("validation"));
    m_lr = addGraph(m_lrRect);
    m_lr->setName(tr("learning rate"));
    m_lr->setLineStyle(QCPGraph::lsStepLeft);

    m_plot->legend->setVisible(true);
    m_plot->legend->addItem(new QCPPlottableLegendItem(m_plot->legend, m_rawLoss));
    m_plot->legend->addItem(new QCPPlottableLegendItem(m_plot->legend, m_smoothLoss));
    m_plot->legend->addItem(new QCPPlottableLegendItem(m_plot->legend, m_valLoss));
    m_metricLegend = new QCPLegend;

    // Legends sit in rows of their own above their panes, one line each: inside
    // the axis rect they covered the curves in a narrow dock.
    auto* grid = m_plot->plotLayout();
    m_lossRect->insetLayout()->take(m_plot->legend);
    // Each legend in a sub-grid: a legend's own maximum width would otherwise
    // narrow the whole column, panes included.
    auto legendRow = [grid](int row, QCPLegend* legend) {
        auto* sub = new QCPLayoutGrid;
        grid->insertRow(row);
        grid->addElement(row, 0, sub);
        sub->setMargins(QMargins(0, 2, 0, 0));
        sub->addElement(0, 0, legend);
        // An empty element beside it takes the rest of the width, so the row's
        // maximum width (the column's) is unbounded.
        sub->addElement(0, 1, new QCPLayoutElement(grid->parentPlot()));
        sub->setColumnStretchFactor(0, 0.001);
        sub->setColumnStretchFactor(1, 1);
        sub->setMinimumSize(0, QFontMetrics(grid->parentPlot()->font()).height() +
                                   10); // one line of text, unclipped
    };
    legendRow(0, m_plot->legend);
    legendRow(2, m_metricLegend);
    m_metricLegend->setLayer(QStringLiteral("legend")); // now that it belongs to the plot
    grid->setRowStretchFactor(0, 0.001);                // as tall as the legend needs, no more
    grid->setRowStretchFactor(1, 3);
    grid->setRowStretchFactor(2, 0.001);
    grid->setRowStretchFactor(3, 2);
    grid->setRowStretchFactor(4, 1.2);
    for (QCPLegend* l : {m_plot->legend, m_metricLegend}) {
        l->setFillOrder(QCPLayoutGrid::foColumnsFirst);
        l->setIconSize(16, 8);
        l->setRowSpacing(0);
        l->setColumnSpacing(8);
        l->setMargins(QMargins(4, 2, 4, 2));
        l->setBorderPen(Qt::NoPen);
        l->setBrush(Qt::NoBrush);
    }

    // Why a pane is empty, drawn in its middle until data comes.
    m_lossNote = new QCPItemText(m_plot);
    m_metricNote = new QCPItemText(m_plot);
    for (auto [note, rect] :
         {std::pair{m_lossNote, m_lossRect}, std::pair{m_metricNote, m_metricRect}}) {
        note->setClipToAxisRect(false);
        note->position->setAxisRect(rect);
        note->position->setType(QCPItemPosition::ptAxisRectRatio);
        note->position->setCoords(0.5, 0.5);
        note->setPositionAlignment(Qt::AlignCenter);
        note->setTextAlignment(Qt::AlignCenter);
    }
    m_lossNote->setText(tr("No training run yet:\npress Train (F5)."));
    updateNotes();

    // Any drag or wheel means the user is looking somewhere: stop following new data.
    connect(m_plot, &QCustomPlot::mouseWheel, this, &TrainingPlots::userMovedView);
    connect(m_plot, &QCustomPlot::mouseMove, this, [this](QMouseEvent* e) {
        if (e->buttons() & Qt::LeftButton)
            userMovedView();
    });
    connect(m_plot, &QCustomPlot::mouseDoubleClick, this, [this] { fitView(); });
}

void TrainingPlots::buildToolBar() {
    m_toolBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_toolBar->setIconSize(QSize(16, 16));
    m_logAction = m_toolBar->addAction(tr("Log scale"));
    m_logAction->setCheckable(true);
    m_logAction->setToolTip(tr("Logarithmic loss axis"));
    connect(m_logAction, &QAction::toggled, this, &TrainingPlots::setLogScale);
    QAction* fit = m_toolBar->addAction(tr("Fit"));
    fit->setToolTip(tr("Show all data and follow new steps (or double-click the plot)"));
    connect(fit, &QAction::triggered, this, &TrainingPlots::fitView);
    m_toolBar->addSeparator();
    auto* smoothLabel = new QLabel(tr("Smooth "), m_toolBar);
    m_toolBar->addWidget(smoothLabel);
    auto* smoothing = new QDoubleSpinBox(m_toolBar);
    smoothing->setRange(0.0, 0.999);
    smoothing->setDecimals(3);
    smoothing->setSingleStep(0.05);
    smoothing->setValue(m_smoothing);
    smoothing->setToolTip(
        tr("Weight of the past in the smoothed loss (exponential moving average)"));
    connect(smoothing, &QDoubleSpinBox::valueChanged, this, &TrainingPlots::setSmoothing);
    m_toolBar->addWidget(smoothing);
    auto* spacer = new QWidget(m_toolBar);
    spacer->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Preferred);
    m_toolBar->addWidget(spacer);
    // Both exports behind one button: the bar fits a dock a third of a laptop screen wide.
    auto* exportMenu = new QMenu(m_toolBar);
    QAction* png = exportMenu->addAction(tr("PNG Image…"));
    png->setToolTip(tr("Export the plots as a PNG image"));
    connect(png, &QAction::triggered, this, &TrainingPlots::exportPngInteractive);
    QAction* csv = exportMenu->addAction(tr("CSV Table…"));
    csv->setToolTip(tr("Export every step and epoch as CSV"));
    connect(csv, &QAction::triggered, this, &TrainingPlots::exportCsvInteractive);
    auto* exportButton = new QToolButton(m_toolBar);
    exportButton->setText(tr("Export"));
    exportButton->setToolTip(tr("Export the plots as PNG or the data as CSV"));
    exportButton->setMenu(exportMenu);
    exportButton->setPopupMode(QToolButton::InstantPopup);
    m_toolBar->addWidget(exportButton);

    m_plot->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_plot, &QWidget::customContextMenuRequested, this,
            [this, fit, png, csv](const QPoint& pos) {
                QMenu menu(this);
                menu.addAction(m_logAction);
                menu.addAction(fit);
                menu.addSeparator();
                menu.addAction(png);
                menu.addAction(csv);
                menu.exec(m_plot->mapToGlobal(pos));
            });
}

QColor TrainingPlots::metricColour(int index) const {
    const bool dark = Theme::isDark(palette());
    // Chosen to stay apart from the loss colours and to read on both backgrounds.
    static const QColor darkSet[] = {QColor(0x5c, 0xd0, 0x8a), QColor(0xd2, 0x8c, 0xf0),
                                     QColor(0x4f, 0xd1, 0xd9), QColor(0xf2, 0xc1, 0x4e),
                                     QColor(0xff, 0x7b, 0x9c)};
    static const QColor lightSet[] = {QColor(0x1a, 0x7f, 0x37), QColor(0x8a, 0x3f, 0xc7),
                                      QColor(0x00, 0x7f, 0x8c), QColor(0xa3, 0x6b, 0x00),
                                      QColor(0xc2, 0x25, 0x5c)};
    const int n = static_cast<int>(std::size(darkSet));
    return (dark ? darkSet : lightSet)[index % n];
}

void TrainingPlots::applyColours() {
    const QPalette p = palette();
    const bool dark = Theme::isDark(p);
    const QColor base = p.color(QPalette::Base), text = p.color(QPalette::Text);
    QColor grid = text;
    grid.setAlpha(dark ? 38 : 45);
    QColor subGrid = grid;
    subGrid.setAlpha(grid.alpha() / 2);
    m_plot->setBackground(QBrush(p.color(QPalette::Window)));
    for (QCPAxisRect* r : {m_lossRect, m_metricRect, m_lrRect}) {
        r->setBackground(QBrush(base));
        for (QCPAxis* a : r->axes()) {
            QColor axisLine = text;
            axisLine.setAlpha(120);
            a->setBasePen(QPen(axisLine, 1));
            a->setTickPen(QPen(axisLine, 1));
            a->setSubTickPen(QPen(axisLine, 1));
            a->setTickLabelColor(text);
            a->setLabelColor(text);
            a->setTickLabelFont(font());
            a->setLabelFont(font());
            a->grid()->setPen(QPen(grid, 1, Qt::SolidLine));
            a->grid()->setSubGridPen(QPen(subGrid, 1, Qt::DotLine));
            a->grid()->setZeroLinePen(Qt::NoPen);
        }
    }
    for (QCPLegend* l : {m_plot->legend, m_metricLegend}) {
        l->setBrush(Qt::NoBrush); // outside the panes: nothing to cover
        l->setBorderPen(Qt::NoPen);
        l->setTextColor(text);
        l->setFont(font());
        for (int i = 0; i < l->itemCount(); ++i) {
            l->item(i)->setTextColor(text);
            l->item(i)->setFont(font());
        }
    }
    QColor muted = text;
    muted.setAlpha(150);
    for (QCPItemText* note : {m_lossNote, m_metricNote}) {
        if (!note)
            continue;
        note->setColor(muted);
        note->setFont(font());
    }

    const QColor loss = dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1f, 0x6f, 0xeb);
    const QColor val = dark ? QColor(0xff, 0xa6, 0x57) : QColor(0xd0, 0x5a, 0x00);
    QColor raw = loss;
    raw.setAlpha(dark ? 90 : 80);
    m_rawLoss->setPen(QPen(raw, 1));
    m_smoothLoss->setPen(QPen(loss, 2.2));
    m_valLoss->setPen(QPen(val, 1.6, Qt::DashLine));
    m_valLoss->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(val, 1.5), QBrush(base), 7));
    const QColor lr = dark ? QColor(0xb0, 0xb8, 0xc4) : QColor(0x57, 0x60, 0x6a);
    m_lr->setPen(QPen(lr, 1.6));
    QColor lrFill = lr;
    lrFill.setAlpha(35);
    m_lr->setBrush(QBrush(lrFill));
    for (std::size_t i = 0; i < m_metricGraphs.size(); ++i) {
        const QColor c = metricColour(static_cast<int>(i));
        m_metricGraphs[i].second->setPen(QPen(c, 1.8));
        m_metricGraphs[i].second->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssDisc, QPen(c), QBrush(c), 6));
    }
}

void TrainingPlots::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange || event->type() == QEvent::FontChange) {
        applyColours();
        scheduleReplot();
    }
}

void TrainingPlots::setHasMetric(bool has) {
    if (has == m_hasMetric)
        return;
    m_hasMetric = has;
    updateNotes();
    scheduleReplot();
}

QString TrainingPlots::emptyNote(Pane pane) const {
    const QCPItemText* note = pane == Pane::Loss ? m_lossNote : m_metricNote;
    return note && note->visible() ? note->text() : QString();
}

void TrainingPlots::updateNotes() {
    if (!m_lossNote)
        return;
    const bool steps = !m_steps.empty();
    m_lossNote->setVisible(!steps);
    if (!m_metricGraphs.empty()) {
        m_metricNote->setVisible(false);
        return;
    }
    m_metricNote->setVisible(true);
    m_metricNote->setText(
        !m_hasMetric       ? tr("No metric node in the graph:\nadd Dice or IoU to see them here.")
        : m_epochs.empty() ? tr("Validation metrics appear\nat the end of each epoch.")
                           : tr("No validation metrics in this run."));
}

void TrainingPlots::setMetricDefinitions(std::map<std::string, QString> definitions) {
    if (definitions == m_metricDefinitions)
        return;
    m_metricDefinitions = std::move(definitions);
    for (const auto& [name, g] : m_metricGraphs)
        g->setName(metricLegendText(name));
    scheduleReplot();
}

QString TrainingPlots::metricLegendText(const std::string& name) const {
    const auto it = m_metricDefinitions.find(name);
    const QString bare = QString::fromStdString(name);
    return it == m_metricDefinitions.end() || it->second.isEmpty()
               ? bare
               : tr("%1 (%2)").arg(bare, it->second);
}

QCPGraph* TrainingPlots::metricGraph(const std::string& name) {
    for (const auto& [n, g] : m_metricGraphs) {
        if (n == name)
            return g;
    }
    QCPGraph* g = m_plot->addGraph(m_metricRect->axis(QCPAxis::atBottom),
                                   m_metricRect->axis(QCPAxis::atLeft));
    g->setName(metricLegendText(name));
    m_metricLegend->addItem(new QCPPlottableLegendItem(m_metricLegend, g));
    m_metricGraphs.emplace_back(name, g);
    updateNotes();
    applyColours();
    return g;
}

void TrainingPlots::addStep(std::int64_t step, double loss, double learningRate) {
    // Bias-corrected EMA (as in Adam / TensorBoard) so the first steps are not pulled to 0.
    if (std::isfinite(loss))
        m_ema = m_smoothing * m_ema + (1 - m_smoothing) * loss;
    const double debias = 1 - std::pow(m_smoothing, static_cast<double>(m_steps.size() + 1));
    const double smooth = debias > 0 ? m_ema / debias : loss;
    if (m_steps.empty())
        m_lossNote->setVisible(false);
    m_steps.push_back(step);
    m_losses.push_back(loss);
    m_smoothed.push_back(smooth);
    m_learningRates.push_back(learningRate);

    const auto key = static_cast<double>(step);
    m_rawLoss->addData(key, loss);
    m_smoothLoss->addData(key, smooth);
    if (std::isfinite(learningRate))
        m_lr->addData(key, learningRate);

    m_stepMin = m_haveStep ? std::min(m_stepMin, step) : step;
    m_stepMax = m_haveStep ? std::max(m_stepMax, step) : step;
    m_haveStep = true;
    if (std::isfinite(loss)) {
        m_lossMin = m_haveLoss ? std::min(m_lossMin, loss) : loss;
        m_lossMax = m_haveLoss ? std::max(m_lossMax, loss) : loss;
        if (loss > 0)
            m_lossMinPositive = m_lossMinPositive > 0 ? std::min(m_lossMinPositive, loss) : loss;
        m_haveLoss = true;
    }
    if (std::isfinite(learningRate)) {
        m_lrMin = m_haveLr ? std::min(m_lrMin, learningRate) : learningRate;
        m_lrMax = m_haveLr ? std::max(m_lrMax, learningRate) : learningRate;
        m_haveLr = true;
    }
    scheduleReplot();
}

void TrainingPlots::addEpoch(int epoch, std::int64_t step, double trainLoss, double valLoss,
                             const std::map<std::string, double>& valMetrics) {
    m_epochs.push_back({epoch, step, trainLoss, valLoss, valMetrics});
    updateNotes();
    const auto key = static_cast<double>(step);
    if (std::isfinite(valLoss)) {
        m_valLoss->addData(key, valLoss);
        m_lossMin = m_haveLoss ? std::min(m_lossMin, valLoss) : valLoss;
        m_lossMax = m_haveLoss ? std::max(m_lossMax, valLoss) : valLoss;
        if (valLoss > 0)
            m_lossMinPositive =
                m_lossMinPositive > 0 ? std::min(m_lossMinPositive, valLoss) : valLoss;
        m_haveLoss = true;
    }
    for (const auto& [name, value] : valMetrics)
        metricGraph(name)->addData(key, value);
    m_stepMin = m_haveStep ? std::min(m_stepMin, step) : step;
    m_stepMax = m_haveStep ? std::max(m_stepMax, step) : step;
    m_haveStep = true;
    scheduleReplot();
}

void TrainingPlots::clear() {
    for (QCPGraph* g : {m_rawLoss, m_smoothLoss, m_valLoss, m_lr})
        g->data()->clear();
    for (const auto& mg : m_metricGraphs) {
        m_metricLegend->removeItem(m_metricLegend->itemWithPlottable(mg.second));
        m_plot->removeGraph(mg.second);
    }
    m_metricGraphs.clear();
    m_steps.clear();
    m_losses.clear();
    m_smoothed.clear();
    m_learningRates.clear();
    m_epochs.clear();
    m_ema = 0;
    m_haveLoss = m_haveLr = m_haveStep = false;
    m_lossMinPositive = 0;
    m_follow = true;
    updateNotes();
    for (QCPAxisRect* r : {m_lossRect, m_metricRect, m_lrRect})
        r->axis(QCPAxis::atBottom)->setRange(0, 10);
    m_metricRect->axis(QCPAxis::atLeft)->setRange(0, 1.05);
    scheduleReplot();
}

int TrainingPlots::stepPointCount() const {
    return m_rawLoss->dataCount();
}
int TrainingPlots::epochPointCount() const {
    return static_cast<int>(m_epochs.size());
}

QStringList TrainingPlots::metricNames() const {
    QStringList out;
    for (const auto& mg : m_metricGraphs)
        out << QString::fromStdString(mg.first);
    return out;
}

double TrainingPlots::smoothedLoss() const {
    return m_smoothed.empty() ? std::numeric_limits<double>::quiet_NaN() : m_smoothed.back();
}

void TrainingPlots::setSmoothing(double weight) {
    weight = std::clamp(weight, 0.0, 0.999);
    if (weight == m_smoothing)
        return;
    m_smoothing = weight;
    recomputeSmoothed();
    scheduleReplot();
}

void TrainingPlots::recomputeSmoothed() {
    m_ema = 0;
    QVector<QCPGraphData> points;
    points.reserve(static_cast<int>(m_steps.size()));
    double pow = 1;
    for (std::size_t i = 0; i < m_steps.size(); ++i) {
        if (std::isfinite(m_losses[i]))
            m_ema = m_smoothing * m_ema + (1 - m_smoothing) * m_losses[i];
        pow *= m_smoothing;
        m_smoothed[i] = 1 - pow > 0 ? m_ema / (1 - pow) : m_losses[i];
        points.append(QCPGraphData(static_cast<double>(m_steps[i]), m_smoothed[i]));
    }
    m_smoothLoss->data()->set(points, true);
}

void TrainingPlots::setLogScale(bool on) {
    if (m_logAction->isChecked() != on)
        m_logAction->setChecked(on); // re-enters through toggled
    if (m_logScale == on)
        return;
    m_logScale = on;
    QCPAxis* y = m_lossRect->axis(QCPAxis::atLeft);
    if (on) {
        y->setScaleType(QCPAxis::stLogarithmic);
        y->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    } else {
        y->setScaleType(QCPAxis::stLinear);
        y->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        y->ticker()->setTickCount(4);
    }
    updateRanges();
    scheduleReplot();
}

void TrainingPlots::fitView() {
    m_follow = true;
    m_metricRect->axis(QCPAxis::atLeft)->setRange(0, 1.05);
    updateRanges();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
}

void TrainingPlots::userMovedView() {
    m_follow = false;
}

void TrainingPlots::updateRanges() {
    if (!m_follow)
        return;
    if (m_haveStep) {
        const double lo = static_cast<double>(m_stepMin);
        const double hi = std::max(static_cast<double>(m_stepMax), lo + 1);
        m_lrRect->axis(QCPAxis::atBottom)
            ->setRange(lo, hi + (hi - lo) * 0.02); // propagates to the other panes
    }
    if (m_haveLoss) {
        if (m_logScale && m_lossMinPositive > 0)
            m_lossRect->axis(QCPAxis::atLeft)->setRange(padded(m_lossMinPositive, m_lossMax, true));
        else if (!m_logScale)
            m_lossRect->axis(QCPAxis::atLeft)
                ->setRange(padded(std::min(m_lossMin, 0.0), m_lossMax, false));
    }
    if (m_haveLr)
        m_lrRect->axis(QCPAxis::atLeft)->setRange(padded(std::min(m_lrMin, 0.0), m_lrMax, false));
}

void TrainingPlots::scheduleReplot() {
    m_dirty = true;
}

void TrainingPlots::onTimer() {
    if (!m_dirty)
        return;
    m_dirty = false;
    updateRanges();
    m_plot->replot(QCustomPlot::rpQueuedReplot);
    // A slow machine or a huge plot: keep redraws to about a third of the GUI thread's
    // time so the window stays responsive (the interval never drops below ~30 Hz).
    m_timer->setInterval(replotIntervalFor(m_plot->replotTime(false)));
}

int TrainingPlots::replotIntervalFor(double replotMs) {
    return std::clamp(static_cast<int>(3 * replotMs), kReplotIntervalMs, 500);
}

void TrainingPlots::flush() {
    m_dirty = false;
    updateRanges();
    m_plot->replot(QCustomPlot::rpImmediateRefresh);
}

int TrainingPlots::replotInterval() const {
    return m_timer->interval();
}

bool TrainingPlots::exportPng(const QString& path, int w, int h) {
    updateRanges();
    if (w <= 0 || h <= 0) {
        w = m_plot->width() > 50 ? m_plot->width() : 1200;
        h = m_plot->height() > 50 ? m_plot->height() : 800;
    }
    return m_plot->savePng(path, w, h);
}

bool TrainingPlots::exportCsv(const QString& path) const {
    core::RunHistory history;
    history.steps.reserve(m_steps.size());
    for (std::size_t i = 0; i < m_steps.size(); ++i)
        history.steps.push_back({m_steps[i], m_losses[i], m_learningRates[i]});
    history.epochs = m_epochs;
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Text))
        return false;
    const std::string text = core::RunHistoryCsv::stepTable(history).table(history, m_smoothed);
    if (file.write(text.data(), static_cast<qint64>(text.size())) !=
        static_cast<qint64>(text.size()))
        return false;
    return file.commit();
}

void TrainingPlots::exportPngInteractive() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export plots"), QStringLiteral("training.png"), tr("PNG image (*.png)"));
    if (!path.isEmpty() && !exportPng(path))
        QMessageBox::warning(this, tr("Export plots"), tr("Could not write %1.").arg(path));
}

void TrainingPlots::exportCsvInteractive() {
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Export training data"), QStringLiteral("training.csv"), tr("CSV (*.csv)"));
    if (!path.isEmpty() && !exportCsv(path))
        QMessageBox::warning(this, tr("Export training data"), tr("Could not write %1.").arg(path));
}

} // namespace segforge::ui
