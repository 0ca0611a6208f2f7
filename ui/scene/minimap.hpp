#pragma once

#include <QPointer>
#include <QTimer>
#include <QWidget>

namespace segforge::ui {

class GraphView;

/// The overview in the canvas's bottom-right corner: every node as a small
/// box (errors red), the part of the network the view shows as a frame, and a
/// click or drag that moves the view there. It appears only while part of the
/// network is out of view (Blender's and ComfyUI's minimap, shown when needed).
class Minimap : public QWidget {
    Q_OBJECT
public:
    explicit Minimap(GraphView* view);

    /// Scene rectangle of every node's box, as last drawn.
    QRectF networkRect() const { return m_network; }
    /// Whether the whole network is inside the view (then the minimap hides).
    bool networkInView() const;

protected:
    void paintEvent(QPaintEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void scheduleRefresh();
    void refresh();
    void place();
    /// Scene ↔ widget: the world shown (the network and the view frame near it)
    /// and the widget area it is scaled into, aspect kept.
    struct Mapping {
        QRectF world, area;
        double scale = 0;
        QRectF toWidget(const QRectF& sceneRect) const;
        QPointF toScene(QPointF widgetPos) const;
    };
    Mapping mapping() const;
    QRectF viewRect() const;

    QPointer<GraphView> m_view;
    QRectF m_network;
    struct Box {
        QRectF rect;
        bool error = false;
    };
    std::vector<Box> m_boxes;
    QTimer m_refresh;
};

} // namespace segforge::ui
