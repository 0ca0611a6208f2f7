#pragma once

#include "check/check_result.hpp"
#include "graph/graph.hpp"

#include <QGraphicsObject>
#include <QPainterPath>

namespace segforge::ui {

/// View of one edge: a curved wire from an output port to an input port,
/// labelled with the TensorType it carries; red with the reason as tooltip when
/// its consumer rejects it.
class EdgeItem : public QGraphicsObject {
    Q_OBJECT
public:
    enum { Type = UserType + 2 };
    explicit EdgeItem(core::Edge edge);

    int type() const override { return Type; }
    const core::Edge& edge() const { return m_edge; }

    /// Re-reads type and diagnostics; `from`/`to` are the port centres in scene coordinates.
    void refresh(QPointF from, QPointF to, const core::CheckResult& check);

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

    /// The cubic curve used for every wire (also the one being dragged).
    static QPainterPath wirePath(QPointF from, QPointF to);

private:
    core::Edge m_edge;
    QPainterPath m_path;
    QString m_label;
    QColor m_color;
    bool m_known = false;
    bool m_rejected = false;
    bool m_warned = false;
    QString m_reason;
    QRectF m_labelRect;
    QString m_signature; ///< endpoints + look last painted
    std::optional<double> m_gradNorm;
    double m_gradPosition = 0;
};

} // namespace segforge::ui
