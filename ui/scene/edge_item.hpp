#pragma once

#include "check/check_result.hpp"
#include "graph/graph.hpp"

#include <QGraphicsObject>
#include <QPainterPath>

namespace segforge::ui {

/// View of one edge: a wire from an output port to an input port — the wire
/// router's orthogonal route drawn with rounded corners — labelled with the
/// TensorType it carries where the label placement put it; red with the reason
/// as tooltip when its consumer rejects it. Zoomed out past
/// semantic_zoom::kLabelZoom the label collapses into the producer's box.
class EdgeItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 2 };
    explicit EdgeItem(core::Edge edge);

    int type() const override { return Type; }
    const core::Edge& edge() const { return m_edge; }

    /// Re-reads type and diagnostics.
    void refresh(const core::CheckResult& check);
    /// Re-reads type and diagnostics; `from`/`to` are the port centres in scene
    /// coordinates. When they moved, the wire is a curve between them (label at
    /// its middle) until the scene's WireLayout routes it.
    void refresh(QPointF from, QPointF to, const core::CheckResult& check);
    QPointF fromPos() const { return m_from; }
    QPointF toPos() const { return m_to; }
    /// The wire's orthogonal route (scene coordinates, drawn with rounded
    /// corners) and its label's centre (nullopt: no visible place, no label).
    void setRoute(const QPolygonF& route, std::optional<QPointF> labelCentre);
    /// Whether the wire follows a route (false: a provisional curve).
    bool isRouted() const { return m_routed; }
    const QPolygonF& route() const { return m_route; }
    /// The wire as drawn (scene coordinates).
    const QPainterPath& path() const { return m_path; }
    /// The label's box at the largest size it is drawn (scene coordinates; empty: no label).
    QRectF labelRect() const { return m_labelRect; }
    /// Width and height of the label box, for the label placement.
    QSizeF labelSize() const;
    /// Whether the last paint drew the label (false when zoomed out, unplaced or unpainted).
    bool paintedLabel() const { return m_paintedLabel; }
    /// Forgets what was painted (the view report repaints before it reads).
    void resetPainted() { m_paintedLabel = false; }

    QString label() const { return m_label; }
    bool isRejected() const { return m_rejected; }
    QString reason() const { return m_reason; }

    QRectF boundingRect() const override;
    QPainterPath shape() const override;
    void paint(QPainter* painter, const QStyleOptionGraphicsItem* option, QWidget* widget) override;

    /// Gradient view: the L2 norm of the loss gradient on this wire after a step,
    /// and where it sits between the smallest and largest norm of the graph
    /// (0…1, log scale) — drawn as the wire's width and a blue→orange tint.
    /// nullopt turns the view off.
    void setGradient(std::optional<double> norm, double position = 0);
    std::optional<double> gradientNorm() const { return m_gradNorm; }

    /// The cubic curve of a wire not routed yet (and of the one being dragged).
    static QPainterPath wirePath(QPointF from, QPointF to);
    /// An orthogonal polyline with its corners rounded (radius up to `radius`,
    /// less where a segment is short).
    static QPainterPath roundedPath(const QPolygonF& route, double radius = 10);

private:
    void setLabelAt(std::optional<QPointF> centre);

    core::Edge m_edge;
    QPainterPath m_path;
    QPolygonF m_route;
    QPointF m_from, m_to;
    bool m_routed = false;
    std::optional<QPointF> m_labelCentre;
    bool m_paintedLabel = false;
    QString m_label;
    QColor m_color;
    bool m_known = false;
    bool m_rejected = false;
    bool m_warned = false;
    QString m_reason;
    QRectF m_labelRect;
    mutable QSizeF m_labelSize;     ///< labelSize() of…
    mutable QString m_labelSizeFor; ///< …this label text
    QString m_signature;            ///< look last painted
    std::optional<double> m_gradNorm;
    double m_gradPosition = 0;
};

} // namespace segforge::ui
