#pragma once

#include <QGraphicsView>
#include <QTimer>

namespace segforge::ui {

class GraphScene;
class Minimap;

/// The canvas widget: zoom with the wheel (around the cursor) or Ctrl+±,
/// fit with F, pan with the middle button or Space+drag, rubber-band select,
/// and drops from the palette.
class GraphView : public QGraphicsView {
    Q_OBJECT
public:
    explicit GraphView(GraphScene* scene, QWidget* parent = nullptr);

    void zoomBy(double factor);
    /// Shows every node. Semantic zoom keeps names and types readable however
    /// small the fit makes the boxes.
    void fitAll();
    /// Opening view: the whole network (fitAll).
    void showStart();
    /// A node someone asked to see (a clicked diagnostic): centred, at a zoom
    /// where wire labels show (at least kReadableZoom), with the labels of the
    /// wires into it in view when they fit.
    void centerOnNode(qint64 id);
    /// Keeps a node (the one stepped while training) in view at a readable
    /// zoom: zooms in only when the view is too far out, pans only when the
    /// node is not wholly visible.
    void ensureNodeReadable(qint64 id);
    /// Sets the zoom (scale) about the view's centre, within the allowed range.
    void setZoom(double zoom);
    double zoom() const { return transform().m11(); }
    /// The overview in the corner (hidden while the whole network is in view).
    Minimap* minimap() const { return m_minimap; }
    /// Last cursor position in scene coordinates (where quick-add and paste go).
    QPointF cursorScenePos() const;

signals:
    void quickAddAt(QPointF scenePos);
    void zoomChanged(double zoom);

protected:
    void resizeEvent(QResizeEvent* event) override;
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
    /// Tells the scene's items the zoom (their zoomed-out plates' extents).
    void zoomApplied();

    /// While the wheel or Ctrl± zooms, frames are drawn without antialiasing
    /// (a 300-node canvas redraws every node at each step); once the zoom has
    /// rested the canvas is drawn smooth again.
    void zoomInteractively();
    void zoomSettled();

    GraphScene* m_scene;
    QTimer* m_zoomSettle = nullptr;
    Minimap* m_minimap = nullptr; ///< the overview, shown while part of the network is out of view
    bool m_panning = false;
    /// The view shows the whole network until the user zooms or pans: a window
    /// that settles its size after opening (docks, maximising) fits again.
    bool m_fitted = false;
    bool m_spaceHeld = false;
    QPoint m_panLast;
    QPoint m_lastMouse;
};

/// The zoom a node is brought to when someone asks to see it: wire labels show.
inline constexpr double kReadableZoom = 0.9;
inline constexpr double kMinZoom = 0.05;    ///< the wheel stops here
inline constexpr double kMinFitZoom = 0.01; ///< a fit shows everything, even smaller
inline constexpr double kMaxZoom = 4.0;

inline constexpr const char* kOpMimeType = "application/x-segforge-op";

} // namespace segforge::ui
