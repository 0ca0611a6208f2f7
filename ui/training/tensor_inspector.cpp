#include "training/tensor_inspector.hpp"

#include "style/theme.hpp"
#include "training/image_view.hpp"
#include "training/overlay_panel.hpp" // toQImage
#include "training/wheel_guard.hpp"

#include <QButtonGroup>
#include <QCheckBox>
#include <QDialog>
#include <QFontDatabase>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QStackedWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <qcustomplot.h>

namespace segforge::ui {
namespace {

constexpr int kBins = 64;
constexpr int kMaxChannels = 64;

QColor alarmColour(const QPalette& p) {
    return Theme::isDark(p) ? QColor(0xff, 0x5f, 0x5f) : QColor(0xd7, 0x26, 0x26);
}

QString number(double v) {
    if (v == 0)
        return QStringLiteral("0");
    const double a = std::fabs(v);
    if (a >= 1e5 || a < 1e-3)
        return QString::number(v, 'e', 3);
    return QString::number(v, 'g', 5);
}

} // namespace

TensorInspector::TensorInspector(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->setSpacing(4);

    m_titleLabel = new QLabel(this);
    QFont bold = m_titleLabel->font();
    bold.setBold(true);
    m_titleLabel->setFont(bold);
    m_titleLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    // Long wire names must not make the dock wide: the title may be cut, its tooltip is whole.
    m_titleLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_titleLabel->setMinimumWidth(40);
    auto* titleRow = new QHBoxLayout;
    titleRow->addWidget(m_titleLabel, 1);
    layout->addLayout(titleRow);

    auto* row = new QHBoxLayout;
    m_typeLabel = new QLabel(this);
    m_typeLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    row->addWidget(m_typeLabel);
    row->addStretch();
    row->addWidget(new QLabel(tr("Sample"), this));
    m_sample = new QSpinBox(this);
    m_sample->setRange(-1, 0);
    m_sample->setSpecialValueText(tr("all"));
    m_sample->setValue(-1);
    m_sample->setToolTip(tr("Batch sample to look at; 'all' pools the whole batch"));
    row->addWidget(m_sample);
    // Push buttons: the app style draws their checked state clearly (tool buttons look flat).
    m_valueButton = new QPushButton(tr("Value"), this);
    m_valueButton->setCheckable(true);
    m_valueButton->setChecked(true);
    m_gradientButton = new QPushButton(tr("Gradient"), this);
    m_gradientButton->setCheckable(true);
    m_gradientButton->setToolTip(
        tr("The gradient of the loss on this wire (after a backward pass)"));
    auto* group = new QButtonGroup(this);
    group->setExclusive(true);
    group->addButton(m_valueButton);
    group->addButton(m_gradientButton);
    // A segmented toggle: the checked half in the selection colour, in both themes.
    for (QPushButton* b : {m_valueButton, m_gradientButton})
        b->setStyleSheet(QStringLiteral("QPushButton { padding: 3px 10px; border: 1px solid "
                                        "palette(mid); background: palette(button); }"
                                        "QPushButton:checked { background: palette(highlight); "
                                        "color: palette(highlighted-text); }"
                                        "QPushButton:disabled { color: palette(mid); }"));
    auto* toggle = new QHBoxLayout;
    toggle->setSpacing(0);
    toggle->addWidget(m_valueButton);
    toggle->addWidget(m_gradientButton);
    titleRow->addLayout(toggle);
    layout->addLayout(row);

    m_stack = new QStackedWidget(this);
    m_message = new QLabel(this);
    m_message->setAlignment(Qt::AlignCenter);
    m_message->setWordWrap(true);
    m_message->setForegroundRole(QPalette::PlaceholderText);
    m_stack->addWidget(m_message);

    auto* page = new QWidget(this);
    auto* pageLayout = new QVBoxLayout(page);
    pageLayout->setContentsMargins(0, 0, 0, 0);
    auto* stats = new QGridLayout;
    stats->setHorizontalSpacing(10);
    stats->setVerticalSpacing(2);
    const std::pair<const char*, QString> names[] = {
        {"min", tr("min")},     {"max", tr("max")},    {"mean", tr("mean")},
        {"std", tr("std")},     {"nan", tr("NaN")},    {"inf", tr("Inf")},
        {"zeros", tr("zeros")}, {"l2", tr("L2 norm")}, {"count", tr("values")}};
    int i = 0;
    for (const auto& [key, label] : names) {
        auto* name = new QLabel(label, page);
        name->setForegroundRole(QPalette::PlaceholderText);
        auto* value = new QLabel(page);
        value->setTextInteractionFlags(Qt::TextSelectableByMouse);
        value->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
        stats->addWidget(name, i / 2, (i % 2) * 2);
        stats->addWidget(value, i / 2, (i % 2) * 2 + 1);
        m_statLabels[QString::fromLatin1(key)] = value;
        ++i;
    }
    for (int c = 1; c < 4; c += 2)
        stats->setColumnStretch(c, 1);
    pageLayout->addLayout(stats);

    auto* histRow = new QHBoxLayout;
    auto* histTitle = new QLabel(tr("Histogram (finite values)"), page);
    histRow->addWidget(histTitle);
    histRow->addStretch();
    m_logCounts = new QCheckBox(tr("log counts"), page);
    m_logCounts->setToolTip(
        tr("Logarithmic counts: small bins stay visible next to a spike at zero"));
    histRow->addWidget(m_logCounts);
    pageLayout->addLayout(histRow);
    m_histogram = new QCustomPlot(page);
    m_histogram->setMinimumHeight(120);
    m_histogram->setMinimumWidth(
        160); // never 0 wide: QCustomPlot cannot paint into an empty buffer
    m_histogram->setMaximumHeight(170);
    m_histogram->axisRect()->setAutoMargins(QCP::msLeft | QCP::msBottom);
    m_histogram->axisRect()->setMargins(QMargins(0, 6, 10, 0));
    m_bars = new QCPBars(m_histogram->xAxis, m_histogram->yAxis);
    m_bars->setWidthType(QCPBars::wtPlotCoords);
    m_histogram->yAxis->ticker()->setTickCount(3);
    m_histogram->xAxis->ticker()->setTickCount(5);
    m_histogram->yAxis->setNumberFormat("gb");
    m_histogram->xAxis->setNumberFormat("g");
    m_histogram->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_histogram->axisRect()->setRangeDrag(Qt::Horizontal);
    m_histogram->axisRect()->setRangeZoom(Qt::Horizontal);
    m_histogram->setToolTip(tr("Click, then wheel to zoom and drag to pan the value axis"));
    new WheelGuard(m_histogram); // the wheel scrolls the inspector until the histogram is clicked
    pageLayout->addWidget(m_histogram);

    m_gridTitle = new QLabel(page);
    m_gridTitle->setWordWrap(true);
    pageLayout->addWidget(m_gridTitle);
    m_grid = new ImageView(page);
    m_grid->setMaxScale(3);
    m_grid->setClickHandler([this](QPoint px) {
        if (const int c = m_gridLayout.channelAt(px.x(), px.y()); c >= 0)
            openChannel(c);
    });
    m_grid->setHoverHandler([this](QPoint px, bool* clickable) {
        const int c = m_gridLayout.channelAt(px.x(), px.y());
        *clickable = c >= 0;
        return c >= 0 ? tr("channel %1 — click to enlarge").arg(c) : QString();
    });
    pageLayout->addWidget(m_grid, 1);
    m_stack->addWidget(page);
    layout->addWidget(m_stack, 1);

    connect(m_sample, &QSpinBox::valueChanged, this, [this](int v) {
        refresh();
        emit sampleChanged(v);
    });
    connect(m_gradientButton, &QPushButton::toggled, this, &TensorInspector::setShowGradient);
    connect(m_logCounts, &QCheckBox::toggled, this, [this] { refresh(); });
    applyColours();
    clear();
}

TensorInspector::~TensorInspector() = default;

void TensorInspector::showTensor(const QString& title, const core::Tensor* value,
                                 const core::Tensor* gradient) {
    m_title = title;
    m_value = value ? std::optional<core::Tensor>(*value) : std::nullopt;
    m_gradient = value && gradient ? std::optional<core::Tensor>(*gradient) : std::nullopt;
    const std::int64_t batch = m_value && m_value->shape().rank() > 0 ? m_value->shape()[0] : 0;
    {
        const QSignalBlocker block(m_sample);
        const int previous = m_sample->value();
        m_sample->setRange(-1, static_cast<int>(std::max<std::int64_t>(batch - 1, -1)));
        m_sample->setValue(std::min(previous, m_sample->maximum()));
        m_sample->setEnabled(batch > 0);
    }
    m_gradientButton->setEnabled(m_gradient.has_value());
    if (!m_gradient) {
        const QSignalBlocker block(m_gradientButton);
        m_valueButton->setChecked(true);
    }
    m_gradientButton->setToolTip(
        m_gradient ? tr("The gradient of the loss on this wire: %1")
                         .arg(QString::fromStdString(m_gradient->describe()))
                   : tr("No gradient on this wire yet (it appears after a backward pass)"));
    refresh();
}

void TensorInspector::clear() {
    m_title.clear();
    m_value.reset();
    m_gradient.reset();
    m_stats = {};
    m_titleLabel->setText(tr("Tensor inspector"));
    m_typeLabel->clear();
    m_sample->setEnabled(false);
    m_gradientButton->setEnabled(false);
    m_message->setText(tr("Select a wire on the canvas to inspect the tensor it carries."));
    m_stack->setCurrentIndex(0);
    m_grid->setImage({});
}

std::string TensorInspector::shownShape() const {
    return m_value ? m_value->describe() : std::string();
}

void TensorInspector::setSample(std::int64_t sample) {
    m_sample->setValue(static_cast<int>(sample));
}
std::int64_t TensorInspector::sample() const {
    return m_sample->value();
}

void TensorInspector::setShowGradient(bool on) {
    on = on && m_gradient.has_value();
    (on ? m_gradientButton : m_valueButton)->setChecked(true);
    if (on == m_showGradient)
        return;
    m_showGradient = on;
    refresh();
}

const core::Tensor* TensorInspector::shownTensor() const {
    if (showingGradient())
        return &*m_gradient;
    return m_value ? &*m_value : nullptr;
}

QString TensorInspector::statText(const QString& key) const {
    auto it = m_statLabels.find(key);
    return it == m_statLabels.end() ? QString() : it->second->text();
}

bool TensorInspector::statAlarmed(const QString& key) const {
    auto it = m_alarms.find(key);
    return it != m_alarms.end() && it->second;
}

QImage TensorInspector::channelGridImage() const {
    return m_grid->image();
}

QString TensorInspector::message() const {
    return m_stack->currentIndex() == 0 ? m_message->text() : QString();
}

void TensorInspector::refresh() {
    m_titleLabel->setText(m_title.isEmpty() ? tr("Tensor inspector") : m_title);
    m_titleLabel->setToolTip(m_title);
    const core::Tensor* t = shownTensor();
    if (!t) {
        m_typeLabel->clear();
        m_message->setText(tr("No tensor on this wire yet: run a step or step a node."));
        m_stack->setCurrentIndex(0);
        m_stats = {};
        return;
    }
    const QString kind = showingGradient() ? tr("gradient ") : QString();
    m_typeLabel->setText(kind + QString::fromStdString(t->describe()));
    m_stack->setCurrentIndex(1);

    const std::int64_t sample = m_sample->isEnabled() ? m_sample->value() : -1;
    m_stats = core::tensorStats(*t, sample, kBins);
    const core::TensorStats& s = m_stats;
    const bool finite = s.finiteCount > 0;
    auto set = [this](const char* key, const QString& text, bool alarm = false) {
        QLabel* l = m_statLabels.at(QString::fromLatin1(key));
        l->setText(text);
        m_alarms[QString::fromLatin1(key)] = alarm;
        QPalette p = palette();
        if (alarm)
            p.setColor(QPalette::WindowText, alarmColour(palette()));
        l->setPalette(p);
        QFont f = l->font();
        f.setBold(alarm);
        l->setFont(f);
    };
    const QString none = QStringLiteral("—");
    set("count", QString::number(s.count));
    set("min", finite ? number(s.min) : none);
    set("max", finite ? number(s.max) : none);
    set("mean", finite ? number(s.mean) : none);
    set("std", finite ? number(s.std) : none);
    set("zeros", s.count ? QStringLiteral("%1%").arg(100.0 * s.zeroFraction, 0, 'f', 1) : none);
    set("l2", finite ? number(s.l2norm) : none);
    set("nan", QString::number(s.nanCount), s.nanCount > 0);
    set("inf", QString::number(s.infCount), s.infCount > 0);

    // Histogram: bars at bin centres.
    QVector<double> keys, counts;
    const double w = s.binWidth();
    double top = 1;
    for (std::size_t b = 0; b < s.histogram.size(); ++b) {
        keys.push_back(s.histMin + (static_cast<double>(b) + 0.5) * w);
        counts.push_back(static_cast<double>(s.histogram[b]));
        top = std::max(top, counts.back());
    }
    m_bars->setWidth(w);
    m_bars->setData(keys, counts, true);
    const bool log = m_logCounts->isChecked();
    m_histogram->yAxis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    if (log)
        m_histogram->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    else if (m_histogram->yAxis->ticker().dynamicCast<QCPAxisTickerLog>())
        m_histogram->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    m_histogram->yAxis->ticker()->setTickCount(3);
    m_histogram->yAxis->setRange(log ? 0.8 : 0, log ? top * 2 : top * 1.08);
    if (finite)
        m_histogram->xAxis->setRange(s.histMin - w, s.histMax + w);
    else
        m_histogram->xAxis->setRange(0, 1);
    replotHistogram();

    // Feature maps of one sample (the first when 'all' is chosen).
    if (t->shape().rank() == 4 && t->channels() > 0 && t->height() > 0 && t->width() > 0 &&
        t->batch() > 0) {
        const int side = static_cast<int>(std::max(t->height(), t->width()));
        // Small maps are enlarged in the grid itself so the 1 px separators stay thin on screen.
        const int tile = side > 96 ? 96 : side < 48 ? 48 : 0;
        const std::int64_t gridSample = std::max<std::int64_t>(sample, 0);
        m_gridLayout = core::channelGridLayout(*t, kMaxChannels, tile);
        m_grid->setImage(toQImage(core::channelGrid(*t, gridSample, kMaxChannels, tile)));
        const QString which = sample < 0 ? tr("sample 0") : tr("sample %1").arg(sample);
        m_gridTitle->setText(t->channels() > kMaxChannels
                                 ? tr("Channels (first %1 of %2, %3; each scaled to its own range)")
                                       .arg(kMaxChannels)
                                       .arg(t->channels())
                                       .arg(which)
                                 : tr("Channels (%1, %2; each scaled to its own range)")
                                       .arg(t->channels())
                                       .arg(which));
        m_gridTitle->setVisible(true);
        m_grid->setVisible(true);
    } else {
        m_gridLayout = {};
        m_grid->setImage({});
        m_gridTitle->setVisible(false);
        m_grid->setVisible(false);
    }
}

void TensorInspector::openChannel(int channel) {
    const core::Tensor* t = shownTensor();
    if (!t)
        return;
    const std::int64_t sample = std::max<std::int64_t>(m_sample->value(), 0);
    const QImage img = toQImage(core::channelImage(*t, sample, channel));
    auto* dialog = new QDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("%1 — channel %2, sample %3").arg(m_title).arg(channel).arg(sample));
    auto* layout = new QVBoxLayout(dialog);
    auto* picture = new QLabel(dialog);
    const QSize s = img.size().scaled(384, 384, Qt::KeepAspectRatio);
    picture->setPixmap(
        QPixmap::fromImage(img.scaled(s, Qt::KeepAspectRatio, Qt::FastTransformation)));
    layout->addWidget(picture);
    layout->addWidget(
        new QLabel(tr("%1×%2, viridis from the channel's minimum (dark) to its maximum (yellow); "
                      "magenta = NaN/Inf")
                       .arg(img.width())
                       .arg(img.height()),
                   dialog));
    dialog->show();
}

void TensorInspector::applyColours() {
    const QPalette p = palette();
    const bool dark = Theme::isDark(p);
    const QColor text = p.color(QPalette::Text);
    QColor axis = text;
    axis.setAlpha(120);
    QColor grid = text;
    grid.setAlpha(dark ? 38 : 45);
    m_histogram->setBackground(QBrush(p.color(QPalette::Window)));
    m_histogram->axisRect()->setBackground(QBrush(p.color(QPalette::Base)));
    for (QCPAxis* a : m_histogram->axisRect()->axes()) {
        a->setBasePen(QPen(axis));
        a->setTickPen(QPen(axis));
        a->setSubTickPen(QPen(axis));
        a->setTickLabelColor(text);
        a->setLabelColor(text);
        a->setTickLabelFont(font());
        a->grid()->setPen(QPen(grid));
        a->grid()->setZeroLinePen(Qt::NoPen);
    }
    const QColor bar = dark ? QColor(0x6c, 0xb6, 0xff) : QColor(0x1f, 0x6f, 0xeb);
    QColor fill = bar;
    fill.setAlpha(170);
    m_bars->setPen(QPen(bar.darker(dark ? 100 : 115)));
    m_bars->setBrush(QBrush(fill));
}

void TensorInspector::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    replotHistogram();
}

void TensorInspector::replotHistogram() {
    // Hidden or not laid out yet: QCustomPlot has no paint buffer to draw into, and
    // replots by itself on its first resize.
    if (m_histogram->isVisible() && !m_histogram->size().isEmpty())
        m_histogram->replot(QCustomPlot::rpQueuedReplot);
}

void TensorInspector::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && m_histogram) {
        applyColours();
        if (m_value)
            refresh();
        else
            replotHistogram();
    }
}

// ---------------------------------------------------------------------------

TensorInspectorPanel::TensorInspectorPanel(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    auto* bar = new QHBoxLayout;
    bar->setContentsMargins(4, 4, 4, 0);
    m_pin = new QPushButton(tr("Pin"), this);
    m_pin->setCheckable(true);
    m_pin->setToolTip(
        tr("Keep this tensor; the next wire you select opens beside it for comparison"));
    bar->addWidget(m_pin);
    m_hint = new QLabel(this);
    m_hint->setForegroundRole(QPalette::PlaceholderText);
    bar->addWidget(m_hint, 1);
    layout->addLayout(bar);

    // A plain layout, not a QSplitter: the hidden second inspector must not count
    // towards the minimum width of the dock.
    auto* pair = new QHBoxLayout;
    pair->setSpacing(6);
    m_primary = new TensorInspector(this);
    m_secondary = new TensorInspector(this);
    pair->addWidget(m_primary, 1);
    pair->addWidget(m_secondary, 1);
    m_secondary->hide();
    layout->addLayout(pair, 1);
    connect(m_pin, &QPushButton::toggled, this, &TensorInspectorPanel::setPinned);
}

void TensorInspectorPanel::showWire(const QString& title, const core::Tensor* value,
                                    const core::Tensor* gradient) {
    (pinned() ? m_secondary : m_primary)->showTensor(title, value, gradient);
    if (pinned())
        m_hint->setText(tr("Comparing with pinned '%1'").arg(m_primary->title()));
}

bool TensorInspectorPanel::pinned() const {
    return m_pin->isChecked();
}

void TensorInspectorPanel::setPinned(bool on) {
    if (m_pin->isChecked() != on) {
        m_pin->setChecked(on); // re-enters through toggled
        return;
    }
    m_pin->setText(on ? tr("Unpin") : tr("Pin"));
    m_secondary->setVisible(on);
    if (on) {
        m_secondary->clear();
        m_hint->setText(tr("Pinned '%1' — select another wire to compare").arg(m_primary->title()));
    } else {
        m_hint->clear();
    }
}

} // namespace segforge::ui
