#pragma once

#include <QImage>
#include <QWidget>
#include <functional>

namespace segforge::ui {

/// A picture scaled to fit its widget with the aspect kept: nearest pixels when
/// enlarging (masks and feature maps stay honest), smooth when shrinking.
/// Optionally reports clicks and hovers in image pixel coordinates.
class ImageView : public QWidget {
public:
    explicit ImageView(QWidget* parent = nullptr);

    void setImage(QImage image);
    const QImage& image() const { return m_image; }
    /// Largest enlargement (default 8×): tiny images do not become walls of blocks.
    void setMaxScale(double scale);
    /// Called with the image pixel under a left click.
    void setClickHandler(std::function<void(QPoint)> handler) { m_onClick = std::move(handler); }
    /// Returns the tooltip for an image pixel (empty: none) and whether it is clickable.
    void setHoverHandler(std::function<QString(QPoint, bool*)> handler) {
        m_onHover = std::move(handler);
    }
    void setPreferredSize(QSize size) {
        m_preferred = size;
        updateGeometry();
    }

    QSize sizeHint() const override;
    /// Where the image is drawn inside the widget.
    QRect imageRect() const;
    /// Image pixel under a widget point, or (-1, -1).
    QPoint imagePixel(QPoint widgetPos) const;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;

private:
    QImage m_image;
    double m_maxScale = 8;
    QSize m_preferred{240, 240};
    std::function<void(QPoint)> m_onClick;
    std::function<QString(QPoint, bool*)> m_onHover;
};

} // namespace segforge::ui
