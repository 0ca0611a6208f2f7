#include "training/image_view.hpp"

#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

namespace segforge::ui {

ImageView::ImageView(QWidget* parent)
    : QWidget(parent) {
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    setMinimumSize(48, 48);
    setMouseTracking(true);
}

void ImageView::setImage(QImage image) {
    m_image = std::move(image);
    update();
}

void ImageView::setMaxScale(double scale) {
    m_maxScale = std::max(scale, 0.01);
    update();
}

QSize ImageView::sizeHint() const {
    return m_preferred;
}

QRect ImageView::imageRect() const {
    if (m_image.isNull() || width() <= 0 || height() <= 0)
        return {};
    const double k = std::min({static_cast<double>(width()) / m_image.width(),
                               static_cast<double>(height()) / m_image.height(), m_maxScale});
    const int w = std::max(1, static_cast<int>(std::floor(m_image.width() * k)));
    const int h = std::max(1, static_cast<int>(std::floor(m_image.height() * k)));
    return {(width() - w) / 2, (height() - h) / 2, w, h};
}

QPoint ImageView::imagePixel(QPoint pos) const {
    const QRect r = imageRect();
    if (!r.contains(pos))
        return {-1, -1};
    return {(pos.x() - r.left()) * m_image.width() / r.width(),
            (pos.y() - r.top()) * m_image.height() / r.height()};
}

void ImageView::paintEvent(QPaintEvent*) {
    if (m_image.isNull())
        return;
    QPainter p(this);
    const QRect r = imageRect();
    p.setRenderHint(QPainter::SmoothPixmapTransform, r.width() < m_image.width());
    p.drawImage(r, m_image);
}

void ImageView::mouseMoveEvent(QMouseEvent* event) {
    if (!m_onHover)
        return;
    const QPoint px = imagePixel(event->position().toPoint());
    bool clickable = false;
    const QString tip = px.x() >= 0 ? m_onHover(px, &clickable) : QString();
    if (tip.isEmpty())
        QToolTip::hideText();
    else
        QToolTip::showText(event->globalPosition().toPoint(), tip, this);
    setCursor(clickable ? Qt::PointingHandCursor : Qt::ArrowCursor);
}

void ImageView::mouseReleaseEvent(QMouseEvent* event) {
    const QPoint px = imagePixel(event->position().toPoint());
    if (m_onClick && event->button() == Qt::LeftButton && px.x() >= 0)
        m_onClick(px);
}

} // namespace segforge::ui
