#include "training/overlay_panel.hpp"

#include "data/overlay.hpp"
#include "engine/prediction.hpp"
#include "training/overlay_detail_dialog.hpp"
#include "training/overlay_render.hpp"
#include "training/overlay_rows.hpp"
#include "window/dialog_folder.hpp"

#include <QCheckBox>
#include <QEvent>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QPushButton>
#include <QScrollBar>
#include <QSlider>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <opencv2/imgproc.hpp>

namespace segforge::ui {

using namespace overlay;

OverlayPanel::OverlayPanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);

    auto* top = new QHBoxLayout;
    m_epochLabel = new QLabel(this);
    QFont bold = m_epochLabel->font();
    bold.setBold(true);
    m_epochLabel->setFont(bold);
    top->addWidget(m_epochLabel);
    top->addStretch();
    m_worstFirst = new QCheckBox(tr("Worst first"), this);
    m_worstFirst->setToolTip(tr("Sort by Dice, lowest first, so failures are on top"));
    auto* refresh = new QPushButton(tr("Refresh"), this);
    refresh->setToolTip(tr("Predict the validation samples with the current weights"));
    top->addWidget(refresh);
    auto* predict = new QPushButton(tr("Predict image…"), this);
    predict->setToolTip(tr("Run the current weights on an image file"));
    top->addWidget(predict);
    layout->addLayout(top);

    auto* sliders = new QHBoxLayout;
    auto addSlider = [&](const QString& label, QSlider*& slider, QLabel*& value, double initial) {
        sliders->addWidget(new QLabel(label, this));
        slider = new QSlider(Qt::Horizontal, this);
        slider->setRange(0, 100);
        slider->setValue(static_cast<int>(std::lround(initial * 100)));
        slider->setMinimumWidth(60);
        sliders->addWidget(slider, 1);
        value = new QLabel(QString::number(initial, 'f', 2), this);
        value->setMinimumWidth(value->fontMetrics().horizontalAdvance(QStringLiteral("0.000")));
        sliders->addWidget(value);
    };
    addSlider(tr("Threshold"), m_thresholdSlider, m_thresholdValue, m_threshold);
    m_thresholdSlider->setToolTip(tr("Probability above which a pixel counts as foreground"));
    sliders->addSpacing(8);
    addSlider(tr("Opacity"), m_opacitySlider, m_opacityValue, m_opacity);
    layout->addLayout(sliders);

    auto* legend = new QLabel(this);
    legend->setTextFormat(Qt::RichText);
    legend->setToolTip(tr("Colours of the Errors column"));
    legend->setText(tr("%1 &nbsp; %2 &nbsp; %3")
                        .arg(swatch(core::kTruePositive, tr("true positive")),
                             swatch(core::kFalsePositive, tr("false positive")),
                             swatch(core::kFalseNegative, tr("missed"))));
    // Legend and sorting share a row so the panel fits a narrow dock.
    auto* legendRow = new QHBoxLayout;
    legendRow->addWidget(legend);
    legendRow->addStretch();
    legendRow->addWidget(m_worstFirst);
    layout->addLayout(legendRow);
    // Which classes the Dice averages (core::ClassPolicy), wrapped so a narrow dock still fits.
    m_diceLabel = new QLabel(this);
    m_diceLabel->setWordWrap(true);
    m_diceLabel->setForegroundRole(QPalette::PlaceholderText);
    layout->addWidget(m_diceLabel);

    m_stack = new QStackedWidget(this);
    m_empty = new QLabel(tr("No predictions yet — train one epoch or press Refresh"), this);
    m_empty->setAlignment(Qt::AlignCenter);
    m_empty->setWordWrap(true);
    m_empty->setForegroundRole(QPalette::PlaceholderText);
    m_stack->addWidget(m_empty);

    auto* listPage = new QWidget(this);
    auto* listLayout = new QVBoxLayout(listPage);
    listLayout->setContentsMargins(0, 0, 0, 0);
    listLayout->setSpacing(0);
    m_header = new OverlayHeader(this, listPage);
    listLayout->addWidget(m_header);
    m_view = new QListView(listPage);
    m_model = new OverlayListModel(this);
    m_view->setModel(m_model);
    m_view->setItemDelegate(new OverlayRowDelegate(this));
    m_view->setUniformItemSizes(true);
    m_view->setMouseTracking(true);
    m_view->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setHorizontalScrollBarPolicy(Qt::ScrollBarAsNeeded);
    m_view->viewport()->installEventFilter(this);
    listLayout->addWidget(m_view, 1);
    m_stack->addWidget(listPage);
    layout->addWidget(m_stack, 1);

    m_detail = new OverlayDetailDialog(this);

    connect(m_worstFirst, &QCheckBox::toggled, this, &OverlayPanel::setSortWorstFirst);
    connect(refresh, &QPushButton::clicked, this, &OverlayPanel::refreshRequested);
    connect(predict, &QPushButton::clicked, this, &OverlayPanel::chooseFile);
    connect(m_thresholdSlider, &QSlider::valueChanged, this,
            [this](int v) { setThreshold(v / 100.0); });
    connect(m_opacitySlider, &QSlider::valueChanged, this,
            [this](int v) { setOpacity(v / 100.0); });
    connect(m_view, &QListView::clicked, this, [this](const QModelIndex& i) { openRow(i.row()); });
    connect(m_view, &QListView::activated, this,
            [this](const QModelIndex& i) { openRow(i.row()); });
    clear();
}

OverlayPanel::~OverlayPanel() = default;

void OverlayPanel::setSamples(std::vector<OverlaySample> samples, int epoch) {
    const int scroll = m_view->verticalScrollBar()->value();
    m_entries.clear();
    m_entries.reserve(samples.size());
    for (OverlaySample& s : samples) {
        Entry e;
        e.sample = std::move(s);
        conformToImage(e.sample);
        if (!e.sample.image.empty()) {
            const cv::Size small = fitInside(e.sample.image.size(), kThumbRender);
            const bool shrink = small.width < e.sample.image.cols;
            cv::resize(e.sample.image, e.smallImage, small, 0, 0,
                       shrink ? cv::INTER_AREA : cv::INTER_NEAREST);
            if (!e.sample.truth.empty())
                cv::resize(e.sample.truth, e.smallTruth, small, 0, 0, cv::INTER_NEAREST);
            if (!e.sample.scores.empty())
                cv::resize(e.sample.scores, e.smallScores, small, 0, 0,
                           shrink ? cv::INTER_AREA : cv::INTER_NEAREST);
        }
        m_entries.push_back(std::move(e));
    }
    m_epoch = epoch;
    int channels = 1;
    for (const Entry& e : m_entries)
        if (!e.sample.scores.empty()) {
            channels = e.sample.scores.channels();
            break;
        }
    m_diceDefinition =
        QString::fromStdString(core::ClassPolicy::forPrediction(channels).describe());
    m_epochLabel->setText(epoch > 0
                              ? tr("Epoch %1 · %n sample(s)", nullptr, sampleCount()).arg(epoch)
                              : tr("%n sample(s)", nullptr, sampleCount()));
    m_diceLabel->setText(tr("Dice per sample: %1, as the training metric").arg(m_diceDefinition));
    m_stack->setCurrentIndex(m_entries.empty() ? 0 : 1);
    rerender(true);
    m_view->verticalScrollBar()->setValue(scroll);
}

void OverlayPanel::clear() {
    m_entries.clear();
    m_order.clear();
    m_epoch = -1;
    m_epochLabel->setText(tr("Validation predictions"));
    m_diceDefinition.clear();
    m_diceLabel->clear();
    m_stack->setCurrentIndex(0);
    m_model->reset();
}

QString OverlayPanel::diceDefinitionText() const {
    return m_diceLabel->text();
}

int OverlayPanel::sampleCount() const {
    return static_cast<int>(m_entries.size());
}

double OverlayPanel::sampleDice(int index) const {
    if (index < 0 || index >= sampleCount())
        return std::numeric_limits<double>::quiet_NaN();
    return m_entries[static_cast<std::size_t>(index)].dice;
}

double OverlayPanel::meanDice() const {
    double sum = 0;
    int n = 0;
    for (const Entry& e : m_entries) {
        if (std::isfinite(e.dice)) {
            sum += e.dice;
            ++n;
        }
    }
    return n ? sum / n : std::numeric_limits<double>::quiet_NaN();
}

bool OverlayPanel::sortWorstFirst() const {
    return m_worstFirst->isChecked();
}

void OverlayPanel::setSortWorstFirst(bool on) {
    if (m_worstFirst->isChecked() != on) {
        m_worstFirst->setChecked(on); // re-enters through toggled
        return;
    }
    resort();
}

void OverlayPanel::setThreshold(double threshold) {
    threshold = std::clamp(threshold, 0.0, 1.0);
    m_thresholdValue->setText(QString::number(threshold, 'f', 2));
    const QSignalBlocker block(m_thresholdSlider);
    m_thresholdSlider->setValue(static_cast<int>(std::lround(threshold * 100)));
    if (threshold == m_threshold)
        return;
    m_threshold = threshold;
    rerender(true);
}

void OverlayPanel::setOpacity(double opacity) {
    opacity = std::clamp(opacity, 0.0, 1.0);
    m_opacityValue->setText(QString::number(opacity, 'f', 2));
    const QSignalBlocker block(m_opacitySlider);
    m_opacitySlider->setValue(static_cast<int>(std::lround(opacity * 100)));
    if (opacity == m_opacity)
        return;
    m_opacity = opacity;
    rerender(false);
}

void OverlayPanel::rerender(bool recomputeDice) {
    for (Entry& e : m_entries) {
        const OverlaySample& s = e.sample;
        try {
            // The training metric's definition (core/kernels/mask_metrics.hpp), as the plot and the
            // CLI.
            if (recomputeDice)
                e.dice = s.truth.empty() ? std::numeric_limits<double>::quiet_NaN()
                                         : core::scorePredictedMask(
                                               predictedMask(s.scores, m_threshold, s.image.size()),
                                               s.truth, s.scores.empty() ? 1 : s.scores.channels())
                                               .dice;
            if (e.smallImage.empty())
                continue;
            const cv::Mat predicted =
                predictedMask(e.smallScores, m_threshold, e.smallImage.size());
            e.thumbs[ImagePanel] = toQImage(e.smallImage);
            e.thumbs[TruthPanel] =
                e.smallTruth.empty()
                    ? QImage()
                    : toQImage(core::overlayMask(e.smallImage, e.smallTruth, m_opacity));
            e.thumbs[PredictionPanel] =
                toQImage(core::overlayMask(e.smallImage, predicted, m_opacity));
            e.thumbs[ErrorPanel] = e.smallTruth.empty()
                                       ? QImage()
                                       : toQImage(core::overlayComparison(e.smallImage, predicted,
                                                                          e.smallTruth, m_opacity));
        } catch (const std::exception&) {
            // A malformed sample (wrong types) shows blank cells rather than taking the panel down.
            e.thumbs = {};
        }
    }
    if (recomputeDice)
        resort();
    else
        m_model->repaintAll();
}

void OverlayPanel::resort() {
    m_order.resize(m_entries.size());
    std::iota(m_order.begin(), m_order.end(), 0);
    if (sortWorstFirst()) {
        auto key = [this](int i) {
            const double d = m_entries[static_cast<std::size_t>(i)].dice;
            return std::isfinite(d) ? d : 2.0; // samples without truth last
        };
        std::stable_sort(m_order.begin(), m_order.end(),
                         [&](int a, int b) { return key(a) < key(b); });
    }
    m_model->reset();
}

int OverlayPanel::sampleAtRow(int row) const {
    return row >= 0 && row < static_cast<int>(m_order.size())
               ? m_order[static_cast<std::size_t>(row)]
               : -1;
}

double OverlayPanel::rowDice(int row) const {
    return sampleDice(sampleAtRow(row));
}

QImage OverlayPanel::thumbnail(int row, Panel panel) const {
    const int i = sampleAtRow(row);
    if (i < 0 || panel < 0 || panel >= PanelCount)
        return {};
    return m_entries[static_cast<std::size_t>(i)].thumbs[panel];
}

void OverlayPanel::openRow(int row) {
    const int i = sampleAtRow(row);
    if (i < 0)
        return;
    const OverlaySample& s = m_entries[static_cast<std::size_t>(i)].sample;
    try {
        const cv::Mat predicted = predictedMask(s.scores, m_threshold, s.image.size());
        std::vector<std::pair<QString, cv::Mat>> panels{{panelTitle(ImagePanel), s.image}};
        panels.emplace_back(panelTitle(TruthPanel),
                            s.truth.empty() ? cv::Mat()
                                            : core::overlayMask(s.image, s.truth, m_opacity));
        panels.emplace_back(panelTitle(PredictionPanel),
                            core::overlayMask(s.image, predicted, m_opacity));
        panels.emplace_back(panelTitle(ErrorPanel),
                            s.truth.empty()
                                ? cv::Mat()
                                : core::overlayComparison(s.image, predicted, s.truth, m_opacity));
        const double dice = sampleDice(i);
        m_detail->setWindowTitle(s.name);
        m_detail->showPanels(
            tr("%1 — Dice %2 (%3) at threshold %4")
                .arg(s.name, std::isfinite(dice) ? QString::number(dice, 'f', 3) : tr("n/a"),
                     m_diceDefinition)
                .arg(m_threshold, 0, 'f', 2),
            panels);
    } catch (const std::exception& ex) {
        m_detail->showPanels(tr("%1: %2").arg(s.name, QString::fromUtf8(ex.what())), {});
    }
}

void OverlayPanel::showPrediction(const QString& name, const cv::Mat& image,
                                  const cv::Mat& scores) {
    OverlaySample s{name, image, {}, scores};
    conformToImage(s);
    m_detail->setWindowTitle(tr("Prediction — %1").arg(name));
    try {
        const cv::Mat predicted = predictedMask(s.scores, m_threshold, s.image.size());
        const double fg =
            s.image.empty() ? 0.0 : 100.0 * cv::countNonZero(predicted) / predicted.total();
        m_detail->showPanels(
            tr("%1 — %2% of pixels predicted foreground at threshold %3")
                .arg(name)
                .arg(fg, 0, 'f', 1)
                .arg(m_threshold, 0, 'f', 2),
            {{panelTitle(ImagePanel), s.image},
             {panelTitle(PredictionPanel), core::overlayMask(s.image, predicted, m_opacity)},
             {tr("Scores"), scoresPicture(s.scores)}});
    } catch (const std::exception& ex) {
        m_detail->showPanels(tr("%1: %2").arg(name, QString::fromUtf8(ex.what())), {});
    }
}

QDialog* OverlayPanel::detailDialog() const {
    return m_detail;
}

bool OverlayPanel::showingEmptyMessage() const {
    return m_stack->currentIndex() == 0;
}

void OverlayPanel::chooseFile() {
    // Images to try usually sit where the last one was chosen.
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Predict image"), dialogFolder(QString()),
        tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)"));
    if (path.isEmpty())
        return;
    rememberDialogPath(path);
    emit predictImageRequested(path);
}

void OverlayPanel::updateThumbSize() {
    const int available = m_view->viewport()->width() - 2 * kMargin - 3 * kGap;
    const int t = std::clamp(available / 4, 64, kThumbRender);
    if (t == m_thumbSize)
        return;
    m_thumbSize = t;
    m_header->update();
    m_model->reset(); // uniform row sizes are cached by the view
}

bool OverlayPanel::eventFilter(QObject* watched, QEvent* event) {
    // The viewport, not the panel: its width changes when the scroll bar comes and goes.
    if (watched == m_view->viewport() && event->type() == QEvent::Resize)
        updateThumbSize();
    return QWidget::eventFilter(watched, event);
}

void OverlayPanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange)
        m_view->viewport()->update();
}

} // namespace segforge::ui
