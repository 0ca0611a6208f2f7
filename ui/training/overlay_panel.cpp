#include "training/overlay_panel.hpp"

#include "data/overlay.hpp"
#include "training/image_view.hpp"

#include <opencv2/imgproc.hpp>

#include <QAbstractListModel>
#include <QCheckBox>
#include <QDialog>
#include <QEvent>
#include <QFileDialog>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QListView>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>
#include <QSlider>
#include <QStackedWidget>
#include <QStyledItemDelegate>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace segforge::ui {
namespace {

constexpr int kThumbRender = 160; // longer side of the cached thumbnail inputs
constexpr int kMargin = 6, kGap = 6;
constexpr int kDetailPanel = 360;

bool isDark(const QPalette& p) { return p.color(QPalette::Window).lightness() < 128; }

cv::Mat asRgb(const cv::Mat& image) {
    if (image.empty())
        return image;
    cv::Mat out;
    if (image.type() == CV_8UC3)
        return image;
    if (image.type() == CV_8UC1)
        cv::cvtColor(image, out, cv::COLOR_GRAY2RGB);
    else if (image.type() == CV_8UC4)
        cv::cvtColor(image, out, cv::COLOR_RGBA2RGB);
    else {
        cv::Mat eight;
        image.convertTo(eight, CV_8U);
        return asRgb(eight.channels() == 1 || eight.channels() == 3 ? eight : eight.reshape(1));
    }
    return out;
}

cv::Size fitInside(cv::Size s, int side) {
    if (s.width <= 0 || s.height <= 0)
        return {0, 0};
    const double k = static_cast<double>(side) / std::max(s.width, s.height);
    return {std::max(1, static_cast<int>(std::lround(s.width * k))),
            std::max(1, static_cast<int>(std::lround(s.height * k)))};
}

/// Scores and truth at the image's size (a network may predict at a different resolution).
void conformToImage(OverlaySample& s) {
    s.image = asRgb(s.image);
    if (s.image.empty())
        return;
    if (!s.scores.empty() && s.scores.size() != s.image.size())
        cv::resize(s.scores, s.scores, s.image.size(), 0, 0, cv::INTER_LINEAR);
    if (!s.truth.empty()) {
        if (s.truth.type() != CV_8UC1) {
            cv::Mat t;
            s.truth.convertTo(t, CV_8U);
            if (t.channels() > 1)
                cv::extractChannel(t, t, 0);
            s.truth = t;
        }
        if (s.truth.size() != s.image.size())
            cv::resize(s.truth, s.truth, s.image.size(), 0, 0, cv::INTER_NEAREST);
    }
}

cv::Mat predictedMask(const cv::Mat& scores, double threshold, cv::Size size) {
    if (scores.empty())
        return cv::Mat::zeros(size, CV_8UC1);
    return core::maskFromScores(scores, static_cast<float>(threshold));
}

/// Probabilities as a viridis picture (the "what did the network see" view of a prediction).
cv::Mat scoresPicture(const cv::Mat& scores) {
    if (scores.empty())
        return {};
    cv::Mat p;
    if (scores.channels() == 1)
        p = scores;
    else {
        // Confidence of the winning class.
        std::vector<cv::Mat> planes;
        cv::split(scores, planes);
        p = planes[0].clone();
        for (std::size_t k = 1; k < planes.size(); ++k)
            p = cv::max(p, planes[k]);
    }
    cv::Mat grey, bgr, rgb;
    p.convertTo(grey, CV_8U, 255.0);
    cv::applyColorMap(grey, bgr, cv::COLORMAP_VIRIDIS);
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return rgb;
}

QColor diceColour(double dice, const QPalette& p) {
    const bool dark = isDark(p);
    if (!std::isfinite(dice))
        return p.color(QPalette::Text);
    if (dice < 0.5)
        return dark ? QColor(0xff, 0x6b, 0x6b) : QColor(0xc0, 0x1c, 0x1c);
    if (dice < 0.8)
        return dark ? QColor(0xf2, 0xc1, 0x4e) : QColor(0x9a, 0x62, 0x00);
    return dark ? QColor(0x5c, 0xd0, 0x8a) : QColor(0x1a, 0x7f, 0x37);
}

QString panelTitle(int i) {
    static const char* titles[] = {QT_TRANSLATE_NOOP("OverlayPanel", "Image"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Ground truth"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Prediction"),
                                   QT_TRANSLATE_NOOP("OverlayPanel", "Errors")};
    return OverlayPanel::tr(titles[i]);
}

QString swatch(const core::Colour& c, const QString& text) {
    return QStringLiteral("<span style='color:rgb(%1,%2,%3)'>&#9632;</span>&nbsp;%4")
        .arg(c[0]).arg(c[1]).arg(c[2]).arg(text);
}

QRect cellRect(const QRect& row, int i, int thumb, int textHeight) {
    return {row.left() + kMargin + i * (thumb + kGap), row.top() + kMargin / 2 + textHeight, thumb, thumb};
}

int rowTextHeight(const QFontMetrics& fm) { return fm.height() + 4; }

} // namespace

double maskDice(const cv::Mat& predicted, const cv::Mat& truth, int classes) {
    if (predicted.empty() || truth.empty() || predicted.size() != truth.size())
        return std::numeric_limits<double>::quiet_NaN();
    if (classes <= 2) {
        const cv::Mat p = predicted != 0, t = truth != 0;
        const double inter = cv::countNonZero(p & t);
        const double total = cv::countNonZero(p) + cv::countNonZero(t);
        return total == 0 ? 1.0 : 2.0 * inter / total;
    }
    double sum = 0;
    int present = 0;
    for (int c = 1; c < classes; ++c) {
        const cv::Mat p = predicted == c, t = truth == c;
        const double total = cv::countNonZero(p) + cv::countNonZero(t);
        if (total == 0)
            continue;
        sum += 2.0 * cv::countNonZero(p & t) / total;
        ++present;
    }
    return present == 0 ? 1.0 : sum / present;
}

QImage toQImage(const cv::Mat& rgb) {
    if (rgb.empty())
        return {};
    const cv::Mat m = asRgb(rgb);
    return QImage(m.data, m.cols, m.rows, static_cast<qsizetype>(m.step), QImage::Format_RGB888).copy();
}

// ---------------------------------------------------------------------------

/// Rows = samples in display order; the delegate reads the panel's entries directly.
class OverlayListModel : public QAbstractListModel {
public:
    explicit OverlayListModel(OverlayPanel* panel) : QAbstractListModel(panel), m_panel(panel) {}
    int rowCount(const QModelIndex& parent = {}) const override {
        return parent.isValid() ? 0 : static_cast<int>(m_panel->m_order.size());
    }
    QVariant data(const QModelIndex& index, int role) const override {
        if (!index.isValid() || index.row() >= rowCount())
            return {};
        const auto& e = m_panel->m_entries[static_cast<std::size_t>(m_panel->m_order[static_cast<std::size_t>(index.row())])];
        if (role == Qt::DisplayRole)
            return e.sample.name;
        if (role == Qt::ToolTipRole)
            return OverlayPanel::tr("%1 — Dice %2 — click to enlarge").arg(e.sample.name).arg(e.dice, 0, 'f', 3);
        return {};
    }
    void reset() {
        beginResetModel();
        endResetModel();
    }
    void repaintAll() {
        if (rowCount() > 0)
            emit dataChanged(index(0), index(rowCount() - 1));
    }

private:
    OverlayPanel* m_panel;
};

/// Paints a row: name and Dice on top, the four thumbnails below.
class OverlayRowDelegate : public QStyledItemDelegate {
public:
    explicit OverlayRowDelegate(OverlayPanel* panel) : QStyledItemDelegate(panel), m_panel(panel) {}

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex&) const override {
        const int t = m_panel->thumbSize();
        return {kMargin * 2 + 4 * t + 3 * kGap, rowTextHeight(option.fontMetrics) + t + kMargin};
    }

    void paint(QPainter* painter, const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        const int sample = m_panel->sampleAtRow(index.row());
        if (sample < 0)
            return;
        const auto& e = m_panel->m_entries[static_cast<std::size_t>(sample)];
        const QPalette& pal = option.palette;
        painter->save();
        const bool selected = option.state & QStyle::State_Selected;
        const bool hover = option.state & QStyle::State_MouseOver;
        if (selected)
            painter->fillRect(option.rect, pal.color(QPalette::Highlight));
        else if (hover || index.row() % 2)
            painter->fillRect(option.rect, pal.color(QPalette::AlternateBase));

        const int t = m_panel->thumbSize();
        const int th = rowTextHeight(option.fontMetrics);
        const QRect text(option.rect.left() + kMargin, option.rect.top() + 2, 4 * t + 3 * kGap, th - 2);
        const QString dice = std::isfinite(e.dice) ? OverlayPanel::tr("Dice %1").arg(e.dice, 0, 'f', 3)
                                                   : OverlayPanel::tr("no truth");
        QFont bold = option.font;
        bold.setBold(true);
        painter->setFont(bold);
        const int diceWidth = QFontMetrics(bold).horizontalAdvance(dice) + 4;
        painter->setPen(selected ? pal.color(QPalette::HighlightedText) : diceColour(e.dice, pal));
        painter->drawText(text, Qt::AlignRight | Qt::AlignVCenter, dice);
        painter->setFont(option.font);
        painter->setPen(pal.color(selected ? QPalette::HighlightedText : QPalette::Text));
        const QRect nameRect = text.adjusted(0, 0, -diceWidth - 6, 0);
        painter->drawText(nameRect, Qt::AlignLeft | Qt::AlignVCenter,
                          option.fontMetrics.elidedText(e.sample.name, Qt::ElideMiddle, nameRect.width()));

        painter->setRenderHint(QPainter::SmoothPixmapTransform, true);
        for (int i = 0; i < OverlayPanel::PanelCount; ++i) {
            const QRect cell = cellRect(option.rect, i, t, th);
            const QImage& img = e.thumbs[static_cast<std::size_t>(i)];
            if (img.isNull()) {
                painter->fillRect(cell, pal.color(QPalette::Base));
                continue;
            }
            const QSize s = img.size().scaled(cell.size(), Qt::KeepAspectRatio);
            const QRect target(cell.center().x() - s.width() / 2 + 1, cell.center().y() - s.height() / 2 + 1,
                               s.width(), s.height());
            painter->drawImage(target, img);
        }
        painter->restore();
    }

private:
    OverlayPanel* m_panel;
};

/// The four column titles, aligned with the delegate's cells.
class OverlayHeader : public QWidget {
public:
    explicit OverlayHeader(OverlayPanel* panel, QWidget* parent) : QWidget(parent), m_panel(panel) {
        setFixedHeight(fontMetrics().height() + 6);
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setPen(palette().color(QPalette::Text));
        const int t = m_panel->thumbSize();
        for (int i = 0; i < OverlayPanel::PanelCount; ++i) {
            const QRect r(kMargin + i * (t + kGap), 0, t, height());
            p.drawText(r, Qt::AlignCenter, fontMetrics().elidedText(panelTitle(i), Qt::ElideRight, t));
        }
    }

private:
    OverlayPanel* m_panel;
};

/// Large view of one sample (2×2: image, truth, prediction, errors) or of a
/// predicted file without truth (image, prediction, scores); pictures scale with the dialog.
class OverlayDetailDialog : public QDialog {
public:
    explicit OverlayDetailDialog(QWidget* parent) : QDialog(parent) {
        setWindowTitle(OverlayPanel::tr("Prediction"));
        auto* layout = new QVBoxLayout(this);
        m_info = new QLabel(this);
        QFont f = m_info->font();
        f.setBold(true);
        m_info->setFont(f);
        m_info->setWordWrap(true);
        layout->addWidget(m_info);
        m_grid = new QGridLayout;
        m_grid->setSpacing(6);
        for (int i = 0; i < 4; ++i) {
            m_titles[i] = new QLabel(this);
            m_titles[i]->setAlignment(Qt::AlignCenter);
            m_pictures[i] = new ImageView(this);
            m_pictures[i]->setPreferredSize(QSize(kDetailPanel, kDetailPanel));
        }
        layout->addLayout(m_grid, 1);
        auto* close = new QPushButton(OverlayPanel::tr("Close"), this);
        connect(close, &QPushButton::clicked, this, &QDialog::close);
        auto* buttons = new QHBoxLayout;
        buttons->addStretch();
        buttons->addWidget(close);
        layout->addLayout(buttons);
        resize(2 * kDetailPanel + 40, 2 * kDetailPanel + 120);
    }

    void showPanels(const QString& info, const std::vector<std::pair<QString, cv::Mat>>& panels) {
        m_info->setText(info);
        const int n = static_cast<int>(panels.size());
        const int columns = n == 4 ? 2 : std::max(n, 1);
        for (int r = 0; r < 4; ++r)
            m_grid->setRowStretch(r, 0);
        for (int i = 0; i < 4; ++i) {
            m_grid->removeWidget(m_titles[i]);
            m_grid->removeWidget(m_pictures[i]);
            const bool used = i < n;
            m_titles[i]->setVisible(used);
            m_pictures[i]->setVisible(used);
            if (!used)
                continue;
            m_grid->addWidget(m_titles[i], (i / columns) * 2, i % columns);
            m_grid->addWidget(m_pictures[i], (i / columns) * 2 + 1, i % columns);
            m_grid->setRowStretch((i / columns) * 2 + 1, 1);
            m_titles[i]->setText(panels[static_cast<std::size_t>(i)].first);
            const QImage img = toQImage(panels[static_cast<std::size_t>(i)].second);
            m_pictures[i]->setImage(img);
            m_pictures[i]->setToolTip(img.isNull() ? OverlayPanel::tr("no ground truth for this image") : QString());
        }
        if (!isVisible())
            resize(columns * (kDetailPanel + 6) + 30, (n == 4 ? 2 : 1) * (kDetailPanel + 30) + 90);
        show();
        raise();
    }

private:
    QLabel* m_info;
    QGridLayout* m_grid;
    std::array<QLabel*, 4> m_titles{};
    std::array<ImageView*, 4> m_pictures{};
};

// ---------------------------------------------------------------------------

OverlayPanel::OverlayPanel(QWidget* parent) : QWidget(parent) {
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
    connect(m_thresholdSlider, &QSlider::valueChanged, this, [this](int v) { setThreshold(v / 100.0); });
    connect(m_opacitySlider, &QSlider::valueChanged, this, [this](int v) { setOpacity(v / 100.0); });
    connect(m_view, &QListView::clicked, this, [this](const QModelIndex& i) { openRow(i.row()); });
    connect(m_view, &QListView::activated, this, [this](const QModelIndex& i) { openRow(i.row()); });
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
            cv::resize(e.sample.image, e.smallImage, small, 0, 0, shrink ? cv::INTER_AREA : cv::INTER_NEAREST);
            if (!e.sample.truth.empty())
                cv::resize(e.sample.truth, e.smallTruth, small, 0, 0, cv::INTER_NEAREST);
            if (!e.sample.scores.empty())
                cv::resize(e.sample.scores, e.smallScores, small, 0, 0,
                           shrink ? cv::INTER_AREA : cv::INTER_NEAREST);
        }
        m_entries.push_back(std::move(e));
    }
    m_epoch = epoch;
    m_epochLabel->setText(epoch > 0 ? tr("Epoch %1 · %n sample(s)", nullptr, sampleCount()).arg(epoch)
                                     : tr("%n sample(s)", nullptr, sampleCount()));
    m_stack->setCurrentIndex(m_entries.empty() ? 0 : 1);
    rerender(true);
    m_view->verticalScrollBar()->setValue(scroll);
}

void OverlayPanel::clear() {
    m_entries.clear();
    m_order.clear();
    m_epoch = -1;
    m_epochLabel->setText(tr("Validation predictions"));
    m_stack->setCurrentIndex(0);
    m_model->reset();
}

int OverlayPanel::sampleCount() const { return static_cast<int>(m_entries.size()); }

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

bool OverlayPanel::sortWorstFirst() const { return m_worstFirst->isChecked(); }

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
        const int classes = std::max(2, s.scores.channels());
        try {
            if (recomputeDice)
                e.dice = s.truth.empty() ? std::numeric_limits<double>::quiet_NaN()
                                         : maskDice(predictedMask(s.scores, m_threshold, s.image.size()), s.truth,
                                                    s.scores.empty() ? 2 : classes);
            if (e.smallImage.empty())
                continue;
            const cv::Mat predicted = predictedMask(e.smallScores, m_threshold, e.smallImage.size());
            e.thumbs[ImagePanel] = toQImage(e.smallImage);
            e.thumbs[TruthPanel] =
                e.smallTruth.empty() ? QImage() : toQImage(core::overlayMask(e.smallImage, e.smallTruth, m_opacity));
            e.thumbs[PredictionPanel] = toQImage(core::overlayMask(e.smallImage, predicted, m_opacity));
            e.thumbs[ErrorPanel] = e.smallTruth.empty()
                                       ? QImage()
                                       : toQImage(core::overlayComparison(e.smallImage, predicted, e.smallTruth,
                                                                          m_opacity));
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
        std::stable_sort(m_order.begin(), m_order.end(), [&](int a, int b) { return key(a) < key(b); });
    }
    m_model->reset();
}

int OverlayPanel::sampleAtRow(int row) const {
    return row >= 0 && row < static_cast<int>(m_order.size()) ? m_order[static_cast<std::size_t>(row)] : -1;
}

double OverlayPanel::rowDice(int row) const { return sampleDice(sampleAtRow(row)); }

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
        panels.emplace_back(panelTitle(TruthPanel), s.truth.empty() ? cv::Mat() : core::overlayMask(s.image, s.truth, m_opacity));
        panels.emplace_back(panelTitle(PredictionPanel), core::overlayMask(s.image, predicted, m_opacity));
        panels.emplace_back(panelTitle(ErrorPanel),
                            s.truth.empty() ? cv::Mat() : core::overlayComparison(s.image, predicted, s.truth, m_opacity));
        const double dice = sampleDice(i);
        m_detail->setWindowTitle(s.name);
        m_detail->showPanels(tr("%1 — Dice %2 at threshold %3")
                           .arg(s.name, std::isfinite(dice) ? QString::number(dice, 'f', 3) : tr("n/a"))
                           .arg(m_threshold, 0, 'f', 2),
                       panels);
    } catch (const std::exception& ex) {
        m_detail->showPanels(tr("%1: %2").arg(s.name, QString::fromUtf8(ex.what())), {});
    }
}

void OverlayPanel::showPrediction(const QString& name, const cv::Mat& image, const cv::Mat& scores) {
    OverlaySample s{name, image, {}, scores};
    conformToImage(s);
    m_detail->setWindowTitle(tr("Prediction — %1").arg(name));
    try {
        const cv::Mat predicted = predictedMask(s.scores, m_threshold, s.image.size());
        const double fg = s.image.empty() ? 0.0 : 100.0 * cv::countNonZero(predicted) / predicted.total();
        m_detail->showPanels(tr("%1 — %2% of pixels predicted foreground at threshold %3")
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

QDialog* OverlayPanel::detailDialog() const { return m_detail; }

bool OverlayPanel::showingEmptyMessage() const { return m_stack->currentIndex() == 0; }

void OverlayPanel::chooseFile() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Predict image"), QString(), tr("Images (*.png *.jpg *.jpeg *.bmp *.tif *.tiff);;All files (*)"));
    if (!path.isEmpty())
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
