#pragma once

#include <QGraphicsView>

namespace segforge::ui {

class GraphScene;

/// The canvas widget: zoom with the wheel (around the cursor) or Ctrl+±,
/// fit with F, pan with the middle button or Space+drag, rubber-band select,
/// and drops from the palette.
class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);

    void zoomBy(double factor);
    void fitAll();
    /// Opening view: the whole graph if it is readable that way, else the
    /// start of the network (its sources) at a readable zoom.
    void showStart();
    void centerOnNode(qint64 id);
    double zoom() const { return transform().m11(); }
    /// Last cursor position in scene coordinates (where quick-add and paste go).
    QPointF cursorScenePos() const;

signals:
    void quickAddAt(QPointF scenePos);
    void zoomChanged(double zoom);

protected:
    void wheelEvent(QWheelEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void keyReleaseEvent(QKeyEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseDoubleClickEvent(QMouseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dragMoveEvent(QDragMoveEvent* event) override;
    void dropEvent(QDropEvent* event) override;
    bool focusNextPrevChild(bool next) override;

private:
    GraphScene* m_scene;
    bool m_panning = false;
    bool m_spaceHeld = false;
    QPoint m_panLast;
    QPoint m_lastMouse;
};

inline constexpr const char* kOpMimeType = "application/x-segforge-op";

} // namespace segforge::ui
