#include "window/gradient_legend.hpp"

#include <QEvent>
#include <QGridLayout>
#include <QLabel>
#include <QLinearGradient>
#include <QPainter>
#include <QPainterPath>
#include <algorithm>
#include <cmath>
#include <limits>

namespace segforge::ui {

namespace {

constexpr int kMargin = 12;

// The wires' ends of the ramp (EdgeItem::paint): vanishing gradients thin and
// blue, large ones thick and orange, widths 1 to 8 pixels.
const QColor kLow(0x3b, 0x82, 0xf6);
const QColor kHigh(0xf9, 0x73, 0x16);
constexpr double kThinnest = 1.0, kThickest = 8.0;

/// A band from thin blue to thick orange: the colour and the width a wire gets
/// along the log scale between the step's smallest and largest norm.
class Ramp : public QWidget {
public:
    explicit Ramp(QWidget* parent)
        : QWidget(parent) {
        setObjectName("gradient-ramp");
        setMinimumSize(120, 14);
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        const QRectF r = QRectF(rect()).adjusted(1, 1, -1, -1);
        const double mid = r.center().y();
        QPainterPath band;
        band.moveTo(r.left(), mid - kThinnest / 2);
        band.lineTo(r.right(), mid - kThickest / 2);
        band.lineTo(r.right(), mid + kThickest / 2);
        band.lineTo(r.left(), mid + kThinnest / 2);
        band.closeSubpath();
        QLinearGradient ramp(r.topLeft(), r.topRight());
        ramp.setColorAt(0, kLow);
        ramp.setColorAt(1, kHigh);
        p.fillPath(band, ramp);
    }
};

} // namespace

GradientLegend::GradientLegend(QWidget* canvas)
    : QFrame(canvas) {
    setObjectName("gradient-legend");
    setFrameShape(QFrame::StyledPanel);
    setAutoFillBackground(true); // readable over the wires it explains
    auto* grid = new QGridLayout(this);
    grid->setContentsMargins(8, 6, 8, 6);
    grid->setHorizontalSpacing(6);
    grid->setVerticalSpacing(2);
    m_title = new QLabel(this);
    m_ramp = new Ramp(this);
    m_min = new QLabel(this);
    m_min->setObjectName("gradient-min");
    m_max = new QLabel(this);
    m_max->setObjectName("gradient-max");
    m_max->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    m_width = new QLabel(tr("width ∝ log norm"), this);
    grid->addWidget(m_title, 0, 0, 1, 3);
    grid->addWidget(m_min, 1, 0);
    grid->addWidget(m_ramp, 1, 1);
    grid->addWidget(m_max, 1, 2);
    grid->addWidget(m_width, 2, 0, 1, 3);
    setToolTip(
        tr("Gradient view (Ctrl+G): each wire is coloured and thickened by the L2 norm of the loss "
           "gradient on it after the latest step, on a log scale between the smallest and the "
           "largest."));
    canvas->installEventFilter(this);
    setNorms({}, 0);
    hide();
}

QString GradientLegend::formatNorm(double norm) {
    return QString::number(norm, 'g', 3);
}

QString GradientLegend::minText() const {
    return m_min->text();
}

QString GradientLegend::maxText() const {
    return m_max->text();
}

void GradientLegend::setNorms(const std::map<core::PortRef, double>& norms, qint64 step) {
    // The extremes the canvas places the wires between (GraphScene::applyTrainingLook).
    double lo = std::numeric_limits<double>::infinity(), hi = 0;
    for (const auto& [port, norm] : norms)
        if (norm > 0 && std::isfinite(norm)) {
            lo = std::min(lo, norm);
            hi = std::max(hi, norm);
        }
    if (hi > 0) {
        m_range = std::make_pair(lo, hi);
        m_title->setText(tr("Gradient L2 norm, step %1").arg(step));
        m_min->setText(formatNorm(lo));
        m_max->setText(formatNorm(hi));
    } else {
        m_range.reset();
        m_title->setText(tr("Gradient L2 norm: after the next step"));
        m_min->setText(tr("low"));
        m_max->setText(tr("high"));
    }
    if (isVisible())
        place();
}

void GradientLegend::showEvent(QShowEvent* event) {
    QFrame::showEvent(event);
    place();
}

void GradientLegend::place() {
    adjustSize();
    const QWidget* canvas = parentWidget();
    move(kMargin, canvas->height() - height() - kMargin);
    raise();
}

bool GradientLegend::eventFilter(QObject* watched, QEvent* event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize && isVisible())
        place();
    return QFrame::eventFilter(watched, event);
}

} // namespace segforge::ui
